#pragma once
/// @file loocv.hpp
/// @brief Meta-leave-one-out cross-validation, the serial part (METHOD.md
/// F10): the settings I–VI, the options and their validation, the work items
/// (setting × fold × repeat × method) and the computation of one item — one
/// method's nested selection on one held-out task, scored at every count.
/// Each item depends on its indices and the data only (seeds derived from
/// them), so results do not depend on who computes them. Distributing the
/// items over ranks, gathering them into loocv.nc and merging split runs is
/// `par/loocv.hpp`. Serial, not collective.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "peppp/core/loocv_metrics.hpp"
#include "peppp/meta/acquisition.hpp"
#include "peppp/meta/softimpute.hpp"

namespace peppp::meta {

/// Name of the F9.2 baseline in the `acquisition` coordinate.
inline constexpr const char* kBaselineMethod = "random-high-memory";
/// Name of the F9.3 zero-shot default in the summary and the figures (its
/// numbers are the `zero_shot_*` variables of loocv.nc, not an
/// `acquisition` entry: it has no measurement count).
inline constexpr const char* kZeroShotMethod = "zero-shot";

/// The setting names "I".."VI" (METHOD.md F10), in order.
const std::vector<std::string>& loocv_setting_names();
/// The acquisition method names accepted on the command line, in order:
/// ed-mf, qr-mf, random-mf, bo-mf, bo-full, ei-mf.
const std::vector<std::string>& loocv_method_names();

/// How one setting builds the meta-training matrix and caps the meta-test.
struct SettingInfo {
  enum class Training { full, uniform, nonuniform } training;  ///< meta-training matrix
  bool capped;  ///< meta-test measurements restricted to memory ≤ cap
};
/// The meaning of setting "I".."VI". @throws InputError for other names.
SettingInfo setting_info(const std::string& name);

/// Which rows a fold keeps out of its meta-training matrix (`--fold-by`).
/// Folds are one per campaign row either way (each row is the held-out "new
/// task" once). `task`: every row of the held-out row's task (all its models
/// and learning rates, `LoocvData::group`), so nothing measured on that
/// dataset leaks into meta-training; `row`: only the held-out row. On a plain
/// campaign (rows are tasks) both are the same.
enum class FoldBy { task, row };
/// "task" / "row".
const char* fold_by_name(FoldBy f);
/// Parse "task" / "row". @throws InputError naming `key` and the value.
FoldBy parse_fold_by(const std::string& text, const std::string& key = "--fold-by");

/// Which configurations a method may measure on the held-out task and
/// recommend (`--candidates`): `all` of them, or only the `measured` ones,
/// those no `--hide-columns` hid from meta-training.
enum class Candidates { all, measured };
/// "all" / "measured".
const char* candidates_name(Candidates c);
/// Parse "all" / "measured". @throws InputError naming `key` and the value.
Candidates parse_candidates(const std::string& text, const std::string& key = "--candidates");

/// The configurations `--hide-columns fraction` removes from every
/// meta-training row: round(fraction·d) of the d columns, at most d − 1 (one
/// column always stays), drawn by a shuffle seeded from `seed` alone (the
/// same for every rank, part and fold), ascending. Empty for fraction 0.
/// @throws InputError unless 0 ≤ fraction < 1.
std::vector<int> hidden_columns(std::size_t d, double fraction, std::uint64_t seed);

/// What to compute.
struct LoocvSpec {
  std::vector<std::string> settings{"I", "II", "III", "IV", "V", "VI"};  ///< setting names
  std::vector<std::string> methods{"ed-mf", "qr-mf", "random-mf", "bo-mf", "bo-full", "ei-mf"};  ///< methods
  std::vector<int> measurements{3, 4, 5, 6, 8, 10, 12, 15};  ///< counts l, ascending after validation
  /// Memory cap on meta-test measurements, MiB; NaN = median of all memory
  /// entries (METHOD.md F2). Also the F9 budget (F12.13).
  double cap = std::numeric_limits<double>::quiet_NaN();
  /// `--cap task-median`: each held-out task's cap (and budget) is the median
  /// of its own configurations' memory, so tasks whose memory differs by a
  /// factor (14 vs 28 px) keep about half their configurations feasible;
  /// `cap` is then NaN.
  bool cap_per_task = false;
  int repeats = 1;          ///< repeats (masks and random orders differ per repeat), ≥ 1
  int rank = 3;             ///< embedding rank k
  double lambda = 0;        ///< SoftImpute λ; ≤ 0 = choose by 5-fold CV (F3.5)
  /// With λ auto: one CV for all folds (on the first fold's meta-training
  /// matrix, per scheme and repeat) instead of one per fold (`--lambda once`).
  bool lambda_once = false;
  /// With λ auto: 0 = one λ CV per fold (default). B > 0 = one CV per block
  /// of held-out rows (`--lambda-cv-folds B`): `data.folds()` split into B
  /// contiguous blocks (`lambda_cv_blocks`), each block's CVs run once on the
  /// meta-training matrix without all of its rows, and every fold of the
  /// block uses their λ (`block_lambdas`). No fold's λ is chosen with its own
  /// held-out row in the matrix. 0 ≤ B ≤ the number of held-out rows.
  int lambda_cv_folds = 0;
  /// With λ auto: stop each fold's λ CV path once a candidate lowers the
  /// pooled held-out error of the one before by less than this many standard
  /// errors (`--lambda-flat`; cv_lambda's `flat_se`). 0 = off.
  double lambda_flat = 0;
  /// With λ auto: start each final solve at the chosen λ from a completion
  /// the λ choice made instead of the λ_max path (`--lambda-warm`). Per fold
  /// (B = 0): the CV's first-split completion at that λ. With
  /// `lambda_cv_folds` B > 0: the block's λ-CV matrix completed at the
  /// block's λ (`block_start`), its rows copied and the fold's other rows
  /// fitted to its configuration factors (`fold_start`). Same optimum to the
  /// certificate, other last bits. No effect with `lambda_once`.
  bool lambda_warm = false;
  /// The λ CVs' solves with SoftImputeOptions::blocked_preconditioner
  /// (`--lambda-cv-blocked`): other last bits in the CV errors only; the
  /// final solves are unchanged.
  bool lambda_cv_blocked = true;
  /// With lambda_cv_blocked: the CV solves' preconditioner in single
  /// precision (`--lambda-cv-single`, SoftImputeOptions::single_precision_preconditioner).
  bool lambda_cv_single = false;
  std::uint64_t seed = 1;   ///< base seed of masks and random orders
  double ratio = 0.2;       ///< uniform meta-training sampling ratio (III, IV)
  double p_min = 0.0;       ///< non-uniform probability floor (V, VI)
  double p_max = 0.4;       ///< non-uniform probability of the cheapest cells (V, VI)
  int part = 1;             ///< this job's part, 1..parts (folds split in contiguous blocks)
  int parts = 1;            ///< number of parts
  bool include_baseline = true;  ///< add the random-high-memory method
  FoldBy fold_by = FoldBy::task;  ///< rows each fold holds out of meta-training
  /// How ED-MF, QR-MF and Random-MF predict (`--prediction`): the posterior
  /// (default) or the paper's least squares (F6.2).
  PredictionRule prediction = PredictionRule::posterior;
  /// Column hold-out (`--hide-columns F`, docs/feature-completion.md): the
  /// fraction of the configurations removed from the observed entries of
  /// every meta-training row, in every setting and fold (0 = none).
  double hide_columns = 0;
  /// The hidden columns (`hidden_columns` of d, `hide_columns`, `seed`),
  /// ascending; resolved by validate_loocv.
  std::vector<int> hidden;
  /// What the methods, the baseline and the zero-shot default may measure
  /// and recommend on the held-out task (`--candidates`).
  Candidates candidates = Candidates::all;
};

/// The error/memory matrices LOOCV runs on: n rows × d configurations,
/// row-major (index t·d + c). Every error entry is known (a fully measured
/// campaign, or a completed one whose estimates stand in for the truth);
/// `par::loocv_data` builds it from a campaign file.
struct LoocvData {
  std::vector<std::string> task;    ///< n row labels (task names on a plain campaign)
  std::vector<std::string> config;  ///< d configuration labels
  std::vector<double> error;        ///< n·d test errors in [0, 1]
  std::vector<double> memory;       ///< n·d training memory, MiB (finite, > 0)
  /// Per row: its group, the task it trains on (rows of one task × several
  /// models / learning rates share it); `FoldBy::task` holds a whole group
  /// out. Empty: every row is its own group.
  std::vector<int> group;
  /// Per row: its architecture (0..K−1, the network it trains) when the
  /// rows train several; empty: one. A fold whose meta-training rows are of
  /// several architectures forms its prior like `peppp select
  /// --campaign.model M` (docs/ei-mf.md §5): from the rows of its own
  /// architecture (`model_rows_prior`; the zero-shot pick from their column
  /// means), or, when none of them meta-trains, from all rows widened by the
  /// spread between the architectures (`widened_prior`).
  std::vector<int> model;
  /// The rows that are folds (held out and scored once each), ascending;
  /// the other rows only ever meta-train (`--test-rows`). Empty: every row.
  std::vector<int> fold_rows;
  std::size_t n() const { return task.size(); }
  std::size_t d() const { return config.size(); }
  /// The rows that are folds (`fold_rows`, or 0..n−1).
  std::vector<int> folds() const;
};

/// The rows fold `fold` (a campaign row) keeps out of its meta-training
/// matrix, ascending: the row itself, and with `FoldBy::task` every row of
/// its group. Not collective.
std::vector<int> held_out_rows(const LoocvSpec& spec, const LoocvData& data, int fold);
/// The rows of fold `fold`'s meta-training matrix, ascending: all rows but
/// `held_out_rows` (n − 1 of them with one row held out).
std::vector<int> training_rows(const LoocvSpec& spec, const LoocvData& data, int fold);

/// Whether the meta-training matrix of `setting` is completed: a sampled
/// setting, or any setting once columns are hidden (`spec.hidden`).
bool completes_meta_training(const LoocvSpec& spec, int setting);

/// Validate `spec` against `data` (same outcome on every rank): at least 3
/// rows and at least 2 meta-training rows in every fold, known setting and
/// method names without duplicates, rank ≤ every fold's meta-training rows
/// and the configurations, counts ≥ rank and ≤ the configurations a capped
/// fold may measure (with `Candidates::measured`: among the columns not
/// hidden), 1 ≤ part ≤ parts ≤ folds, 0 ≤ hide_columns < 1 and hidden
/// columns only on a campaign with per-role labels (plain SoftImpute cannot
/// predict a column no meta-training row measured), 0 ≤ lambda_cv_folds ≤
/// folds, not with lambda_once, and (λ auto) every block's λ-CV matrix
/// keeping at least 2 rows and kLoocvCvSplits observed entries. Resolves the cap
/// (median) and the hidden columns, and sorts the counts.
/// @throws InputError naming the key, value and what is allowed.
LoocvSpec validate_loocv(LoocvSpec spec, const LoocvData& data);

/// The folds (campaign rows) of `spec.part` out of `spec.parts`: part K of N
/// holds rows [(K−1)·n/N, K·n/N).
std::vector<int> loocv_folds(const LoocvSpec& spec, std::size_t n_tasks);
/// The folds of `spec.part` among `data.folds()` (all rows, or the
/// `fold_rows`): part K of N holds entries [(K−1)·F/N, K·F/N) of them.
std::vector<int> loocv_folds(const LoocvSpec& spec, const LoocvData& data);

/// One work item: indices into the spec's lists; `method == methods.size()`
/// is the baseline; `fold` is the campaign row held out.
struct LoocvItem {
  int setting = 0, fold = 0, repeat = 0, method = 0;
};

/// The result of one item. Every metric of `PEPPP_LOOCV_METRICS`
/// (core/loocv_metrics.hpp: relative_error, convergence, hyperdiff,
/// selected_error, best_feasible_error, regret, measured_memory) is a member
/// with one entry per count (`measurements.size()`), NaN where undefined.
struct LoocvItemResult {
#define PEPPP_LOOCV_ITEM_MEMBER_(member, units, long_name) std::vector<double> member;
  PEPPP_LOOCV_METRICS(PEPPP_LOOCV_ITEM_MEMBER_)
#undef PEPPP_LOOCV_ITEM_MEMBER_
  /// Per count: the fraction of the held-out task's configurations not
  /// measured whose true error lies within ±2 predicted std (calibration);
  /// NaN for the baseline.
  std::vector<double> coverage;
  /// Per count, with hidden columns (`LoocvSpec::hidden`): the relative
  /// error (F8.5) of the prediction over the held-out task's unmeasured
  /// configurations in hidden columns, and over those in the other
  /// (meta-training-measured) columns; NaN without hidden columns, for the
  /// baseline, or where the held-out task measured every such column.
  std::vector<double> relative_error_hidden, relative_error_measured;
  /// The zero-shot default (F9.3; `PEPPP_LOOCV_ZERO_SHOT_METRICS`), computed
  /// by the baseline item (NaN in the others): the pick, its true error and
  /// regret, the frontier metrics and the coverage of the prior predictive.
#define PEPPP_LOOCV_ZERO_SHOT_MEMBER_(member, units, long_name) double member = std::numeric_limits<double>::quiet_NaN();
  PEPPP_LOOCV_ZERO_SHOT_METRICS(PEPPP_LOOCV_ZERO_SHOT_MEMBER_)
#undef PEPPP_LOOCV_ZERO_SHOT_MEMBER_
  int zero_shot_config = -1;  ///< column of the zero-shot pick (baseline item only)
  /// d each: the prior predictive mean (bounded to [0, 1]) and std of every
  /// configuration of the held-out task (baseline item only; else empty).
  std::vector<double> zero_shot_predicted_error, zero_shot_predicted_std;
  std::vector<int> selected_config;  ///< per count: column of the F9.1 pick; −1 for the baseline
  std::vector<int> order;            ///< nested selection order (≤ max count entries; empty for the baseline)
  /// count × d row-major: predicted errors in [0, 1] (measured configurations
  /// at their measurements) and predictive standard deviations after the
  /// first l picks; empty for the baseline.
  std::vector<double> predicted_error, predicted_std;
  double lambda = std::numeric_limits<double>::quiet_NaN();            ///< λ of the meta-training completion
  double sampled_fraction = std::numeric_limits<double>::quiet_NaN();  ///< observed fraction of meta-training
};

/// Computes one item. Must depend on the item and the data only.
using LoocvEvaluator = std::function<LoocvItemResult(const LoocvItem&)>;

/// The meta-training sampling mask of (setting, fold, repeat): row-major n·d,
/// 1 where observed; the held-out rows (`held_out_rows`) and the hidden
/// columns (`spec.hidden`) are all 0; the sample is drawn on the
/// meta-training rows alone. Seed `1000·seed + fold`
/// (METHOD.md F10) for repeat 0, mixed with the repeat otherwise.
std::vector<std::uint8_t> meta_training_mask(const LoocvSpec& spec, const LoocvData& data, int setting, int fold,
                                             int repeat);

/// The meta-training matrix of one (sampling scheme, fold, repeat), which
/// every method and capped/uncapped setting of that scheme shares.
struct MetaTraining {
  /// m×d row-major, m = the fold's meta-training rows (`training_rows`; n−1
  /// with one row held out): the data without the held-out rows (full) or
  /// its SoftImpute completion (the feature completion, docs/feature-completion.md,
  /// when the configuration labels are per role; `centered` is then the same).
  std::vector<double> estimate;
  double lambda = std::numeric_limits<double>::quiet_NaN();    ///< SoftImpute λ (NaN for full)
  double fraction = std::numeric_limits<double>::quiet_NaN();  ///< observed fraction of its entries
  /// m×d row-major: the centered completion (center_errors, SoftImpute of
  /// the residual, uncenter_errors) that ei-mf's prior is fitted to; empty for full settings
  /// or when no ei-mf item is run (docs/ei-mf.md).
  std::vector<double> centered;
  /// λ of the centered completion (NaN without one); not written to loocv.nc.
  double centered_lambda = std::numeric_limits<double>::quiet_NaN();
};
/// The cap (= budget) of task `task`: `spec.cap`, or with `cap_per_task` the
/// median memory of that task's row.
double task_cap(const LoocvSpec& spec, const LoocvData& data, std::size_t task);
/// The λ of a sampled meta-training matrix's two completions: the paper's
/// and the centered one of ei-mf (NaN when not computed).
struct LoocvLambdas {
  double lambda = std::numeric_limits<double>::quiet_NaN();
  double centered = std::numeric_limits<double>::quiet_NaN();
  /// With `--lambda-cv-folds` and `--lambda-warm`: the block's λ-CV matrix
  /// (`lambda_cv_matrix_rows` × d, row-major) completed at `lambda`, and its
  /// centered residual completed at `centered` (`block_start`): the final
  /// solves' warm starts. Empty otherwise.
  std::vector<double> start, centered_start;
};
/// The λ that the 5-fold CVs of (setting, fold, repeat) choose
/// (docs/softimpute.md, "λ in meta-LOOCV"); the centered one only when ei-mf
/// is among the methods. All NaN for a full setting.
LoocvLambdas loocv_lambdas(const LoocvSpec& spec, const LoocvData& data, int setting, int fold, int repeat);
/// With `spec.lambda_once` (and λ auto): the λ of every fold of (setting's
/// scheme, repeat), chosen by the CVs on the first fold's meta-training
/// matrix (`data.folds()` front, whatever the part). All NaN otherwise.
LoocvLambdas once_lambdas(const LoocvSpec& spec, const LoocvData& data, int setting, int repeat);
/// `--lambda once`'s λ, one CV per (scheme, repeat) computed on first use
/// (`once_lambdas`) and kept for every later fold of the same scheme.
class OnceLambdas {
 public:
  /// What to give `build_meta_training` for (setting, repeat): nullptr
  /// unless `spec.lambda_once` with λ auto and a sampled setting.
  const LoocvLambdas* find(const LoocvSpec& spec, const LoocvData& data, int setting, int repeat);

