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
  /// Per EI-MF round (dimension `round`, round 1 first): the expected regret
  /// of the recommendation after the round; empty when no round was trained.
  std::vector<double> round_expected_regret;
  /// Per round: the configuration recommended after it (column index).
  std::vector<int> round_recommended_index;
  /// The zero-shot pick (nothing measured: the configuration of lowest prior
  /// mean error under the budget), its index (-1: not recorded, files of
  /// earlier versions), label, predicted error, std and expected regret.
  int zero_shot_index = -1;
  std::string zero_shot_config;
  double zero_shot_predicted_error = std::numeric_limits<double>::quiet_NaN();
  double zero_shot_predicted_std = std::numeric_limits<double>::quiet_NaN();
  double zero_shot_expected_regret = std::numeric_limits<double>::quiet_NaN();
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
/// order (the task, budget, recommendation and zero-shot pick are global
/// attributes). `selection_order` may be absent from a file (read as empty);
/// the `round` dimension and its variables exist only when rounds were trained.
inline const Schema<Selection>& selection_schema() {
  using F = SchemaField<Selection>;
  constexpr Presence req = Presence::required;
  static const Schema<Selection> schema{
      "selection",
      {{"config", [](const Selection& s) { return s.config.size(); }},
       {"step", [](const Selection& s) { return s.selection_order.size(); }},
       {"round", [](const Selection& s) { return s.round_expected_regret.size(); }, true}},
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
          F{"round", {"round"}, NcType::i32, "1", "training round (0 = the first)", Presence::index, {}},
          F{"round_expected_regret", {"round"}, NcType::f64, "1",
            "expected regret of the recommendation after each training round", Presence::optional,
            &Selection::round_expected_regret},
          F{"round_recommended_index", {"round"}, NcType::i32, "1",
            "configuration recommended after each training round (index along config)", Presence::optional,
            &Selection::round_recommended_index},
      }};
  return schema;
}

/// Write atomically (NetCDF-4, CF attributes). Not collective.
void write_selection(const std::string& path, const Selection& s);
/// Read a selection.nc file. @throws InputError naming file and variable.
Selection read_selection(const std::string& path);

/// The record of the conditions a training selection into `output` was begun
/// under ("key=value" lines, `select` writes it before its first training):
/// `<output>.conditions`.
std::string selection_conditions_path(const std::string& output);
/// Write the conditions record of `output` atomically (a temporary created
/// exclusively, then renamed). Not collective.
/// @throws InputError when its folder is not writable; RuntimeError on I/O errors.
void write_selection_conditions(const std::string& output, const std::string& text);
/// The conditions record of `output`; empty when there is none.
/// @throws InputError when the name is taken by something other than a regular file.
std::string read_selection_conditions(const std::string& output);
/// What earlier training selections into `output` left beside it, sorted:
/// `<output>.measured.nc`, `<output>.round-K.nc` (every K), their journal
/// folders and the conditions record, those that exist.
std::vector<std::string> selection_training_files(const std::string& output);

}  // namespace peppp::io
