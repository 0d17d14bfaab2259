// Quantization throughput on 16M-element float32 buffers, next to the
// limits it is measured against: memcpy of the same buffer (memory
// bandwidth, the limit of buffer -> buffer), one in-place read and write of
// every element (the limit of the in-place form) and torch's clone()
// (allocation + copy, the limit of the new-tensor form).
//
// The ratio to the limit is measured in pairs: after the benchmark's own
// timed loop (its absolute rate, items/s), the kernel and its limit are run
// alternately (PEPPP_BENCH_PAIRS pairs, default 21, after one warm-up of
// each; the order inside a pair alternates), and each pair gives one ratio
// t_limit / t_kernel (kernel rate over limit rate). Counters: `ratio` = the
// median of the per-pair ratios, `ratio_q1` / `ratio_q3` its quartiles,
// `ratio_min` / `ratio_max`, `pairs`. Kernel and limit are thus timed a few
// milliseconds apart, on the same buffers, so a shift of the shared
// machine's memory bandwidth moves both (a limit timed once, minutes away
// from the kernel, made the ratio swing more than the targets' margins).
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "bench_paired.hpp"
#include "peppp/quant/kernel.hpp"
#include "peppp/quant/quantize.hpp"

namespace {

constexpr std::size_t kN = std::size_t{1} << 24;  // 16M elements, 64 MiB
const peppp::FloatFormat kFormats[] = {peppp::FloatFormat(4, 3), peppp::FloatFormat(5, 2), peppp::FloatFormat(8, 7)};
const peppp::Rounding kRoundings[] = {peppp::Rounding::nearest, peppp::Rounding::nearest_even,
                                      peppp::Rounding::stochastic};

struct Buffers {
  std::vector<float> in, out;
  Buffers() : in(kN), out(kN) {
    std::uint32_t s = 12345;
    for (auto& v : in) {
      s = s * 1664525u + 1013904223u;
      v = static_cast<float>(static_cast<std::int32_t>(s)) * 1e-7f;
    }
    std::memset(out.data(), 0, kN * 4);  // touch the pages: warm output
  }
};
Buffers& buffers() {
  static Buffers b;
  return b;
}

void parallel_memcpy(float* dst, const float* src, std::size_t n, int threads) {
  if (threads <= 1) {
    std::memcpy(dst, src, n * 4);
    return;
  }
  const std::size_t chunk = (n + threads - 1) / threads;
  std::vector<std::thread> pool;
  for (int j = 1; j < threads; ++j)
    pool.emplace_back([=] { std::memcpy(dst + j * chunk, src + j * chunk, std::min(chunk, n - j * chunk) * 4); });
  std::memcpy(dst, src, chunk * 4);
  for (auto& t : pool) t.join();
}

// The in-place limit: one read and one write of every element (a sign flip
// of the bits, vectorized and memory-bound), split like parallel_memcpy.
void parallel_read_write(float* x, std::size_t n, int threads) {
  auto flip = [](float* p, std::size_t m) {
    auto* u = reinterpret_cast<std::uint32_t*>(p);
    for (std::size_t i = 0; i < m; ++i) u[i] ^= 0x80000000u;
  };
  if (threads <= 1) {
    flip(x, n);
    return;
  }
  const std::size_t chunk = (n + threads - 1) / threads;
  std::vector<std::thread> pool;
  for (int j = 1; j < threads; ++j) pool.emplace_back([=] { flip(x + j * chunk, std::min(chunk, n - j * chunk)); });
  flip(x, chunk);
  for (auto& t : pool) t.join();
}

template <class F>
double seconds(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The benchmark's absolute rate, and its paired ratio to `limit` (above).
template <class K, class L>
void report_paired(benchmark::State& state, K&& kernel, L&& limit) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(kN));
  kernel();
  limit();
  std::vector<double> r;
  for (int p = 0; p < peppp::bench::pairs(); ++p) {
    double tk, tl;
    if (p % 2 == 0) {
      tk = seconds(kernel);
      tl = seconds(limit);
    } else {
      tl = seconds(limit);
      tk = seconds(kernel);
    }
    r.push_back(tl / tk);
  }
  peppp::bench::report_ratios(state, r);
}

void set_label(benchmark::State& state, const char* what) {
  state.SetLabel(std::string(what) + " " + kFormats[state.range(0)].label() + " " +
                 peppp::label(kRoundings[state.range(1)]) + " threads=" + std::to_string(state.range(2)));
}

}  // namespace

// The limits themselves; each paired with itself (ratio ~ 1: the spread of
// the paired measurement on this machine, its noise floor).
static void BM_Memcpy(benchmark::State& state) {
  auto& b = buffers();
  const int t = static_cast<int>(state.range(0));
  auto copy = [&] {
    parallel_memcpy(b.out.data(), b.in.data(), kN, t);
    benchmark::ClobberMemory();
  };
  for (auto _ : state) copy();
  report_paired(state, copy, copy);
}
BENCHMARK(BM_Memcpy)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// The in-place limit itself (read and write every element once).
static void BM_ReadWrite(benchmark::State& state) {
  std::vector<float> x(buffers().in);
  const int t = static_cast<int>(state.range(0));
  auto rw = [&] {
    parallel_read_write(x.data(), kN, t);
    benchmark::ClobberMemory();
  };
  for (auto _ : state) rw();
  report_paired(state, rw, rw);
}
BENCHMARK(BM_ReadWrite)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

