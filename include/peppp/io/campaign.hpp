#pragma once
/// @file campaign.hpp
/// @brief campaign.nc (DESIGN.md §5): the error matrix of a measurement
/// campaign with its tasks, configurations, memory, statuses and provenance.
/// Plain std containers; matrices are row-major `std::vector<double>` of
/// n_tasks × n_configs (index `t * n_configs + c`). Not collective.
///
/// Adding a campaign variable is one edit in this file: a member of
/// `Campaign` and its row in `campaign_schema()` (allocate, validate, write
/// and read follow from the row).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "peppp/core/cell.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/task.hpp"
#include "peppp/io/schema.hpp"

namespace peppp::io {

/// Status of one (task, configuration) cell, the `status` byte of
/// campaign.nc: the core type (not_planned 0, planned 1, measured 2,
/// diverged 3, failed 4), with its `label()`.
using CellStatus = peppp::CellStatus;
using peppp::label;

/// The content of campaign.nc. Per-config vectors have n_configs entries,
/// per-task vectors n_tasks, matrices n_tasks·n_configs (row-major, task
/// major). Optional per-task/matrix fields may be empty when read from a
/// minimal external campaign.
struct Campaign {
  std::vector<std::string> task;          ///< task names (coordinate of dim `task`)
  std::vector<std::string> config;        ///< configuration labels "e4m3/e6m7" (dim `config`)
  std::vector<int> a_exponent_bits, a_mantissa_bits;  ///< Format A, per config
  std::vector<int> b_exponent_bits, b_mantissa_bits;  ///< Format B, per config
  /// Block size and block-scale bits of Format A and B, per config (named
  /// block formats, QUANT.md "Standard formats": mxfp* 32 / 8, nvfp4 16 / 8;
  /// elementwise formats 1 / 0). Filled by `set_configurations` only when a
  /// configuration uses a named format, so files of `eEmM` campaigns are
  /// unchanged; empty (absent) otherwise.
  std::vector<int> a_block_size, a_scale_bits, b_block_size, b_scale_bits;
  std::vector<std::string> task_dataset;  ///< per task: source dataset
  std::vector<int> task_classes, task_resolution, task_train_size, task_test_size;  ///< per task
  /// Rows of a task × model × learning-rate campaign (DESIGN.md §5 "rows"):
  /// per row its task, network and SGD learning rate. Empty for a plain
  /// campaign (one model, one rate: rows are tasks, the `model` and
  /// `learning_rate` attributes say which); when filled, the file's row
  /// dimension and coordinate are named `row` instead of `task`.
  std::vector<std::string> row_task, row_model;
  std::vector<double> row_learning_rate;
  /// Per row: which input of `peppp merge` it came from ("0", "1", "0,1"
  /// when combined from several; see the `source_<k>_*` attributes). Empty
  /// unless merged.
  std::vector<std::string> row_source;
  /// Coordinate of dim `epoch`: 1, 2, ..., E (`train.epochs`). Empty when the
  /// campaign has no per-epoch record (files before it, external matrices).
  std::vector<int> epoch;
  /// n_rows·n_configs·E (index `at(t, c) * E + (e − 1)`): test
  /// misclassification rate after epoch e, the mean over the cell's
  /// replicates with a value (same rule as `error`), NaN where not measured;
  /// the last epoch equals `error`.
  std::vector<double> error_by_epoch;
  /// Same layout: mean training loss of epoch e (mean over replicates).
  std::vector<double> loss_by_epoch;

  /// Coordinate of dim `replicate`: 0, 1, ..., R−1 (`train.replicates` = R).
  /// Empty only while a campaign is being built; `read_campaign` gives {0}
  /// for files without replicates.
  std::vector<int> replicate;
  /// Test misclassification rate in [0, 1], NaN where not measured: the mean
  /// of the cell's measured replicates, summed in replicate order 0..R−1
  /// (bit-for-bit independent of ranks; R = 1: the one measurement).
  std::vector<double> error;
  /// Sample standard deviation (n − 1) of the measured replicates of a cell;
  /// NaN with fewer than 2.
  std::vector<double> error_std;
  /// n_tasks·n_configs·R (index `at(t, c) * R + r`): each replicate's error,
  /// NaN where not measured (failed, or not trained yet).
  std::vector<double> error_replicates;
  std::vector<double> memory;              ///< theoretical training memory, MiB
  std::vector<double> memory_weights;      ///< its weights part, MiB
  std::vector<double> memory_activations;  ///< its activations part, MiB
  std::vector<double> memory_optimizer;    ///< its optimizer part, MiB
  std::vector<std::uint8_t> status;        ///< CellStatus values
  std::vector<double> train_seconds;       ///< wall time of the cell, summed over its replicates, s (NaN where not measured)
  std::vector<double> final_loss;          ///< last training loss, mean over the non-failed replicates (NaN where not measured)
  std::vector<double> sampling_probability;  ///< probability the plan drew the cell with (1 for full)

