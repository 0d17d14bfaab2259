#pragma once
/// @file measure.hpp
/// @brief The measure stage (DESIGN.md §1): the plan of a campaign (tasks ×
/// configurations, sampled), the ranks training its cells, campaign.nc.
/// Collective; plain structs in and out, no command line.

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "peppp/core/cell.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/task.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/par/measure.hpp"
#include "peppp/par/synthetic.hpp"
#include "peppp/stage/common.hpp"

namespace peppp::stage {

/// A measurement campaign: rows, columns, how each cell is trained, which
/// cells are measured.
struct CampaignSpec {
  std::string name = "campaign";  ///< written into the output
  std::uint64_t seed = 1;         ///< campaign seed: cell seeds hash (seed, task, configuration)
  /// The rows, from a task catalog (real training needs them).
  std::vector<TaskSpec> tasks;
  /// Rows named without a catalog (synthetic cells only); used when `tasks` is empty.
  std::vector<std::string> synthetic_tasks;
  std::vector<Configuration> configs;  ///< the columns, A-major (all_configurations)
  std::string model = "small-cnn";     ///< network of every cell (nn model zoo)
  TrainSettings train;                 ///< hyper-parameters and rounding of every cell
  /// `campaign.models` / `train.learning_rates`: with more than one value in
  /// either, the rows are task × model × learning rate (`campaign_rows`);
  /// empty = `model` / `train.learning_rate` alone (plain task rows).
  std::vector<std::string> models;
  std::vector<double> learning_rates;
  /// Times every planned cell is trained (`train.replicates`, >= 1), each
  /// replicate with its own seed; replicate 0 is the cell seed.
  int replicates = 1;
  meta::Scheme scheme = meta::Scheme::full;  ///< which cells are measured
  double ratio = 0.2;                  ///< uniform: fraction of cells, in (0, 1]
  double p_min = 0.0;                  ///< nonuniform: probability floor
  double p_max = 0.4;                  ///< nonuniform: probability of the cheapest cells
  /// Text of everything else that decides a cell's result (the journal
  /// fingerprint covers it): "key=value" lines of the model and training keys.
  std::string identity;
  /// Per task, its full definition (`task_definitions`); empty: not part of
  /// the fingerprint (synthetic rows without a catalog).
  std::vector<std::string> task_definitions;
};

/// Everything `peppp measure` does.
struct MeasureJob {
  CampaignSpec campaign;
  std::string output;      ///< campaign.nc path; journals in <output>.journal/
  bool resume = false;     ///< --resume given
  bool restart = false;    ///< --restart given: move an old journal aside and start over
  bool break_lock = false; ///< --break-lock given: take over the output's lock
  Resources resources;
  /// Synthetic cells (tests, scaling runs) when `synthetic.seconds` > 0:
  /// timed dummy cells with fake errors; the output is marked synthetic = 1.
  par::SyntheticSpec synthetic{0.0};
  Attributes attributes;   ///< provenance and options of the output
};

/// Plan the campaign and measure it over the ranks of `comm`; the root
/// writes `job.output` (`measure_plan`). Before anything is trained or created, rank 0 reads
/// every task's data (headers, sizes, counts, labels, enough images per
/// class) and all ranks agree on the outcome. Collective.
/// @returns the summary (identical on every rank).
/// @throws InputError (every rank) on bad data, an unusable plan, output,
///         lock or journal (nothing trained, no output written);
///         Interrupted when stopped by a signal or cells are missing (the
///         file holds what was done; rerun with resume); RuntimeError (every
///         rank, exit 2) when cells failed even after their retry (the file
///         holds them as failed; `--resume` trains them again).
par::MeasureSummary measure(const MeasureJob& job, MPI_Comm comm);

/// `measure`, handing back what was measured as well: the summary on every
/// rank and the campaign (what `job.output` now holds) on the root, so a
/// caller goes on without reading the file back. Throws as `measure`.
/// Collective.
par::MeasureResults measure_results(const MeasureJob& job, MPI_Comm comm);

/// Train the cells of `plan` with `trainer` over the ranks of `comm`
/// (`par::measure`: lock, resume rules, journals, queue), then write
/// `settings.output` atomically on the root while the output's lock is still
/// held, also when stopped early or when cells failed (missing cells have
/// status planned, failed ones failed). For stages that train a plan of
/// their own (select) and go on with the results: nothing is read back.
/// Does not throw for an interrupted or incomplete campaign: the caller
/// decides from the summary (`interrupted`, `missing`, `failed`).
/// `settings.campaign_on_every_rank` is implied. Collective.
/// @returns the summary and the campaign (as written, attributes included),
///          identical on every rank; `lock` is null (already released).
/// @throws InputError (every rank) on an unusable output, lock or journal
///         (nothing trained, nothing written); RuntimeError (every rank)
///         when a journal cannot be synced or the output cannot be written.
par::MeasureResults measure_plan(const meta::Plan& plan, const par::CellTrainer& trainer,
                                 const par::MeasureSettings& settings, MPI_Comm comm);

/// The cost estimate of every cell of `plan` (n·d, row-major), in
/// activation-images: N_act · train images · epochs, with N_act the
/// per-sample activations of the row's network on the row's images
/// (`nn::model_counts`, METHOD.md F2). The reference campaign's 28 px rows
/// (900 images) take 1.95× its 14 px rows (1800 images) per cell, this
/// estimate says 1.85× (counting the test images' forward passes as a third
/// of a training step would say 2.85×: they cost less). Equal across a row's
/// configurations (they differ by a few % in time: issue 32's reference
/// campaign shows 0.92–1.10), so an order by cost keeps each task's cells
/// together (the task cache). Synthetic rows: their mean time,
/// `par::synthetic_row_seconds`, s. Not collective.
/// @throws InputError as `nn::model_counts`.
std::vector<double> cost_estimate(const CampaignSpec& campaign, const meta::Plan& plan,
                                  const par::SyntheticSpec& synthetic);

/// The cost estimate calibrated by measured wall times. `seconds` (n·d, NaN
/// where not measured) gives each row with measured cells its median time,
/// s, for every cell of the row; the other rows get their estimate times the
/// median over measured rows of (row median time / row mean estimate). No
/// measured cell: `estimate` unchanged. Pure arithmetic; not collective.
/// @param rows_measured receives the number of rows with measured cells.
std::vector<double> calibrate_costs(const std::vector<double>& estimate, std::size_t n_configs,
                                    const std::vector<double>& seconds, int* rows_measured = nullptr);

/// The wall times of a reference campaign (`train_seconds`) at the cells of
/// `plan` (n·d, NaN where the reference has no such row and configuration,
/// matched by name and label, or trained another network). Not collective.
/// @throws InputError when the file cannot be read as a campaign.
std::vector<double> reference_seconds(const std::string& path, const meta::Plan& plan, const CampaignSpec& campaign);

/// The queue's cost function for `par::MeasureSettings::cell_cost` ("cost"
/// order): `cost_estimate`, calibrated (`calibrate_costs`) by the wall times
/// of the campaign's own cells finished in earlier runs (resume) when there
/// are some, else by `reference`'s (a campaign file; empty: none). Logs on
/// the calling rank (the root) what the order rests on.
std::function<std::vector<double>(const std::vector<io::JournalRecord>&)> queue_costs(
    const CampaignSpec& campaign, const meta::Plan& plan, const par::SyntheticSpec& synthetic,
    const std::string& reference);

/// The rows of `campaign`: its tasks (catalog or synthetic names), or with
/// several models or learning rates every (task, model, rate), task-major,
/// then model, then rate, labelled `row_label`. `row_task[i]` is the index
/// into `campaign.tasks` of row i (empty for synthetic names).
std::vector<TaskRow> campaign_rows(const CampaignSpec& campaign, std::vector<std::size_t>* row_task = nullptr);

/// The label of a (task, model, rate) row: "TASK", then ":MODEL" when the
/// models vary and ":lr=RATE" (%g) when the rates vary: `peppp::row_label`
/// (core/task.hpp, where the io layer's `merge_campaigns` reaches it too).
std::string row_label(const std::string& task, const std::string& model, double learning_rate, bool models_vary,
                      bool rates_vary);

/// The plan `measure` runs for `campaign` (the memory model is the cost of
/// each cell). Not collective; every rank builds the same plan.
/// @throws InputError on an impossible campaign (empty rows, bad model, ...).
meta::Plan plan_campaign(const CampaignSpec& campaign, bool synthetic);

/// Each catalog task's definition (`data::task_definition`), read on rank 0
/// and broadcast, so every rank plans with the same text even if it sees
/// the files differently. Collective. @throws InputError on every rank.
std::vector<std::string> task_definitions(const std::vector<TaskSpec>& tasks, MPI_Comm comm);

/// The TorchScript networks of `campaign` (`model`, or each of `models`):
/// rank 0 loads each and checks it against every task's input shape and
/// classes (`nn::model_fingerprint`), and every rank learns the verdict.
/// Appends to `campaign.identity` one line with the file's content hash and
/// one with its quantizer points per task shape ("model.torchscript:PATH.
/// fnv1a64=HASH", "model.torchscript:PATH.points.CxHxW:K=..."), so a changed
/// file is never resumed as the old one. Zoo names add nothing. Collective.
/// @returns the provenance attributes for the output ("model_file_hash",
///          "model_points"), empty for zoo networks only.
/// @throws InputError on every rank naming the file when it is not
///         TorchScript or does not map a task's images to [N, K] with K >=
///         the task's classes (then naming the task and both sizes:
///         `task_model_counts`).
std::map<std::string, std::string> check_models(CampaignSpec& campaign, MPI_Comm comm);

/// Read every task's data on rank 0 (`data::check_task_data`) and share the
/// verdict. Collective. @throws InputError on every rank naming the task,
/// the file and the fault.
void check_task_data(const std::vector<TaskSpec>& tasks, MPI_Comm comm);

}  // namespace peppp::stage
