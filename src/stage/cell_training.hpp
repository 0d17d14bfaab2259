#pragma once
// Private to the stage layer: what the measure and select stages share to
// train real cells: the theoretical memory of every (task, configuration)
// cell for a plan, and the cell trainer adapter around nn::run_cell.
#include <string>
#include <vector>

#include "peppp/core/cell.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/task.hpp"
#include "peppp/par/measure.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/stage/common.hpp"

namespace peppp::stage {

/// Fill spec.memory and its breakdowns (MiB, row-major tasks × configs) from
/// the nn memory model (METHOD.md F2) of `model` at `batch_size`, and
/// spec.memory_source. `tasks` and `configs` are the plan's rows and columns.
/// @throws InputError on an unknown model or an impossible task shape.
void fill_plan_memory(meta::PlanSpec& spec, const std::vector<TaskSpec>& tasks,
                      const std::vector<Configuration>& configs, const std::string& model, int batch_size);
/// The same with a model per row (`models[t]` for row t; rows of a task ×
/// model × learning-rate campaign): the memory model is per row.
void fill_plan_memory(meta::PlanSpec& spec, const std::vector<TaskSpec>& tasks,
                      const std::vector<Configuration>& configs, const std::vector<std::string>& models,
                      int batch_size);

/// The real trainer: cell (t, c) trains `model` on tasks[t] under configs[c]
/// with `train` (device, threads and stop check from the work item); a task
/// × model × learning-rate row (TaskRow::expanded) trains its own model and
/// rate instead. Records the error and loss after every epoch.
/// Diverged cells are reported as such; failures throw (recorded as failed).
par::CellTrainer real_trainer(std::vector<TaskSpec> tasks, std::vector<Configuration> configs, TrainSettings train,
                              std::string model);

/// The device, threads, progress and terminal fields of MeasureSettings for
/// this rank from the stage's resources.
void set_rank_resources(par::MeasureSettings& st, const Resources& resources, MPI_Comm comm);

}  // namespace peppp::stage
