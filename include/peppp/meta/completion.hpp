#pragma once
/// @file completion.hpp
/// @brief The whole `peppp complete` computation on plain Eigen data
/// (METHOD.md F3–F8, DESIGN.md §5 completed.nc): SoftImpute (weighted when
/// the plan was non-uniform), per-task estimated Pareto frontiers, metrics
/// against the truth when the matrix is fully measured, and the
/// sampling-ratio sweep (the paper's Figure 10 data). Serial, deterministic.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "peppp/core/cell.hpp"
#include "peppp/meta/softimpute.hpp"

namespace peppp::meta {

/// n×d byte flags (1 = Pareto optimal).
using ByteMatrix = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic>;

/// The error matrix SoftImpute sees: `error` where status = measured, NaN
/// elsewhere. `status` is row-major n·d `peppp::CellStatus` bytes (core/cell.hpp). Throws InputError when a measured
/// cell's error is NaN/inf or the sizes differ.
Eigen::MatrixXd measured_errors(const Eigen::MatrixXd& error, const std::vector<std::uint8_t>& status);

/// Settings of `complete_campaign`.
struct CompletionOptions {
  bool lambda_auto = true;         ///< choose λ by k-fold CV (F3.5); else use `lambda`
  double lambda = 0.1;             ///< fixed λ (> 0) when !lambda_auto
  std::vector<double> lambda_grid = {0.03, 0.1, 0.3, 1, 3, 10};  ///< CV candidates
  int cv_folds = 5;                ///< CV folds over the observed entries
  /// Design probabilities P (n×d) of a non-uniform plan: weights 1/P on the
  /// observed entries (F4.3). Empty: plain (unweighted) SoftImpute.
  Eigen::MatrixXd sampling_probabilities;
  double gap_tolerance = 1e-7;     ///< stop at duality gap ≤ tol · objective (the certificate)
  int max_iterations = 50000;
  std::optional<bool> accelerated; ///< proximal solver only (SoftImputeOptions::solver; the default factored solver ignores it): default on when weighted (F4.3)
  /// Complete on the log scale L = log_error_scale(A): SoftImpute of L − B
  /// plus B, B = two_way_baseline(L) (grand, task and configuration means),
  /// mapped back by error_scale: unobserved cells shrink toward their row and
  /// column means (multiplicatively) instead of toward 0. Only the main
  /// solve; `peppp select` uses it for its prior.
  bool center = false;
  bool sweep = true;               ///< run the ratio sweep when the matrix is fully observed
  std::vector<double> sweep_ratios = {0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50};
  std::uint64_t seed = 0;          ///< CV folds and sweep masks (ratio r_k uses seed·1000 + k)
  /// The d configuration labels (optional). When one carries role overrides
  /// (`e4m3[first=e8m7]/e6m7`), every solve is the feature completion
  /// (feature_completion.hpp, docs/feature-completion.md) instead of
  /// SoftImpute, and `center` is ignored; empty or uniform labels: SoftImpute.
  std::vector<std::string> configuration_labels;
};

/// One ratio of the sweep: uniform sample of the full matrix, completed, scored.
struct SweepPoint {
  double ratio = 0;
  int observed = 0;                   ///< entries sampled = round(ratio·n·d)
  double lambda = 0;                  ///< λ used (CV'd per ratio when lambda_auto)
  int iterations = 0;
  double objective = 0, gap = 0;
  double relative_error = 0;          ///< ‖Ê − E‖_F/‖E‖_F over all entries
  double relative_error_unobserved = 0;
  double mean_convergence = 0, mean_hyperdiff = 0;  ///< averaged over tasks
  Eigen::VectorXd convergence, hyperdiff, task_relative_error;  ///< per task (length n)
  std::vector<std::uint8_t> mask;     ///< the sampled cells, row-major n·d (saved draws)
};

/// Everything completed.nc holds.
struct CompletionResult {
  Eigen::MatrixXd estimate;        ///< Ê = Z* (n×d), observed entries not overwritten (F3.6)
  ByteMatrix pareto_estimate;      ///< per task, Pareto set of (m/max m, ê)
  ByteMatrix pareto_true;          ///< per task, of (m/max m, e); empty unless fully observed
  bool fully_observed = false;
  bool weighted = false;
  int observed = 0;                ///< number of observed entries
  Eigen::VectorXd convergence, hyperdiff, relative_error;  ///< per task; NaN unless fully observed
  double relative_error_all = 0;   ///< ‖Ê − E‖/‖E‖ over all entries; NaN unless fully observed
  double relative_error_observed = 0;  ///< the same over the observed entries (fit)
  double lambda = 0;
  bool lambda_auto = false;
  std::vector<double> cv_grid, cv_error;  ///< CV curve when lambda_auto
  int rank = 0, iterations = 0;
  double objective = 0, gap = 0;
  bool converged = false;
  Eigen::VectorXd singular_values;
  int free_columns = 0;            ///< as SoftImputeResult::free_columns (0 = every column)
  std::vector<SweepPoint> sweep;   ///< empty unless fully observed and options.sweep
};

/// Complete a campaign's error matrix. `error`: n×d, NaN = unobserved (use
/// `measured_errors` to apply the status). `memory`: n×d MiB, all finite and
/// > 0. Throws InputError for shape mismatches, a task row with no observed
/// entry, non-positive memory, λ ≤ 0, or bad probabilities. Not collective.
CompletionResult complete_campaign(const Eigen::MatrixXd& error, const Eigen::MatrixXd& memory,
                                   const CompletionOptions& options);

}  // namespace peppp::meta
