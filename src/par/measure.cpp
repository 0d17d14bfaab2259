#include "peppp/par/measure.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
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

// The few values that travel in one message at the start and at the end of
// a campaign (every collective costs milliseconds at 64 oversubscribed
// ranks, so the start is one broadcast and the end one gather and one
// broadcast): int64s and length-prefixed strings, in host byte order
// (homogeneous clusters, like the journal).
void put(std::string& s, std::int64_t v) { s.append(reinterpret_cast<const char*>(&v), sizeof v); }
void put(std::string& s, const std::string& t) {
  put(s, static_cast<std::int64_t>(t.size()));
  s += t;
}
struct Reader {
  const std::string& s;
  std::size_t at = 0;
  void need(std::size_t n) const {
    if (n > s.size() - at) throw RuntimeError("measure: a coordination message arrived truncated");
  }
  std::int64_t i64() {
    need(sizeof(std::int64_t));
    std::int64_t v = 0;
    std::memcpy(&v, s.data() + at, sizeof v);
    at += sizeof v;
    return v;
  }
  std::string str() {
    const auto n = static_cast<std::size_t>(i64());
    need(n);
    std::string t = s.substr(at, n);
    at += n;
    return t;
  }
  std::string rest() {
    std::string t = s.substr(at);
    at = s.size();
    return t;
  }
};

// What each rank sends rank 0 at the end, in one gather: its journal sync
// failure, whether it stopped, its retries, then its records (journal
// entries: epoch and cell records).
struct RankEnd {
  Failure sync;
  bool stopped = false;
  std::int64_t retried = 0;
  std::vector<io::JournalRecord> records;
};

std::string encode_rank_end(const RankEnd& e) {
  std::string b;
  put(b, static_cast<std::int64_t>(e.sync.code));
  put(b, e.sync.message);
  put(b, e.stopped ? 1 : 0);
  put(b, e.retried);
  for (const auto& r : e.records) b += io::encode_entry(r);
  return b;
}

