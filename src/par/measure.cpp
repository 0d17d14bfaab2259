#include "peppp/par/measure.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "peppp/core/strings.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/lock.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/progress.hpp"
#include "peppp/par/signals.hpp"
#include "peppp/par/work_queue.hpp"

namespace peppp::par {

namespace {

// What each rank sends rank 0 at the end, in one gather: its journal sync
// failure, whether it stopped, its retries, then its results.
struct RankEnd {
  Failure sync;
  bool stopped = false;
  std::int64_t retried = 0;
  std::vector<io::JournalRecord> records;
};

// What the root hands every rank at the start, in one broadcast: the work items left.
struct StartRecord {
  std::vector<std::uint64_t> remaining;
};

// What the root hands every rank at the end, in one broadcast: the summary,
// and with campaign_on_every_rank what the campaign is assembled from.
struct EndRecord {
  MeasureSummary summary;
  std::vector<io::JournalRecord> kept;
  std::map<std::string, std::string> text_attributes;
  std::map<std::string, double> number_attributes;
};

}  // namespace

// The field tables of what travels (collectives.hpp "typed records").
template <>
struct RecordFields<io::JournalRecord> {
  using R = io::JournalRecord;
  static constexpr auto fields = std::make_tuple(
      record_field("cell", &R::cell), record_field("replicate", &R::replicate), record_field("error", &R::error),
      record_field("loss", &R::loss), record_field("seconds", &R::seconds), record_field("status", &R::status),
      record_field("rank", &R::rank), record_field("attempts", &R::attempts),
      record_field("error_by_epoch", &R::error_by_epoch), record_field("loss_by_epoch", &R::loss_by_epoch));
};
template <>
struct RecordFields<MeasureSummary> {
  using R = MeasureSummary;
  static constexpr auto fields = std::make_tuple(
      record_field("planned", &R::planned), record_field("measured", &R::measured),
      record_field("diverged", &R::diverged), record_field("failed", &R::failed), record_field("missing", &R::missing),
      record_field("resumed", &R::resumed), record_field("trained", &R::trained), record_field("retried", &R::retried),
      record_field("corrupt", &R::corrupt), record_field("failed_cells", &R::failed_cells),
      record_field("interrupted", &R::interrupted));
};
template <>
struct RecordFields<RankEnd> {
  static constexpr auto fields =
      std::make_tuple(record_field("sync", &RankEnd::sync), record_field("stopped", &RankEnd::stopped),
                      record_field("retried", &RankEnd::retried), record_field("records", &RankEnd::records));
};
template <>
struct RecordFields<StartRecord> {
  static constexpr auto fields = std::make_tuple(record_field("remaining", &StartRecord::remaining));
};
template <>
struct RecordFields<EndRecord> {
  static constexpr auto fields = std::make_tuple(
      record_field("summary", &EndRecord::summary), record_field("kept", &EndRecord::kept),
      record_field("text_attributes", &EndRecord::text_attributes),
      record_field("number_attributes", &EndRecord::number_attributes));
};

io::Campaign empty_campaign(const meta::Plan& plan, int epochs) {
  io::Campaign c;
  const auto& s = plan.spec;
  io::set_task_rows(c, s.tasks);
  io::set_configurations(c, s.configs);
  for (int r = 0; r < plan.replicates(); ++r) c.replicate.push_back(r);
  for (int e = 1; e <= epochs; ++e) c.epoch.push_back(e);
  c.allocate();
  c.memory = s.memory;
  if (!s.memory_weights.empty()) c.memory_weights = s.memory_weights;
  if (!s.memory_activations.empty()) c.memory_activations = s.memory_activations;
  if (!s.memory_optimizer.empty()) c.memory_optimizer = s.memory_optimizer;
  for (std::size_t i = 0; i < plan.mask.size(); ++i) {
    c.status[i] = static_cast<std::uint8_t>(plan.mask[i] ? CellStatus::planned : CellStatus::not_planned);
    c.sampling_probability[i] = plan.probability[i];
  }
  c.text_attributes["sampling_scheme"] = label(s.scheme);
  c.text_attributes["memory_source"] = s.memory_source;
  c.text_attributes["plan_fingerprint"] = hex64(plan.fingerprint);
  c.number_attributes["sampling_ratio"] =
      s.scheme == meta::Scheme::uniform ? s.ratio
                                  : static_cast<double>(plan.order.size()) / static_cast<double>(plan.mask.size());
  if (s.scheme == meta::Scheme::nonuniform) {
    c.number_attributes["sampling_p_min"] = s.p_min;
    c.number_attributes["sampling_p_max"] = s.p_max;
  }
  c.number_attributes["seed"] = static_cast<double>(s.seed);
  c.number_attributes["planned_cells"] = static_cast<double>(plan.order.size());
  c.number_attributes["replicates"] = static_cast<double>(plan.replicates());
  return c;
}

namespace {

// Root: the results the campaign holds, one per work item: the earlier runs'
// (`done`) first, then this run's (`gathered`); a work item reported twice
// keeps its first result (with a warning).
std::vector<io::JournalRecord> kept_results(const meta::Plan& plan, const std::vector<io::JournalRecord>& done,
                                            const std::vector<io::JournalRecord>& gathered) {
  const auto R = static_cast<std::uint64_t>(plan.replicates());
  std::vector<char> taken(plan.mask.size() * R, 0);
  std::vector<io::JournalRecord> kept;
  auto keep = [&](const io::JournalRecord& rec) {
    if (rec.cell >= plan.mask.size() || rec.replicate >= R || !plan.mask[rec.cell]) return false;
    char& t = taken[rec.cell * R + rec.replicate];
    if (t) return false;
    t = static_cast<CellStatus>(rec.status) != CellStatus::planned;
    kept.push_back(rec);
    return true;
  };
  for (const auto& rec : done) keep(rec);
  for (const auto& rec : gathered)
    if (!keep(rec))
      log::warn("measure: cell ", rec.cell, " replicate ", rec.replicate,
                " was reported twice; the first result is kept");
  return kept;
}

// The campaign of `plan` holding `kept` (kept_results) with the given attributes.
io::Campaign assemble_campaign(const meta::Plan& plan, int epochs, const std::map<std::string, std::string>& text,
                               const std::map<std::string, double>& number,
                               const std::vector<io::JournalRecord>& kept) {
  const auto R = static_cast<std::uint64_t>(plan.replicates());
  io::Campaign c = empty_campaign(plan, epochs);
  for (const auto& [k, v] : text) c.text_attributes[k] = v;
  for (const auto& [k, v] : number) c.number_attributes[k] = v;
  // Every replicate's result, then each planned cell from its replicates in order 0..R-1.
  std::vector<io::ReplicateResult> results(c.status.size() * R);
  for (const auto& rec : kept)
    results[rec.cell * R + rec.replicate] = io::ReplicateResult{static_cast<CellStatus>(rec.status), rec.error,
                                                                rec.loss, rec.seconds, rec.error_by_epoch,
                                                                rec.loss_by_epoch};
  for (std::uint64_t cell : plan.order)
    io::set_cell_replicates(c, cell, std::vector<io::ReplicateResult>(results.begin() + cell * R,
                                                                      results.begin() + (cell + 1) * R));
  std::int64_t missing = 0;
  for (auto v : c.status) missing += static_cast<CellStatus>(v) == CellStatus::planned;
  c.number_attributes["complete"] = missing == 0 ? 1 : 0;
  return c;
}

// The statuses of `c` counted, and up to 3 failed cells named.
void count_statuses(const io::Campaign& c, MeasureSummary& s) {
  for (auto v : c.status) {
    switch (static_cast<CellStatus>(v)) {
      case CellStatus::measured: ++s.measured; break;
      case CellStatus::diverged: ++s.diverged; break;
      case CellStatus::failed: ++s.failed; break;
      case CellStatus::planned: ++s.missing; break;
      default: break;
    }
  }
  const std::size_t d = c.n_configs();
  for (std::size_t i = 0; i < c.status.size() && s.failed_cells.size() < 3; ++i)
    if (c.status[i] == static_cast<std::uint8_t>(CellStatus::failed))
      s.failed_cells.push_back(c.task[i / d] + " x " + c.config[i % d]);
}

// What the root found at the start: the lock, earlier runs' results, the work items left.
struct Start {
  std::unique_ptr<io::OutputLock> lock;
  std::vector<io::JournalRecord> done;
  std::vector<std::uint64_t> remaining;
  std::int64_t corrupt = 0;
};

// Root: the lock (one writer per output), then the resume rules, then what
// earlier runs of this plan finished, and what is left.
// An output that holds results but whose journal folder is gone: its cells
// exist nowhere else, so a run that did not start from it must never replace
// it (a rerun would train every cell again, and an interrupted one would
// leave fewer). Refused; with --restart moved aside like the journals.
void protect_output_without_journal(const MeasureSettings& st, const std::string& jdir) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(st.output, ec) || io::has_journals(jdir)) return;
  std::int64_t results = 0;
  try {
    for (auto s : io::read_campaign(st.output).status)
      results += s != static_cast<std::uint8_t>(CellStatus::planned) &&
                 s != static_cast<std::uint8_t>(CellStatus::not_planned);
  } catch (const Error&) {
    return;  // not a campaign of results (an input check elsewhere names it)
  }
  if (results == 0) return;
  if (st.restart) {
    const std::string moved = io::move_aside(st.output, "output");
    log::warn("measure: --restart: ", st.output, " (", results, " cells with results, no journal) was moved aside to ",
              moved, " (nothing deleted); starting over");
    return;
  }
  throw InputError(st.output + " holds " + std::to_string(results) + " cells with results but its journal folder " +
                   jdir + " is gone: this run would train them again and replace it; pass --restart to move it "
                   "aside (nothing deleted) and start over, or use another --output");
}

