// Core helpers on hot paths: seed derivation and hashing (every cell and
// every stochastic-rounding element derives its seed this way).
#include <benchmark/benchmark.h>

#include <string>

#include "peppp/core/strings.hpp"

static void BM_Mix64(benchmark::State& state) {
  std::uint64_t x = 1;
  for (auto _ : state) {
    x = peppp::mix64(x);
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Mix64);

static void BM_Fnv1a64(benchmark::State& state) {
  std::string s(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(peppp::fnv1a64(s));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Fnv1a64)->Arg(64)->Arg(4096);
