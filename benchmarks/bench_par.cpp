// Measurement campaign scaling (par layer): synthetic sleeping cells of
// heterogeneous length through the real driver (queue, journals with fsync,
// gather, campaign.nc). Run under mpirun at 1..32 ranks
// (benchmarks/run_par_scaling.sh); every rank runs the same fixed
// iterations, times are the MAX over ranks.
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "peppp/core/log.hpp"
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
  const double ideal = std::max(total / ranks, longest);
  const std::string dir = "bench_par_scratch";
  peppp::par::MeasureSettings st;
  st.output = dir + "/campaign.nc";
  double makespan = 0;
  for (auto _ : state) {
    if (peppp::par::rank(comm) == 0) {
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
    }
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    peppp::par::measure(plan, peppp::par::synthetic_trainer(syn), st, comm);
    double dt = MPI_Wtime() - t0, max_dt = 0;
    MPI_Allreduce(&dt, &max_dt, 1, MPI_DOUBLE, MPI_MAX, comm);
    makespan = max_dt;
    state.SetIterationTime(max_dt);
  }
  if (peppp::par::rank(comm) == 0) std::filesystem::remove_all(dir);
  const double cells = static_cast<double>(plan.order.size());
  state.counters["ranks"] = ranks;
  state.counters["cells"] = cells;
  state.counters["makespan_s"] = makespan;
  state.counters["ideal_s"] = ideal;
  state.counters["efficiency"] = ideal / makespan;
  // Everything beyond the sleeping: queue, journal fsync, tail imbalance, gather, write.
  state.counters["overhead_per_cell_ms"] = (makespan * ranks - total) / cells * 1000.0;
}
BENCHMARK(BM_CampaignScaling)->Args({200, 16})->Args({200, 64})->Args({10, 16})->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// Cost of taking one item from the shared queue while every rank hammers it.
void BM_QueueNext(benchmark::State& state) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const std::int64_t items = state.range(0);
  double per_item_us = 0;
  for (auto _ : state) {
    peppp::par::WorkQueue q(comm, items);
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
  state.SetItemsProcessed(state.iterations() * items);
}
BENCHMARK(BM_QueueNext)->Arg(20000)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
