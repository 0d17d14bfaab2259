#pragma once
/// @file architectures.hpp
/// @brief Rows of several architectures (task × model rows): the prior of a
/// new row formed from its model's rows, or widened by the spread between
/// the architectures when its model has no row (docs/ei-mf.md §5); and how
/// differently the architectures rank the configurations (Kendall tau-b
/// between their mean rankings, configuration effect over replicate noise).
/// Serial, deterministic, pure Eigen.

#include <string>
#include <vector>

#include <Eigen/Core>

#include "peppp/meta/bayes.hpp"

namespace peppp::meta {

/// The prior of a new row trained with architecture `model`. `all` is the
/// prior fitted on every row of `train` (n×d, finite) at rank `k`
/// (`fit_embedding_prior`), `group` the architecture 0..K−1 of each of the
/// n rows. With x_i the rows' embeddings (columns of X = Σ_k U_kᵀ, the
/// embedding of every row), M the n_M rows of `model` and Σ̂ the sample
/// covariance (divisor n − 1) of all rows' embeddings:
///   μ₀ = (1/n_M) Σ_{i∈M} x_i,
///   Σ₀ = w Σ̂_M + (1 − w) Σ̂ + ridge·I,  w = (n_M − 1) / (n_M − 1 + k),
/// Σ̂_M the sample covariance of M's embeddings (w = 0 for one row), ridge
/// that of `all`; the level offset (when `all` has one), the embedding Y
/// and σ² are `all`'s.
/// @throws InputError when sizes disagree or `model` has no row.
EmbeddingPrior model_rows_prior(const EmbeddingPrior& all, const Eigen::MatrixXd& train, int k,
                                const std::vector<int>& group, int model);

/// The prior of a new row of an architecture in no row: `all`'s mean, its
/// covariance widened by B, the covariance (divisor K − 1) of the K
/// architectures' mean embeddings m_g = mean of x_i over the rows of g:
///   Σ₀ = Σ_all + B,  B = Σ_g (m_g − m̄)(m_g − m̄)ᵀ / (K − 1),  m̄ = (1/K) Σ_g m_g.
/// Needs K ≥ 2 architectures with rows. @throws InputError otherwise or when sizes disagree.
EmbeddingPrior widened_prior(const EmbeddingPrior& all, const Eigen::MatrixXd& train, int k,
                             const std::vector<int>& group);

/// How differently the architectures rank the configurations.
struct ArchitectureRankings {
  /// K×d: per architecture, the mean error of each configuration over its
  /// rows (NaN cells skipped; NaN when no row of it measured the configuration).
  Eigen::MatrixXd mean_error;
  /// K×K Kendall tau-b between the rows of `mean_error` (over the
  /// configurations finite in both; NaN when fewer than 2 or one is constant).
  Eigen::MatrixXd tau;
  /// K: the median over the architecture's rows of the configuration effect
  /// (the sample standard deviation over configurations of the row's errors).
  Eigen::VectorXd median_effect;
  /// K: the pooled replicate noise σ̂ of the architecture's cells
  /// (`replicate_noise`; NaN without replicates).
  Eigen::VectorXd noise;
  /// K: median over its rows of effect / noise (the ratio on the median row).
  Eigen::VectorXd median_ratio;
};

/// The rankings of the architectures: `errors` n×d (per-cell mean over
/// replicates, NaN = not measured), `group` the architecture 0..groups−1 of
/// each row, `replicates` (n·d)×R (row t·d + j: cell (t, j)'s replicate
/// errors, NaN = not measured; may be empty: no noise).
/// @throws InputError when sizes disagree or a group index is out of range.
ArchitectureRankings architecture_rankings(const Eigen::MatrixXd& errors, const std::vector<int>& group, int groups,
                                           const Eigen::MatrixXd& replicates);

}  // namespace peppp::meta