  std::map<std::string, std::string> text_attributes;  ///< global text attributes (provenance, options)
  std::map<std::string, double> number_attributes;     ///< global numeric attributes (epochs, seed, ...)

  std::size_t n_tasks() const { return task.size(); }
  /// Rows are task × model × learning rate (`row_task` filled).
  bool has_row_columns() const { return !row_task.empty(); }
  /// Epochs recorded per cell E (0 without a per-epoch record).
  std::size_t n_epochs() const { return epoch.size(); }
  /// The task of row t (`row_task`, or the row label of a plain campaign).
  std::string row_task_of(std::size_t t) const { return t < row_task.size() ? row_task[t] : task.at(t); }
  /// The network of row t (`row_model`, or the `model` attribute).
  std::string row_model_of(std::size_t t) const;
  /// The learning rate of row t (`row_learning_rate`, or the
  /// `learning_rate` attribute; NaN when neither is known).
  double row_learning_rate_of(std::size_t t) const;
  std::size_t n_configs() const { return config.size(); }
  /// Replicates per cell R (1 when `replicate` is empty).
  std::size_t n_replicates() const { return replicate.empty() ? 1 : replicate.size(); }
  /// Row-major index of (task t, config c).
  std::size_t at(std::size_t t, std::size_t c) const { return t * config.size() + c; }
  /// Size every field to the coordinates: the per-config bit counts and the
  /// per-task columns are resized (existing values kept, new ones 0 / ""),
  /// the matrices are reset (error, memory and its parts, seconds, loss NaN;
  /// status 0 = not planned; sampling probability 0).
  void allocate();
  /// Check every field's size against the coordinates.
  /// @throws InputError naming `file` and the first inconsistent field.
  void validate(const std::string& file) const;
};

/// The campaign.nc field table: every variable once, in file order
/// (DESIGN.md §5). Optional rows may be empty in the struct and absent from
/// an external file.
inline const Schema<Campaign>& campaign_schema() {
  bool (*const rows)(const Campaign&) = [](const Campaign& c) { return c.has_row_columns(); };
  using F = SchemaField<Campaign>;
  using A = FieldAlloc;
  constexpr Presence req = Presence::required, opt = Presence::optional;
  static const Schema<Campaign> schema{
      "campaign",
      {{"task", [](const Campaign& c) { return c.n_tasks(); }, false, nullptr, nullptr, "row", rows},
       {"config", [](const Campaign& c) { return c.n_configs(); }},
       {"replicate", [](const Campaign& c) { return c.replicate.size(); }, true},
       {"epoch", [](const Campaign& c) { return c.epoch.size(); }, true}},
      {
          // name, dims, type, units, long_name, presence, member, allocate, flag_meanings
          F{"task", {"task"}, NcType::str, "", "task name (row label: task:model:lr=rate when rows are task x model x learning rate)", req, &Campaign::task, {}, nullptr, std::nullopt, nullptr, "row", rows},
          F{"config", {"config"}, NcType::str, "", "configuration (Format A / Format B)", req, &Campaign::config},
          F{"a_exponent_bits", {"config"}, NcType::i32, "bit", "Format A exponent bits (weights, activations, errors)",
            req, &Campaign::a_exponent_bits, A::keep_or(0)},
          F{"a_mantissa_bits", {"config"}, NcType::i32, "bit", "Format A mantissa bits (weights, activations, errors)",
            req, &Campaign::a_mantissa_bits, A::keep_or(0)},
          F{"b_exponent_bits", {"config"}, NcType::i32, "bit", "Format B exponent bits (optimizer)", req,
            &Campaign::b_exponent_bits, A::keep_or(0)},
          F{"b_mantissa_bits", {"config"}, NcType::i32, "bit", "Format B mantissa bits (optimizer)", req,
            &Campaign::b_mantissa_bits, A::keep_or(0)},
          F{"a_block_size", {"config"}, NcType::i32, "1", "Format A elements sharing one scale (1: elementwise)", opt,
            &Campaign::a_block_size},
          F{"a_scale_bits", {"config"}, NcType::i32, "bit", "Format A bits of the shared block scale (0: none)", opt,
            &Campaign::a_scale_bits},
          F{"b_block_size", {"config"}, NcType::i32, "1", "Format B elements sharing one scale (1: elementwise)", opt,
            &Campaign::b_block_size},
          F{"b_scale_bits", {"config"}, NcType::i32, "bit", "Format B bits of the shared block scale (0: none)", opt,
            &Campaign::b_scale_bits},
          F{"task_dataset", {"task"}, NcType::str, "", "source dataset of the task", opt, &Campaign::task_dataset,
            A::keep_or(0)},
          F{"task_classes", {"task"}, NcType::i32, "1", "number of classes", opt, &Campaign::task_classes,
            A::keep_or(0)},
          F{"task_resolution", {"task"}, NcType::i32, "pixel", "image height = width", opt,
            &Campaign::task_resolution, A::keep_or(0)},
          F{"task_train_size", {"task"}, NcType::i32, "1", "training examples", opt, &Campaign::task_train_size,
            A::keep_or(0)},
          F{"task_test_size", {"task"}, NcType::i32, "1", "test examples", opt, &Campaign::task_test_size,
            A::keep_or(0)},
          F{"row_task", {"task"}, NcType::str, "", "task of the row", opt, &Campaign::row_task},
          F{"row_model", {"task"}, NcType::str, "", "network trained in the row", opt, &Campaign::row_model},
          F{"row_learning_rate", {"task"}, NcType::f64, "1", "SGD learning rate of the row", opt,
            &Campaign::row_learning_rate},
          F{"row_source", {"task"}, NcType::str, "", "input of peppp merge the row came from (source_<k>_* attributes)",
            opt, &Campaign::row_source},
          F{"replicate", {"replicate"}, NcType::i32, "1", "replicate of a cell (train.replicates)", opt,
            &Campaign::replicate},
          F{"error", {"task", "config"}, NcType::f64, "1", "test misclassification rate (mean over replicates)", req,
            &Campaign::error, A::reset_to(kNcNaN)},
          F{"error_std", {"task", "config"}, NcType::f64, "1",
            "sample standard deviation of the test misclassification rate over replicates", opt, &Campaign::error_std,
            A::reset_to(kNcNaN)},
          F{"error_replicates", {"task", "config", "replicate"}, NcType::f64, "1",
            "test misclassification rate of each replicate", opt, &Campaign::error_replicates, A::reset_to(kNcNaN)},
          F{"memory", {"task", "config"}, NcType::f64, "MiB", "theoretical training memory", req, &Campaign::memory,
            A::reset_to(kNcNaN)},
          F{"memory_weights", {"task", "config"}, NcType::f64, "MiB", "training memory: weights", opt,
            &Campaign::memory_weights, A::reset_to(kNcNaN)},
          F{"memory_activations", {"task", "config"}, NcType::f64, "MiB", "training memory: activations", opt,
            &Campaign::memory_activations, A::reset_to(kNcNaN)},
          F{"memory_optimizer", {"task", "config"}, NcType::f64, "MiB", "training memory: optimizer", opt,
            &Campaign::memory_optimizer, A::reset_to(kNcNaN)},
          F{"status", {"task", "config"}, NcType::u8, "", "cell status", opt, &Campaign::status, A::reset_to(0),
            "not_planned planned measured diverged failed"},
          F{"train_seconds", {"task", "config"}, NcType::f64, "s", "wall time of the cell (sum over replicates)", opt,
            &Campaign::train_seconds, A::reset_to(kNcNaN)},
          F{"final_loss", {"task", "config"}, NcType::f64, "1", "last training loss (mean over replicates)", opt,
            &Campaign::final_loss, A::reset_to(kNcNaN)},
          F{"sampling_probability", {"task", "config"}, NcType::f64, "1",
            "probability with which the sampling plan drew the cell", opt, &Campaign::sampling_probability,
            A::reset_to(0)},
          F{"epoch", {"epoch"}, NcType::i32, "1", "training epoch after which the *_by_epoch values were taken", opt,
            &Campaign::epoch},
          F{"error_by_epoch", {"task", "config", "epoch"}, NcType::f64, "1",
            "test misclassification rate after each epoch (mean over replicates)", opt, &Campaign::error_by_epoch,
            A::reset_to(kNcNaN)},
          F{"loss_by_epoch", {"task", "config", "epoch"}, NcType::f64, "1",
            "mean training loss of each epoch (mean over replicates)", opt, &Campaign::loss_by_epoch,
            A::reset_to(kNcNaN)},
      }};
  return schema;
}

/// One replicate's result of a cell (what a journal record says).
struct ReplicateResult {
  CellStatus status = CellStatus::planned;  ///< planned: no result yet; else measured, diverged or failed
  double error = kNcNaN;    ///< test misclassification rate (NaN if failed)
  double loss = kNcNaN;     ///< final training loss
  double seconds = kNcNaN;  ///< wall time, s
  /// Test error and training loss after each epoch (`Campaign::epoch`
  /// entries, or empty when not recorded: the cell's per-epoch values stay NaN).
  std::vector<double> error_by_epoch, loss_by_epoch;
};

/// Set cell `i` of `c` (status, error, error_std, error_replicates,
/// final_loss, train_seconds) from its `c.n_replicates()` results, replicate
/// 0 first. The rule: while any replicate has no result the cell stays
/// planned (error NaN; error_replicates holds the finished ones). Once all
/// have one: failed when every replicate failed; else diverged when any
/// diverged; else measured (failed replicates are left out: NaN in
/// error_replicates). error = mean over the replicates with a finite error
/// (measured or diverged), summed in replicate order; error_std their sample
/// std (NaN below 2); final_loss the mean over the non-failed replicates;
/// train_seconds the sum over all. With R = 1 every value is the one
/// result's, bit for bit. With per-epoch records (`c.n_epochs()` > 0):
/// error_by_epoch / loss_by_epoch of each epoch are the mean over the
/// non-failed replicates with a finite value there, in replicate order.
/// @throws RuntimeError when `r` has the wrong size.
void set_cell_replicates(Campaign& c, std::size_t i, const std::vector<ReplicateResult>& r);

/// The task rows of `c` (name and the `task_*` columns; 0 / "" where a
/// minimal external campaign lacks a column).
std::vector<TaskRow> task_rows(const Campaign& c);
/// Set `c.task` and every `task_*` column from `rows` (the matrices are not
/// touched: call `allocate()` after changing the number of tasks).
void set_task_rows(Campaign& c, const std::vector<TaskRow>& rows);
/// The configurations of `c`, built from the four bit-count columns; a
/// configuration whose label names standard formats (e.g.
/// "mxfp8-e4m3/bf16") with those element bits is that configuration.
/// @throws InputError naming `file`, the configuration label and index when
/// the bits are impossible (exponent outside 2..8, mantissa outside 1..23)
/// or a bit column has the wrong length.
std::vector<Configuration> configurations(const Campaign& c, const std::string& file = "campaign");
/// Set `c.config` (labels "e4m3/e6m7") and the four bit-count columns from
/// `configs`, and the four block columns when any format is a named one
/// (else they are left empty: not written) (the matrices are not touched: call `allocate()` after changing
/// the number of configurations).
void set_configurations(Campaign& c, const std::vector<Configuration>& configs);

/// The campaign as it stood after epoch `epoch` (`--epoch E` of complete,
/// loocv and select: early epochs as a cheaper fidelity): `error` and
/// `final_loss` are `error_by_epoch` / `loss_by_epoch` at that epoch, one
/// replicate (their mean: `error_replicates` = `error`, `error_std` NaN), a
/// measured or diverged cell without a value there becomes planned (not
/// measured); the number attribute `epoch_used` = E. `epoch` = the last
/// epoch gives `error` itself. @throws InputError naming `file`, the epoch
/// and the epochs the file records (none: a campaign measured without
/// per-epoch errors).
Campaign campaign_at_epoch(const Campaign& c, int epoch, const std::string& file);

/// The global attribute holding each task's full definition (measure writes
/// it; merge compares it): per task a line "[task NAME]" then its
/// `data::task_definition` lines ("classes=0,6", "resolution=14",
/// "train_size=200", "subsample_seed=..", "file.NAME=BYTES:HASH" per dataset
/// file, ...).
inline constexpr const char* kTaskDefinitionsAttribute = "task_definitions";

/// The value of `kTaskDefinitionsAttribute` for tasks `names` with
/// definitions `definitions` (same length; "KEY=VALUE" lines each).
std::string encode_task_definitions(const std::vector<std::string>& names,
                                    const std::vector<std::string>& definitions);

/// Write `c` to `path` atomically (`io::AtomicPath`: an exclusively created
/// `<path>.tmp-<host>-<pid>-<random>`, then rename), as NetCDF-4 with CF
/// attributes. Not collective (root only).
/// @throws InputError when the folder is missing/unwritable; RuntimeError on I/O errors.
void write_campaign(const std::string& path, const Campaign& c);

/// Read a campaign file. Required: `task`, `config`, the four bit counts,
/// `error` and `memory`; every other variable is optional (a minimal
/// external campaign): status defaults to measured where error is finite,
/// else not planned. A file without replicates (every file written before
/// `train.replicates`, or a minimal one) reads as R = 1: `replicate` = {0},
/// `error_replicates` = `error`, `error_std` NaN. Every global attribute lands in `text_attributes`
/// (numeric ones formatted with 17 significant digits).
/// @throws InputError "FILE: variable 'error' missing" and the like.
Campaign read_campaign(const std::string& path);

}  // namespace peppp::io
