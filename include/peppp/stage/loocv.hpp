#pragma once
/// @file loocv.hpp
/// @brief The loocv stage: meta-leave-one-out evaluation of the acquisition
/// methods over the ranks → loocv.nc; and the merge of a split run's parts.

#include <mpi.h>

#include <limits>
#include <string>
#include <vector>

#include "peppp/io/campaign.hpp"
#include "peppp/io/fidelity.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/meta/loocv.hpp"
#include "peppp/par/loocv.hpp"
#include "peppp/stage/common.hpp"

namespace peppp::stage {

/// Everything `peppp loocv` does on a campaign.
struct LoocvJob {
  std::string campaign;   ///< campaign.nc (fully measured, or see `completed`)
  std::string completed;  ///< completed.nc whose estimates stand in for unmeasured cells; empty: none
  std::string output;     ///< loocv.nc to write
  meta::LoocvSpec spec;   ///< what to compute (validated against the campaign here)
  /// Drop the counts of `spec.measurements` that some fold cannot measure
  /// (say so in the log) instead of refusing them; `peppp run` does.
  bool fit_counts = false;
  bool print_summary = true;  ///< print the summary table on rank 0
  Attributes attributes;      ///< provenance and options of the output
  /// Use the errors after this epoch (`io::campaign_at_epoch`; 0 = the final
  /// errors). A `completed` file must complete the same epoch.
  int epoch = 0;
  /// Row selectors (`select_rows`): the rows LOOCV runs on (empty: all) and,
  /// among them, the rows held out and scored (empty: all; the others only
  /// meta-train).
  std::vector<std::string> rows, test_rows;
};

/// The rows of `c` that `selectors` pick, ascending: each selector is
/// KEY=VALUE with KEY task, model or lr; a row is picked when, for every KEY
/// named, it matches one of that KEY's values (`model=a,model=b,lr=0.01`:
/// model a or b, and rate 0.01). Empty `selectors`: every row. Not collective.
/// @throws InputError naming `key` (the option), `file` and the selector when
///         a selector is malformed or matches no row.
std::vector<int> select_rows(const io::Campaign& c, const std::vector<std::string>& selectors, const std::string& key,
                             const std::string& file);

/// Everything `peppp loocv --fidelity` does on a campaign.
struct FidelityJob {
  std::string campaign;            ///< campaign.nc with a per-epoch record
  std::string output;              ///< fidelity.nc to write; empty: the table only
  int epoch = 0;                   ///< report only this epoch; 0: every recorded epoch
  double cap = std::numeric_limits<double>::quiet_NaN();  ///< MiB; NaN = median of all memory entries
  bool cap_per_task = false;       ///< each row's own median memory
  std::vector<std::string> rows;   ///< row selectors (`select_rows`); empty: all rows
  bool print_summary = true;       ///< print the table on rank 0
  Attributes attributes;           ///< provenance and options of the output
};

/// Rank the errors after each epoch against the final ones (meta/fidelity.hpp)
/// and write `job.output` on the root. Collective (every rank reads and
/// computes alike). @returns the result (every rank).
/// @throws InputError (every rank) on a campaign without a per-epoch record,
///         an unrecorded epoch, an unwritable output.
io::Fidelity fidelity(const FidelityJob& job, MPI_Comm comm);

/// The table of `f`: per epoch, rows compared and mean ± standard error of
/// tau-b, regret and capped regret. Not collective.
std::string fidelity_summary(const io::Fidelity& f);

/// Validate `job` (settings, methods, counts, rank, cap, row selectors,
/// part) as `loocv` would, against `planned`: a campaign whose memory is
/// known but whose errors are not yet (`par::empty_campaign` of a plan), so
/// `peppp run` refuses a LOOCV option that cannot work before it trains
/// anything. Not collective (every rank checks alike).
/// @throws InputError as `loocv` would.
void check_loocv_job(const LoocvJob& job, const io::Campaign& planned);

/// Run `job` over the ranks of `comm`; the root writes `job.output`.
/// Collective. @returns the result on rank 0, an empty one elsewhere.
/// @throws InputError (every rank) on unusable inputs or options.
io::Loocv loocv(const LoocvJob& job, MPI_Comm comm);

/// Merge the partial files of a split run into `output` (no computation).
/// Collective: the root reads and writes, every rank fails alike.
/// @throws InputError (every rank) naming the file that does not fit.
io::Loocv merge(const std::vector<std::string>& files, const std::string& output, bool print_summary,
                const Attributes& attributes, MPI_Comm comm);

/// The counts of `spec.measurements` that every fold of `data` can measure
/// (`spec` not yet validated), in the given order. Not collective.
std::vector<int> feasible_counts(const meta::LoocvSpec& spec, const meta::LoocvData& data);

}  // namespace peppp::stage
