#pragma once
/// @file selection.hpp
/// @brief selection.nc (DESIGN.md §5): the meta-test result for one new
/// task: per configuration its memory, predicted error and uncertainty,
/// whether it was measured (and the error measured), the estimated Pareto
/// frontier, and the recommended configuration under the budget. Not collective.

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "peppp/io/schema.hpp"

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
  std::vector<int> selection_order;        ///< the measured configs in the order they were chosen
  /// Round of each entry of `selection_order` (0-based; a round trains as
  /// many configurations as there are ranks); empty when not recorded.
  std::vector<int> selection_round;
  /// Per config: posterior probability of being the best feasible one
  /// (memory ≤ budget); 0 for infeasible ones; empty when not computed.
  std::vector<double> p_best;
  /// Expected regret of the recommendation under the posterior (error-rate
  /// units): E[e_rec − min_feasible e]; NaN when not computed.
  double expected_regret = std::numeric_limits<double>::quiet_NaN();
  std::string acquisition = "ed-mf";       ///< the method that chose the measurements
  double budget = 0;                       ///< MiB
  double cap = 0;                          ///< MiB: cap on measured configurations
  std::string recommended_config;          ///< label of the F9.1 pick
  int recommended_index = -1;              ///< its index

  std::map<std::string, std::string> text_attributes;  ///< provenance and options
  std::map<std::string, double> number_attributes;

  /// @throws InputError naming `file` and the first field of wrong size.
  void validate(const std::string& file) const;
};

/// The selection.nc field table (DESIGN.md §5): every variable once, in file
/// order (the task, budget and recommendation are global attributes).
/// `selection_order` may be absent from a file (read as empty).
inline const Schema<Selection>& selection_schema() {
  using F = SchemaField<Selection>;
  constexpr Presence req = Presence::required;
  static const Schema<Selection> schema{
      "selection",
      {{"config", [](const Selection& s) { return s.config.size(); }},
       {"step", [](const Selection& s) { return s.selection_order.size(); }}},
      {
          // name, dims, type, units, long_name, presence, member, allocate, flag_meanings
          F{"config", {"config"}, NcType::str, "", "configuration (Format A / Format B)", req, &Selection::config},
          F{"memory", {"config"}, NcType::f64, "MiB", "theoretical training memory on the task", req,
            &Selection::memory},
          F{"predicted_error", {"config"}, NcType::f64, "1", "predicted test error (least squares on the embedding)",
            req, &Selection::predicted_error},
          F{"predicted_std", {"config"}, NcType::f64, "1", "standard deviation of the predicted error", req,
            &Selection::predicted_std},
          F{"measured", {"config"}, NcType::u8, "", "configuration measured on the task", req, &Selection::measured,
            {}, "predicted measured"},
          F{"measured_error", {"config"}, NcType::f64, "1", "measured test error", req, &Selection::measured_error},
          F{"pareto_estimate", {"config"}, NcType::u8, "", "on the estimated Pareto frontier", req,
            &Selection::pareto_estimate, {}, "dominated pareto_optimal"},
          F{"step", {"step"}, NcType::i32, "1", "position in the selection order", Presence::index, {}},
          F{"selection_order", {"step"}, NcType::i32, "1", "measured configurations in the order they were chosen",
            Presence::optional, &Selection::selection_order},
          F{"selection_round", {"step"}, NcType::i32, "1", "training round of each measured configuration",
            Presence::optional, &Selection::selection_round},
          F{"p_best", {"config"}, NcType::f64, "1",
            "posterior probability of being the best configuration under the budget", Presence::optional,
            &Selection::p_best},
      }};
  return schema;
}

/// Write atomically (NetCDF-4, CF attributes). Not collective.
void write_selection(const std::string& path, const Selection& s);
/// Read a selection.nc file. @throws InputError naming file and variable.
Selection read_selection(const std::string& path);

}  // namespace peppp::io
