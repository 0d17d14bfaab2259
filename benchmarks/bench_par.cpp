// Measurement campaign scaling (par layer): synthetic sleeping cells of
// heterogeneous length through the real driver (queue, journals with fsync,
// gather, campaign.nc). Run under mpirun at 1..32 ranks
// (benchmarks/run_par_scaling.sh); every rank runs the same fixed
// iterations, times are the MAX over ranks.
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/par/measure.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/synthetic.hpp"
#include "peppp/par/work_queue.hpp"

namespace {

// cells_per_rank / 8 tasks per rank, 8 configurations each.
peppp::meta::Plan scaling_plan(int ranks, int cells_per_rank) {
  peppp::meta::PlanSpec s;
  std::vector<std::string> names;
  for (int t = 0; t < ranks * cells_per_rank / 8; ++t) names.push_back("t" + std::to_string(t));
  s.tasks = peppp::par::synthetic_tasks(names);
  for (int ae : {3, 4, 5, 6})
    for (int be : {6, 8}) {
      s.configs.push_back({peppp::FloatFormat(ae, 2), peppp::FloatFormat(be, 7)});
    }
  peppp::par::synthetic_memory(s);
  s.identity = "bench_par";
  return peppp::meta::make_plan(s);
}

// One measure() run of `plan` with cells sleeping `seconds(cell)`: makespan
// (MAX over ranks, barrier to written file) and each rank's busy time (the
// sum of its cells' wall times), from which the tail imbalance (busiest rank
// against the mean) and the coordination overhead (makespan beyond the
// busiest rank: queue, journal fsync, gather, write) follow.
struct CampaignRun {
  double makespan = 0, busy_max = 0, busy_mean = 0;
};
CampaignRun run_campaign(const peppp::meta::Plan& plan, const std::function<double(std::uint64_t)>& seconds,
                         MPI_Comm comm, const std::vector<double>* cost = nullptr) {
  const std::string dir = "bench_par_scratch";
  peppp::par::MeasureSettings st;
  st.output = dir + "/campaign.nc";
  // Cost order (peppp measure's default): the most expensive cells first by `cost`; else the plan's order.
  if (cost) st.cell_cost = [cost](const std::vector<peppp::io::JournalRecord>&) { return *cost; };
  if (peppp::par::rank(comm) == 0) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  double busy = 0;
  auto trainer = [&](const peppp::par::CellWork& w) {
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds(w.cell)));
    busy += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    peppp::CellResult r;
    r.status = peppp::CellStatus::measured;
    r.test_error = 0.5;
    r.final_loss = 1.0;
    return r;
  };
  MPI_Barrier(comm);
  const double t0 = MPI_Wtime();
  peppp::par::measure(plan, trainer, st, comm);
  const double dt = MPI_Wtime() - t0;
  CampaignRun r;
  MPI_Allreduce(&dt, &r.makespan, 1, MPI_DOUBLE, MPI_MAX, comm);
  MPI_Allreduce(&busy, &r.busy_max, 1, MPI_DOUBLE, MPI_MAX, comm);
  MPI_Allreduce(&busy, &r.busy_mean, 1, MPI_DOUBLE, MPI_SUM, comm);
  r.busy_mean /= peppp::par::size(comm);
  if (peppp::par::rank(comm) == 0) std::filesystem::remove_all(dir);
  return r;
}

void report(benchmark::State& state, const peppp::meta::Plan& plan, const CampaignRun& r, double total,
            double longest) {
  const int ranks = peppp::par::size(MPI_COMM_WORLD);
  const double ideal = std::max(total / ranks, longest);
  const double cells = static_cast<double>(plan.order.size());
  state.counters["ranks"] = ranks;
  state.counters["cells"] = cells;
  state.counters["makespan_s"] = r.makespan;
  state.counters["ideal_s"] = ideal;
  state.counters["efficiency"] = ideal / r.makespan;
  // Everything beyond the sleeping: queue, journal fsync, tail imbalance, gather, write.
  state.counters["overhead_per_cell_ms"] = (r.makespan * ranks - total) / cells * 1000.0;
  // Split of the loss: the tail (busiest rank beyond the mean, ranks idle at
  // the end) and coordination (makespan beyond the busiest rank's sleeping).
  state.counters["tail_s"] = r.busy_max - r.busy_mean;
  state.counters["coordination_s"] = r.makespan - r.busy_max;
  // The sleeps themselves overshoot (timer slack, oversubscribed wake-ups):
  // busy time per rank beyond the requested cell time.
  state.counters["sleep_overshoot_per_cell_ms"] = (r.busy_mean * ranks - total) / cells * 1000.0;
}

