#pragma once
/// @file campaign.hpp
/// @brief campaign.nc (DESIGN.md §5): the error matrix of a measurement
/// campaign with its tasks, configurations, memory, statuses and provenance.
/// Plain std containers; matrices are row-major `std::vector<double>` of
/// n_tasks × n_configs (index `t * n_configs + c`). Not collective.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "peppp/core/cell.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/task.hpp"

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
  std::vector<std::string> task_dataset;  ///< per task: source dataset
  std::vector<int> task_classes, task_resolution, task_train_size, task_test_size;  ///< per task

  std::vector<double> error;               ///< test misclassification rate in [0, 1], NaN where not measured
  std::vector<double> memory;              ///< theoretical training memory, MiB
  std::vector<double> memory_weights;      ///< its weights part, MiB
  std::vector<double> memory_activations;  ///< its activations part, MiB
  std::vector<double> memory_optimizer;    ///< its optimizer part, MiB
  std::vector<std::uint8_t> status;        ///< CellStatus values
  std::vector<double> train_seconds;       ///< wall time of the cell, s (NaN where not measured)
  std::vector<double> final_loss;          ///< last training loss (NaN where not measured)
  std::vector<double> sampling_probability;  ///< probability the plan drew the cell with (1 for full)

  std::map<std::string, std::string> text_attributes;  ///< global text attributes (provenance, options)
  std::map<std::string, double> number_attributes;     ///< global numeric attributes (epochs, seed, ...)

  std::size_t n_tasks() const { return task.size(); }
  std::size_t n_configs() const { return config.size(); }
  /// Row-major index of (task t, config c).
  std::size_t at(std::size_t t, std::size_t c) const { return t * config.size() + c; }
  /// Resize every matrix and per-task/per-config field to the coordinate
  /// sizes, filling error/seconds/loss with NaN, memory with NaN, status 0,
  /// probability 0 (existing values are discarded).
  void allocate();
  /// Check every field's size against the coordinates.
  /// @throws InputError naming `file` and the first inconsistent field.
  void validate(const std::string& file) const;
};

/// The task rows of `c` (names and the `task_*` columns; a minimal external
/// campaign without them gives rows known by name only: zeros, empty dataset).
std::vector<TaskRow> task_rows(const Campaign& c);
/// Set `c.task` and every `task_*` column from `rows` (n = rows.size()).
void set_task_rows(Campaign& c, const std::vector<TaskRow>& rows);
/// The configurations of `c` from its four bit-count columns.
/// @throws InputError when a bit count is outside the allowed ranges.
std::vector<Configuration> configurations(const Campaign& c);
/// Set `c.config` (labels "e4m3/e6m7") and the four bit-count columns from `configs`.
void set_configurations(Campaign& c, const std::vector<Configuration>& configs);

/// Write `c` to `path` atomically (`<path>.tmp-<pid>`, then rename), as
/// NetCDF-4 with CF attributes. Not collective (root only).
/// @throws InputError when the folder is missing/unwritable; RuntimeError on I/O errors.
void write_campaign(const std::string& path, const Campaign& c);

/// Read a campaign file. Required: `task`, `config`, the four bit counts,
/// `error` and `memory`; every other variable is optional (a minimal
/// external campaign): status defaults to measured where error is finite,
/// else not planned. Every global attribute lands in `text_attributes`
/// (numeric ones formatted with 17 significant digits).
/// @throws InputError "FILE: variable 'error' missing" and the like.
Campaign read_campaign(const std::string& path);

}  // namespace peppp::io