// Root: the work items left, most expensive first by `st.cell_cost`
// (MeasureSettings::cell_cost), equal costs in the plan's order.
std::vector<std::uint64_t> cost_order(const meta::Plan& plan, const MeasureSettings& st,
                                      const std::vector<io::JournalRecord>& done,
                                      const std::vector<std::uint64_t>& remaining) {
  const std::vector<double> cost = st.cell_cost(done);
  if (cost.size() != plan.mask.size())
    throw RuntimeError("measure: the queue's cost estimate has " + std::to_string(cost.size()) + " cells, the plan " +
                       std::to_string(plan.mask.size()));
  const auto R = static_cast<std::uint64_t>(plan.replicates());
  std::vector<double> item_cost;
  item_cost.reserve(remaining.size());
  for (std::uint64_t item : remaining) item_cost.push_back(cost[item / R]);
  return longest_first(remaining, item_cost);
}

Start start_campaign(const meta::Plan& plan, const MeasureSettings& st) {
  const std::string jdir = io::journal_dir(st.output);
  const auto R = static_cast<std::uint64_t>(plan.replicates());
  const std::vector<std::uint64_t> items = plan.work_items();
  Start out;
  const std::string why = io::check_writable(st.output);
  if (!why.empty()) throw InputError(why);
  out.lock = std::make_unique<io::OutputLock>(st.output, st.command, st.break_lock);
  protect_output_without_journal(st, jdir);
  if (st.restart && io::has_journals(jdir)) {
    const std::string moved = io::move_journals_aside(jdir);
    log::warn("measure: --restart: the journal folder ", jdir, " was moved aside to ", moved,
              " (nothing deleted); starting over");
  }
  io::JournalContents jc = io::read_journals(jdir, plan.fingerprint, plan.identity_text);
  // Per work item: 0 no record, 1 only failed records (trained again), 2 a result (kept: the
  // first measured or diverged record; a failure before or after it does not count).
  std::vector<char> have(plan.mask.size() * R, 0);
  for (const auto& rec : jc.records) {
    if (rec.cell >= plan.mask.size() || !plan.mask[rec.cell] || rec.replicate >= R) continue;
    char& h = have[rec.cell * R + rec.replicate];
    if (h == 2) continue;
    if (rec.status == static_cast<std::uint8_t>(CellStatus::failed)) {
      h = 1;
      continue;
    }
    h = 2;
    out.done.push_back(rec);
  }
  if (!jc.records.empty() && !st.resume)
    throw InputError("journal folder " + jdir + " holds " + std::to_string(jc.records.size()) +
                     " results of this plan from an earlier run: pass --resume to continue it, or --restart "
                     "to move it aside and start over");
  const auto usable = static_cast<std::int64_t>(out.done.size());
  const auto failed_before = static_cast<std::int64_t>(std::count(have.begin(), have.end(), 1));
  for (std::uint64_t item : items)
    if (have[item] != 2) out.remaining.push_back(item);
  out.corrupt = jc.corrupt;
  if (st.cell_cost) out.remaining = cost_order(plan, st, out.done, out.remaining);
  if (!out.done.empty() || failed_before > 0)
    log::info("measure: resuming from ", jdir, ": ", usable, " of ", items.size(),
              R > 1 ? " planned cell replicates" : " planned cells", " already done",
              failed_before ? ", " + std::to_string(failed_before) + " failed before (trained again)" : "",
              jc.torn ? " (a torn last record was ignored)" : "",
              jc.corrupt ? " (" + std::to_string(jc.corrupt) + " corrupt journal record(s) skipped)" : "");
  else if (st.resume)
    log::info("measure: --resume given but ", jdir, " holds no finished cell of this plan; starting fresh");
  io::write_plan_text(jdir, plan.identity_text);
  return out;
}

