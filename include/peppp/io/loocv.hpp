#pragma once
/// @file loocv.hpp
/// @brief loocv.nc (DESIGN.md §5): meta-leave-one-out results of the
/// acquisition methods (METHOD.md F10). Dimensions `setting` ("I".."VI"),
/// `acquisition` (the method: command-line names, plus `random-high-memory`
/// for the F9.2 baseline; files before issue #13 call it `method`, which
/// xarray's `sel()` takes as a keyword — still read), `measurements` (the
/// counts l), `fold` (held-out task names),
/// each with a coordinate variable; also `task` and `config` (all rows and
/// columns of the campaign) for the saved sampling masks, and `step` for the
/// saved selection orders. Plain std containers, row-major. Not collective.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "peppp/core/loocv_metrics.hpp"
#include "peppp/io/schema.hpp"

namespace peppp::io {

/// The content of loocv.nc. Sizes: S settings, M methods, L counts, F folds,
/// n tasks, d configs, P = max(measurements) steps.
struct Loocv {
  std::vector<std::string> setting;    ///< S setting names "I".."VI"
  /// M acquisition method names (may include "random-high-memory"): the
  /// `acquisition` coordinate of the file (`method` in old files).
  std::vector<std::string> method;
  std::vector<int> measurements;       ///< L measurement counts, ascending
  std::vector<std::string> fold;       ///< F held-out task names
  std::vector<int> fold_task;          ///< F: row of each fold in the campaign (index into `task`)
  /// F: rows the fold kept out of its meta-training matrix (1; with
  /// `fold_by = task` every row of the held-out row's task). Written only
  /// when some task has several rows (task × model × learning rate), so a
  /// plain campaign's loocv.nc is unchanged; empty = 1 per fold.
  std::vector<int> fold_held_out_rows;
  std::vector<std::string> task;       ///< n campaign task names
  std::vector<std::string> config;     ///< d configuration labels

  /// (setting, acquisition, measurements, fold) metrics, one member per
  /// entry of PEPPP_LOOCV_METRICS (peppp/core/loocv_metrics.hpp, in its
  /// order: relative_error F8.5, convergence F8.3, hyperdiff F8.4,
  /// selected_error of the F9.1 pick (baseline: F9.2 expectation),
  /// best_feasible_error, regret, measured_memory MiB); NaN where not
  /// defined (e.g. the estimate-free baseline's relative error). Averaged
  /// over repeats.
#define PEPPP_IO_LOOCV_MEMBER_(member, units, long_name) std::vector<double> member;
  PEPPP_LOOCV_METRICS(PEPPP_IO_LOOCV_MEMBER_)
#undef PEPPP_IO_LOOCV_MEMBER_
  std::vector<int> selected_config;         ///< index of the F9.1 pick (repeat 0); −1 for the baseline
  /// (setting, acquisition, measurements, fold): calibration, the fraction of
  /// the held-out task's configurations not measured whose true error lies
  /// within ±2 predicted std; averaged over repeats; NaN for the baseline.
  /// Optional: empty when read from a file written before it existed.
  std::vector<double> coverage;
  /// (setting, fold) each, one member per entry of
  /// PEPPP_LOOCV_ZERO_SHOT_METRICS: the zero-shot default (METHOD.md F9.3,
  /// no training; printed and drawn as `zero-shot`), averaged over repeats.
  /// Optional: empty when read from a file written before they existed.
#define PEPPP_IO_LOOCV_ZERO_SHOT_MEMBER_(member, units, long_name) std::vector<double> member;
  PEPPP_LOOCV_ZERO_SHOT_METRICS(PEPPP_IO_LOOCV_ZERO_SHOT_MEMBER_)
#undef PEPPP_IO_LOOCV_ZERO_SHOT_MEMBER_
  /// (setting, fold): column of the zero-shot pick (repeat 0). Optional.
  std::vector<int> zero_shot_config;
  /// (setting, fold, config), repeat 0: the zero-shot prediction, the prior
  /// predictive mean in [0, 1] and std of every configuration. Optional.
  std::vector<double> zero_shot_predicted_error, zero_shot_predicted_std;
  /// (setting, acquisition, measurements, fold, config), repeat 0: the
  /// method's predicted error in [0, 1] of every configuration of the
  /// held-out task after l measurements (measured ones at their measurement)
  /// and its predictive standard deviation; NaN for the baseline. Optional:
  /// empty when read from a file written before they existed.
  std::vector<double> predicted_error, predicted_std;

