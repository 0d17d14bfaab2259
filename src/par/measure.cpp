#include "peppp/par/measure.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/netcdf.hpp"
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

void broadcast_u64(std::vector<std::uint64_t>& v, MPI_Comm comm) {
  unsigned long long n = v.size();
  PEPPP_MPI(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm));
  v.resize(static_cast<std::size_t>(n));
  if (n) PEPPP_MPI(MPI_Bcast(v.data(), static_cast<int>(n), MPI_UINT64_T, 0, comm));
}

// Root: every record of this run, from all ranks (fixed-size encoded bytes).
std::vector<io::JournalRecord> gather_records(const std::vector<io::JournalRecord>& mine, MPI_Comm comm) {
  const int r = rank(comm), p = size(comm);
  std::vector<unsigned char> bytes(mine.size() * io::kJournalRecordBytes);
  for (std::size_t i = 0; i < mine.size(); ++i) io::encode_record(mine[i], bytes.data() + i * io::kJournalRecordBytes);
  int n = static_cast<int>(bytes.size());
  std::vector<int> counts(r == 0 ? p : 0), displs(r == 0 ? p : 0);
  PEPPP_MPI(MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm));
  std::vector<unsigned char> all;
  if (r == 0) {
    int total = 0;
    for (int i = 0; i < p; ++i) {
      displs[i] = total;
      total += counts[i];
    }
    all.resize(static_cast<std::size_t>(total));
  }
  PEPPP_MPI(MPI_Gatherv(bytes.data(), n, MPI_UNSIGNED_CHAR, all.data(), counts.data(), displs.data(),
                        MPI_UNSIGNED_CHAR, 0, comm));
  std::vector<io::JournalRecord> out;
  for (std::size_t off = 0; off + io::kJournalRecordBytes <= all.size(); off += io::kJournalRecordBytes) {
    io::JournalRecord rec;
    if (!io::decode_record(all.data() + off, rec)) throw RuntimeError("gather: a cell record arrived corrupted");
    out.push_back(rec);
  }
  return out;
}

}  // namespace

io::Campaign empty_campaign(const Plan& plan) {
  io::Campaign c;
  const auto& s = plan.spec;
  for (const auto& t : s.tasks) c.task.push_back(t.name);
  for (const auto& k : s.configs) c.config.push_back(k.label);
  c.allocate();
  for (std::size_t j = 0; j < s.configs.size(); ++j) {
    c.a_exponent_bits[j] = s.configs[j].a_exponent_bits;
    c.a_mantissa_bits[j] = s.configs[j].a_mantissa_bits;
    c.b_exponent_bits[j] = s.configs[j].b_exponent_bits;
    c.b_mantissa_bits[j] = s.configs[j].b_mantissa_bits;
  }
  for (std::size_t i = 0; i < s.tasks.size(); ++i) {
    c.task_dataset[i] = s.tasks[i].dataset;
    c.task_classes[i] = s.tasks[i].classes;
    c.task_resolution[i] = s.tasks[i].resolution;
    c.task_train_size[i] = s.tasks[i].train_size;
    c.task_test_size[i] = s.tasks[i].test_size;
  }
  c.memory = s.memory;
  if (!s.memory_weights.empty()) c.memory_weights = s.memory_weights;
  if (!s.memory_activations.empty()) c.memory_activations = s.memory_activations;
  if (!s.memory_optimizer.empty()) c.memory_optimizer = s.memory_optimizer;
  for (std::size_t i = 0; i < plan.mask.size(); ++i) {
    c.status[i] = static_cast<std::uint8_t>(plan.mask[i] ? io::CellStatus::planned : io::CellStatus::not_planned);
    c.sampling_probability[i] = plan.probability[i];
  }
  c.text_attributes["sampling_scheme"] = label(s.scheme);
  c.text_attributes["memory_source"] = s.memory_source;
  c.text_attributes["plan_fingerprint"] = hex(plan.fingerprint);
  c.number_attributes["sampling_ratio"] =
      s.scheme == Scheme::uniform ? s.ratio
                                  : static_cast<double>(plan.order.size()) / static_cast<double>(plan.mask.size());
  if (s.scheme == Scheme::nonuniform) {
    c.number_attributes["sampling_p_min"] = s.p_min;
    c.number_attributes["sampling_p_max"] = s.p_max;
  }
  c.number_attributes["seed"] = static_cast<double>(s.seed);
  c.number_attributes["planned_cells"] = static_cast<double>(plan.order.size());
  return c;
}

