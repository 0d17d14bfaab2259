#pragma once
/// @file selection.hpp
/// @brief selection.nc (DESIGN.md §5): the meta-test result for one new
/// task: per configuration its memory, predicted error and uncertainty,
/// whether it was measured (and the error measured), the estimated Pareto
/// frontier, and the recommended configuration under the budget. Not collective.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace peppp::io {

/// The content of selection.nc; per-config vectors have d entries.
struct Selection {
  std::string task;                        ///< the new task's name
  std::vector<std::string> config;         ///< d configuration labels (coordinate of dim `config`)
  std::vector<double> memory;              ///< training memory of each config on the task, MiB
  std::vector<double> predicted_error;     ///< LS prediction Yᵀx̂ (F6.2)
  std::vector<double> predicted_std;       ///< its standard deviation from the LS variance
  std::vector<std::uint8_t> measured;      ///< 1 where the config was measured on the task
  std::vector<double> measured_error;      ///< the measured error, NaN elsewhere
  std::vector<std::uint8_t> pareto_estimate;  ///< 1 on the estimated Pareto frontier
  std::vector<int> selection_order;        ///< the measured configs in the order ED-MF chose them
  double budget = 0;                       ///< MiB
  double cap = 0;                          ///< MiB: cap on measured configurations
  std::string recommended_config;          ///< label of the F9.1 pick
  int recommended_index = -1;              ///< its index

  std::map<std::string, std::string> text_attributes;  ///< provenance and options
  std::map<std::string, double> number_attributes;

  /// @throws InputError naming `file` and the first field of wrong size.
  void validate(const std::string& file) const;
};

/// Write atomically (NetCDF-4, CF attributes). Not collective.
void write_selection(const std::string& path, const Selection& s);
/// Read a selection.nc file. @throws InputError naming file and variable.
Selection read_selection(const std::string& path);

}  // namespace peppp::io
