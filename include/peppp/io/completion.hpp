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

/// Write atomically (NetCDF-4, CF attributes). Not collective.
void write_completion(const std::string& path, const Completion& c);
/// Read a completed.nc file. @throws InputError naming file and variable.
Completion read_completion(const std::string& path);

}  // namespace peppp::io