RankEnd decode_rank_end(const std::string& b) {
  Reader in{b};
  RankEnd e;
  e.sync.code = static_cast<ExitCode>(in.i64());
  e.sync.message = in.str();
  e.stopped = in.i64() != 0;
  e.retried = in.i64();
  const std::string bytes = in.rest();
  int corrupt = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t end = io::decode_records(p, bytes.size(), &e.records, &corrupt);
  if (corrupt != 0 || end != bytes.size()) throw RuntimeError("gather: a cell record arrived corrupted");
  return e;
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

// Root: the campaign from the earlier runs' records (`done`) and this run's
// (`gathered`), written to st.output; returns the packed summary that
// measure() broadcasts (see the Reader calls there).
std::string write_results(const meta::Plan& plan, const MeasureSettings& st, const std::vector<io::JournalRecord>& done,
                          const std::vector<io::JournalRecord>& gathered, bool stop_any, std::int64_t retried,
                          std::int64_t corrupt) {
  const std::size_t d = plan.n_configs();
  const auto R = static_cast<std::uint64_t>(plan.replicates());
  io::Campaign c = empty_campaign(plan, st.epochs);
  for (const auto& [k, v] : st.text_attributes) c.text_attributes[k] = v;
  for (const auto& [k, v] : st.number_attributes) c.number_attributes[k] = v;
  // Every replicate's result, then each planned cell from its replicates in order 0..R-1.
  std::vector<io::ReplicateResult> results(c.status.size() * R);
  auto put_result = [&](const io::JournalRecord& rec) {
    if (rec.cell >= c.status.size() || rec.replicate >= R ||
        c.status[rec.cell] != static_cast<std::uint8_t>(CellStatus::planned))
      return false;
    io::ReplicateResult& x = results[rec.cell * R + rec.replicate];
    if (x.status != CellStatus::planned) return false;
    x = io::ReplicateResult{static_cast<CellStatus>(rec.status), rec.error, rec.loss, rec.seconds,
                            rec.error_by_epoch, rec.loss_by_epoch};
    return true;
  };
  for (const auto& rec : done) put_result(rec);
  for (const auto& rec : gathered)
    if (!put_result(rec))
      log::warn("measure: cell ", rec.cell, " replicate ", rec.replicate,
                " was reported twice; the first result is kept");
  for (std::uint64_t cell : plan.order)
    io::set_cell_replicates(c, cell, std::vector<io::ReplicateResult>(results.begin() + cell * R,
                                                                      results.begin() + (cell + 1) * R));
  std::int64_t measured = 0, diverged = 0, failed = 0, missing = 0;
  for (auto v : c.status) {
    switch (static_cast<CellStatus>(v)) {
      case CellStatus::measured: ++measured; break;
      case CellStatus::diverged: ++diverged; break;
      case CellStatus::failed: ++failed; break;
      case CellStatus::planned: ++missing; break;
      default: break;
    }
  }
  std::vector<std::string> failed_cells;
  for (std::size_t i = 0; i < c.status.size() && failed_cells.size() < 3; ++i)
    if (c.status[i] == static_cast<std::uint8_t>(CellStatus::failed))
      failed_cells.push_back(c.task[i / d] + " x " + c.config[i % d]);
  c.number_attributes["complete"] = missing == 0 ? 1 : 0;
  io::write_campaign(st.output, c);

  std::string out;
  for (std::int64_t v : {static_cast<std::int64_t>(plan.order.size()), measured, diverged, failed, missing,
                         static_cast<std::int64_t>(done.size()), static_cast<std::int64_t>(gathered.size()), retried,
                         corrupt, std::int64_t{stop_any ? 1 : 0}, static_cast<std::int64_t>(failed_cells.size())})
    put(out, v);
  for (const auto& f : failed_cells) put(out, f);
  return out;
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
  // Root decides; one broadcast carries its verdict and the items left.
  Failure start_failure;
  auto start = [&] {
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
  };
  std::string wire;
  if (root) {
    try {
      start();
    } catch (const Error& e) {
      start_failure = Failure::of(e);
    }
    for (std::uint64_t item : remaining) put(wire, static_cast<std::int64_t>(item));
  }
  root_decides(start_failure, wire, comm);
  if (!root) {
    Reader in{wire};
    remaining.resize(wire.size() / sizeof(std::int64_t));
    for (auto& item : remaining) item = static_cast<std::uint64_t>(in.i64());
  }
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
  RankEnd mine_end;
  try {
    journal.sync();
  } catch (const Error& e) {
    mine_end.sync = Failure::runtime(e.what());
  }
  mine_end.stopped = ran.stopped;
  mine_end.retried = retried_here;
  mine_end.records = std::move(mine);
  // One gather brings rank 0 every rank's records and state; one broadcast
  // brings every rank rank 0's verdict and the summary.
  const std::vector<std::string> ends = gather(encode_rank_end(mine_end), comm);
  mine_end.records.clear();

  Failure end_failure;
  std::string summary;
  if (root) {
    try {
      std::vector<io::JournalRecord> gathered;
      bool stop_any = false;
      std::int64_t retried = 0;
      for (const std::string& part : ends) {
        RankEnd e = decode_rank_end(part);
        if (e.sync.failed() && !end_failure.failed()) end_failure = e.sync;  // the lowest failing rank's
        stop_any = stop_any || e.stopped;
        retried += e.retried;
        gathered.insert(gathered.end(), e.records.begin(), e.records.end());
      }
      if (!end_failure.failed()) summary = write_results(plan, st, done, gathered, stop_any, retried, corrupt);
    } catch (const Error& e) {
      end_failure = Failure::runtime(e.what());
    }
  }
  root_decides(end_failure, summary, comm);
  Reader in{summary};
  MeasureSummary s;
  s.planned = in.i64();
  s.measured = in.i64();
  s.diverged = in.i64();
  s.failed = in.i64();
  s.missing = in.i64();
  s.resumed = in.i64();
  s.trained = in.i64();
  s.retried = in.i64();
  s.corrupt = in.i64();
  s.interrupted = in.i64() != 0;
  for (std::int64_t n = in.i64(); n > 0; --n) s.failed_cells.push_back(in.str());
  return s;
}

}  // namespace peppp::par
