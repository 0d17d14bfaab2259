#pragma once
// Private to the io layer: the statistics of one cell's replicates that
// set_cell_replicates (campaign.cpp) and the merge (merge.cpp) both write.

#include <cmath>
#include <cstddef>

namespace peppp::io::detail {

/// The sample standard deviation about `mean` of the finite values among
/// `v[0..n)`, of which there are `finite` (>= 2).
inline double finite_std(const double* v, std::size_t n, double mean, std::size_t finite) {
  double ss = 0;
  for (std::size_t k = 0; k < n; ++k)
    if (std::isfinite(v[k])) ss += (v[k] - mean) * (v[k] - mean);
  return std::sqrt(ss / static_cast<double>(finite - 1));
}

}  // namespace peppp::io::detail