static void BM_Clone(benchmark::State& state) {
  const int t = static_cast<int>(state.range(0));
  at::set_num_threads(t);
  const auto x = torch::from_blob(buffers().in.data(), {static_cast<long>(kN)}, torch::kFloat32);
  auto clone = [&] { benchmark::DoNotOptimize(x.clone()); };
  for (auto _ : state) clone();
  report_paired(state, clone, clone);
}
BENCHMARK(BM_Clone)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

// Into a given (warm, preallocated) output buffer; limit: memcpy in -> out.
static void BM_QuantizeBuffer(benchmark::State& state) {
  auto& b = buffers();
  const auto f = kFormats[state.range(0)];
  const auto r = kRoundings[state.range(1)];
  const int t = static_cast<int>(state.range(2));
  std::uint64_t seed = 0;
  auto kernel = [&] {
    peppp::quant::quantize_buffer(b.in.data(), b.out.data(), kN, f, r, ++seed, 0, t);
    benchmark::ClobberMemory();
  };
  for (auto _ : state) kernel();
  set_label(state, "buffer");
  report_paired(state, kernel, [&] {
    parallel_memcpy(b.out.data(), b.in.data(), kN, t);
    benchmark::ClobberMemory();
  });
}

// In place on a warm buffer; limit: a read and write of the same buffer
// (a sign flip: magnitudes, hence the kernel's tile paths, unchanged).
static void BM_QuantizeInPlace(benchmark::State& state) {
  auto& b = buffers();
  const auto f = kFormats[state.range(0)];
  const auto r = kRoundings[state.range(1)];
  const int t = static_cast<int>(state.range(2));
  std::vector<float> x(b.in);
  std::uint64_t seed = 0;
  auto kernel = [&] {
    peppp::quant::quantize_buffer(x.data(), x.data(), kN, f, r, ++seed, 0, t);
    benchmark::ClobberMemory();
  };
  for (auto _ : state) kernel();
  set_label(state, "in place");
  report_paired(state, kernel, [&] {
    parallel_read_write(x.data(), kN, t);
    benchmark::ClobberMemory();
  });
}

// The torch new-tensor form (allocation included, torch's threads); limit:
// clone() of the same tensor.
static void BM_QuantizeTensor(benchmark::State& state) {
  const auto f = kFormats[state.range(0)];
  const auto r = kRoundings[state.range(1)];
  const int t = static_cast<int>(state.range(2));
  at::set_num_threads(t);
  const auto x = torch::from_blob(buffers().in.data(), {static_cast<long>(kN)}, torch::kFloat32);
  std::uint64_t seed = 0;
  auto kernel = [&] { benchmark::DoNotOptimize(peppp::quantize(x, f, r, ++seed)); };
  for (auto _ : state) kernel();
  set_label(state, "new tensor");
  report_paired(state, kernel, [&] { benchmark::DoNotOptimize(x.clone()); });
}

static void quant_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"format", "rounding", "threads"});
  for (int t : {1, 2})
    for (int r : {0, 2})
      for (int f : {0, 1, 2}) b->Args({f, r, t});
  b->Args({0, 1, 1});  // nearest_even, one format
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_QuantizeBuffer)->Apply(quant_args);
BENCHMARK(BM_QuantizeInPlace)->Apply(quant_args);
BENCHMARK(BM_QuantizeTensor)->Apply(quant_args);

// The named standard formats (QUANT.md "Standard formats"), into a given
// buffer next to the eEmM rows above: elementwise ones (ocp-e4m3, bf16) and
// the block formats on rows of 1024 (MX: block max, E8M0 scale, element
// rounding; nvfp4: its float64 path).
namespace {
const char* const kStandardLabels[] = {"ocp-e4m3", "bf16", "mxfp8-e4m3", "mxfp6-e3m2", "mxfp4", "nvfp4"};
constexpr std::size_t kRow = 1024;
}  // namespace

static void BM_QuantizeStandard(benchmark::State& state) {
  auto& b = buffers();
  const auto f = peppp::FloatFormat::parse(kStandardLabels[state.range(0)]);
  const auto r = kRoundings[state.range(1)];
  const int t = static_cast<int>(state.range(2));
  const bool inplace = state.range(3) != 0;
  std::vector<float> x(inplace ? b.in : std::vector<float>());
  std::uint64_t seed = 0;
  auto kernel = [&] {
    if (inplace) peppp::quant::quantize_rows(x.data(), x.data(), kN, kRow, f, r, ++seed, 0, t);
    else peppp::quant::quantize_rows(b.in.data(), b.out.data(), kN, kRow, f, r, ++seed, 0, t);
    benchmark::ClobberMemory();
  };
  for (auto _ : state) kernel();
  state.SetLabel(std::string(inplace ? "in place " : "buffer ") + f.label() + " " + peppp::label(r) +
                 " threads=" + std::to_string(t) + " row=" + std::to_string(kRow));
  report_paired(state, kernel, [&] {
    if (inplace) parallel_read_write(x.data(), kN, t);
    else parallel_memcpy(b.out.data(), b.in.data(), kN, t);
    benchmark::ClobberMemory();
  });
}
static void standard_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"format", "rounding", "threads", "inplace"});
  for (int f = 0; f < 6; ++f)
    for (int r : {0, 2}) b->Args({f, r, 1, 0});
  for (int f : {2, 4}) b->Args({f, 0, 2, 0});
  for (int f : {2, 4}) b->Args({f, 0, 1, 1});
  b->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_QuantizeStandard)->Apply(standard_args);
