#pragma once
/// @file memory.hpp
/// @brief The memory stage: the theoretical training memory (METHOD.md F2)
/// of every (task, configuration) cell, no training, in the campaign.nc
/// schema (error NaN, status 0); `peppp memory` prints it as a table.

#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

#include "peppp/core/format.hpp"
#include "peppp/core/task.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/stage/common.hpp"

namespace peppp::stage {

/// Everything `peppp memory` does.
struct MemoryJob {
  std::vector<TaskSpec> tasks;         ///< rows (a task catalog)
  std::vector<Configuration> configs;  ///< columns
  std::string model = "small-cnn";
  int batch_size = 32;                 ///< B of the memory model
  std::string output;                  ///< memory.nc to write; empty: print only
  Attributes attributes;               ///< provenance and options of the output
};

/// `nn::model_counts` of `model` on `task`'s shape (its classes, channels
/// and resolution). Not collective.
/// @throws InputError when the network does not fit the task (one line,
///         "task 'NAME' (C classes, CHxWxH images): " then nn's message,
///         which names the model and the sizes found), or as `model_counts`.
nn::ModelCounts task_model_counts(const std::string& model, const TaskSpec& task);

/// The memory matrix of `job` in the campaign schema. Not collective.
/// @throws InputError on an unknown model or an impossible task shape.
io::Campaign memory_matrix(const MemoryJob& job);

/// The memory matrix of `job` on every rank; on rank 0, `computed` (when
/// given) sees it first (`peppp memory` prints its table there), then
/// `job.output` is written when given. Collective in the sense that every
/// rank computes alike; only the root reports and writes.
/// @throws InputError as `memory_matrix`, or when the output cannot be written (rank 0).
io::Campaign memory(const MemoryJob& job, MPI_Comm comm,
                    const std::function<void(const io::Campaign&)>& computed = {});

}  // namespace peppp::stage
