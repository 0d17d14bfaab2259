#pragma once
/// @file measure.hpp
/// @brief The distributed measurement campaign (DESIGN.md §3): ranks pull
/// planned cells from the shared queue, train each with a pluggable cell
/// trainer, journal every result, and the root gathers everything into the
/// campaign.nc content, which the calling stage writes (stage::measure_plan).
/// Resumable, signal-safe, nothing lost.

#include <mpi.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peppp/core/cell.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/task.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/lock.hpp"
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
  /// campaign.nc path (written by the caller from the results); its lock is
  /// <output>.lock, its journals in <output>.journal/.
  std::string output;
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
  /// The queue's order (README "Queue order"). Null: the plan's order
  /// (`meta::Plan::work_items`). Else called once, on the root, after the
  /// journals were read, with the results earlier runs left (their `cell`,
  /// `replicate`, `seconds`); it returns a cost for each of the plan's n·d
  /// cells (any unit, larger = longer; NaN = unknown, queued last) and the
  /// work items left are handed out most expensive first (`longest_first`),
  /// equal costs in the plan's order. The order decides only which rank
  /// trains a cell and when, never its result: a cell's seed is the plan's.
  /// An exception it throws fails the campaign's start on every rank.
  std::function<std::vector<double>(const std::vector<io::JournalRecord>& done)> cell_cost;
  /// Hand the campaign to every rank (else to the root only): the root's
  /// records and attributes are broadcast and every rank assembles the same
  /// campaign (for stages that go on computing with it, like select).
  bool campaign_on_every_rank = false;
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

/// What `measure` gathered.
struct MeasureResults {
  MeasureSummary summary;  ///< identical on every rank
  /// The campaign.nc content (every planned cell from its replicates' results,
  /// missing ones status planned, the settings' attributes, `complete` 1 or
  /// 0): on the root, and on every rank with
  /// `MeasureSettings::campaign_on_every_rank`; empty elsewhere.
  io::Campaign campaign;
  /// On the root, the output's lock, still held: the caller writes the
  /// output under it, then releases it (reset, or `release()`). Null elsewhere.
  std::shared_ptr<io::OutputLock> lock;
};

/// Check, consistently on every rank and before any work, that the output
/// can be written and that existing journals belong to this plan and this
/// journal version (naming what differs). Creates nothing.
/// Collective on `comm`. @throws InputError on every rank.
void check_outputs(const meta::Plan& plan, const std::string& output, MPI_Comm comm);

/// Run the campaign. Collective on `comm`: the root takes the output's lock
/// (`io::OutputLock`, handed back in the results), applies the resume rules
/// (`settings.resume` / `restart`), and reads existing journals: measured and
/// diverged replicates are kept, failed ones are trained again. Every rank
/// trains work items (cell replicates, `meta::Plan::work_items`), retrying a
/// failed one once on the spot, and journals each result; the root gathers
/// all results into the campaign — also when interrupted (then missing cells
/// have status planned). Writes no campaign file: the caller writes
/// `settings.output` from the results while the lock is held
/// (stage::measure_plan) and maps an interrupted / incomplete summary to
/// exit code 3.
/// @throws InputError (all ranks) on unusable outputs or journals;
///         RuntimeError (all ranks) on journal I/O failures.
MeasureResults measure(const meta::Plan& plan, const CellTrainer& trainer, const MeasureSettings& settings,
                       MPI_Comm comm);

/// The campaign.nc content of `plan` with no results yet (every planned
/// cell status planned), with an `epoch` coordinate 1..`epochs` for the
/// per-epoch record (0: none). Not collective.
io::Campaign empty_campaign(const meta::Plan& plan, int epochs = 0);

}  // namespace peppp::par
