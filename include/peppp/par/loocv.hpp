#pragma once
/// @file loocv.hpp
/// @brief Distributed meta-leave-one-out cross-validation (METHOD.md F10):
/// the work items of `meta/loocv.hpp` (setting × fold × repeat × method)
/// handed out by the shared `WorkQueue`, computed by the serial evaluator and
/// gathered by the root into an `io::Loocv`; results do not depend on the
/// number of ranks. Also the campaign → `meta::LoocvData` conversion, the
/// merge of the partial files of a Slurm job array (`part`/`parts`) and the
/// text summary of a loocv.nc (kept here, beside the io type it reads).

#include <mpi.h>

#include <string>
#include <vector>

#include "peppp/io/campaign.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/meta/loocv.hpp"

namespace peppp::par {

/// `c`'s error and memory; entries not finite in `error` are replaced by
/// `fill` (row-major n·d, e.g. a completion's estimates) when given. Not
/// collective. @throws InputError naming `file` when an error entry is still
/// unknown, or a memory entry is not finite and positive.
meta::LoocvData loocv_data(const io::Campaign& c, const std::string& file, const std::vector<double>& fill = {});

/// Run the items of this part over the ranks of `comm` and gather them on
/// rank 0. Collective on `comm`. `evaluator` empty = `meta::loocv_evaluator`,
/// with the sampled settings' SoftImpute completions first spread over the
/// ranks as their own queue of (scheme, fold, repeat) items and shared with
/// every rank, so no completion is computed twice. `spec` validated
/// (`meta::validate_loocv`).
/// Returns the full result on rank 0 (provenance attributes left to the
/// caller), an empty `io::Loocv` elsewhere.
/// @throws InputError / RuntimeError on every rank (the first failing rank's
///         message) when an item fails.
io::Loocv run_loocv(const meta::LoocvData& data, const meta::LoocvSpec& spec, MPI_Comm comm,
                    const meta::LoocvEvaluator& evaluator = {});

/// Combine the partial files of a split run (`part`/`parts`) into the
/// result of a single run: same coordinates and options; folds ordered by
/// campaign row. Not collective. @throws InputError naming the file that
/// does not fit (different settings/methods/counts/campaign, overlapping or
/// missing folds).
io::Loocv merge_loocv(const std::vector<io::Loocv>& parts, const std::vector<std::string>& files);

/// The human summary of `l`: per setting, a method × measurements table of
/// mean ± standard error over folds of relative error, convergence,
/// HyperDiff, regret and memory used; a method whose mean regret is within
/// one standard error of the best reads as a tie. Not collective.
std::string loocv_summary(const io::Loocv& l);

}  // namespace peppp::par