// Args: mean cell time in ms (cells vary uniformly by +-50%), cells per rank.
void BM_CampaignScaling(benchmark::State& state) {
  peppp::log::set_level(peppp::log::Level::warn);
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int ranks = peppp::par::size(comm);
  const peppp::meta::Plan plan = scaling_plan(ranks, static_cast<int>(state.range(1)));
  peppp::par::SyntheticSpec syn;
  syn.seconds = static_cast<double>(state.range(0)) / 1000.0;
  syn.spread = 0.5;
  double total = 0, longest = 0;
  for (auto cell : plan.order) {
    const double t = peppp::par::synthetic_seconds(syn, plan.cell_seed(cell));
    total += t;
    longest = std::max(longest, t);
  }
  // Untimed warm-up: a campaign of 1 ms cells opens the connections every
  // later run uses (Open MPI's TCP transport connects pairs lazily, on the
  // first message: seconds at 64 ranks on a loaded machine, once per job).
  const peppp::meta::Plan warm = scaling_plan(ranks, 8);
  run_campaign(warm, [](std::uint64_t) { return 0.001; }, comm);
  CampaignRun r;
  for (auto _ : state) {
    r = run_campaign(plan, [&](std::uint64_t cell) { return peppp::par::synthetic_seconds(syn, plan.cell_seed(cell)); },
                     comm);
    state.SetIterationTime(r.makespan);
  }
  report(state, plan, r, total, longest);
}
BENCHMARK(BM_CampaignScaling)->Args({200, 16})->Args({200, 64})->Args({10, 16})->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// The plan's order against the tail: cell time proportional to the plan's
// cost estimate (memory; mean 0.2 s at arg 200), queued in the plan's order
// (by task, most expensive first: order 0) or reversed (cheapest first, the
// most expensive cells last: order 1). Args: mean ms, cells per rank, order.
void BM_CampaignOrder(benchmark::State& state) {
  peppp::log::set_level(peppp::log::Level::warn);
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int ranks = peppp::par::size(comm);
  peppp::meta::Plan plan = scaling_plan(ranks, static_cast<int>(state.range(1)));
  if (state.range(2) == 1) std::reverse(plan.order.begin(), plan.order.end());
  double mean_memory = 0;
  for (auto cell : plan.order) mean_memory += plan.spec.memory[cell];
  mean_memory /= static_cast<double>(plan.order.size());
  const double mean_s = static_cast<double>(state.range(0)) / 1000.0;
  auto seconds = [&](std::uint64_t cell) { return mean_s * plan.spec.memory[cell] / mean_memory; };
  double total = 0, longest = 0;
  for (auto cell : plan.order) {
    total += seconds(cell);
    longest = std::max(longest, seconds(cell));
  }
  CampaignRun r;
  for (auto _ : state) {
    r = run_campaign(plan, seconds, comm);
    state.SetIterationTime(r.makespan);
  }
  report(state, plan, r, total, longest);
  state.counters["shortest_over_longest"] = [&] {
    double lo = longest;
    for (auto cell : plan.order) lo = std::min(lo, seconds(cell));
    return lo / longest;
  }();
}
BENCHMARK(BM_CampaignOrder)->Args({200, 16, 0})->Args({200, 16, 1})->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// A mixed-cost campaign (issue 32): rows are tasks x {small-cnn, vit-tiny}
// (task-major, as campaign.models makes them), 70 % of the tasks at 14 px,
// then 30 % at 28 px (the reference catalog's order), 8 configurations. A
// cell's time is drawn from the measured cells of
// inputs/reference/fashion-small-cnn.nc: a reference row of the task's
// resolution, one of its cells (hashed from the cell's seed), vit-tiny's
// scaled by its activations over small-cnn's (nn::model_counts), all scaled
// to a mean of arg 0 ms. The cost order knows only each row's estimate
// (activations x images: stage::cost_estimate's formula); the calibrated
// order each row's median measured time (its reference row's, scaled:
// stage::calibrate_costs with run.cost_reference naming the row, or a
// resumed campaign). The three orders run in the same job, in turn (the
// first rotating), arg 2 rounds each; counters per order: the median, min
// and max efficiency over the rounds.
double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

struct MixedCells {
  std::vector<double> seconds, estimate, calibrated;  // per cell of the plan (n·d)
};