 private:
  std::map<std::pair<int, int>, LoocvLambdas> by_scheme_;  // (training kind, repeat)
};
/// The splits of every meta-LOOCV λ CV (per fold or per block; METHOD.md F3.5).
inline constexpr int kLoocvCvSplits = 5;
/// `--lambda-cv-folds B` (`spec.lambda_cv_folds` > 0): the held-out rows
/// `data.folds()` (F of them) in B contiguous blocks, block b (0-based) =
/// entries [b·F/B, (b+1)·F/B), whatever `part`/`parts`. Empty for B = 0.
std::vector<std::vector<int>> lambda_cv_blocks(const LoocvSpec& spec, const LoocvData& data);
/// The block (0-based) of `lambda_cv_blocks` that holds fold `fold`; −1 for B = 0.
int lambda_cv_block_of(const LoocvSpec& spec, const LoocvData& data, int fold);
/// The rows a block's λ CV leaves out, ascending: the `held_out_rows` of
/// every fold of the block.
std::vector<int> lambda_cv_block_rows(const LoocvSpec& spec, const LoocvData& data, int block);
/// The λ of every fold of block `block` (setting's scheme, repeat) with
/// `spec.lambda_cv_folds` > 0: the same 5-fold CVs as `loocv_lambdas`, on
/// the meta-training matrix of the block's first fold (its sampling mask, its
/// weights, its CV seeds) with the rest of the block's rows removed too. With
/// one fold per block this is the fold's own CV. `centered`: the centered
/// completion's CV (ei-mf) instead of the paper's. NaN for a full setting, a
/// per-role campaign or λ fixed. Not collective.
double block_lambda(const LoocvSpec& spec, const LoocvData& data, int setting, int block, int repeat, bool centered);
/// The CV behind `block_lambda`, with its curve (`grid`, `heldout_error`,
/// `heldout_se`; `estimate` is left empty); an empty grid and λ NaN where
/// `block_lambda` is NaN.
LambdaCv block_lambda_cv(const LoocvSpec& spec, const LoocvData& data, int setting, int block, int repeat,
                         bool centered);
/// The rows of block `block`'s λ-CV matrix, ascending: the training rows of
/// the block's first fold without `lambda_cv_block_rows`.
std::vector<int> lambda_cv_matrix_rows(const LoocvSpec& spec, const LoocvData& data, int block);
/// A block's λ and, with `spec.lambda_warm`, its start (`LoocvLambdas::start`).
struct BlockStart {
  double lambda = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> start;  ///< `lambda_cv_matrix_rows` × d, row-major; empty without lambda_warm
};
/// `block_lambda` and, with `spec.lambda_warm`, the block's λ-CV matrix (the
/// residual of its centered completion with `centered`) completed at that λ,
/// from the λ_max path to the final solves' certificate. Not collective.
BlockStart block_start(const LoocvSpec& spec, const LoocvData& data, int setting, int block, int repeat,
                       bool centered);
/// A warm start for a fold's final solve from a completion `start` of other
/// rows (`start_rows` × d, row-major) of the same configurations: the fold's
/// matrix `observed` (its rows `rows`, NaN = unobserved; `weights` empty or
/// alike) gets the row of `start` where its row is one of `start_rows`, and
/// elsewhere the ridge fit of its observed entries on the start's
/// configuration factors B = V Σ^½ (start = U Σ Vᵀ, rank k): the minimizer
/// over u of ½ Σ_j w_j (u·b_j − a_j)² + λ/2 ‖u‖², the factored objective's
/// row optimum with B fixed; then one proximal step of F3.2 (step 1/w_max,
/// w_max the largest observed weight) whose thresholded singular values are
/// kept up to rank k + max(4, k/4). Only the solve's speed depends on it.
Eigen::MatrixXd fold_start(const std::vector<double>& start, const std::vector<int>& start_rows,
                           const Eigen::MatrixXd& observed, const Eigen::MatrixXd& weights, const std::vector<int>& rows,
                           double lambda);
/// Both of a block's λ (`block_lambda`; the centered one only when ei-mf is
/// among the methods), with their starts under `spec.lambda_warm`.
LoocvLambdas block_lambdas(const LoocvSpec& spec, const LoocvData& data, int setting, int block, int repeat);
/// `--lambda-cv-folds`' λ, one pair of CVs per (scheme, block, repeat)
/// computed on first use (`block_lambdas`) and kept for the block's other folds.
class BlockLambdas {
 public:
  /// What to give `build_meta_training` for (setting, fold, repeat): nullptr
  /// unless `spec.lambda_cv_folds` > 0 with λ auto and a sampled setting.
  const LoocvLambdas* find(const LoocvSpec& spec, const LoocvData& data, int setting, int fold, int repeat);