// Train one work item (retrying a failed one once when asked); fills `rec`.
// Returns false when the cell was abandoned (stop request: re-run on resume).
bool train_item(const meta::Plan& plan, const CellTrainer& trainer, const MeasureSettings& st, std::uint64_t item,
                io::JournalRecord& rec, std::int64_t& retried) {
  const auto R = static_cast<std::uint64_t>(plan.replicates());
  const std::size_t d = plan.n_configs();
  const std::uint64_t cell = item / R;
  CellWork w;
  w.cell = cell;
  w.task = static_cast<int>(cell / d);
  w.config = static_cast<int>(cell % d);
  w.replicate = static_cast<int>(item % R);
  w.task_row = &plan.spec.tasks[static_cast<std::size_t>(w.task)];
  w.configuration = &plan.spec.configs[static_cast<std::size_t>(w.config)];
  w.seed = plan.replicate_seed(cell, w.replicate);
  w.device = st.device;
  w.threads = st.threads;
  w.should_stop = [] { return stop_requested(); };
  const std::string name = w.task_row->name + " x " + w.configuration->label() +
                           (R > 1 ? " (replicate " + std::to_string(w.replicate) + ")" : "");
  rec.cell = cell;
  rec.replicate = static_cast<std::uint16_t>(w.replicate);
  const int attempts = st.retry_failed ? 2 : 1;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    rec.attempts = static_cast<std::uint8_t>(attempt);
    std::string why;
    try {
      const CellResult res = trainer(w);
      rec.error = res.test_error;
      rec.loss = res.final_loss;
      rec.status = static_cast<std::uint8_t>(res.status);
      rec.error_by_epoch = res.error_by_epoch;
      rec.loss_by_epoch = res.loss_by_epoch;
      if (res.status == CellStatus::failed) {
        why = res.message.empty() ? "training failed" : res.message;
      } else if (res.status != CellStatus::measured && res.status != CellStatus::diverged) {
        why = std::string("the trainer reported status '") + label(res.status) + "'";
      } else if (res.status == CellStatus::measured && !std::isfinite(res.test_error)) {
        why = "the trainer reported a non-finite error";
      }
    } catch (const Interrupted&) {
      return false;
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (why.empty()) break;
    if (attempt < attempts) {
      log::write_all(log::Level::warn, "cell " + name + " failed: " + why + "; retrying it once");
      ++retried;
      continue;
    }
    log::write_all(log::Level::warn, "cell " + name + " failed: " + why + (attempts > 1 ? " (also on the retry)" : ""));
    rec.error = std::numeric_limits<double>::quiet_NaN();
    rec.loss = std::numeric_limits<double>::quiet_NaN();
    rec.status = static_cast<std::uint8_t>(CellStatus::failed);
    rec.error_by_epoch.clear();
    rec.loss_by_epoch.clear();
  }
  return true;
}

