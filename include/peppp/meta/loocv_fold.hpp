#pragma once
/// @file loocv_fold.hpp
/// @brief One meta-LOOCV fold (METHOD.md F10): hold out task i, build the
/// meta-training matrix for each setting I–VI, embed it, run every method's
/// nested selection up to the largest measurement count, and score each
/// count with the F8 metrics and the F9 pick. The distributed driver calls
/// this once per work item. Serial, deterministic.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "peppp/meta/acquisition.hpp"
#include "peppp/meta/softimpute.hpp"

namespace peppp::meta {

/// The six settings of F10 (meta-training matrix × cap on meta-test measurements).
enum class Setting { I = 1, II, III, IV, V, VI };
/// "I" … "VI".
std::string setting_name(Setting s);
/// Inverse of setting_name (case-insensitive); throws InputError naming the allowed values.
Setting parse_setting(const std::string& name);
/// All six settings in order.
std::vector<Setting> all_settings();
/// True for II, IV, VI (meta-test measurements restricted to memory ≤ cap).
bool setting_capped(Setting s);

/// Settings of a fold.
struct LoocvOptions {
  std::vector<Setting> settings = all_settings();
  std::vector<Method> methods = all_methods();
  std::vector<int> measurements = {3, 4, 5, 6, 8, 10, 12, 15};  ///< counts l, ascending
  int rank = 3;                    ///< k of the embedding
  double cap = std::numeric_limits<double>::quiet_NaN();     ///< MiB; NaN: median of all of `memory`
  double budget = std::numeric_limits<double>::quiet_NaN();  ///< F9 budget, MiB; NaN: the cap
  double uniform_ratio = 0.2;      ///< Settings III/IV
  double p_min = 0.0, p_max = 0.4; ///< Settings V/VI (F4.2)
  bool lambda_auto = true;         ///< λ by CV per fold (F3.5); else `lambda`
  double lambda = 0.1;
  std::vector<double> lambda_grid = {0.03, 0.1, 0.3, 1, 3, 10};
  int cv_folds = 5;
  double gap_tolerance = 1e-7;     ///< SoftImpute stopping certificate
  BoOptions bo;
  std::uint64_t seed = 0;          ///< fold i uses mask seed 1000·seed + i
};

/// Scores of one method at each measurement count (vectors follow
/// `LoocvOptions::measurements`). When fewer configurations are feasible
/// than l, the whole feasible set is measured (`measured_count` < l).
struct MethodCurve {
  Method method = Method::ed_mf;
  std::vector<int> sequence;        ///< pick order up to the largest l
  std::vector<int> measured_count;
  std::vector<double> relative_error, convergence, hyperdiff;
  std::vector<double> measured_memory;  ///< Σ_{j∈S} M_ij, MiB
  std::vector<int> selected_config;     ///< F9.1 pick (−1 when nothing fits the budget)
  std::vector<double> selected_error, best_feasible_error, regret;  ///< true errors; NaN when no pick
};

/// One setting of the fold.
struct SettingResult {
  Setting setting = Setting::I;
  bool capped = false;
  bool no_feasible = false;         ///< the cap excludes every configuration of the test task:
                                    ///< nothing measured, all scores NaN (documented fallback)
  int observed = 0;                 ///< sampled meta-training entries (n−1)·d for "full"
  std::vector<std::uint8_t> mask;   ///< sampled cells of the meta-training matrix (row-major); empty for full
  double lambda = 0;                ///< SoftImpute λ (0 for full)
  int softimpute_iterations = 0;
  double softimpute_gap = 0, softimpute_objective = 0;
  std::vector<int> feasible;        ///< T
  std::vector<MethodCurve> methods;
  double baseline_error = 0;        ///< F9.2 expected true error (NaN when nothing fits)
  double baseline_regret = 0;
  double baseline_memory = 0;
};

/// The result of fold `fold`.
struct FoldResult {
  int fold = 0;
  double cap = 0, budget = 0;       ///< MiB
  double best_feasible_error = 0;   ///< min_{m ≤ budget} e of the test task (NaN when none)
  std::vector<SettingResult> settings;
};

/// Run fold `fold` on the fully measured n×d `error` and `memory` (MiB).
/// Throws InputError if a value is NaN/inf, memory ≤ 0, the fold is out of
/// range, the rank exceeds min(n−1, d), or a count is < 1. Not collective.
FoldResult loocv_fold(const Eigen::MatrixXd& error, const Eigen::MatrixXd& memory, int fold,
                      const LoocvOptions& options);

}  // namespace peppp::meta