  /// (setting, acquisition, fold, step): the nested selection order of repeat 0,
  /// −1 past its end (the baseline selects nothing).
  std::vector<int> selection_order;
  /// (setting, fold): SoftImpute λ of the meta-training completion (NaN for
  /// full settings) and the observed fraction of meta-training entries (repeat 0).
  std::vector<double> lambda, sampled_fraction;
  /// (setting, fold, task, config): 1 where the meta-training matrix of
  /// repeat 0 was observed (the held-out row is all 0).
  std::vector<std::uint8_t> sampling_mask;
  /// Column hold-out (`--hide-columns`, docs/feature-completion.md): (config)
  /// 1 where the configuration was removed from every meta-training row.
  /// Optional: written only with hide_columns > 0 (attributes `hide_columns`,
  /// `candidates`); `allocate()` leaves it and the two below empty.
  std::vector<std::uint8_t> hidden_config;
  /// (setting, acquisition, measurements, fold), with hidden columns: the
  /// relative error (F8.5) of the prediction over the held-out task's
  /// unmeasured configurations in hidden columns, and over those in the other
  /// columns; averaged over repeats; NaN for the baseline. Optional as above.
  std::vector<double> relative_error_hidden, relative_error_measured;

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
  /// Index into the (setting, acquisition, measurements, fold) arrays.
  std::size_t at(std::size_t s, std::size_t m, std::size_t l, std::size_t f) const {
    return ((s * n_methods() + m) * n_counts() + l) * n_folds() + f;
  }
  /// Index into the (setting, fold) arrays.
  std::size_t at(std::size_t s, std::size_t f) const { return s * n_folds() + f; }
  /// Index into the (setting, acquisition, measurements, fold, config) arrays.
  std::size_t at(std::size_t s, std::size_t m, std::size_t l, std::size_t f, std::size_t j) const {
    return at(s, m, l, f) * config.size() + j;
  }
  /// Size every data array to the coordinates (NaN / −1 / 0 filled);
  /// the coordinates and `fold_task` are the caller's.
  void allocate();
  /// Check every array's size against the coordinates.
  /// @throws InputError naming `file` and the first inconsistent field.
  void validate(const std::string& file) const;
};

/// The names of the metric variables over (setting, acquisition,
/// measurements, fold), from PEPPP_LOOCV_METRICS in file order.
const std::vector<std::string>& loocv_metric_names();

/// The loocv.nc field table (DESIGN.md §5): every variable once, in file
/// order; the metric rows come from PEPPP_LOOCV_METRICS.
inline const Schema<Loocv>& loocv_schema() {
  using F = SchemaField<Loocv>;
  using A = FieldAlloc;
  constexpr Presence req = Presence::required;
  const std::vector<const char*> m4{"setting", "acquisition", "measurements", "fold"};
  const std::vector<const char*> m5{"setting", "acquisition", "measurements", "fold", "config"};
  static const Schema<Loocv> schema{
      "loocv",
      {{"setting", [](const Loocv& l) { return l.n_settings(); }},
       {"acquisition", [](const Loocv& l) { return l.n_methods(); }, false, "method"},
       {"measurements", [](const Loocv& l) { return l.n_counts(); }},
       {"fold", [](const Loocv& l) { return l.n_folds(); }},
       {"task", [](const Loocv& l) { return l.task.size(); }},
       {"config", [](const Loocv& l) { return l.config.size(); }},
       {"step", [](const Loocv& l) { return l.n_steps(); }, false, nullptr, "the largest count"}},
      {
          // name, dims, type, units, long_name, presence, member, allocate, flag_meanings, int _FillValue, old name
          F{"setting", {"setting"}, NcType::str, "", "meta-LOOCV setting (METHOD.md F10)", req, &Loocv::setting},
          F{"acquisition", {"acquisition"}, NcType::str, "", "acquisition method", req, &Loocv::method, {}, nullptr,
            std::nullopt, "method"},
          F{"measurements", {"measurements"}, NcType::i32, "1",
            "number of configurations measured on the held-out task", req, &Loocv::measurements},
          F{"fold", {"fold"}, NcType::str, "", "held-out task", req, &Loocv::fold},
          F{"task", {"task"}, NcType::str, "", "task name", req, &Loocv::task},
          F{"config", {"config"}, NcType::str, "", "configuration (Format A / Format B)", req, &Loocv::config},
          F{"step", {"step"}, NcType::i32, "1", "position in the nested selection order", Presence::index, {}},
          F{"fold_task", {"fold"}, NcType::i32, "1", "row of the held-out task in the campaign", req,
            &Loocv::fold_task},
          F{"fold_held_out_rows", {"fold"}, NcType::i32, "1",
            "campaign rows kept out of the fold's meta-training matrix (the held-out row and, with fold_by = task, "
            "the other rows of its task)",
            Presence::optional, &Loocv::fold_held_out_rows},
#define PEPPP_IO_LOOCV_FIELD_(member, units, long_name) \
  F{#member, m4, NcType::f64, units, long_name, req, &Loocv::member, A::reset_to(kNcNaN)},
          PEPPP_LOOCV_METRICS(PEPPP_IO_LOOCV_FIELD_)
#undef PEPPP_IO_LOOCV_FIELD_
          F{"selected_config", m4, NcType::i32, "1", "index of the configuration picked under the budget (F9.1)", req,
            &Loocv::selected_config, A::reset_to(-1), nullptr, -1},
          F{"predicted_error", m5, NcType::f64, "1",
            "predicted test error of each configuration after l measurements (in [0, 1]; measured ones at their "
            "measurement; repeat 0)",
            Presence::optional, &Loocv::predicted_error, A::reset_to(kNcNaN)},
          F{"predicted_std", m5, NcType::f64, "1",
            "predictive standard deviation of each configuration's error after l measurements (repeat 0)",
            Presence::optional, &Loocv::predicted_std, A::reset_to(kNcNaN)},
          F{"coverage", m4, NcType::f64, "1",
            "fraction of the held-out task's configurations not measured whose true error lies within 2 predicted "
            "std of the prediction after l measurements (calibration; averaged over repeats)",
            Presence::optional, &Loocv::coverage, A::reset_to(kNcNaN)},
#define PEPPP_IO_LOOCV_ZERO_SHOT_FIELD_(member, units, long_name) \
  F{#member, {"setting", "fold"}, NcType::f64, units, long_name, Presence::optional, &Loocv::member, A::reset_to(kNcNaN)},
          PEPPP_LOOCV_ZERO_SHOT_METRICS(PEPPP_IO_LOOCV_ZERO_SHOT_FIELD_)
#undef PEPPP_IO_LOOCV_ZERO_SHOT_FIELD_
          F{"zero_shot_config", {"setting", "fold"}, NcType::i32, "1",
            "index of the zero-shot pick: the configuration under the budget of lowest mean meta-training error "
            "(F9.3; repeat 0)",
            Presence::optional, &Loocv::zero_shot_config, A::reset_to(-1), nullptr, -1},
          F{"zero_shot_predicted_error", {"setting", "fold", "config"}, NcType::f64, "1",
            "zero-shot prediction of each configuration's error: the prior predictive mean, no measurement (in "
            "[0, 1]; repeat 0)",
            Presence::optional, &Loocv::zero_shot_predicted_error, A::reset_to(kNcNaN)},
          F{"zero_shot_predicted_std", {"setting", "fold", "config"}, NcType::f64, "1",
            "prior predictive standard deviation of each configuration's error (repeat 0)", Presence::optional,
            &Loocv::zero_shot_predicted_std, A::reset_to(kNcNaN)},
          F{"selection_order", {"setting", "acquisition", "fold", "step"}, NcType::i32, "1",
            "configurations in the order the method measured them (nested in l)", req, &Loocv::selection_order,
            A::reset_to(-1), nullptr, -1},
          F{"lambda", {"setting", "fold"}, NcType::f64, "1", "SoftImpute lambda of the meta-training completion", req,
            &Loocv::lambda, A::reset_to(kNcNaN)},
          F{"sampled_fraction", {"setting", "fold"}, NcType::f64, "1", "observed fraction of the meta-training matrix",
            req, &Loocv::sampled_fraction, A::reset_to(kNcNaN)},
          F{"sampling_mask", {"setting", "fold", "task", "config"}, NcType::u8, "", "meta-training entries observed",
            req, &Loocv::sampling_mask, A::reset_to(0), "not_observed observed"},
          F{"hidden_config", {"config"}, NcType::u8, "",
            "configuration removed from every meta-training row (--hide-columns)", Presence::optional,
            &Loocv::hidden_config, {}, "not_hidden hidden"},
          F{"relative_error_hidden", m4, NcType::f64, "1",
            "relative error of the prediction after l measurements over the held-out task's unmeasured "
            "configurations in hidden columns (F8.5; averaged over repeats)",
            Presence::optional, &Loocv::relative_error_hidden},
          F{"relative_error_measured", m4, NcType::f64, "1",
            "relative error of the prediction after l measurements over the held-out task's unmeasured "
            "configurations in columns not hidden (F8.5; averaged over repeats)",
            Presence::optional, &Loocv::relative_error_measured},
      }};
  return schema;
}

/// Write `l` atomically as NetCDF-4 with CF attributes. Not collective.
/// @throws InputError (unwritable folder, inconsistent sizes); RuntimeError on I/O errors.
void write_loocv(const std::string& path, const Loocv& l);

/// Read a loocv.nc file. @throws InputError naming the file and variable.
Loocv read_loocv(const std::string& path);

}  // namespace peppp::io