// Every rank: train the items of `remaining` the shared queue hands this
// rank, journal each; what this rank sends the root at the end.
RankEnd train_items(const meta::Plan& plan, const CellTrainer& trainer, const MeasureSettings& st,
                    const std::vector<std::uint64_t>& remaining, std::int64_t done_before, MPI_Comm comm) {
  const int me = rank(comm);
  const auto R = static_cast<std::uint64_t>(plan.replicates());
  const std::size_t d = plan.n_configs();
  io::JournalWriter journal(io::journal_dir(st.output), me, plan.fingerprint);
  WorkQueue queue(comm, static_cast<std::int64_t>(remaining.size()));
  Progress progress("measure", static_cast<std::int64_t>(plan.work_items().size()), done_before, st.terminal,
                    st.progress_interval_s);
  if (me == 0) {
    if (R > 1)
      log::info("measure: ", plan.order.size(), " planned cells (", plan.n_tasks(), " tasks x ", d,
                " configurations) x ", R, " replicates, ", remaining.size(), " replicates to train on ", size(comm),
                " ranks");
    else
      log::info("measure: ", plan.order.size(), " planned cells (", plan.n_tasks(), " tasks x ", d,
                " configurations), ", remaining.size(), " to train on ", size(comm), " ranks");
  }
  RankEnd end;
  auto train_one = [&](std::int64_t index) {
    const auto t0 = std::chrono::steady_clock::now();
    io::JournalRecord rec;
    rec.rank = me;
    if (!train_item(plan, trainer, st, remaining[static_cast<std::size_t>(index)], rec, end.retried))
      return ItemOutcome::abandoned;  // re-run on resume
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    journal.append(rec);
    end.records.push_back(rec);
    return rec.status == static_cast<std::uint8_t>(CellStatus::failed) ? ItemOutcome::failed : ItemOutcome::done;
  };
  QueueLoopOptions loop;
  loop.progress = &progress;
  loop.done_before = done_before;
  loop.failed_before = 0;
  loop.should_stop = [] { return stop_requested(); };
  end.stopped = for_each_item(queue, train_one, loop).stopped;
  // Every record this rank wrote is durable before the campaign says so.
  try {
    journal.sync();
  } catch (const Error& e) {
    end.sync = Failure::runtime(e.what());
  }
  return end;
}

