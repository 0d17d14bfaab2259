#pragma once
/// @file feature_completion.hpp
/// @brief Completion that generalises across configurations through column
/// features (docs/feature-completion.md): `E ≈ μ + U Vᵀ` with the
/// configuration factors `V = Φ(F) W + Δ`, `Φ` a fixed expansion of the
/// column features, `W` fitted jointly with the task factors `U` by
/// alternating ridge regressions on the observed entries, `Δ` a ridge-shrunk
/// free residual of the measured columns (0 for a column no row measured).
/// It predicts columns that no row measured. Rank and ridge by k-fold CV on
/// the observed entries. Serial, deterministic given the seed.

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "peppp/meta/softimpute.hpp"

namespace peppp::meta {

/// Settings of `feature_complete`.
struct FeatureCompletionOptions {
  std::vector<int> rank_grid = {1, 2, 3, 5};         ///< CV candidates for the rank k (capped at min(n, p))
  std::vector<double> ridge_grid = {0.1, 0.01, 0.001};  ///< CV candidates for the ridge λ (> 0)
  int cv_folds = 3;                 ///< folds over the observed entries (≥ 2)
  /// Fit Δ (the measured columns' free residual). Off by default: it
  /// sharpens the measured columns only, so a selection over measured and
  /// never-measured columns would favour the measured ones (docs, §2).
  bool column_residual = false;
  double residual_ridge_factor = 100.0;  ///< Δ's ridge is this times λ (> 0), see the docs' scaling
  int max_iterations = 100;         ///< alternating sweeps of the final fit (CV fits: at most 25)
  double tolerance = 1e-5;          ///< stop at a relative objective decrease ≤ tolerance (CV fits: 1e-4)
  std::uint64_t seed = 0;           ///< CV folds and the initial task factors
};

/// The fit and its CV curve.
struct FeatureCompletionResult {
  Eigen::MatrixXd estimate;              ///< n×d: μ + U Vᵀ (observed entries not overwritten)
  Eigen::MatrixXd task_factors;          ///< U, n×k
  Eigen::MatrixXd configuration_factors; ///< V = ΦW + Δ, d×k
  double mean = 0;                       ///< μ, the weighted mean of the observed entries
  int rank = 0;                          ///< k used
  double ridge = 0;                      ///< λ used
  int iterations = 0;                    ///< sweeps of the final fit
  bool converged = false;                ///< tolerance reached before max_iterations
  double objective = 0;                  ///< the final fit's objective
  int expanded_features = 0;             ///< p, columns of Φ
  /// The CV candidates (rank, ridge) and their pooled held-out relative
  /// error ‖Ê − A‖/‖A‖; empty when there were too few entries to cross-validate.
  std::vector<int> cv_rank;
  std::vector<double> cv_ridge, cv_error;
};

/// Φ(F): the d×q features with their constant columns dropped, standardised
/// (mean 0, std 1 over the d configurations), every square and pairwise
/// product of them standardised in turn, columns that duplicate an earlier
/// one (±) dropped, and a leading column of ones. d×p. Throws InputError when
/// a feature is not finite.
Eigen::MatrixXd feature_expansion(const Eigen::MatrixXd& features);

/// Complete `error` (n×d, NaN = unobserved) with column features
/// `features` (d×q, e.g. `configuration_features`). `weights`: empty for 1,
/// else n×d positive on the observed entries (1/P of a non-uniform plan).
/// Throws InputError on shape mismatches, an empty grid, non-positive ridge
/// or weights, or no observed entry. Not collective.
FeatureCompletionResult feature_complete(const Eigen::MatrixXd& error, const Eigen::MatrixXd& weights,
                                         const Eigen::MatrixXd& features, const FeatureCompletionOptions& options);

/// The hook of `complete_campaign` and meta-LOOCV for per-role campaigns:
/// `feature_complete` on `configuration_features(labels)` with default
/// options and `seed`, returned in SoftImpute's shapes: the estimate, λ =
/// the chosen ridge, rank, sweeps, objective, gap 0, the singular values of
/// U Vᵀ; the CV curve with one `grid` entry (the ridge) per (rank, ridge) candidate.
struct FeatureSolve {
  SoftImputeResult result;
  LambdaCv cv;
};
FeatureSolve feature_solve(const Eigen::MatrixXd& error, const Eigen::MatrixXd& weights,
                           const std::vector<std::string>& labels, std::uint64_t seed);

}  // namespace peppp::meta
