#pragma once
/// @file common.hpp
/// @brief What every pipeline stage takes besides its own job: where a rank
/// trains (device, threads, progress) and the global attributes a stage
/// writes into its output file (provenance, the options it was run with).

#include <map>
#include <string>

namespace peppp::stage {

/// Where this rank trains cells and how often rank 0 reports progress.
struct Resources {
  std::string device = "auto";      ///< "auto" (cuda:(local rank mod GPUs) when LibTorch has CUDA, else cpu), "cpu", "cuda"
  int threads = 0;                  ///< torch threads per rank; 0 = SLURM_CPUS_PER_TASK, else cores / ranks on the node
  double progress_interval_s = 10;  ///< seconds between progress lines on rank 0
  /// The measurement queue's order (`run.queue_order`): "cost" (the most
  /// expensive cells first, `stage::queue_costs`) or "plan" (the plan's order).
  std::string queue_order = "cost";
  /// A campaign file whose `train_seconds` refine the cost estimate
  /// (`run.cost_reference`); empty: none.
  std::string cost_reference;
};

/// Global attributes of an output file, written by the root as given.
struct Attributes {
  std::map<std::string, std::string> text;  ///< e.g. provenance, "option.train.epochs" = "2"
  std::map<std::string, double> number;     ///< e.g. "epochs" = 2
};

}  // namespace peppp::stage
