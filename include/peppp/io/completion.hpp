#pragma once
/// @file completion.hpp
/// @brief completed.nc (DESIGN.md §5): the SoftImpute completion of a
/// campaign's error matrix, per-task estimated (and, when the truth is
/// known, true) Pareto frontiers and per-task metrics, and, for a fully
/// measured campaign, the sampling-ratio sweep. Row-major n×d matrices.
/// Not collective.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "peppp/io/schema.hpp"

namespace peppp::io {

/// The content of completed.nc.
struct Completion {
  std::vector<std::string> task;        ///< n task names
  std::vector<std::string> config;      ///< d configuration labels
  std::vector<double> error_observed;   ///< n·d observed errors, NaN elsewhere
  std::vector<double> error_estimate;   ///< n·d completed estimates
  std::vector<double> memory;           ///< n·d memory, MiB
  std::vector<std::uint8_t> pareto_estimate;  ///< n·d, 1 on the estimated frontier of the task
  std::vector<std::uint8_t> pareto_true;      ///< n·d, 1 on the true frontier; empty when the truth is unknown
  std::vector<double> convergence, hyperdiff, relative_error;  ///< per task; empty when the truth is unknown
  /// Sampling-ratio sweep (fully measured campaigns only; empty otherwise).
  std::vector<double> sweep_ratio, sweep_convergence, sweep_hyperdiff, sweep_relative_error;

  double lambda = 0;      ///< SoftImpute λ used
  int rank = 0;           ///< rank of the completion
  int iterations = 0;     ///< proximal iterations
  double objective = 0;   ///< F_λ at the solution
  double gap = 0;         ///< duality gap at the solution

  std::map<std::string, std::string> text_attributes;
  std::map<std::string, double> number_attributes;

  /// @throws InputError naming `file` and the first field of wrong size.
  void validate(const std::string& file) const;
};

/// The completed.nc field table (DESIGN.md §5): every variable once, in file
/// order. The sweep (`ratio` and its three curves) is written only for a
/// non-empty sweep and read only from a file with the `ratio` dimension.
inline const Schema<Completion>& completion_schema() {
  using F = SchemaField<Completion>;
  constexpr Presence req = Presence::required, opt = Presence::optional;
  const std::vector<const char*> m{"task", "config"};
  static const Schema<Completion> schema{
      "completion",
      {{"task", [](const Completion& c) { return c.task.size(); }},
       {"config", [](const Completion& c) { return c.config.size(); }},
       {"ratio", [](const Completion& c) { return c.sweep_ratio.size(); }, true}},
      {
          // name, dims, type, units, long_name, presence, member, allocate, flag_meanings
          F{"task", {"task"}, NcType::str, "", "task name", req, &Completion::task},
          F{"config", {"config"}, NcType::str, "", "configuration (Format A / Format B)", req, &Completion::config},
          F{"error_observed", m, NcType::f64, "1", "observed test error", req, &Completion::error_observed},
          F{"error_estimate", m, NcType::f64, "1", "SoftImpute estimate of the test error", req,
            &Completion::error_estimate},
          F{"memory", m, NcType::f64, "MiB", "theoretical training memory", req, &Completion::memory},
          F{"pareto_estimate", m, NcType::u8, "", "on the estimated Pareto frontier of the task", req,
            &Completion::pareto_estimate, {}, "dominated pareto_optimal"},
          F{"pareto_true", m, NcType::u8, "", "on the true Pareto frontier of the task", opt, &Completion::pareto_true,
            {}, "dominated pareto_optimal"},
          F{"convergence", {"task"}, NcType::f64, "1", "convergence of the estimated frontier (F8.3)", opt,
            &Completion::convergence},
          F{"hyperdiff", {"task"}, NcType::f64, "1", "hypervolume difference of the frontiers (F8.4)", opt,
            &Completion::hyperdiff},
          F{"relative_error", {"task"}, NcType::f64, "1", "relative error of the task's estimate (F8.5)", opt,
            &Completion::relative_error},
          F{"ratio", {"ratio"}, NcType::f64, "1", "uniform sampling ratio of the sweep", req, &Completion::sweep_ratio},
          F{"sweep_convergence", {"ratio"}, NcType::f64, "1", "mean convergence over tasks at each ratio", req,
            &Completion::sweep_convergence},
          F{"sweep_hyperdiff", {"ratio"}, NcType::f64, "1", "mean hyperdiff over tasks at each ratio", req,
            &Completion::sweep_hyperdiff},
          F{"sweep_relative_error", {"ratio"}, NcType::f64, "1", "relative error of the completion at each ratio", req,
            &Completion::sweep_relative_error},
      }};
  return schema;
}

/// Write atomically (NetCDF-4, CF attributes). Not collective.
void write_completion(const std::string& path, const Completion& c);
/// Read a completed.nc file. @throws InputError naming file and variable.
Completion read_completion(const std::string& path);

}  // namespace peppp::io
