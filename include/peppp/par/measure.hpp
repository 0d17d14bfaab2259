#pragma once
/// @file measure.hpp
/// @brief The distributed measurement campaign (DESIGN.md §3): ranks pull
/// planned cells from the shared queue, train each with a pluggable cell
/// trainer, journal every result, and the root gathers everything into
/// campaign.nc. Resumable, signal-safe, nothing lost.

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "peppp/core/cell.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/task.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/meta/plan.hpp"

namespace peppp::par {

/// One cell replicate handed to a trainer.
struct CellWork {
  std::uint64_t cell = 0;        ///< flat index task · n_configs + config
  int task = 0;                  ///< row
  int config = 0;                ///< column
  int replicate = 0;             ///< replicate 0..train.replicates−1 of the cell
  const TaskRow* task_row = nullptr;             ///< the task (the plan's row `task`)
  const Configuration* configuration = nullptr;  ///< the configuration (the plan's column `config`)
  /// The replicate's seed (meta::Plan::replicate_seed; replicate 0: the cell
  /// seed meta::Plan::cell_seed): same result on any rank.
  std::uint64_t seed = 0;
  std::string device;            ///< "cpu" or "cuda:k" for this rank
  int threads = 1;               ///< threads this rank may use
  /// Poll during long work: true once a stop signal arrived; the trainer
  /// should then throw `peppp::Interrupted` (the cell is abandoned and
  /// re-run on resume).
  std::function<bool()> should_stop;
};

/// Trains one cell and reports a `peppp::CellResult` (core/cell.hpp) with
/// status measured, diverged or failed (`message` says why); the driver
/// measures the wall time itself (the result's `seconds` is not used).
/// Throwing `peppp::Interrupted` abandons the cell; any other exception
/// records it as failed (the campaign continues).
using CellTrainer = std::function<CellResult(const CellWork&)>;

/// How to run the campaign.
struct MeasureSettings {
  std::string output;           ///< campaign.nc path; journals in <output>.journal/
  /// --resume given: continue from the journals of the same plan. Without it
  /// a journal holding results is refused (exit 1: pass --resume or --restart).
  bool resume = false;
  /// --restart given: move an existing journal folder aside (timestamped,
  /// never deleted) and start over.
  bool restart = false;
  /// --break-lock given: take over the output's lock whoever holds it.
  bool break_lock = false;
  /// Train a failed cell once more on the spot before recording it failed.
  bool retry_failed = true;
  std::string command = "peppp measure";  ///< recorded in the lock file
  /// Epochs of every cell (`train.epochs`): the length of the per-epoch
  /// record (error_by_epoch, loss_by_epoch) of the output; 0 = none.
  int epochs = 0;
  std::string device = "cpu";   ///< this rank's device (select_device)
  int threads = 1;              ///< this rank's threads (select_threads)
  double progress_interval_s = 10;  ///< seconds between progress lines
  bool terminal = false;        ///< rank 0's stdout is a terminal
  /// Global attributes of the output (provenance, options, model, ...).
  std::map<std::string, std::string> text_attributes;
  std::map<std::string, double> number_attributes;
};

/// Outcome, identical on every rank.
struct MeasureSummary {
  std::int64_t planned = 0;    ///< planned cells
  std::int64_t measured = 0;   ///< status measured
  std::int64_t diverged = 0;   ///< status diverged
  std::int64_t failed = 0;     ///< status failed
  std::int64_t missing = 0;    ///< planned but some replicate without result (interrupted)
  std::int64_t resumed = 0;    ///< replicate results taken from existing journals
  std::int64_t trained = 0;    ///< replicates trained by this run (all ranks)
  std::int64_t retried = 0;    ///< of those, replicates trained twice because the first attempt failed
  std::int64_t corrupt = 0;    ///< corrupt journal records skipped (their cells trained again)
  /// Up to 3 failed cells, "TASK x CONFIG", for the summary line.
  std::vector<std::string> failed_cells;
  bool interrupted = false;    ///< a stop signal arrived on some rank
};

/// Check, consistently on every rank and before any work, that the output
/// can be written and that existing journals belong to this plan and this
/// journal version (naming what differs). Creates nothing.
/// Collective on `comm`. @throws InputError on every rank.
void check_outputs(const meta::Plan& plan, const std::string& output, MPI_Comm comm);

/// Run the campaign. Collective on `comm`: the root takes the output's lock
/// (`io::OutputLock`, held to the end), applies the resume rules
/// (`settings.resume` / `restart`), and reads existing journals: measured and
/// diverged replicates are kept, failed ones are trained again. Every rank
/// trains work items (cell replicates, `meta::Plan::work_items`), retrying a
/// failed one once on the spot; the root gathers all
/// results and writes `settings.output` atomically — also when interrupted
/// (then missing cells have status planned). The caller maps an
/// interrupted / incomplete summary to exit code 3.
/// @throws InputError (all ranks) on unusable outputs or journals;
///         RuntimeError on I/O failures.
MeasureSummary measure(const meta::Plan& plan, const CellTrainer& trainer, const MeasureSettings& settings,
                       MPI_Comm comm);

/// The campaign.nc content of `plan` with no results yet (every planned
/// cell status planned), with an `epoch` coordinate 1..`epochs` for the
/// per-epoch record (0: none). Not collective.
io::Campaign empty_campaign(const meta::Plan& plan, int epochs = 0);

}  // namespace peppp::par