MixedCells mixed_cells(const peppp::meta::Plan& plan, double mean_s, MPI_Comm comm) {
  MixedCells m;
  if (peppp::par::rank(comm) == 0) {
    const peppp::io::Campaign ref = peppp::io::read_campaign(PEPPP_REFERENCE_NC);
    std::map<int, std::vector<std::size_t>> rows;  // resolution -> reference rows
    for (std::size_t t = 0; t < ref.task.size(); ++t) rows[ref.task_resolution[t]].push_back(t);
    const std::size_t rd = ref.config.size(), d = plan.n_configs(), n = plan.n_tasks();
    const std::size_t tasks = n / 2, n14 = (tasks * 7 + 5) / 10;
    for (std::size_t r = 0; r < n; ++r) {
      const std::size_t task = r / 2;
      const int res = task < n14 ? 14 : 28;
      const std::string model = r % 2 ? "vit-tiny" : "small-cnn";
      const std::size_t row = rows.at(res)[peppp::mix64(task) % rows.at(res).size()];
      const double act = static_cast<double>(peppp::nn::model_counts(model, 10, 1, res).activations);
      const double base = static_cast<double>(peppp::nn::model_counts("small-cnn", 10, 1, res).activations);
      const double images = ref.task_train_size[row];
      std::vector<double> measured;
      for (std::size_t j = 0; j < rd; ++j)
        if (ref.train_seconds[row * rd + j] > 0) measured.push_back(ref.train_seconds[row * rd + j]);
      const double row_median = median_of(measured) * act / base;
      for (std::size_t c = 0; c < d; ++c) {
        const std::uint64_t seed = plan.cell_seed(r * d + c);
        double t = std::nan("");
        for (std::uint64_t k = 0; !(t > 0); ++k) t = ref.train_seconds[row * rd + peppp::mix64(seed + k) % rd];
        m.seconds.push_back(t * act / base);
        m.estimate.push_back(act * images);
        m.calibrated.push_back(row_median);
      }
    }
    double mean = 0;
    for (double t : m.seconds) mean += t / static_cast<double>(m.seconds.size());
    for (double& t : m.seconds) t *= mean_s / mean;
  }
  peppp::par::broadcast(m.seconds, comm);
  peppp::par::broadcast(m.estimate, comm);
  peppp::par::broadcast(m.calibrated, comm);
  return m;
}