// Root: every rank's end gathered into the results; `end` receives the
// summary and (with campaign_on_every_rank) what the campaign is made of.
MeasureResults gather_results(const meta::Plan& plan, const MeasureSettings& st, const Start& start,
                              const std::vector<RankEnd>& ends, EndRecord& end) {
  MeasureResults out;
  std::vector<io::JournalRecord> gathered;
  bool stop_any = false;
  std::int64_t retried = 0;
  for (const RankEnd& e : ends) {
    if (e.sync.failed()) raise_agreed(e.sync);  // the lowest failing rank's (root_decides passes it on)
    stop_any = stop_any || e.stopped;
    retried += e.retried;
    gathered.insert(gathered.end(), e.records.begin(), e.records.end());
  }
  std::vector<io::JournalRecord> kept = kept_results(plan, start.done, gathered);
  out.campaign = assemble_campaign(plan, st.epochs, st.text_attributes, st.number_attributes, kept);
  MeasureSummary& s = end.summary;
  s.planned = static_cast<std::int64_t>(plan.order.size());
  count_statuses(out.campaign, s);
  s.resumed = static_cast<std::int64_t>(start.done.size());
  s.trained = static_cast<std::int64_t>(gathered.size());
  s.retried = retried;
  s.corrupt = start.corrupt;
  s.interrupted = stop_any;
  if (st.campaign_on_every_rank) {
    end.kept = std::move(kept);
    end.text_attributes = st.text_attributes;
    end.number_attributes = st.number_attributes;
  }
  return out;
}

}  // namespace

void check_outputs(const meta::Plan& plan, const std::string& output, MPI_Comm comm) {
  // The root decides (it writes the output and reads the journals); every rank fails alike.
  Failure f;
  if (rank(comm) == 0) {
    std::string err = io::check_writable(output);
    if (err.empty()) {
      try {
        io::read_journals(io::journal_dir(output), plan.fingerprint, plan.identity_text);
      } catch (const Error& e) {
        err = e.what();
      }
    }
    if (!err.empty()) f = Failure::input(err);
  }
  agree(f, comm);
}

MeasureResults measure(const meta::Plan& plan, const CellTrainer& trainer, const MeasureSettings& st, MPI_Comm comm) {
  const bool root = rank(comm) == 0;
  // The root decides the start (lock, resume rules, journals); one broadcast
  // carries its verdict and the items left.
  Start start;
  Failure start_failure;
  StartRecord items;
  if (root) {
    try {
      start = start_campaign(plan, st);
      items.remaining = std::move(start.remaining);
    } catch (const Error& e) {
      start_failure = Failure::of(e);
    }
  }
  root_decides_record(start_failure, items, comm);
  RankEnd mine =
      train_items(plan, trainer, st, items.remaining, static_cast<std::int64_t>(start.done.size()), comm);
  // One gather brings the root every rank's records and state; one broadcast
  // brings every rank the root's verdict and the summary.
  MeasureResults out;
  EndRecord end;
  Failure end_failure;
  try {
    const std::vector<RankEnd> ends = gather_record(mine, comm);  // decoded on the root only
    mine.records.clear();
    if (root) out = gather_results(plan, st, start, ends, end);
  } catch (const Error& e) {
    end_failure = Failure::runtime(e.what());
  }
  root_decides_record(end_failure, end, comm);
  out.summary = std::move(end.summary);
  if (root) {
    out.lock = std::move(start.lock);
  } else if (st.campaign_on_every_rank) {
    out.campaign = assemble_campaign(plan, st.epochs, end.text_attributes, end.number_attributes, end.kept);
  }
  return out;
}

}  // namespace peppp::par
