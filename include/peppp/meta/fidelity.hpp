#pragma once
/// @file fidelity.hpp
/// @brief How well the errors after an early epoch rank the final ones
/// (`peppp loocv --fidelity`, docs/fidelity.md): per row and recorded epoch
/// E, the Kendall rank correlation (tau-b) between error_by_epoch(E) and the
/// final error over the configurations measured in both, and the regret of
/// picking the configuration that is best at epoch E (also under a memory
/// cap); their mean ± standard error over rows per epoch. Serial, not
/// collective; core + std only.

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace peppp::meta {

/// Kendall's tau-b of the pairs (x[i], y[i]): (concordant − discordant) /
/// sqrt((P − ties in x)(P − ties in y)), P = m(m−1)/2 pairs; a pair tied in
/// both counts in both tie terms and neither sum. NaN when m < 2 or either
/// side is all tied (no ranking to compare). @throws InputError when the
/// sizes differ.
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

/// Regret of ranking by `early`: final[argmin_c early(c)] − min_c final(c)
/// over the entries c with `allowed[c]` (empty = all) where both are finite
/// (ties in `early`: the lowest index). NaN when no entry qualifies.
double ranking_regret(const std::vector<double>& early, const std::vector<double>& final_error,
                      const std::vector<bool>& allowed = {});

/// Mean and standard error (sample std / sqrt(k)) of the finite entries of
/// `v`; {NaN, NaN} with none, standard error 0 with one.
struct MeanSe {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double se = std::numeric_limits<double>::quiet_NaN();
  std::size_t count = 0;  ///< finite entries averaged
};
MeanSe mean_se(const std::vector<double>& v);

/// The input: n rows × d configurations × E recorded epochs.
struct FidelityData {
  std::vector<std::string> row;        ///< n row labels
  std::size_t d = 0;                   ///< configurations
  std::vector<int> epoch;              ///< E epoch numbers (1..E), ascending
  std::vector<double> error_by_epoch;  ///< n·d·E, index (t·d + c)·E + e; NaN where not measured
  std::vector<double> final_error;     ///< n·d: the final error (the campaign's `error`); NaN where not measured
  std::vector<double> memory;          ///< n·d training memory, MiB (non-finite: never under the cap)
  std::size_t n() const { return row.size(); }
};

/// Which epochs and which cap.
struct FidelityOptions {
  std::vector<int> epochs;  ///< epoch numbers to report (each recorded); empty = every recorded epoch
  /// Memory cap of regret_capped, MiB; NaN = the median of all finite
  /// memory entries (as loocv's `--cap median`).
  double cap = std::numeric_limits<double>::quiet_NaN();
  bool cap_per_task = false;  ///< each row's cap is the median of its own memory (`--cap task-median`)
};

/// The result: per row × reported epoch, row-major (index t·E' + e).
struct FidelityResult {
  std::vector<int> epoch;              ///< E' reported epochs
  std::vector<double> cap;             ///< n: the cap of each row, MiB
  std::vector<double> kendall_tau;     ///< n·E': tau-b of error at epoch vs final error (NaN: undefined)
  std::vector<double> regret;          ///< n·E': final error of the epoch's pick − the best final error
  std::vector<double> regret_capped;   ///< n·E': the same among configurations with memory ≤ cap
  std::vector<int> configs_compared;   ///< n·E': configurations measured at that epoch and at the end
  /// Per reported epoch: mean ± standard error over the rows where defined.
  std::vector<MeanSe> kendall_tau_stats, regret_stats, regret_capped_stats;
};

/// Compute it. @throws InputError when `data` has no epochs, sizes do not
/// fit, or an epoch of `opt.epochs` is not recorded.
FidelityResult fidelity(const FidelityData& data, const FidelityOptions& opt);

}  // namespace peppp::meta
