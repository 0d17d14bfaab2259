#pragma once
/// @file run.hpp
/// @brief The whole pipeline in one MPI job (`peppp run`): measure →
/// complete → loocv, every file in one folder.

#include <mpi.h>

#include <string>

#include "peppp/stage/complete.hpp"
#include "peppp/stage/loocv.hpp"
#include "peppp/stage/measure.hpp"

namespace peppp::stage {

/// The three stages' jobs; their file names are set by `run` from `dir`.
struct RunJob {
  std::string dir;       ///< output folder (created if missing): campaign.nc, completed.nc, loocv.nc
  MeasureJob measure;    ///< output = dir/campaign.nc
  CompleteJob complete;  ///< campaign, output = dir/campaign.nc, dir/completed.nc
  /// campaign, completed, output = dir/campaign.nc, dir/completed.nc,
  /// dir/loocv.nc; counts that a small campaign cannot measure are dropped
  /// (with a warning) rather than refused.
  LoocvJob loocv;
};

/// Run the pipeline over the ranks of `comm`; rank 0 prints where each file
/// is. Collective. @throws what the stages throw (Interrupted from measure:
/// rerun with `measure.resume`).
void run(RunJob job, MPI_Comm comm);

}  // namespace peppp::stage
