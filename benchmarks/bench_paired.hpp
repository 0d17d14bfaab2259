#pragma once
// What the paired benchmarks of bench_quant and bench_nn share: the number
// of pairs (rounds) and the spread counters of their per-pair ratios.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace peppp::bench {

// Pairs (kernel and limit, or the rounds of the training step) per
// benchmark: PEPPP_BENCH_PAIRS, default 21.
inline int pairs() {
  static const int n = [] {
    const char* e = std::getenv("PEPPP_BENCH_PAIRS");
    const int v = e && *e ? std::atoi(e) : 21;
    return v > 0 ? v : 21;
  }();
  return n;
}

// The value at quantile q (0..1) of v, linear between neighbours.
inline double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

// Counters ratio (median), ratio_q1, ratio_q3, ratio_min, ratio_max and
// pairs of the per-pair ratios r (not empty).
inline void report_ratios(benchmark::State& state, const std::vector<double>& r) {
  state.counters["ratio"] = quantile(r, 0.5);
  state.counters["ratio_q1"] = quantile(r, 0.25);
  state.counters["ratio_q3"] = quantile(r, 0.75);
  state.counters["ratio_min"] = quantile(r, 0.0);
  state.counters["ratio_max"] = quantile(r, 1.0);
  state.counters["pairs"] = static_cast<double>(r.size());
}

}  // namespace peppp::bench
