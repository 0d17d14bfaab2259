#pragma once
/// @file select.hpp
/// @brief The select stage (meta-test, METHOD.md F6, F9): for a new task,
/// EI-MF rounds (meta::SequentialSelection) or ED-MF pick configurations
/// under the cap, the ranks train them (or a file gives their errors), the
/// rest is predicted → selection.nc. The app prints the selection.

#include <mpi.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "peppp/core/cell.hpp"
#include "peppp/core/task.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/selection.hpp"
#include "peppp/stage/common.hpp"

namespace peppp::stage {

/// Everything `peppp select` does.
struct SelectJob {
  io::Campaign campaign;      ///< the meta-training campaign (≥ 3 tasks), already read
  std::string campaign_path;  ///< its file, for messages and provenance
  TaskSpec task;              ///< the new task (not in the campaign)
  std::string task_text;      ///< how the user named it (CATALOG:TASK), for provenance
  double budget = 0;          ///< MiB: the pick is the best predicted configuration with memory ≤ budget
  double cap = std::numeric_limits<double>::quiet_NaN();  ///< MiB cap on measured configurations; NaN = budget
  /// At most this many configurations are trained (all of them with ED-MF);
  /// 0 = none: the prior's (zero-shot) answer, nothing trained, no journal;
  /// -1 = not given (then `measured` is required).
  int measurements = -1;
  /// "ei-mf" (default: sequential, decision-aware, docs/ei-mf.md) or "ed-mf"
  /// (the paper's: every pick chosen up front, trained at once).
  std::string acquisition = "ei-mf";
  /// How the measured errors predict the others: "posterior" (default:
  /// meta::posterior_selection) or "least-squares" (the paper's F6.2,
  /// meta::predict_selection); only the final prediction, not ei-mf's rounds.
  std::string prediction = "posterior";
  /// ei-mf: stop once the expected regret of the recommendation is at most
  /// this (error-rate units); 0 = train all `measurements`.
  double tolerance = 0;
  /// Noise std of one measured error when known (e.g. the campaign's
  /// replicates); NaN = estimate it from the meta-training matrix.
  double noise_std = std::numeric_limits<double>::quiet_NaN();
  int risk_samples = 4000;    ///< Monte Carlo draws of p_best and the expected regret
  int rank = 3;               ///< embedding rank k
  /// Errors measured elsewhere, (config index, error) in file order; empty = train.
  std::vector<std::pair<int, double>> measured;
  std::string measured_source;  ///< where `measured` came from (provenance)
  std::string output;         ///< selection.nc; trained cells in <output>.measured.nc
  bool resume = false;        ///< resume the training of an interrupted selection
  /// Move the outputs of an earlier selection into `output` aside (round and
  /// measured files, their journals, the conditions record, the selection;
  /// io::move_aside, nothing deleted) and start over.
  bool restart = false;
  /// "key=value" lines of the options that decide what a training selection
  /// measures (app: select's own options but the output, --resume, --restart
  /// and --measured); with `identity`, the seed, the task and the campaign's
  /// content, the conditions record <output>.conditions: a rerun under other
  /// conditions is refused (the rank count is not one of them).
  std::string conditions;
  std::string model = "small-cnn";  ///< network trained on the new task
  TrainSettings train;        ///< its training settings (learning rate included)
  /// Meta-train on the campaign's rows of this model only (`row_model`; the
  /// paper's E.5 case i); empty = every row, whatever its model (case ii).
  std::string rows_model;
  /// Early epochs as a fidelity (`--epoch E`, 1..train.epochs): the
  /// meta-training matrix is the campaign after epoch E
  /// (`io::campaign_at_epoch`) and the new task's cells stop after epoch E
  /// with the schedule of the whole run (TrainSettings::stop_after_epoch);
  /// part of the journals' plan identity. 0 = the final errors.
  int epoch = 0;
  std::uint64_t seed = 1;     ///< campaign seed of the new task's cells and of the completion
  std::string identity;       ///< "key=value" lines of model and training keys (journal fingerprint)
  Resources resources;
  Attributes attributes;      ///< provenance and options of the outputs
};

/// Run `job` over the ranks of `comm`; the root writes `job.output` (and
/// the trained cells, see SelectJob::output). Collective.
/// @returns the selection (identical on every rank; its attributes are
///          those of `job.attributes` on each rank).
/// Before any training the outputs of an earlier selection into
/// `job.output` are checked against the conditions record
/// (`io::selection_conditions_path`): the same conditions resume them (with
/// the earlier run's picks per round, whatever the rank count now); other
/// conditions, or training files without a record, are refused unless
/// `job.restart`.
/// @throws InputError (every rank) on unusable inputs or an earlier
///         selection under other conditions; Interrupted when the
///         training was stopped (rerun with resume).
io::Selection select(const SelectJob& job, MPI_Comm comm);

/// The task `spec` names: "CATALOG.ini:TASK", or a catalog declaring exactly
/// one task; its dataset files must exist. Not collective.
/// @throws InputError naming the spec, the catalog and the allowed tasks.
TaskSpec read_task(const std::string& spec);

/// (configuration index, error) pairs, in file order, of a file of errors
/// measured elsewhere: 'config,error' lines (header and # comments allowed,
/// error in [0, 1] or nan) or a one-task campaign-like .nc file. `config`
/// are the campaign's labels. With `epoch` E > 0 (`--epoch`) a .nc file
/// gives its errors after epoch E: its `error` when its `epoch_used` is E
/// (an earlier `select --epoch E`), else its error_by_epoch at E; a text
/// file's errors are taken as such. Not collective.
/// @throws InputError naming the file, line and value (or the epochs a .nc
///         file records).
/// With `task` given, a .nc file must hold that task (same name and, where
/// the file records them, dataset, classes, resolution and sizes), else
/// InputError naming both.
std::vector<std::pair<int, double>> read_measured(const std::string& path, const std::vector<std::string>& config,
                                                  int epoch = 0, const TaskSpec* task = nullptr);

/// The networks of the campaign's rows (`row_model`, or its `model`
/// attribute), each once, in row order; empty when unknown (an external
/// matrix). Not collective.
std::vector<std::string> campaign_models(const io::Campaign& c);
/// The SGD learning rates of its rows (`row_learning_rate`, or the
/// `learning_rate` attribute), each once, in row order; empty when unknown.
std::vector<double> campaign_learning_rates(const io::Campaign& c);

/// The training settings a new task inherits from campaign `c` (file
/// `path`), as its option attributes ("option.KEY" = text): the campaign's
/// own, with option.campaign.model and option.train.learning_rate set to
/// its rows' one model and rate (`campaign_models`,
/// `campaign_learning_rates`; the option.* values keep their defaults when
/// the campaign was measured with campaign.models / train.learning_rates).
/// Not collective.
/// @throws InputError when the rows train several models and the user gives
///         none (`model_given` false), or several rates and `rate_given` is false.
std::map<std::string, std::string> inherited_settings(const io::Campaign& c, const std::string& path,
                                                      bool model_given, bool rate_given);

/// Does the new task inherit setting `key` (campaign.model, campaign.seed,
/// train.* but train.learning_rates) from the campaign unless the user gives it?
bool inherits_setting(const std::string& key);

/// `v` as the shortest text of 15, 16 or 17 significant digits that reads
/// back as the same double ("0.01", not "0.01000000000000000021").
std::string round_trip_text(double v);

/// Memory (MiB) of each configuration of `configs` for `task` with `model`
/// at `batch_size` (METHOD.md F2). Not collective.
std::vector<double> task_memory(const TaskSpec& task, const std::vector<Configuration>& configs,
                                const std::string& model, int batch_size);

}  // namespace peppp::stage
