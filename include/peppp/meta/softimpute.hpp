#pragma once
/// @file softimpute.hpp
/// @brief SoftImpute matrix completion (METHOD.md F3, F4.3): proximal gradient
/// with TFOCS-style backtracking on
/// `F_λ(Z) = ½ Σ_{(i,j)∈Ω} w_ij (Z_ij − A_ij)² + λ‖Z‖_*`,
/// optional FISTA acceleration, warm-started λ paths, a duality-gap stopping
/// certificate and λ by k-fold cross-validation. Serial, deterministic.
///
/// Matrices are n×d (tasks × configurations). Unobserved entries of the data
/// matrix are NaN; Ω is the set of its finite entries.

#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace peppp::meta {

/// How the proximal step computes the singular values above the threshold.
enum class SvdMethod {
  automatic,   ///< exact when min(n, d) ≤ 200, warm-started subspace iteration otherwise
  exact,       ///< full thin SVD (Eigen BDCSVD) every step
  randomized,  ///< block subspace iteration warm-started from the previous step
};

/// The algorithm of one fixed-λ solve (BENCHMARKS.md compares them). Both
/// stop on the same duality-gap certificate and reach the same optimum.
enum class SoftImputeSolver {
  /// Burer–Monteiro: minimize ½Σ w (UVᵀ − A)² + λ/2 (‖U‖² + ‖V‖²) over
  /// n×r and d×r factors by L-BFGS (r grows while every column is in use,
  /// up to min(n, d), so the minimum equals F_λ's); each step costs O(|Ω| r),
  /// no SVD. Fast on small, sparse, low-rank problems.
  factored,
  /// Proximal gradient with singular-value thresholding (F3.2), optionally
  /// FISTA-accelerated (`accelerated`).
  proximal,
};

/// Settings of one SoftImpute solve.
struct SoftImputeOptions {
  double lambda = 0.1;          ///< regularization λ > 0 (same units as the data)
  double gap_tolerance = 1e-7;  ///< stop when duality gap ≤ gap_tolerance · F(Z)
  /// Also stop when the gap is at most this (data units squared): for data
  /// near 0, e.g. the residual of a centered completion, whose objective is
  /// so small that the relative test asks for round-off. 0 = relative only.
  double gap_absolute = 0;
  int max_iterations = 50000;   ///< hard cap; reaching it sets `converged = false`
  int check_every = 5;          ///< evaluate the gap every this many iterations
  bool accelerated = false;     ///< proximal only: FISTA momentum + gradient restart (F3.2); same optimum
  SoftImputeSolver solver = SoftImputeSolver::factored;  ///< algorithm of each fixed-λ solve
  SvdMethod svd = SvdMethod::automatic;
  /// Factored solver: build the block-Jacobi preconditioner's r×r blocks by
  /// one gathered BLAS-3 update each and keep their Cholesky factors, instead
  /// of rank-one updates and explicit inverses: several times cheaper to
  /// rebuild at rank ≳ 20, the same preconditioner up to round-off, so the
  /// same optimum to the certificate with other last bits (meta-LOOCV's λ CV
  /// uses it; docs/softimpute.md).
  bool blocked_preconditioner = false;
  /// With `blocked_preconditioner`: keep the blocks' inverses in single
  /// precision (half the memory each step's products read; ~18 % less CPU on
  /// a 160 × 400 meta-LOOCV fold). A preconditioner only steers the steps,
  /// so the certificate still holds; the iterates differ more than by
  /// round-off (`--lambda-cv-single`, opt-in; docs/softimpute.md).
  bool single_precision_preconditioner = false;
  /// Optional warm-started continuation λ_1 > … > λ_K; the final solve is at
  /// `lambda`. Entries ≤ lambda are ignored. Empty: solve at `lambda` directly.
  std::vector<double> path;
  /// When `path` is empty: continue from λ_max = ‖P_Ω(W⊙A)‖₂ (where Z* = 0)
  /// down to `lambda` by factors of `path_factor` (Mazumder et al.'s
  /// warm-started decreasing series, F3.3). Only speed changes, not Z*(λ).
  bool auto_path = true;
  double path_factor = 0.3;         ///< ratio between consecutive path values, in (0, 1)
  double path_gap_tolerance = 1e-4; ///< looser stopping rule for the intermediate path solves
};

