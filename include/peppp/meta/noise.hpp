#pragma once
/// @file noise.hpp
/// @brief The measurement noise of a campaign's error matrix: the standard
/// deviation σ of one cell's measured error around its expectation. From
/// replicates when the campaign has them (pooled sample variance), else from
/// the residual of the low-rank fit (SoftImpute). Serial maths (core + Eigen).

#include <string>

#include <Eigen/Core>

namespace peppp::meta {

/// A noise level and where it came from.
struct NoiseEstimate {
  /// σ, error-rate units (NaN when not estimable). From replicates: the std
  /// of ONE replicate (a cell's mean over n replicates has σ/√n).
  double std = 0;
  /// "replicates", "low-rank residual", or "none" (nothing to estimate from).
  std::string source = "none";
  double dof = 0;     ///< degrees of freedom of the variance estimate
  int cells = 0;      ///< cells used (replicates: those with ≥ 2 measured; residual: observed entries)
};

/// Pooled replicate noise. `replicates`: cells × R, each row a cell's
/// replicate errors, NaN where not measured. For each cell c with n_c ≥ 2
/// finite values, s_c² is its sample variance (n_c − 1); the result is
/// σ̂² = Σ (n_c − 1) s_c² / Σ (n_c − 1) (the pooled within-cell variance,
/// unbiased when the noise is homoscedastic), dof = Σ (n_c − 1), source
/// "replicates"; source "none" and NaN when no cell has 2 replicates.
NoiseEstimate replicate_noise(const Eigen::MatrixXd& replicates);

/// Low-rank residual noise. `observed`: n×d, NaN = unobserved; `estimate`:
/// the rank-k fit (SoftImpute's Z*, n×d); `rank` = k. With m observed
/// entries and RSS = Σ_observed (observed − estimate)², a rank-k n×d matrix
/// has k(n + d − k) free parameters, so σ̂² = RSS / (m − k(n + d − k))
/// (the least-squares residual variance; SoftImpute's shrinkage only adds
/// to RSS, so this is an upper estimate). dof = m − k(n + d − k); NaN
/// (source still "low-rank residual") when dof ≤ 0. `free_columns` > 0
/// replaces d by min(d, free_columns): the feature completion's
/// configuration factors Φ W have p free rows, not d
/// (docs/feature-completion.md).
/// @throws InputError when the shapes differ or rank < 0.
NoiseEstimate residual_noise(const Eigen::MatrixXd& observed, const Eigen::MatrixXd& estimate, int rank,
                             int free_columns = 0);

}  // namespace peppp::meta
