#pragma once
/// @file loocv.hpp
/// @brief loocv.nc (DESIGN.md §5): meta-leave-one-out results of the
/// acquisition methods (METHOD.md F10). Dimensions `setting` ("I".."VI"),
/// `method` (command-line names, plus `random-high-memory` for the F9.2
/// baseline), `measurements` (the counts l), `fold` (held-out task names),
/// each with a coordinate variable; also `task` and `config` (all rows and
/// columns of the campaign) for the saved sampling masks, and `step` for the
/// saved selection orders. Plain std containers, row-major. Not collective.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace peppp::io {

/// The content of loocv.nc. Sizes: S settings, M methods, L counts, F folds,
/// n tasks, d configs, P = max(measurements) steps.
struct Loocv {
  std::vector<std::string> setting;    ///< S setting names "I".."VI"
  std::vector<std::string> method;     ///< M method names (may include "random-high-memory")
  std::vector<int> measurements;       ///< L measurement counts, ascending
  std::vector<std::string> fold;       ///< F held-out task names
  std::vector<int> fold_task;          ///< F: row of each fold in the campaign (index into `task`)
  std::vector<std::string> task;       ///< n campaign task names
  std::vector<std::string> config;     ///< d configuration labels

  /// (setting, method, measurements, fold) metrics; NaN where not defined
  /// (e.g. the estimate-free baseline's relative error). Averaged over repeats.
  std::vector<double> relative_error;       ///< F8.5 ‖ê − e‖/‖e‖ over all d configs
  std::vector<double> convergence;          ///< F8.3 of the estimated frontier
  std::vector<double> hyperdiff;            ///< F8.4 |HV(P*) − HV(P̂)|
  std::vector<double> selected_error;       ///< true error of the F9.1 pick (baseline: F9.2 expectation)
  std::vector<double> best_feasible_error;  ///< min true error under the budget
  std::vector<double> regret;               ///< selected_error − best_feasible_error
  std::vector<double> measured_memory;      ///< Σ memory of the measured configs, MiB
  std::vector<int> selected_config;         ///< index of the F9.1 pick (repeat 0); −1 for the baseline

  /// (setting, method, fold, step): the nested selection order of repeat 0,
  /// −1 past its end (the baseline selects nothing).
  std::vector<int> selection_order;
  /// (setting, fold): SoftImpute λ of the meta-training completion (NaN for
  /// full settings) and the observed fraction of meta-training entries (repeat 0).
  std::vector<double> lambda, sampled_fraction;
  /// (setting, fold, task, config): 1 where the meta-training matrix of
  /// repeat 0 was observed (the held-out row is all 0).
  std::vector<std::uint8_t> sampling_mask;

  double budget = 0;  ///< MiB: the F9 budget (= cap, median memory by default)
  double cap = 0;     ///< MiB: cap on meta-test measurements in capped settings
  int repeats = 1;    ///< repeats averaged into the metrics

  std::map<std::string, std::string> text_attributes;  ///< provenance and options
  std::map<std::string, double> number_attributes;

  std::size_t n_settings() const { return setting.size(); }
  std::size_t n_methods() const { return method.size(); }
  std::size_t n_counts() const { return measurements.size(); }
  std::size_t n_folds() const { return fold.size(); }
  std::size_t n_steps() const;
  /// Index into the (setting, method, measurements, fold) arrays.
  std::size_t at(std::size_t s, std::size_t m, std::size_t l, std::size_t f) const {
    return ((s * n_methods() + m) * n_counts() + l) * n_folds() + f;
  }
  /// Size every data array to the coordinates (NaN / −1 / 0 filled).
  void allocate();
  /// Check every array's size against the coordinates.
  /// @throws InputError naming `file` and the first inconsistent field.
  void validate(const std::string& file) const;
};

/// The names of the 7 data variables over (setting, method, measurements, fold).
const std::vector<std::string>& loocv_metric_names();

/// Write `l` atomically as NetCDF-4 with CF attributes. Not collective.
/// @throws InputError (unwritable folder, inconsistent sizes); RuntimeError on I/O errors.
void write_loocv(const std::string& path, const Loocv& l);

/// Read a loocv.nc file. @throws InputError naming the file and variable.
Loocv read_loocv(const std::string& path);

}  // namespace peppp::io