/// Result of a SoftImpute solve.
struct SoftImputeResult {
  Eigen::MatrixXd estimate;       ///< Z*, n×d, low rank; observed entries not overwritten (F3.6)
  Eigen::VectorXd singular_values;///< nonzero singular values of Z*, descending
  int rank = 0;                   ///< number of nonzero singular values of Z*
  int iterations = 0;             ///< steps (proximal or L-BFGS) taken at the final λ (path steps excluded)
  int total_iterations = 0;       ///< steps including the path
  double objective = 0;           ///< F_λ(Z*)
  double gap = 0;                 ///< duality gap F(Z*) − D(Θ) ≥ 0 (F3.4)
  double lambda = 0;              ///< λ used
  bool converged = false;         ///< gap ≤ gap_tolerance · objective reached
  /// Columns whose factors are free parameters, for the residual noise's
  /// degrees of freedom: 0 = every column (SoftImpute); the feature
  /// completion's p (its configuration factors are Φ W, W p×k).
  int free_columns = 0;
};

/// Solve SoftImpute. `data`: n×d, NaN = unobserved. `weights`: empty for
/// w ≡ 1, else n×d with w_ij > 0 finite on every observed entry (ignored
/// elsewhere; F4.3 uses 1/P_ij). `warm_start`: optional initial Z (n×d).
/// Throws InputError for λ ≤ 0, non-finite or non-positive weights, shape
/// mismatch, or no observed entry at all. Not collective.
SoftImputeResult soft_impute(const Eigen::MatrixXd& data, const Eigen::MatrixXd& weights,
                             const SoftImputeOptions& options,
                             const Eigen::MatrixXd& warm_start = Eigen::MatrixXd());

/// F_λ(Z) evaluated directly (exact nuclear norm by SVD). Same conventions.
double softimpute_objective(const Eigen::MatrixXd& z, const Eigen::MatrixXd& data,
                            const Eigen::MatrixXd& weights, double lambda);

/// The duality gap of F3.4 at Z (≥ 0; 0 at the optimum), with the exact
/// spectral norm. Same conventions.
double softimpute_duality_gap(const Eigen::MatrixXd& z, const Eigen::MatrixXd& data,
                              const Eigen::MatrixXd& weights, double lambda);

/// The subgradient optimality certificate of F3.4 at Z.
struct SubgradientCheck {
  int rank = 0;                 ///< numerical rank of Z used (σ > rank_tolerance·σ_1)
  double tangent_residual = 0;  ///< ‖P_T(G) − U_r V_rᵀ‖_F, 0 at the optimum
  double perp_norm = 0;         ///< ‖(I − UUᵀ) G (I − VVᵀ)‖_2, ≤ 1 at the optimum
};
/// Evaluate F3.4's subgradient condition with G = −∇f(Z)/λ.
SubgradientCheck softimpute_subgradient(const Eigen::MatrixXd& z, const Eigen::MatrixXd& data,
                                        const Eigen::MatrixXd& weights, double lambda,
                                        double rank_tolerance = 1e-8);