// Args: mean cell ms, cells per rank, rounds.
void BM_CampaignMixed(benchmark::State& state) {
  peppp::log::set_level(peppp::log::Level::warn);
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int ranks = peppp::par::size(comm);
  const peppp::meta::Plan plan = scaling_plan(ranks, static_cast<int>(state.range(1)));
  const MixedCells m = mixed_cells(plan, static_cast<double>(state.range(0)) / 1000.0, comm);
  auto seconds = [&](std::uint64_t cell) { return m.seconds[cell]; };
  double total = 0, longest = 0;
  for (auto cell : plan.order) {
    total += m.seconds[cell];
    longest = std::max(longest, m.seconds[cell]);
  }
  const peppp::meta::Plan warm = scaling_plan(ranks, 8);
  run_campaign(warm, [](std::uint64_t) { return 0.001; }, comm);
  std::vector<double> eff[3], tail[3];
  const std::vector<double>* costs[3] = {nullptr, &m.estimate, &m.calibrated};
  CampaignRun last;
  for (auto _ : state) {
    for (int round = 0; round < state.range(2); ++round)
      for (int k = 0; k < 3; ++k) {
        const int order = (round + k) % 3;  // which goes first rotates
        const CampaignRun r = run_campaign(plan, seconds, comm, costs[order]);
        eff[order].push_back(std::max(total / ranks, longest) / r.makespan);
        tail[order].push_back(r.busy_max - r.busy_mean);
        last = r;
      }
    state.SetIterationTime(last.makespan);
  }
  report(state, plan, last, total, longest);
  for (int order = 0; order < 3; ++order) {
    const std::string name = order == 0 ? "plan" : order == 1 ? "cost" : "calibrated";
    state.counters["efficiency_" + name] = median_of(eff[order]);
    state.counters["efficiency_" + name + "_min"] = *std::min_element(eff[order].begin(), eff[order].end());
    state.counters["efficiency_" + name + "_max"] = *std::max_element(eff[order].begin(), eff[order].end());
    state.counters["tail_" + name + "_s"] = median_of(tail[order]);
  }
  state.counters["rounds"] = static_cast<double>(state.range(2));
  state.counters["longest_s"] = longest;
}
BENCHMARK(BM_CampaignMixed)->Args({200, 16, 3})->Args({1000, 32, 2})->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// One journal record appended and fsync'd while every rank appends to its
// own file in the same folder (the per-cell cost of "a finished cell is
// never lost"; the folder is on the shared file system in the multinode runs).
// One journal record per cell, as a rank appends it in measure(): with the
// background fsync (arg 1 = 1, measure's default) append returns once the
// record is written and the fsync overlaps what follows; with arg 1 = 0 every
// append fsyncs itself. `append_fsync_ms` is the time on the rank's path per
// record (what a cell waits for), `sync_ms` the final wait for the last fsync.
void BM_JournalAppend(benchmark::State& state) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const std::string dir = "bench_par_journal";
  if (peppp::par::rank(comm) == 0) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  MPI_Barrier(comm);
  const int n = static_cast<int>(state.range(0));
  const bool background = state.range(1) != 0;
  double per_record_ms = 0, sync_ms = 0, fsyncs = 0;
  for (auto _ : state) {
    peppp::io::JournalWriter j(dir, peppp::par::rank(comm), 42, background);
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    for (int i = 0; i < n; ++i) {
      peppp::io::JournalRecord rec;
      rec.cell = static_cast<std::uint64_t>(peppp::par::rank(comm)) * n + i;
      rec.rank = peppp::par::rank(comm);
      rec.error = 0.5;
      j.append(rec);
    }
    const double dt = MPI_Wtime() - t0;
    j.sync();
    const double ds = MPI_Wtime() - t0 - dt;
    double sum[3] = {dt, ds, static_cast<double>(j.fsyncs())}, total[3] = {0, 0, 0};
    MPI_Allreduce(sum, total, 3, MPI_DOUBLE, MPI_SUM, comm);
    per_record_ms = total[0] / peppp::par::size(comm) / n * 1000.0;
    sync_ms = total[1] / peppp::par::size(comm) * 1000.0;
    fsyncs = total[2] / peppp::par::size(comm);
    state.SetIterationTime(dt);
  }
  MPI_Barrier(comm);
  if (peppp::par::rank(comm) == 0) std::filesystem::remove_all(dir);
  state.counters["ranks"] = peppp::par::size(comm);
  state.counters["append_fsync_ms"] = per_record_ms;
  state.counters["sync_ms"] = sync_ms;
  state.counters["fsyncs_per_rank"] = fsyncs;
}
BENCHMARK(BM_JournalAppend)->Args({50, 1})->Args({50, 0})->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// The end-of-campaign gather of every rank's records to rank 0 (48 bytes per
// cell; args: cells per rank), as measure() does it.
void BM_GatherRecords(benchmark::State& state) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const std::vector<unsigned char> mine(static_cast<std::size_t>(state.range(0)) * peppp::io::kJournalRecordBytes, 7);
  double ms = 0;
  for (auto _ : state) {
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    const auto all = peppp::par::gatherv(mine, comm);
    benchmark::DoNotOptimize(all.data());
    double dt = MPI_Wtime() - t0, max_dt = 0;
    MPI_Allreduce(&dt, &max_dt, 1, MPI_DOUBLE, MPI_MAX, comm);
    ms = max_dt * 1000.0;
    state.SetIterationTime(max_dt);
  }
  state.counters["ranks"] = peppp::par::size(comm);
  state.counters["gather_ms"] = ms;
}
BENCHMARK(BM_GatherRecords)->Arg(16)->Arg(270)->Iterations(5)->UseManualTime()->Unit(benchmark::kMillisecond);

// Cost of taking one item from the shared queue while every rank hammers it.
void BM_QueueNext(benchmark::State& state) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const std::int64_t items = state.range(0);
  double per_item_us = 0;
  bool messages = false;
  for (auto _ : state) {
    peppp::par::WorkQueue q(comm, items);
    messages = q.kind() == peppp::par::WorkQueue::Kind::messages;
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    std::int64_t taken = 0;
    while (q.next() >= 0) ++taken;
    double dt = MPI_Wtime() - t0, max_dt = 0;
    MPI_Allreduce(&dt, &max_dt, 1, MPI_DOUBLE, MPI_MAX, comm);
    state.SetIterationTime(max_dt);
    // Per fetch as one rank sees it: its time over the fetches it made.
    double mine = dt / static_cast<double>(taken + 1) * 1e6, avg = 0;
    MPI_Allreduce(&mine, &avg, 1, MPI_DOUBLE, MPI_SUM, comm);
    per_item_us = avg / peppp::par::size(comm);
  }
  state.counters["ranks"] = peppp::par::size(comm);
  state.counters["fetch_us"] = per_item_us;
  state.counters["messages_queue"] = messages ? 1 : 0;  // 1: the fallback (no one-sided atomics)
  state.SetItemsProcessed(state.iterations() * items);
}
BENCHMARK(BM_QueueNext)->Arg(20000)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