 private:
  std::map<std::tuple<int, int, int>, LoocvLambdas> by_block_;  // (training kind, block, repeat)
};
/// Whether `spec` shares λ CVs over blocks of folds: λ auto, not once, B > 0.
bool uses_lambda_cv_blocks(const LoocvSpec& spec);
/// Build it for `setting`'s scheme (METHOD.md F10 step 1). λ: `spec.lambda`
/// when > 0, else `given` when it has one (e.g. `once_lambdas` or
/// `block_lambdas`, computed once by the caller), else `once_lambdas` with
/// `spec.lambda_once`, else `block_lambdas` of the fold's block with
/// `spec.lambda_cv_folds` > 0, else the fold's own CVs.
MetaTraining build_meta_training(const LoocvSpec& spec, const LoocvData& data, int setting, int fold, int repeat,
                                 const LoocvLambdas* given = nullptr);
/// Finds a prebuilt meta-training matrix, or returns nullptr.
using TrainingLookup = std::function<const MetaTraining*(int setting, int fold, int repeat)>;

/// One LOOCV item on its meta-training matrix `training` (of the item's
/// scheme, fold and repeat; METHOD.md F10 steps 2–3): embed, run the method's
/// nested selection of max(measurements) configurations on the held-out row
/// (measuring its true errors), and score every count l by its first l picks:
/// relative error, convergence, HyperDiff, the F9.1 pick under the budget
/// `spec.cap` (argmin of the bounded prediction, measured values kept), its
/// regret, the memory measured and the prediction with its std. The
/// Bayesian prior of the *-MF methods (bayes.hpp) is fitted on `training`
/// with σ² from the residual on the observed meta-training entries. The baseline item
/// (`method == methods.size()`) measures nothing: F9.2 expectation, NaN
/// frontier metrics, and computes the zero-shot default (F9.3): the argmin
/// under the budget of the column means of `training.estimate`, predicted by
/// the prior (fitted on `training.estimate` like ED-MF's) with no
/// measurement. `spec` validated.
LoocvItemResult evaluate_loocv_item(const LoocvSpec& spec, const LoocvData& data, const LoocvItem& item,
                                    const MetaTraining& training);

/// The evaluator of items for `spec` (validated) and `data` (kept by
/// reference: it must outlive the evaluator). Meta-training matrices come
/// from `lookup` when it has them, else they are built here (the last one is
/// cached, so consecutive items of one scheme, fold and repeat share it).
LoocvEvaluator loocv_evaluator(const LoocvSpec& spec, const LoocvData& data, TrainingLookup lookup = {});

}  // namespace peppp::meta