/// Result of λ cross-validation.
/// Held-out errors of cv_lambda within this relative distance of the lowest are ties.
constexpr double kCvTie = 1e-4;
struct LambdaCv {
  double lambda = 0;                  ///< the chosen λ (lowest held-out error; ties within kCvTie: first in grid)
  std::vector<double> grid;           ///< the candidates, as given
  std::vector<double> heldout_error;  ///< pooled held-out relative error per candidate (NaN: not reached, see patience)
  /// Standard error of `heldout_error` per candidate: the sample standard
  /// deviation over the k folds of each fold's own relative error, / √k (NaN: not reached).
  std::vector<double> heldout_se;
  /// The first split's completion at the chosen λ (n×d; its training matrix
  /// holds out that split's entries): a warm start for the full-data solve at
  /// that λ. Empty where cv_lambda was not asked for it (`keep_estimate`).
  Eigen::MatrixXd estimate;
};
/// k-fold CV over the observed entries (F3.5): folds from a seeded random
/// permutation of Ω; for each candidate, complete on k−1 folds and measure
/// `‖Ẑ − A‖/‖A‖` pooled over the held-out entries. Each fold solves the
/// candidates largest first, each warm-started from the previous one. Default grid
/// {0.03, 0.1, 0.3, 1, 3, 10}. `options.lambda`/`path` are overridden.
/// `patience` > 0: stop the path once that many candidates in a row have a
/// pooled error above the lowest so far (beyond kCvTie); the candidates not
/// reached keep a NaN error and are not chosen. 0: every candidate.
/// `flat_se` > 0: also stop the path once a candidate lowers the pooled error
/// of the candidate before it by less than `flat_se` times its standard error
/// after an earlier step gained at least that much (the curve has descended
/// and flattened within its noise; docs/softimpute.md). 0: off.
/// `keep_estimate`: fill `LambdaCv::estimate`. Neither changes a solve.
LambdaCv cv_lambda(const Eigen::MatrixXd& data, const Eigen::MatrixXd& weights,
                   const SoftImputeOptions& options, std::vector<double> grid = {},
                   int folds = 5, std::uint64_t seed = 0, int patience = 0, double flat_se = 0,
                   bool keep_estimate = false);

/// Additive two-way baseline of a partly observed matrix (NaN = unobserved):
/// B_ij = g + c_j + r_i with g the mean of the observed entries, c_j the
/// column effects sum_i (A_ij − g) / (n_j + κ) and r_i the row effects
/// sum_j (A_ij − g − c_j) / (n_i + κ) over the observed entries of column j /
/// row i (n_j, n_i of them): means shrunk to 0 by κ pseudo-observations, so a
/// column seen twice moves only partway from the grand mean. SoftImpute of
/// A − B then shrinks unobserved entries toward B, not toward 0
/// (docs/ei-mf.md, "Centered completion"). Throws InputError with no observed
/// entry or κ < 0.
Eigen::MatrixXd two_way_baseline(const Eigen::MatrixXd& data, double pseudo_count = 2.0);

/// The scale of a centered completion: L = log(max(A, 0) + offset), NaN kept.
/// Format effects scale with a task's difficulty (an easy task loses less to
/// a coarse format than a hard one), so the additive baseline fits them on
/// this multiplicative scale.
constexpr double kLogErrorOffset = 0.01;
Eigen::MatrixXd log_error_scale(const Eigen::MatrixXd& errors, double offset = kLogErrorOffset);
/// Its inverse, clamped to error rates: clamp(exp(L) − offset, 0, 1).
Eigen::MatrixXd error_scale(const Eigen::MatrixXd& logs, double offset = kLogErrorOffset);

/// The centered completion's two ends (docs/ei-mf.md): `center_errors` maps a
/// partly observed error matrix (NaN = unobserved) to the log scale and
/// splits it into the two-way baseline B and the residual L − B (NaN kept)
/// that SoftImpute completes; `uncenter_errors` maps a completed residual back
/// to error rates, error_scale(Z + B).
struct CenteredErrors {
  Eigen::MatrixXd base, residual;
};
CenteredErrors center_errors(const Eigen::MatrixXd& errors);
Eigen::MatrixXd uncenter_errors(const Eigen::MatrixXd& completed_residual, const CenteredErrors& centered);
/// Absolute duality-gap floor of the residual's solves (SoftImputeOptions::gap_absolute).
constexpr double kCenteredGapAbsolute = 1e-8;

/// Singular triplets of X with σ > tau (descending): X ≈ U diag(s) Vᵀ on that
/// part. `warm_v` (d×r, may be empty) seeds the subspace iteration, which
/// stops when the singular values change by ≤ max(accuracy, 1e-13)·σ_1.
struct ThresholdSvd {
  Eigen::MatrixXd u, v;
  Eigen::VectorXd s;
};
ThresholdSvd svd_above(const Eigen::MatrixXd& x, double tau, SvdMethod method,
                       const Eigen::MatrixXd& warm_v = Eigen::MatrixXd(), double accuracy = 1e-13);

/// Largest singular value of X (exact for small, block subspace iteration on
/// the Gram matrix otherwise, to relative accuracy ~1e-13).
double spectral_norm(const Eigen::MatrixXd& x);

}  // namespace peppp::meta
