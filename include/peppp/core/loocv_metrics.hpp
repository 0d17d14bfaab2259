#pragma once
/// @file loocv_metrics.hpp
/// @brief The one list of meta-LOOCV metrics (METHOD.md F8–F10): every
/// per-(setting, acquisition, measurements, fold) number that a LOOCV fold
/// computes, the driver gathers, loocv.nc stores and the summary prints.
///
/// Adding a metric is one line here (name, units, long_name) plus its
/// computation in the fold (`meta/loocv_fold`): the members of the fold
/// result and of `io::Loocv`, the gather, the NetCDF variable and the merge
/// of split runs are all generated from this list.

#include <array>
#include <cstddef>

/// X(member, units, long_name) for each metric, in file order. Every metric
/// is a double, NaN where it is not defined (e.g. the estimate-free
/// baseline's relative error).
#define PEPPP_LOOCV_METRICS(X)                                                                        \
  X(relative_error, "1", "relative error of the estimated error vector of the held-out task (F8.5)") \
  X(convergence, "1", "convergence of the estimated Pareto frontier to the true one (F8.3)")         \
  X(hyperdiff, "1", "absolute hypervolume difference of true and estimated frontiers (F8.4)")        \
  X(selected_error, "1", "true test error of the configuration picked under the budget (F9)")        \
  X(best_feasible_error, "1", "lowest true test error under the budget")                             \
  X(regret, "1", "selected_error minus best_feasible_error")                                         \
  X(measured_memory, "MiB", "total memory of the configurations measured on the held-out task")

/// X(member, units, long_name) for each number of the zero-shot default
/// (METHOD.md F9.3: the feasible configuration of lowest mean error over the
/// meta-training rows, no training on the held-out task; its prediction is
/// the prior mean of the embedding posterior with no measurement), one per
/// (setting, fold) and averaged over repeats like the metrics above. Optional
/// in loocv.nc (files written before it lack them).
#define PEPPP_LOOCV_ZERO_SHOT_METRICS(X)                                                                    \
  X(zero_shot_selected_error, "1", "true test error of the zero-shot pick under the budget (F9.3)")       \
  X(zero_shot_regret, "1", "zero_shot_selected_error minus best_feasible_error")                          \
  X(zero_shot_relative_error, "1", "relative error of the prior mean prediction of the held-out task (F8.5)") \
  X(zero_shot_convergence, "1", "convergence of the prior mean's Pareto frontier to the true one (F8.3)")  \
  X(zero_shot_hyperdiff, "1", "absolute hypervolume difference of the true and the prior mean's frontiers") \
  X(zero_shot_coverage, "1",                                                                              \
    "fraction of the held-out task's configurations whose true error lies within 2 prior predictive std")

namespace peppp {

/// Name, units and long_name of one LOOCV metric.
struct LoocvMetricInfo {
  const char* name;       ///< variable name in loocv.nc, e.g. "regret"
  const char* units;      ///< CF units: "1" (dimensionless) or "MiB"
  const char* long_name;  ///< CF long_name
};

#define PEPPP_LOOCV_METRIC_COUNT_(member, units, long_name) +1
/// Number of metrics.
inline constexpr std::size_t kLoocvMetricCount = 0 PEPPP_LOOCV_METRICS(PEPPP_LOOCV_METRIC_COUNT_);
#undef PEPPP_LOOCV_METRIC_COUNT_

/// The metrics in file order.
inline const std::array<LoocvMetricInfo, kLoocvMetricCount>& loocv_metric_info() {
#define PEPPP_LOOCV_METRIC_INFO_(member, units, long_name) LoocvMetricInfo{#member, units, long_name},
  static const std::array<LoocvMetricInfo, kLoocvMetricCount> info{{PEPPP_LOOCV_METRICS(PEPPP_LOOCV_METRIC_INFO_)}};
#undef PEPPP_LOOCV_METRIC_INFO_
  return info;
}

}  // namespace peppp
