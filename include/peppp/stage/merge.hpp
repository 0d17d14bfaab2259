#pragma once
/// @file merge.hpp
/// @brief The merge stage: several campaign.nc files (other clusters,
/// people, seeds, a reference matrix) → one campaign.nc (docs/merge.md).
/// The root reads, merges (`io::merge_campaigns`) and writes; every rank
/// ends alike. Plain structs in and out, no command line.

#include <mpi.h>

#include <cstddef>
#include <string>
#include <vector>

#include "peppp/io/merge.hpp"
#include "peppp/stage/common.hpp"

namespace peppp::stage {

/// Everything `peppp merge` does.
struct MergeJob {
  std::vector<std::string> files;                   ///< campaign.nc inputs (at least 2), in order
  std::string output;                               ///< merged campaign.nc to write (atomically)
  io::MergeConfigs configs = io::MergeConfigs::same;  ///< the same configuration set, or the intersection
  Attributes attributes;                            ///< this run's provenance and options (override the merged ones)
};

/// What the merge wrote (on the root; default values on the other ranks).
struct MergeResult {
  std::vector<std::string> notes;  ///< one line per dropped thing (also logged as it happens)
  std::size_t inputs = 0;          ///< campaigns merged
  std::size_t rows = 0;            ///< rows of the output
  std::size_t combined_rows = 0;   ///< of those, rows combined from several inputs
  std::size_t configs = 0;         ///< configurations of the output
  std::size_t replicates = 0;      ///< R of the output
};

/// Merge `job.files` into `job.output`. Collective on `comm` (the root
/// works; an error is raised on every rank alike).
/// @throws InputError (every rank) on fewer than 2 files, an unwritable
/// output, an unreadable input or a refused merge (`io::merge_campaigns`).
MergeResult merge(const MergeJob& job, MPI_Comm comm);

}  // namespace peppp::stage
