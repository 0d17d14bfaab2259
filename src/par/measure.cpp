#include "peppp/par/measure.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
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

std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Root: every record of this run, from all ranks (journal entries: epoch and cell records).
std::vector<io::JournalRecord> gather_records(const std::vector<io::JournalRecord>& mine, MPI_Comm comm) {
  std::string bytes;
  for (const auto& r : mine) bytes += io::encode_entry(r);
  const std::vector<unsigned char> all =
      gatherv(std::vector<unsigned char>(bytes.begin(), bytes.end()), comm);
  std::vector<io::JournalRecord> out;
  int corrupt = 0;
  const std::size_t end = io::decode_records(all.data(), all.size(), &out, &corrupt);
  if (corrupt != 0 || end != all.size()) throw RuntimeError("gather: a cell record arrived corrupted");
  return out;
}

}  // namespace

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
  c.text_attributes["plan_fingerprint"] = hex(plan.fingerprint);
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

MeasureSummary measure(const meta::Plan& plan, const CellTrainer& trainer, const MeasureSettings& st, MPI_Comm comm) {
  const int me = rank(comm), nranks = size(comm);
  const bool root = me == 0;
  const std::size_t d = plan.n_configs();
  const std::string jdir = io::journal_dir(st.output);

  // Root: the lock (one writer per output), then the resume rules, then what
  // earlier runs of this plan finished; everyone: what is left.
  const auto R = static_cast<std::uint64_t>(plan.replicates());
  const std::vector<std::uint64_t> items = plan.work_items();
  std::unique_ptr<io::OutputLock> lock;
  std::vector<io::JournalRecord> done;
  std::vector<std::uint64_t> remaining;
  std::int64_t corrupt = 0;
  agreed(
      [&] {
        if (!root) return;
        const std::string why = io::check_writable(st.output);
        if (!why.empty()) throw InputError(why);
        lock = std::make_unique<io::OutputLock>(st.output, st.command, st.break_lock);
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
          done.push_back(rec);
        }
        if (!jc.records.empty() && !st.resume)
          throw InputError("journal folder " + jdir + " holds " + std::to_string(jc.records.size()) +
                           " results of this plan from an earlier run: pass --resume to continue it, or --restart "
                           "to move it aside and start over");
        const auto usable = static_cast<std::int64_t>(done.size());
        const auto failed_before = static_cast<std::int64_t>(std::count(have.begin(), have.end(), 1));
        for (std::uint64_t item : items)
          if (have[item] != 2) remaining.push_back(item);
        corrupt = jc.corrupt;
        if (!done.empty() || failed_before > 0)
          log::info("measure: resuming from ", jdir, ": ", usable, " of ", items.size(),
                    R > 1 ? " planned cell replicates" : " planned cells", " already done",
                    failed_before ? ", " + std::to_string(failed_before) + " failed before (trained again)" : "",
                    jc.torn ? " (a torn last record was ignored)" : "",
                    jc.corrupt ? " (" + std::to_string(jc.corrupt) + " corrupt journal record(s) skipped)" : "");
        else if (st.resume)
          log::info("measure: --resume given but ", jdir, " holds no finished cell of this plan; starting fresh");
        io::write_plan_text(jdir, plan.identity_text);
      },
      comm);
  broadcast(remaining, comm);
  io::JournalWriter journal(jdir, me, plan.fingerprint);

  WorkQueue queue(comm, static_cast<std::int64_t>(remaining.size()));
  Progress progress("measure", static_cast<std::int64_t>(items.size()), static_cast<std::int64_t>(done.size()),
                    st.terminal, st.progress_interval_s);
  if (root) {
    if (R > 1)
      log::info("measure: ", plan.order.size(), " planned cells (", plan.n_tasks(), " tasks x ", d,
                " configurations) x ", R, " replicates, ", remaining.size(), " replicates to train on ", nranks,
                " ranks");
    else
      log::info("measure: ", plan.order.size(), " planned cells (", plan.n_tasks(), " tasks x ", d,
                " configurations), ", remaining.size(), " to train on ", nranks, " ranks");
  }

  std::vector<io::JournalRecord> mine;
  std::int64_t retried_here = 0;
  auto train_one = [&](std::int64_t index) {
    const std::uint64_t item = remaining[static_cast<std::size_t>(index)];
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

    const auto t0 = std::chrono::steady_clock::now();
    io::JournalRecord rec;
    rec.cell = cell;
    rec.replicate = static_cast<std::uint16_t>(w.replicate);
    rec.rank = me;
    auto failed = [&](const std::string& why) {
      log::write_all(log::Level::warn, "cell " + name + " failed: " + why);
      rec.error = std::numeric_limits<double>::quiet_NaN();
      rec.loss = std::numeric_limits<double>::quiet_NaN();
      rec.status = static_cast<std::uint8_t>(CellStatus::failed);
      rec.error_by_epoch.clear();
      rec.loss_by_epoch.clear();
    };
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
        return ItemOutcome::abandoned;  // re-run on resume
      } catch (const std::exception& e) {
        why = e.what();
      }
      if (why.empty()) break;
      if (attempt < attempts) {
        log::write_all(log::Level::warn, "cell " + name + " failed: " + why + "; retrying it once");
        ++retried_here;
        continue;
      }
      failed(why + (attempts > 1 ? " (also on the retry)" : ""));
    }
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    journal.append(rec);
    mine.push_back(rec);
    return rec.status == static_cast<std::uint8_t>(CellStatus::failed) ? ItemOutcome::failed : ItemOutcome::done;
  };
  QueueLoopOptions loop;
  loop.progress = &progress;
  loop.done_before = static_cast<std::int64_t>(done.size());
  loop.failed_before = 0;
  loop.should_stop = [] { return stop_requested(); };
  const QueueLoopResult ran = for_each_item(queue, train_one, loop);

  // Every record this rank wrote is durable before the campaign file says so.
  Failure sync_failure;
  try {
    journal.sync();
  } catch (const Error& e) {
    sync_failure = Failure::runtime(e.what());
  }
  agree(sync_failure, comm);
  std::vector<io::JournalRecord> gathered = gather_records(mine, comm);
  const bool stop_any = any_true(ran.stopped, comm);

  const std::int64_t retried = sum(retried_here, comm);
  std::vector<std::int64_t> sums(8, 0);
  std::vector<std::string> failed_cells;
  Failure write_failure;
  if (root) {
    io::Campaign c = empty_campaign(plan, st.epochs);
    for (const auto& [k, v] : st.text_attributes) c.text_attributes[k] = v;
    for (const auto& [k, v] : st.number_attributes) c.number_attributes[k] = v;
    // Every replicate's result, then each planned cell from its replicates in order 0..R-1.
    std::vector<io::ReplicateResult> results(c.status.size() * R);
    auto put = [&](const io::JournalRecord& rec) {
      if (rec.cell >= c.status.size() || rec.replicate >= R ||
          c.status[rec.cell] != static_cast<std::uint8_t>(CellStatus::planned))
        return false;
      io::ReplicateResult& x = results[rec.cell * R + rec.replicate];
      if (x.status != CellStatus::planned) return false;
      x = io::ReplicateResult{static_cast<CellStatus>(rec.status), rec.error, rec.loss, rec.seconds,
                              rec.error_by_epoch, rec.loss_by_epoch};
      return true;
    };
    for (const auto& rec : done) put(rec);
    for (const auto& rec : gathered)
      if (!put(rec))
        log::warn("measure: cell ", rec.cell, " replicate ", rec.replicate,
                  " was reported twice; the first result is kept");
    for (std::uint64_t cell : plan.order)
      io::set_cell_replicates(c, cell, std::vector<io::ReplicateResult>(results.begin() + cell * R,
                                                                        results.begin() + (cell + 1) * R));
    MeasureSummary s;
    s.planned = static_cast<std::int64_t>(plan.order.size());
    for (auto v : c.status) {
      switch (static_cast<CellStatus>(v)) {
        case CellStatus::measured: ++s.measured; break;
        case CellStatus::diverged: ++s.diverged; break;
        case CellStatus::failed: ++s.failed; break;
        case CellStatus::planned: ++s.missing; break;
        default: break;
      }
    }
    for (std::size_t i = 0; i < c.status.size() && failed_cells.size() < 3; ++i)
      if (c.status[i] == static_cast<std::uint8_t>(CellStatus::failed))
        failed_cells.push_back(c.task[i / d] + " x " + c.config[i % d]);
    c.number_attributes["complete"] = s.missing == 0 ? 1 : 0;
    try {
      io::write_campaign(st.output, c);
    } catch (const Error& e) {
      write_failure = Failure::runtime(e.what());
    }
    sums = {s.planned, s.measured, s.diverged, s.failed, s.missing, static_cast<std::int64_t>(done.size()),
            static_cast<std::int64_t>(gathered.size()), 0};
  }
  agree(write_failure, comm);
  broadcast(sums, comm);
  broadcast(failed_cells, comm);
  broadcast(corrupt, comm);
  MeasureSummary s;
  s.planned = sums[0];
  s.measured = sums[1];
  s.diverged = sums[2];
  s.failed = sums[3];
  s.missing = sums[4];
  s.resumed = sums[5];
  s.trained = sums[6];
  s.retried = retried;
  s.corrupt = corrupt;
  s.failed_cells = failed_cells;
  s.interrupted = stop_any;
  return s;
}

}  // namespace peppp::par
