#pragma once
/// @file device.hpp
/// @brief Device binding and threads per rank (DESIGN.md §3), as plain
/// values: the torch-free par layer decides, the nn layer applies. Pure
/// functions, not collective.

#include <string>

namespace peppp::par {

/// Device of this rank: "cpu" or "cuda:k".
/// @param requested  "auto" (cuda:(local_rank mod count) when there are CUDA
///                   devices, else cpu), "cpu" or "cuda" (same as auto, but
///                   an error without devices)
/// @param local_rank rank among the processes on this node
/// @param cuda_devices CUDA devices LibTorch sees (0 without CUDA)
/// @throws InputError on an unknown request or "cuda" without devices.
std::string select_device(const std::string& requested, int local_rank, int cuda_devices);

/// Threads per rank: `requested` when > 0, else SLURM_CPUS_PER_TASK when it
/// is a positive integer, else max(1, cores / local_ranks).
/// @param slurm_cpus_per_task the variable's value, or nullptr when unset
int select_threads(int requested, const char* slurm_cpus_per_task, int cores, int local_ranks);

}  // namespace peppp::par
