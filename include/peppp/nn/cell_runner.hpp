#pragma once
/// @file cell_runner.hpp
/// @brief Torch-free entry point for the layers above nn (par, app): train
/// one (task, configuration) cell from its task description. The task is
/// built through the process's dataset cache, and the last built task is
/// kept, so consecutive cells of one task (the queue's order) load it once.

#include <cstdint>
#include <string>

#include "peppp/core/cell.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/task.hpp"

namespace peppp::nn {

/// Load `task` (cached) and train `model` on it with `config`; see
/// `train_cell`. Not collective. A cell that fails returns status `failed`;
/// a stop request (`settings.should_stop`) throws `peppp::Interrupted`.
/// @throws InputError for an unknown model or device, or a task whose data
///         cannot be loaded.
CellResult run_cell(const TaskSpec& task, const Configuration& config, const TrainSettings& settings,
                    std::uint64_t seed, const std::string& model);

/// How often this process's `run_cell` found its task already built (the
/// last task kept) and how often it had to build one (read, subsample,
/// resize): the queue's task-major order should make loads ≈ tasks per rank.
struct TaskCacheStats {
  std::uint64_t hits = 0, loads = 0;
};
TaskCacheStats task_cache_stats();

/// Number of CUDA devices LibTorch sees (0 for a CPU-only LibTorch).
int cuda_device_count();

}  // namespace peppp::nn
