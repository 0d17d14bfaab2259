#include "peppp/meta/noise.hpp"

#include <cmath>
#include <limits>

#include "peppp/core/error.hpp"

namespace peppp::meta {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

NoiseEstimate replicate_noise(const Eigen::MatrixXd& replicates) {
  NoiseEstimate out;
  double ss = 0, dof = 0;
  for (Eigen::Index c = 0; c < replicates.rows(); ++c) {
    double sum = 0;
    int n = 0;
    for (Eigen::Index r = 0; r < replicates.cols(); ++r)
      if (std::isfinite(replicates(c, r))) {
        sum += replicates(c, r);
        ++n;
      }
    if (n < 2) continue;
    const double mean = sum / n;
    for (Eigen::Index r = 0; r < replicates.cols(); ++r)
      if (std::isfinite(replicates(c, r))) ss += (replicates(c, r) - mean) * (replicates(c, r) - mean);
    dof += n - 1;
    ++out.cells;
  }
  if (out.cells == 0) {
    out.std = kNaN;
    return out;
  }
  out.source = "replicates";
  out.dof = dof;
  out.std = std::sqrt(ss / dof);
  return out;
}

NoiseEstimate residual_noise(const Eigen::MatrixXd& observed, const Eigen::MatrixXd& estimate, int rank,
                             int free_columns) {
  if (observed.rows() != estimate.rows() || observed.cols() != estimate.cols())
    throw InputError("residual_noise: observed is " + std::to_string(observed.rows()) + "x" +
                     std::to_string(observed.cols()) + ", estimate " + std::to_string(estimate.rows()) + "x" +
                     std::to_string(estimate.cols()));
  if (rank < 0) throw InputError("residual_noise: rank " + std::to_string(rank) + " < 0");
  NoiseEstimate out;
  out.source = "low-rank residual";
  double rss = 0;
  for (Eigen::Index i = 0; i < observed.rows(); ++i)
    for (Eigen::Index j = 0; j < observed.cols(); ++j)
      if (std::isfinite(observed(i, j))) {
        const double e = observed(i, j) - estimate(i, j);
        rss += e * e;
        ++out.cells;
      }
  const double k = rank, n = static_cast<double>(observed.rows());
  const double d = static_cast<double>(free_columns > 0 ? std::min<Eigen::Index>(free_columns, observed.cols())
                                                        : observed.cols());
  out.dof = out.cells - k * (n + d - k);
  out.std = out.dof > 0 ? std::sqrt(rss / out.dof) : kNaN;
  return out;
}

}  // namespace peppp::meta
