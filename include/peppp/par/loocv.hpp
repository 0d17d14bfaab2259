#pragma once
/// @file loocv.hpp
/// @brief Distributed meta-leave-one-out cross-validation (METHOD.md F10):
/// work items (setting × fold × repeat × method) handed out by the shared
/// `WorkQueue`; each item is computed from its indices alone (seeds derived
/// from them), so results do not depend on the number of ranks; the root
/// gathers everything into an `io::Loocv`. Also the fold split of a Slurm
/// job array (`part`/`parts`) and the merge of its partial files.

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "peppp/io/campaign.hpp"
#include "peppp/io/loocv.hpp"

namespace peppp::par {

/// Name of the F9.2 baseline in the `method` coordinate.
inline constexpr const char* kBaselineMethod = "random-high-memory";

/// The setting names "I".."VI" (METHOD.md F10), in order.
const std::vector<std::string>& loocv_setting_names();
/// The acquisition method names accepted on the command line, in order:
/// ed-mf, qr-mf, random-mf, bo-mf, bo-full.
const std::vector<std::string>& loocv_method_names();

/// How one setting builds the meta-training matrix and caps the meta-test.
struct SettingInfo {
  enum class Training { full, uniform, nonuniform } training;  ///< meta-training matrix
  bool capped;  ///< meta-test measurements restricted to memory ≤ cap
};
/// The meaning of setting "I".."VI". @throws InputError for other names.
SettingInfo setting_info(const std::string& name);

/// What to compute.
struct LoocvSpec {
  std::vector<std::string> settings{"I", "II", "III", "IV", "V", "VI"};  ///< setting names
  std::vector<std::string> methods{"ed-mf", "qr-mf", "random-mf", "bo-mf", "bo-full"};  ///< methods
  std::vector<int> measurements{3, 4, 5, 6, 8, 10, 12, 15};  ///< counts l, ascending after validation
  /// Memory cap on meta-test measurements, MiB; NaN = median of all memory
  /// entries (METHOD.md F2). Also the F9 budget (F12.13).
  double cap = std::numeric_limits<double>::quiet_NaN();
  int repeats = 1;          ///< repeats (masks and random orders differ per repeat), ≥ 1
  int rank = 3;             ///< embedding rank k
  double lambda = 0;        ///< SoftImpute λ; ≤ 0 = choose by 5-fold CV (F3.5)
  std::uint64_t seed = 1;   ///< base seed of masks and random orders
  double ratio = 0.2;       ///< uniform meta-training sampling ratio (III, IV)
  double p_min = 0.0;       ///< non-uniform probability floor (V, VI)
  double p_max = 0.4;       ///< non-uniform probability of the cheapest cells (V, VI)
  int part = 1;             ///< this job's part, 1..parts (folds split in contiguous blocks)
  int parts = 1;            ///< number of parts
  bool include_baseline = true;  ///< add the random-high-memory method
};

/// The error/memory matrices LOOCV runs on (row-major n×d), taken from a
/// campaign: every error entry must be known (a fully measured campaign, or
/// a completed one whose estimates stand in for the truth).
struct LoocvData {
  std::vector<std::string> task, config;
  std::vector<double> error, memory;
  std::size_t n() const { return task.size(); }
  std::size_t d() const { return config.size(); }
};
/// `c`'s error and memory; entries not finite in `error` are replaced by
/// `fill` (row-major n·d, e.g. a completion's estimates) when given.
/// @throws InputError naming `file` when an error entry is still unknown,
///         or a memory entry is not finite and positive.
LoocvData loocv_data(const io::Campaign& c, const std::string& file, const std::vector<double>& fill = {});

/// Validate `spec` against `data` (same outcome on every rank, not
/// collective): at least 3 tasks, known setting and method names without
/// duplicates, counts ≥ rank and ≤ the configurations a capped fold may
/// measure, 1 ≤ part ≤ parts ≤ tasks. Resolves the cap (median) and sorts
/// the counts. @throws InputError naming the key, value and what is allowed.
LoocvSpec validate_loocv(LoocvSpec spec, const LoocvData& data);

/// One work item: indices into the spec's lists; `method == methods.size()`
/// is the baseline; `fold` is the campaign row held out.
struct LoocvItem {
  int setting = 0, fold = 0, repeat = 0, method = 0;
};

/// The result of one item; per-count vectors have `measurements.size()` entries.
struct LoocvItemResult {
  std::vector<double> relative_error, convergence, hyperdiff, selected_error, best_feasible_error, regret,
      measured_memory;
  std::vector<int> selected_config;
  std::vector<int> order;         ///< selection order (≤ max count entries)
  double lambda = std::numeric_limits<double>::quiet_NaN();            ///< λ of the meta-training completion
  double sampled_fraction = std::numeric_limits<double>::quiet_NaN();  ///< observed fraction of meta-training
};

/// Computes one item. Must depend on the item and the data only.
using LoocvEvaluator = std::function<LoocvItemResult(const LoocvItem&)>;

/// The meta-training sampling mask of (setting, fold, repeat): row-major n·d,
/// 1 where observed; the held-out row is all 0. Seed `1000·seed + fold`
/// (METHOD.md F10) for repeat 0, mixed with the repeat otherwise.
std::vector<std::uint8_t> meta_training_mask(const LoocvSpec& spec, const LoocvData& data, int setting, int fold,
                                             int repeat);

/// The meta-training matrix of one (sampling scheme, fold, repeat), which
/// every method and capped/uncapped setting of that scheme shares.
struct MetaTraining {
  std::vector<double> estimate;  ///< (n−1)×d row-major: the data without the fold (full) or its SoftImpute completion
  double lambda = std::numeric_limits<double>::quiet_NaN();    ///< SoftImpute λ (NaN for full)
  double fraction = std::numeric_limits<double>::quiet_NaN();  ///< observed fraction of its entries
};
/// Build it for `setting`'s scheme (METHOD.md F10 step 1). Not collective.
MetaTraining build_meta_training(const LoocvSpec& spec, const LoocvData& data, int setting, int fold, int repeat);
/// Finds a prebuilt meta-training matrix, or returns nullptr.
using TrainingLookup = std::function<const MetaTraining*(int setting, int fold, int repeat)>;

/// The meta-layer evaluator of items (METHOD.md F10 steps 1–3) for `spec`
/// (validated) and `data`. Meta-training matrices come from `lookup` when it
/// has them, else they are built here (the last one is cached).
LoocvEvaluator meta_evaluator(const LoocvSpec& spec, const LoocvData& data, TrainingLookup lookup = {});

/// The folds (campaign rows) of `spec.part` out of `spec.parts`.
std::vector<int> loocv_folds(const LoocvSpec& spec, std::size_t n_tasks);

/// Run the items of this part over the ranks of `comm` and gather them on
/// rank 0. Collective on `comm`. `evaluator` empty = `meta_evaluator`, with
/// the sampled settings' SoftImpute completions first spread over the ranks
/// as their own queue of (scheme, fold, repeat) items and shared with every
/// rank, so no completion is computed twice.
/// Returns the full result on rank 0 (provenance attributes left to the
/// caller), an empty `io::Loocv` elsewhere.
/// @throws RuntimeError (this rank) when an item fails.
io::Loocv run_loocv(const LoocvData& data, const LoocvSpec& spec, MPI_Comm comm,
                    const LoocvEvaluator& evaluator = {});

/// Combine the partial files of a split run (`part`/`parts`) into the
/// result of a single run: same coordinates and options; folds ordered by
/// campaign row. @throws InputError naming the file that does not fit
/// (different settings/methods/counts/campaign, overlapping or missing folds).
io::Loocv merge_loocv(const std::vector<io::Loocv>& parts, const std::vector<std::string>& files);

/// The human summary of `l`: per setting, a method × measurements table of
/// mean ± standard error over folds of relative error, convergence,
/// HyperDiff, regret and memory used; a method whose mean regret is within
/// one standard error of the best reads as a tie.
std::string loocv_summary(const io::Loocv& l);

}  // namespace peppp::par
