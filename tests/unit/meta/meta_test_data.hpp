#pragma once
// Small deterministic matrices for the meta-layer tests.
#include <Eigen/Core>
#include <cmath>
#include <cstdint>

#include "peppp/meta/sampling.hpp"

namespace peppp::test {

/// n×d matrix with entries uniform in [lo, hi), from `seed` (platform stable).
inline Eigen::MatrixXd uniform_matrix(int n, int d, std::uint64_t seed, double lo = -1, double hi = 1) {
  Eigen::MatrixXd m(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j)
      m(i, j) = lo + (hi - lo) * meta::CounterRng::uniform_at(seed, static_cast<std::uint64_t>(i * d + j));
  return m;
}

/// An error-like n×d matrix of rank `k` (+ optional noise), entries near [0, 1].
inline Eigen::MatrixXd low_rank_errors(int n, int d, int k, std::uint64_t seed, double noise = 0.0) {
  Eigen::MatrixXd x = uniform_matrix(n, k, seed, 0, 1);
  Eigen::MatrixXd y = uniform_matrix(k, d, seed + 1, 0, 1);
  Eigen::MatrixXd e = x * y / k;
  if (noise > 0) e += noise * uniform_matrix(n, d, seed + 2);
  return e;
}

}  // namespace peppp::test
