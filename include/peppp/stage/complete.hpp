#pragma once
/// @file complete.hpp
/// @brief The complete stage: SoftImpute on a campaign's error matrix →
/// completed.nc. Every rank reads and computes alike; the root writes.

#include <mpi.h>

#include <cstdint>
#include <string>

#include "peppp/io/campaign.hpp"
#include "peppp/meta/completion.hpp"
#include "peppp/meta/noise.hpp"
#include "peppp/stage/campaign_errors.hpp"
#include "peppp/stage/common.hpp"

namespace peppp::stage {

/// Everything `peppp complete` does.
struct CompleteJob {
  std::string campaign;       ///< campaign.nc to complete
  std::string output;         ///< completed.nc to write
  double lambda = 0;          ///< SoftImpute λ > 0; 0 = choose by 5-fold CV (METHOD.md F3.5)
  bool weights_auto = true;   ///< inverse-probability weights when the plan was non-uniform (F4.3)
  bool sweep = true;          ///< the 5%–50% ratio sweep on a fully measured campaign
  std::uint64_t seed = 1;     ///< CV folds and sweep masks
  /// Complete the errors after this epoch (`io::campaign_at_epoch`, written
  /// as attribute `epoch_used`); 0 = the final errors.
  int epoch = 0;
  Attributes attributes;      ///< provenance and options of the output
};

// campaign_noise (the noise of a campaign, written by `complete`) is declared in
// campaign_errors.hpp with the other rules of how a campaign is completed.

/// Complete `job.campaign` and write `job.output`. Collective on `comm`.
/// @returns the completion (identical on every rank).
/// @throws InputError (every rank) on an unreadable campaign or unwritable output.
meta::CompletionResult complete(const CompleteJob& job, MPI_Comm comm);

}  // namespace peppp::stage
