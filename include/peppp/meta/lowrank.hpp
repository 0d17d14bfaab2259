#pragma once
/// @file lowrank.hpp
/// @brief Low-rank structure of the error matrix (METHOD.md F5): the rank-k
/// embedding `E ≈ Xᵀ Y`, explained variance, and Kendall tau-b between tasks.

#include <Eigen/Core>

namespace peppp::meta {

/// Best rank-k factors of an n×d matrix (F5.1): `E ≈ Xᵀ Y` with
/// `Y = V_kᵀ` (k×d, orthonormal rows: configuration embeddings) and
/// `X = Σ_k U_kᵀ` (k×n: task embeddings).
struct Embedding {
  Eigen::MatrixXd x;                ///< k×n task embeddings
  Eigen::MatrixXd y;                ///< k×d configuration embeddings
  Eigen::VectorXd singular_values;  ///< all singular values of E, descending
};

/// Rank-k embedding of a fully known matrix (no NaN). Throws InputError if
/// k < 1, k > min(n, d) or the matrix holds a non-finite value.
Embedding embed(const Eigen::MatrixXd& e, int k);

/// Explained variance EV(k) = Σ_{i≤k} σ_i² / Σ_i σ_i² (F5.2, no centering),
/// from the singular values of `embed`. k is clamped to [0, size].
double explained_variance(const Eigen::VectorXd& singular_values, int k);

/// Kendall tau-b between two equally long vectors (ties handled as in
/// scipy.stats.kendalltau); NaN when one vector is constant. O(m²).
double kendall_tau_b(const Eigen::VectorXd& a, const Eigen::VectorXd& b);

/// n×n matrix of Kendall tau-b between the rows (tasks) of E (F5.3).
Eigen::MatrixXd kendall_tau_matrix(const Eigen::MatrixXd& e);

}  // namespace peppp::meta
