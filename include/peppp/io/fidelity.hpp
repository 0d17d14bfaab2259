#pragma once
/// @file fidelity.hpp
/// @brief fidelity.nc (`peppp loocv --fidelity --output F`, docs/fidelity.md):
/// how well the errors after each recorded epoch rank the final ones.
/// Dimensions `row` (campaign rows) and `epoch` (the reported epochs), each
/// with a coordinate variable; per (row, epoch) the Kendall tau-b, the regret
/// of the epoch's pick and the same under the memory cap; per epoch their
/// mean and standard error over rows. Plain std containers, row-major. Not
/// collective.

#include <map>
#include <string>
#include <vector>

#include "peppp/io/schema.hpp"

namespace peppp::io {

/// The content of fidelity.nc: n rows, E reported epochs.
struct Fidelity {
  std::vector<std::string> row;  ///< n row labels (campaign `task`/`row` coordinate)
  std::vector<int> epoch;        ///< E epochs whose errors were ranked against the final ones
  std::vector<double> cap;       ///< n: memory cap of regret_capped, MiB
  /// (row, epoch): tau-b, regret, capped regret (NaN where undefined) and
  /// the number of configurations compared.
  std::vector<double> kendall_tau, regret, regret_capped;
  std::vector<int> configs_compared;
  /// (epoch): mean and standard error over the rows where defined.
  std::vector<double> kendall_tau_mean, kendall_tau_se, regret_mean, regret_se, regret_capped_mean, regret_capped_se;

  std::map<std::string, std::string> text_attributes;  ///< provenance and options
  std::map<std::string, double> number_attributes;

  std::size_t n_rows() const { return row.size(); }
  std::size_t n_epochs() const { return epoch.size(); }
  /// Index into the (row, epoch) arrays.
  std::size_t at(std::size_t t, std::size_t e) const { return t * n_epochs() + e; }
  /// Size every data array to the coordinates (NaN / 0 filled).
  void allocate();
  /// @throws InputError naming `file` and the first inconsistent field.
  void validate(const std::string& file) const;
};

/// The fidelity.nc field table: every variable once, in file order.
inline const Schema<Fidelity>& fidelity_schema() {
  using F = SchemaField<Fidelity>;
  using A = FieldAlloc;
  constexpr Presence req = Presence::required;
  static const Schema<Fidelity> schema{
      "fidelity",
      {{"row", [](const Fidelity& f) { return f.n_rows(); }}, {"epoch", [](const Fidelity& f) { return f.n_epochs(); }}},
      {
          F{"row", {"row"}, NcType::str, "", "campaign row (task, or task:model:lr=rate)", req, &Fidelity::row},
          F{"epoch", {"epoch"}, NcType::i32, "1", "training epoch whose errors are ranked against the final ones", req,
            &Fidelity::epoch},
          F{"cap", {"row"}, NcType::f64, "MiB", "memory cap of regret_capped", req, &Fidelity::cap,
            A::keep_or(kNcNaN)},
          F{"kendall_tau", {"row", "epoch"}, NcType::f64, "1",
            "Kendall tau-b between the errors after the epoch and the final errors", req, &Fidelity::kendall_tau,
            A::keep_or(kNcNaN)},
          F{"regret", {"row", "epoch"}, NcType::f64, "1",
            "final error of the configuration best at the epoch minus the best final error", req, &Fidelity::regret,
            A::keep_or(kNcNaN)},
          F{"regret_capped", {"row", "epoch"}, NcType::f64, "1",
            "regret among the configurations with memory <= cap", req, &Fidelity::regret_capped, A::keep_or(kNcNaN)},
          F{"configs_compared", {"row", "epoch"}, NcType::i32, "1",
            "configurations measured at the epoch and at the end", req, &Fidelity::configs_compared, A::keep_or(0)},
          F{"kendall_tau_mean", {"epoch"}, NcType::f64, "1", "mean Kendall tau-b over rows", req,
            &Fidelity::kendall_tau_mean, A::keep_or(kNcNaN)},
          F{"kendall_tau_se", {"epoch"}, NcType::f64, "1", "standard error of kendall_tau_mean", req,
            &Fidelity::kendall_tau_se, A::keep_or(kNcNaN)},
          F{"regret_mean", {"epoch"}, NcType::f64, "1", "mean regret over rows", req, &Fidelity::regret_mean,
            A::keep_or(kNcNaN)},
          F{"regret_se", {"epoch"}, NcType::f64, "1", "standard error of regret_mean", req, &Fidelity::regret_se,
            A::keep_or(kNcNaN)},
          F{"regret_capped_mean", {"epoch"}, NcType::f64, "1", "mean capped regret over rows", req,
            &Fidelity::regret_capped_mean, A::keep_or(kNcNaN)},
          F{"regret_capped_se", {"epoch"}, NcType::f64, "1", "standard error of regret_capped_mean", req,
            &Fidelity::regret_capped_se, A::keep_or(kNcNaN)},
      }};
  return schema;
}

/// Write `f` atomically as NetCDF-4 with CF attributes. Not collective.
/// @throws InputError (unwritable folder, inconsistent sizes); RuntimeError on I/O errors.
void write_fidelity(const std::string& path, const Fidelity& f);

/// Read a fidelity.nc file. @throws InputError naming the file and variable.
Fidelity read_fidelity(const std::string& path);

}  // namespace peppp::io
