// Meta-LOOCV wall time: settings I and IV, all five methods plus the
// baseline, counts 3..15, on a synthetic low-rank-plus-noise n × 99 matrix
// with F2-shaped memory. Run under mpirun -np 1 and -np 2 for the speedup;
// each repetition: barrier, time the whole distributed run, MAX over ranks.
#include <benchmark/benchmark.h>
#include <mpi.h>

#include <cmath>

#include "peppp/core/strings.hpp"
#include "peppp/par/loocv.hpp"

namespace {

double gauss(std::uint64_t seed, std::uint64_t k) {
  const double u1 = (static_cast<double>(peppp::mix64(peppp::mix64(seed) + 2 * k) >> 11) + 0.5) / 9007199254740992.0;
  const double u2 = (static_cast<double>(peppp::mix64(peppp::mix64(seed) + 2 * k + 1) >> 11) + 0.5) / 9007199254740992.0;
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

peppp::meta::LoocvData synthetic(int n) {
  peppp::meta::LoocvData data;
  const int d = 99;
  for (int i = 0; i < n; ++i) data.task.push_back("t" + std::to_string(i));
  for (int j = 0; j < d; ++j) data.config.push_back("c" + std::to_string(j));
  for (int i = 0; i < n; ++i) {
    const double scale = i % 3 == 0 ? 4.0 : 1.0;  // "64x64" tasks fit few configurations under the cap
    for (int j = 0; j < d; ++j) {
      const int bits_a = 5 + (j / 9) % 5, bits_b = 14 + j % 9 % 7;
      data.memory.push_back(scale * (8.0 * bits_a + 1.5 * bits_b));
      double e = 0.3;
      for (int r = 0; r < 3; ++r) e += 0.05 * gauss(1, 100000 * r + i) * gauss(2, 100000 * r + j);
      data.error.push_back(e + 0.005 * gauss(3, static_cast<std::uint64_t>(i) * d + j));
    }
  }
  return data;
}

void BM_LoocvSettingsIandIV(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto data = synthetic(n);
  peppp::meta::LoocvSpec spec;
  spec.settings = {"I", "IV"};
  spec.lambda = state.range(1) ? 0.0 : 0.05;  // 0 = cross-validated lambda per fold
  spec.cap = 4.0 * (8.0 * 5 + 1.5 * 20) + 1;  // every task can measure 15 configurations
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
  spec.cap = 4.0 * (8.0 * 5 + 1.5 * 20) + 1;
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
