// Meta-LOOCV wall time: settings I and IV, all five methods plus the
// baseline, counts 3..15, on a synthetic low-rank-plus-noise n × 99 matrix
// with F2-shaped memory. Run under mpirun -np 1 and -np 2 for the speedup;
// each repetition: barrier, time the whole distributed run, MAX over ranks.
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <cmath>

#include "loocv_synthetic.hpp"
#include "peppp/par/loocv.hpp"

namespace {

using peppp::bench::kSyntheticCap;

peppp::meta::LoocvData synthetic(int n) { return peppp::bench::synthetic_loocv(n); }

void BM_LoocvSettingsIandIV(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto data = synthetic(n);
  peppp::meta::LoocvSpec spec;
  spec.settings = {"I", "IV"};
  spec.lambda = state.range(1) ? 0.0 : 0.05;  // 0 = cross-validated lambda per fold
  spec.cap = kSyntheticCap;  // every task can measure 15 configurations
  spec = peppp::meta::validate_loocv(spec, data);
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (auto _ : state) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    auto result = peppp::par::run_loocv(data, spec, MPI_COMM_WORLD);
    benchmark::DoNotOptimize(result.regret.data());
    double mine = MPI_Wtime() - t0, slowest = 0;
    MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    state.SetIterationTime(slowest);
  }
  const double items = 2.0 * n * (spec.methods.size() + 1);
  state.counters["ranks"] = size;
  state.counters["items"] = items;
  state.counters["items_per_s"] = benchmark::Counter(items * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LoocvSettingsIandIV)
    ->ArgNames({"tasks", "cv_lambda"})
    ->Args({87, 0})
    ->Args({87, 1})
    ->Args({40, 0})
    ->Args({40, 1})
    ->Args({8, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

// One LOOCV item (one method on one held-out fold, counts 3..15, setting I
// on a 20 × 99 matrix, meta-training matrix prebuilt): the per-fold cost of
// each acquisition method, ei-mf next to ed-mf. Serial (rank 0's work only).
void BM_LoocvFoldMethod(benchmark::State& state) {
  const auto data = synthetic(20);
  peppp::meta::LoocvSpec spec;
  spec.settings = {"I"};
  spec.cap = kSyntheticCap;
  spec = peppp::meta::validate_loocv(spec, data);
  const int m = static_cast<int>(state.range(0));
  state.SetLabel(spec.methods.at(static_cast<std::size_t>(m)));
  const auto training = peppp::meta::build_meta_training(spec, data, 0, 3, 0);
  for (auto _ : state) {
    auto r = peppp::meta::evaluate_loocv_item(spec, data, {0, 3, 0, m}, training);
    benchmark::DoNotOptimize(r.regret.data());
  }
}
BENCHMARK(BM_LoocvFoldMethod)->ArgNames({"method"})->DenseRange(0, 5)->Unit(benchmark::kMicrosecond);
