#pragma once
/// @file bayes.hpp
/// @brief Bayesian posterior on the low-rank embedding of a new task
/// (docs/ei-mf.md): the rank-k factors of the meta-training matrix (F5.1), a
/// Gaussian prior on the new task's embedding fitted to the meta-training
/// tasks' embeddings, the noise variance from the residual of the low-rank
/// fit (or given), and the posterior predictive mean and standard deviation
/// of every configuration, bounded to [0, 1], measured configurations kept
/// at their measurements. Serial, deterministic, pure Eigen.

#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

namespace peppp::meta {

/// How the prior and the noise are chosen.
struct PriorOptions {
  /// Variance of one measured error (error units², e.g. from replicates:
  /// the variance of their mean). NaN = estimate it from the residual of the
  /// rank-k fit of the meta-training matrix on its observed entries.
  double noise_variance = std::numeric_limits<double>::quiet_NaN();
  /// Lower bound of the estimated noise variance: numerical only (1e-4 in
  /// error units of std), so that a noiseless low-rank matrix is fitted
  /// exactly; real campaigns always leave a residual far above it.
  double noise_floor = 1e-8;
  /// Ridge added to the prior covariance, as a fraction of its mean
  /// eigenvalue trace(Σ̂₀)/k: keeps Σ₀ SPD when there are fewer than k + 1
  /// meta-training tasks and widens the prior for a new task.
  double ridge_fraction = 0.1;
  /// Add a task-level offset b ~ N(0, τ²) to the model, e = Yᵀx + b·1 + ε,
  /// with τ² the variance of the meta-training tasks' mean errors: a new task
  /// uniformly easier or harder than the embedding's profiles allows (an easy
  /// task at error 0.01 whose first measurements are all ~0.01) moves every
  /// prediction down with them instead of keeping the training tasks' level.
  /// The offset is the last row of `y` (all ones) and of `mean`/`cov`. Not
  /// added when σ² is at the floor (an exactly low-rank matrix, fitted by its
  /// embedding alone: k measurements then recover a rank-k task exactly).
  bool level_offset = true;
  /// The measured values at the `observed` entries (same shape as `train`),
  /// or null: the residual for σ² is then taken against `train` itself. A
  /// completion that returns its own low-rank model at the measured entries
  /// (the feature completion) has no residual there, so σ² must come from the
  /// measurements; SoftImpute keeps (a shrunk copy of) the data there.
  const Eigen::MatrixXd* measured = nullptr;
  /// Free configuration columns of the completion's model, for the residual's
  /// degrees of freedom N_obs − r(n_train + min(d, free_columns) − r); 0 = d
  /// (SoftImpute: every column free). The feature completion's configuration
  /// factors are a function of p expanded features, so it has p, not d.
  int free_columns = 0;
};

/// The prior of a new task's embedding x ~ N(μ₀, Σ₀) and the noise model
/// e_S = Y_Sᵀx + ε, ε ~ N(0, σ²I).
struct EmbeddingPrior {
  Eigen::MatrixXd y;       ///< k×d configuration embedding Y = V_kᵀ (+ a row of ones: level_offset)
  Eigen::VectorXd mean;    ///< μ₀ (k): mean of the meta-training task embeddings (columns of X = Σ_k U_kᵀ)
  Eigen::MatrixXd cov;     ///< Σ₀ (k×k): their covariance (divisor n − 1; 0 for one task) + ridge·I
  double ridge = 0;        ///< the ridge added to Σ₀'s diagonal
  double noise_variance = 0;  ///< σ², estimated or given
  bool noise_estimated = true;  ///< σ² came from the residual (false: given)
};

/// Fit the prior to the (n_train)×d meta-training matrix `train` (finite;
/// a completed matrix in the sampled settings). `observed`, when not empty,
/// is the row-major n_train·d mask of the entries that were measured (1):
/// the residual used for σ² is taken on them only (a SoftImpute completion
/// fits its own imputations exactly in the low-rank sense). σ² = max(floor,
/// s²): s² = RSS_k / dof_k with dof_r = N_obs − r(n_train + d − r) when
/// dof_k ≥ 1; else RSS_k / N_obs when that exceeds the floor; else (an
/// exact fit) RSS_r / dof_r of the largest r < k with dof_r ≥ 1.
/// @throws InputError if k is outside 1..min(n_train, d) or sizes disagree.
EmbeddingPrior fit_embedding_prior(const Eigen::MatrixXd& train, int k, const PriorOptions& options = {},
                                   const std::vector<std::uint8_t>& observed = {});

/// The posterior on x and the predictive distribution of every configuration.
struct EmbeddingPosterior {
  Eigen::VectorXd x_mean;  ///< μ_post (k)
  Eigen::MatrixXd x_cov;   ///< Σ_post (k×k)
  /// d predicted errors: clip(Yᵀμ_post, 0, 1); a measured configuration's is
  /// its measurement (the last one if measured twice).
  Eigen::VectorXd mean;
  /// d predictive standard deviations of a new measurement:
  /// sqrt(diag(YᵀΣ_post Y) + σ²); a measured configuration's is σ (only the
  /// measurement noise).
  Eigen::VectorXd std;
  /// d unclipped, unreplaced model means Yᵀμ_post (for diagnostics and EI).
  Eigen::VectorXd model_mean;
  /// d model standard deviations sqrt(diag(YᵀΣ_post Y) + σ²), measured or not.
  Eigen::VectorXd model_std;
};

/// Posterior given errors `measured` at configurations `s` (same order; may
/// be empty: the prior predictive):
/// Σ_post = (Σ₀⁻¹ + Y_S Y_Sᵀ/σ²)⁻¹, μ_post = Σ_post(Σ₀⁻¹μ₀ + Y_S e_S/σ²).
/// @throws InputError on a size mismatch or an index outside [0, d).
EmbeddingPosterior embedding_posterior(const EmbeddingPrior& prior, const std::vector<int>& s,
                                       const Eigen::VectorXd& measured);

}  // namespace peppp::meta
