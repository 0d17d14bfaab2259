#pragma once
/// @file design.hpp
/// @brief Experiment design for the meta-test task (METHOD.md F6): column-
/// pivoted QR, greedy D-optimal selection (matrix determinant lemma +
/// Sherman–Morrison), the convex relaxation, and least-squares prediction.
///
/// `y` is always the k×d configuration embedding (one column per
/// configuration); candidate sets hold 0-based configuration indices.

#include <vector>

#include <Eigen/Core>

namespace peppp::meta {

/// Businger–Golub column pivoting: the first `count` pivots of `a` (m×c), each
/// the column of largest residual norm after projecting out the columns
/// already picked (ties: lowest index). Residual norms are recomputed, not
/// downdated. When `count` exceeds the numerical rank, the remaining picks
/// follow the residual norms down to round-off; count ≤ c.
std::vector<int> pivoted_qr_order(const Eigen::MatrixXd& a, int count);

/// Indices j with memory[j] ≤ cap (F6.3), ascending. `cap` = +inf: all.
std::vector<int> feasible_set(const Eigen::VectorXd& memory, double cap);

/// log det(Σ_{j∈S} y_j y_jᵀ) computed directly (−inf if singular).
double design_log_det(const Eigen::MatrixXd& y, const std::vector<int>& s);

/// Greedy D-optimal design (F6.5, Algorithm 2): start from the first k QR
/// pivots of Y_{:T}, then add argmax_{j∈T∖S} y_jᵀA⁻¹y_j (ties: lowest index),
/// updating A⁻¹ by Sherman–Morrison. Returns the selection in pick order,
/// min(l, |T|) long (the first l QR pivots when l < k). Nested in l.
/// Throws InputError if `candidates` is empty, holds an index outside [0,d)
/// or l < 1.
std::vector<int> greedy_d_optimal(const Eigen::MatrixXd& y, const std::vector<int>& candidates, int l);

/// Result of the convex relaxation (F6.6).
struct RelaxedDesign {
  Eigen::VectorXd v;            ///< d weights in [0,1], Σ v ≤ l, 0 outside T
  std::vector<int> selection;   ///< the l largest v_j (ties: lowest index), by decreasing v
  double objective = 0;         ///< −log det(Σ v_j y_j y_jᵀ)
  double kkt_residual = 0;      ///< max violation of the KKT conditions (scaled by k)
  int iterations = 0;
};
/// Minimize −log det(Σ_j v_j y_j y_jᵀ) s.t. Σv ≤ l, 0 ≤ v ≤ 1, v = 0 off T,
/// by projected gradient with Armijo backtracking from v0 = l/|T|; then round
/// to the l largest. Requires |T| ≥ k and l ≥ k (else InputError).
RelaxedDesign relaxed_d_optimal(const Eigen::MatrixXd& y, const std::vector<int>& candidates, int l,
                                int max_iterations = 20000, double tolerance = 1e-12);

/// Least-squares prediction (F6.2): x̂ = argmin ‖Y_{:S}ᵀ x − e_S‖ (minimum
/// norm when |S| < k), returns ê = Yᵀ x̂ for all d configurations.
/// `measured` holds e_S in the order of `s`.
Eigen::VectorXd ls_predict(const Eigen::MatrixXd& y, const std::vector<int>& s, const Eigen::VectorXd& measured);

/// The predictive standard deviation of a new measurement under F6.2's
/// model e_S = Y_Sᵀx + ε, ε ~ N(0, σ²I): sqrt(σ²(1 + y_jᵀ(Y_S Y_Sᵀ)⁺y_j))
/// for every configuration j (measured ones included: the fitted value's
/// variance plus the noise), with (·)⁺ the pseudo-inverse (|S| < k).
/// @throws InputError if `s` is empty, holds an index outside [0, d) or σ² < 0.
Eigen::VectorXd ls_predict_std(const Eigen::MatrixXd& y, const std::vector<int>& s, double noise_variance);

}  // namespace peppp::meta