void check_outputs(const Plan& plan, const std::string& output, MPI_Comm comm) {
  std::string err;
  if (rank(comm) == 0) {
    err = io::check_writable(output);
    if (err.empty()) {
      try {
        io::read_journals(io::journal_dir(output), plan.fingerprint);
      } catch (const Error& e) {
        err = e.what();
      }
    }
  }
  broadcast(err, comm);
  if (!err.empty()) throw InputError(err);
}

MeasureSummary measure(const Plan& plan, const CellTrainer& trainer, const MeasureSettings& st, MPI_Comm comm) {
  const int me = rank(comm), nranks = size(comm);
  const bool root = me == 0;
  const std::size_t d = plan.n_configs();
  check_outputs(plan, st.output, comm);
  const std::string jdir = io::journal_dir(st.output);

  // Root: what earlier runs of this plan finished; everyone: what is left.
  std::vector<io::JournalRecord> done;
  std::vector<std::uint64_t> remaining;
  std::int64_t done_failed = 0;
  if (root) {
    io::JournalContents jc = io::read_journals(jdir, plan.fingerprint);
    std::vector<char> have(plan.mask.size(), 0);
    for (const auto& rec : jc.records) {
      if (rec.cell >= plan.mask.size() || !plan.mask[rec.cell] || have[rec.cell]) continue;
      have[rec.cell] = 1;
      done.push_back(rec);
      if (rec.status == static_cast<std::uint8_t>(io::CellStatus::failed)) ++done_failed;
    }
    for (std::uint64_t cell : plan.order)
      if (!have[cell]) remaining.push_back(cell);
    if (!done.empty())
      log::info("measure: resuming from ", jdir, ": ", done.size(), " of ", plan.order.size(),
                " planned cells already done", jc.torn ? " (a torn last record was ignored)" : "");
    else if (st.resume)
      log::warn("measure: --resume given but ", jdir, " holds no finished cell of this plan; starting fresh");
  }
  broadcast_u64(remaining, comm);
  io::JournalWriter journal(jdir, me, plan.fingerprint);

  WorkQueue queue(comm, static_cast<std::int64_t>(remaining.size()));
  Progress progress("measure", static_cast<std::int64_t>(plan.order.size()), static_cast<std::int64_t>(done.size()),
                    st.terminal, st.progress_interval_s);
  if (root)
    log::info("measure: ", plan.order.size(), " planned cells (", plan.n_tasks(), " tasks x ", d,
              " configurations), ", remaining.size(), " to train on ", nranks, " ranks");

  std::vector<io::JournalRecord> mine;
  bool stopped = false;
  for (;;) {
    if (stop_requested()) {
      stopped = true;
      break;
    }
    const std::int64_t item = queue.next();
    if (item < 0) break;
    const std::uint64_t cell = remaining[static_cast<std::size_t>(item)];
    CellWork w;
    w.cell = cell;
    w.task = static_cast<int>(cell / d);
    w.config = static_cast<int>(cell % d);
    w.task_info = &plan.spec.tasks[static_cast<std::size_t>(w.task)];
    w.config_info = &plan.spec.configs[static_cast<std::size_t>(w.config)];
    w.seed = plan.cell_seed(cell);
    w.device = st.device;
    w.threads = st.threads;
    w.should_stop = [] { return stop_requested(); };

    const auto t0 = std::chrono::steady_clock::now();
    io::JournalRecord rec;
    rec.cell = cell;
    rec.rank = me;
    try {
      CellResult res = trainer(w);
      rec.error = res.error;
      rec.loss = res.loss;
      rec.status = static_cast<std::uint8_t>(res.status);
      if (res.status == io::CellStatus::measured && !std::isfinite(res.error)) {
        log::write_all(log::Level::warn, "cell " + w.task_info->name + " x " + w.config_info->label +
                                             ": the trainer reported a non-finite error; recorded as failed");
        rec.status = static_cast<std::uint8_t>(io::CellStatus::failed);
      }
    } catch (const Interrupted&) {
      stopped = true;  // abandoned: re-run on resume
      break;
    } catch (const std::exception& e) {
      log::write_all(log::Level::warn,
                     "cell " + w.task_info->name + " x " + w.config_info->label + " failed: " + e.what());
      rec.error = std::numeric_limits<double>::quiet_NaN();
      rec.loss = std::numeric_limits<double>::quiet_NaN();
      rec.status = static_cast<std::uint8_t>(io::CellStatus::failed);
    }
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    journal.append(rec);
    mine.push_back(rec);
    const bool failed = rec.status == static_cast<std::uint8_t>(io::CellStatus::failed);
    queue.finished(failed);
    if (root) {
      auto c = queue.counts();
      progress.update(static_cast<std::int64_t>(done.size()) + c.finished, done_failed + c.failed);
    }
  }
  // Tell every rank to stop taking cells (a signal may reach one rank only).
  if (stopped) queue.drain();

  std::vector<io::JournalRecord> gathered = gather_records(mine, comm);
  int stop_any = 0, stop_me = stopped ? 1 : 0;
  PEPPP_MPI(MPI_Allreduce(&stop_me, &stop_any, 1, MPI_INT, MPI_LOR, comm));

  std::vector<std::int64_t> sums(8, 0);
  std::string write_error;
  if (root) {
    progress.finish();
    io::Campaign c = empty_campaign(plan);
    for (const auto& [k, v] : st.text_attributes) c.text_attributes[k] = v;
    for (const auto& [k, v] : st.number_attributes) c.number_attributes[k] = v;
    auto put = [&](const io::JournalRecord& rec) {
      if (rec.cell >= c.status.size() || c.status[rec.cell] != static_cast<std::uint8_t>(io::CellStatus::planned))
        return false;
      c.status[rec.cell] = rec.status;
      c.error[rec.cell] = rec.error;
      c.final_loss[rec.cell] = rec.loss;
      c.train_seconds[rec.cell] = rec.seconds;
      return true;
    };
    for (const auto& rec : done) put(rec);
    for (const auto& rec : gathered)
      if (!put(rec)) log::warn("measure: cell ", rec.cell, " was reported twice; the first result is kept");
    MeasureSummary s;
    s.planned = static_cast<std::int64_t>(plan.order.size());
    for (auto v : c.status) {
      switch (static_cast<io::CellStatus>(v)) {
        case io::CellStatus::measured: ++s.measured; break;
        case io::CellStatus::diverged: ++s.diverged; break;
        case io::CellStatus::failed: ++s.failed; break;
        case io::CellStatus::planned: ++s.missing; break;
        default: break;
      }
    }
    c.number_attributes["complete"] = s.missing == 0 ? 1 : 0;
    try {
      io::write_campaign(st.output, c);
    } catch (const Error& e) {
      write_error = e.what();
    }
    sums = {s.planned, s.measured, s.diverged, s.failed, s.missing, static_cast<std::int64_t>(done.size()),
            static_cast<std::int64_t>(gathered.size()), 0};
  }
  broadcast(write_error, comm);
  if (!write_error.empty()) throw RuntimeError(write_error, true);
  PEPPP_MPI(MPI_Bcast(sums.data(), 8, MPI_INT64_T, 0, comm));
  MeasureSummary s;
  s.planned = sums[0];
  s.measured = sums[1];
  s.diverged = sums[2];
  s.failed = sums[3];
  s.missing = sums[4];
  s.resumed = sums[5];
  s.trained = sums[6];
  s.interrupted = stop_any != 0;
  return s;
}

}  // namespace peppp::par
