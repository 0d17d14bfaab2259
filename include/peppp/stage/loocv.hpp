#pragma once
/// @file loocv.hpp
/// @brief The loocv stage: meta-leave-one-out evaluation of the acquisition
/// methods over the ranks → loocv.nc; and the merge of a split run's parts.

#include <mpi.h>

#include <string>
#include <vector>

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
};

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
