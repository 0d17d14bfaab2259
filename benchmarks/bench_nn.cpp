// One training step (forward, backward, low-precision SGD step) at batch 32:
// float32 (e8m23/e8m23, no quantization) vs a Format A/B configuration
// (e4m3/e6m7, default roundings), same run; items/s = images/s.
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "bench_paired.hpp"
#include "peppp/core/cell.hpp"
#include "peppp/nn/model.hpp"
#include "peppp/nn/optimizer.hpp"

namespace {

namespace nn = peppp::nn;

struct Case {
  const char* model;
  int channels;
};
const Case kCases[] = {{"small-cnn", 1}, {"resnet8", 3}, {"resnet18", 3}, {"mlp", 1}, {"vit-tiny", 3}};

// What one benchmarked step trains: the network of case `c` with the
// activation quantizer on `format` (enabled or not), its optimizer for
// configuration `cfg`, and a fixed batch of 32 images at 32 x 32.
struct Step {
  static constexpr int batch = 32, resolution = 32, classes = 10;
  std::shared_ptr<nn::ActivationQuantizer> q = std::make_shared<nn::ActivationQuantizer>();
  std::shared_ptr<nn::Model> net;
  std::unique_ptr<nn::LowPrecisionSgd> opt;
  torch::Tensor x, y;
  Step(const Case& c, const peppp::Configuration& cfg, bool quantize_activations) {
    torch::manual_seed(1);
    q->format = cfg.a;
    q->enabled = quantize_activations;
    net = nn::make_model(c.model, classes, c.channels, resolution, q);
    net->train();
    opt = std::make_unique<nn::LowPrecisionSgd>(net->parameters(), cfg, peppp::TrainSettings{}, 7);
    x = torch::randn({batch, c.channels, resolution, resolution});
    y = torch::randint(0, classes, {batch}, torch::kInt64);
  }
};

// range(0): case index; range(1): 0 = float32, 1 = e4m3/e6m7.
void BM_TrainStep(benchmark::State& state) {
  at::set_num_threads(1);
  const Case c = kCases[state.range(0)];
  const bool quantized = state.range(1) != 0;
  const int batch = Step::batch;
  Step st(c, quantized ? peppp::Configuration::parse("e4m3/e6m7") : peppp::Configuration{}, quantized);
  auto& net = st.net;
  auto& opt = *st.opt;
  const torch::Tensor& x = st.x;
  const torch::Tensor& y = st.y;
  auto step = [&] {
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    opt.step();
    return loss.item<float>();
  };
  step();  // warm-up: allocations, optimizer state
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(std::string(c.model) + (quantized ? " e4m3/e6m7" : " fp32"));
}

}  // namespace

BENCHMARK(BM_TrainStep)->Args({0, 0})->Args({0, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainStep)->Args({1, 0})->Args({1, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainStep)->Args({2, 0})->Args({2, 1})->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_TrainStep)->Args({3, 0})->Args({3, 1})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainStep)->Args({4, 0})->Args({4, 1})->Unit(benchmark::kMillisecond);

// The same step with its time split into phases: forward (zero_grad, forward,
// loss), backward, optimizer step; counters fwd_ms, bwd_ms, opt_ms per step
// (CPU time of the main thread, which runs all of it with one torch thread:
// robust to other processes on the machine). range(1): 0 = float32, 1 = e4m3/e6m7
// (as BM_TrainStep), 2 = the activation quantizer on an identity format
// (e8m23: every QuantizeFn node, allocation and pass, bits unchanged) with a
// float32 optimizer: its forward/backward minus float32's is the mechanics of
// the quantizer alone (quantization's share of the phases).
namespace {
double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

void BM_TrainStepSplit(benchmark::State& state) {
  at::set_num_threads(1);
  const Case c = kCases[state.range(0)];
  const int mode = static_cast<int>(state.range(1));
  const int batch = Step::batch;
  // e8m23 activations for modes 0 and 2
  Step st(c, mode == 1 ? peppp::Configuration::parse("e4m3/e6m7") : peppp::Configuration{}, mode != 0);
  auto& net = st.net;
  auto& opt = *st.opt;
  const torch::Tensor& x = st.x;
  const torch::Tensor& y = st.y;
  double tf = 0, tb = 0, to = 0;
  auto minflt = [] {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_minflt);
  };
  auto step = [&](bool timed) {
    const double t0 = thread_cpu_ms();
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    const double t1 = thread_cpu_ms();
    loss.backward();
    const double t2 = thread_cpu_ms();
    opt.step();
    const double t3 = thread_cpu_ms();
    if (timed) {
      tf += t1 - t0;
      tb += t2 - t1;
      to += t3 - t2;
    }
    return loss.item<float>();
  };
  step(false);
  const double f0 = minflt();
  for (auto _ : state) benchmark::DoNotOptimize(step(true));
  const double n = static_cast<double>(state.iterations());
  state.counters["faults"] = (minflt() - f0) / n;  // minor page faults per step (fresh pages)
  state.counters["fwd_ms"] = tf / n;
  state.counters["bwd_ms"] = tb / n;
  state.counters["opt_ms"] = to / n;
  state.SetItemsProcessed(state.iterations() * batch);
  static const char* const kModes[] = {" fp32", " e4m3/e6m7", " identity quantizer (e8m23), fp32 optimizer"};
  state.SetLabel(std::string(c.model) + kModes[mode]);
}
}  // namespace

BENCHMARK(BM_TrainStepSplit)->Args({0, 0})->Args({0, 1})->Args({0, 2})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TrainStepSplit)->Args({1, 0})->Args({1, 1})->Args({1, 2})->Unit(benchmark::kMillisecond);

// fp32 and quantized steps of the same model alternated, for a ratio that
// holds on a noisy shared machine: three model instances built as
// BM_TrainStepSplit's modes 0, 1 and 2 (float32; e4m3/e6m7; the identity
// quantizer with a float32 optimizer), same initial weights and batch, each
// warmed up by 3 steps of its own; then every benchmark iteration is one
// round of a step of each, in an order rotating from round to round, timed
// per phase with the main thread's CPU time (as BM_TrainStepSplit). Each
// round gives the ratio quantized / fp32 of its two steps; counters: `ratio`
// (median over the rounds), `ratio_q1`, `ratio_q3` (quartiles), `ratio_min`,
// `ratio_max`, `id_ratio` (identity quantizer / fp32, median); `fp32_ms`,
// `q_ms`, `id_ms` (median step); per phase, medians over the rounds:
// `{fp32,q,id}_{fwd,bwd,opt}_ms`. The quantized step's extra time splits as
// q_phase - fp32_phase; the identity quantizer's share of it is the
// mechanics of the quantizer points (autograd nodes, allocation, passes)
// with no rounding work, and q - id the rounding itself (fwd/bwd) and the
// low-precision optimizer (opt). The iteration count is PEPPP_BENCH_PAIRS
// (default 21); the reported time is the quantized step's (manual time).
namespace {
using peppp::bench::quantile;
int rounds() { return peppp::bench::pairs(); }

struct Phases {
  double fwd, bwd, opt;
  double total() const { return fwd + bwd + opt; }
};

// One training step of `st`, timed per phase (main thread's CPU time).
Phases run_step(Step& st) {
  Phases ph{};
  const double t0 = thread_cpu_ms();
  st.opt->zero_grad();
  torch::Tensor loss = torch::nn::functional::cross_entropy(st.net->forward(st.x), st.y);
  const double t1 = thread_cpu_ms();
  loss.backward();
  const double t2 = thread_cpu_ms();
  st.opt->step();
  const double t3 = thread_cpu_ms();
  benchmark::DoNotOptimize(loss.item<float>());
  ph.fwd = t1 - t0;
  ph.bwd = t2 - t1;
  ph.opt = t3 - t2;
  return ph;
}

void BM_TrainStepPaired(benchmark::State& state) {
  at::set_num_threads(1);
  const Case c = kCases[state.range(0)];
  const int batch = Step::batch;
  // 0 = fp32, 1 = e4m3/e6m7, 2 = identity quantizer (e8m23), fp32 optimizer
  Step fp32(c, peppp::Configuration{}, false);
  Step quant(c, peppp::Configuration::parse("e4m3/e6m7"), true);
  Step ident(c, peppp::Configuration{}, true);
  Step* const steps[] = {&fp32, &quant, &ident};
  auto run = run_step;
  for (Step* st : steps)
    for (int w = 0; w < 3; ++w) run(*st);
  std::vector<Phases> ph[3];
  std::vector<double> ratio, id_ratio;
  int round = 0;
  for (auto _ : state) {
    Phases got[3];
    for (int k = 0; k < 3; ++k) {  // rounds rotate the order: 012, 120, 201, ...
      const int m = (k + round) % 3;
      const auto w0 = std::chrono::steady_clock::now();
      got[m] = run(*steps[m]);
      if (m == 1) state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
    }
    for (int m = 0; m < 3; ++m) ph[m].push_back(got[m]);
    ratio.push_back(got[1].total() / got[0].total());
    id_ratio.push_back(got[2].total() / got[0].total());
    ++round;
  }
  if (ratio.empty()) return;
  peppp::bench::report_ratios(state, ratio);
  state.counters["id_ratio"] = quantile(id_ratio, 0.5);
  static const char* const kMode[] = {"fp32", "q", "id"};
  for (int m = 0; m < 3; ++m) {
    std::vector<double> f, b, o, t;
    for (const auto& p : ph[m]) {
      f.push_back(p.fwd);
      b.push_back(p.bwd);
      o.push_back(p.opt);
      t.push_back(p.total());
    }
    const std::string k = kMode[m];
    state.counters[k + "_ms"] = quantile(t, 0.5);
    state.counters[k + "_fwd_ms"] = quantile(f, 0.5);
    state.counters[k + "_bwd_ms"] = quantile(b, 0.5);
    state.counters[k + "_opt_ms"] = quantile(o, 0.5);
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetLabel(std::string(c.model) + " e4m3/e6m7 vs fp32, paired");
}
}  // namespace

BENCHMARK(BM_TrainStepPaired)->ArgName("case")->Arg(0)->Arg(1)->Arg(3)->Arg(4)->Iterations(rounds())->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// The TorchScript path's overhead: the zoo's small-cnn in C++ against its
// TorchScript twin (the file PEPPP_BENCH_TORCHSCRIPT, written by
// `examples/models/export.py small-cnn --channels 1 --classes 10
// --resolution 32`), both quantized (e4m3/e6m7), steps alternated in
// rotating order as BM_TrainStepPaired; `ratio` = TorchScript step / C++
// step (median over the rounds; target <= 1.2). Skipped without the file.
namespace {
void BM_TorchScriptOverhead(benchmark::State& state) {
  const char* path = std::getenv("PEPPP_BENCH_TORCHSCRIPT");
  if (!path || !*path) {
    state.SkipWithError("PEPPP_BENCH_TORCHSCRIPT (a scripted small-cnn, 1 channel, 10 classes, 32 px) not set");
    return;
  }
  at::set_num_threads(1);
  static const std::string model = std::string("torchscript:") + path;
  const peppp::Configuration cfg = peppp::Configuration::parse("e4m3/e6m7");
  Step cpp(kCases[0], cfg, true);
  Step script(Case{model.c_str(), 1}, cfg, true);
  for (int w = 0; w < 3; ++w) {
    run_step(cpp);
    run_step(script);
  }
  std::vector<double> ratio, cpp_ms, script_ms;
  int round = 0;
  for (auto _ : state) {
    const auto w0 = std::chrono::steady_clock::now();
    const bool first = round++ % 2 == 0;
    const Phases a = run_step(first ? cpp : script), b = run_step(first ? script : cpp);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
    const Phases& c = first ? a : b;
    const Phases& s = first ? b : a;
    ratio.push_back(s.total() / c.total());
    cpp_ms.push_back(c.total());
    script_ms.push_back(s.total());
  }
  if (ratio.empty()) return;
  peppp::bench::report_ratios(state, ratio);
  state.counters["cpp_ms"] = quantile(cpp_ms, 0.5);
  state.counters["script_ms"] = quantile(script_ms, 0.5);
  state.SetLabel("small-cnn e4m3/e6m7, TorchScript / C++");
}
}  // namespace

BENCHMARK(BM_TorchScriptOverhead)->Iterations(rounds())->UseManualTime()->Unit(benchmark::kMillisecond);

// The optimizer step alone on a model's parameters with fixed random
// gradients (zero_grad not called: the gradients are reused, rounded again),
// float32 vs e4m3/e6m7; range(0): case, range(1): 0 = float32, 1 = quantized.
namespace {
void BM_OptimizerStep(benchmark::State& state) {
  at::set_num_threads(1);
  const Case c = kCases[state.range(0)];
  const bool quantized = state.range(1) != 0;
  const peppp::Configuration cfg =
      quantized ? peppp::Configuration::parse("e4m3/e6m7") : peppp::Configuration{};
  torch::manual_seed(1);
  auto net = nn::make_model(c.model, 10, c.channels, 32, nullptr);
  peppp::TrainSettings settings;
  auto params = net->parameters();
  nn::LowPrecisionSgd opt(params, cfg, settings, 7);
  std::int64_t n = 0;
  for (auto& p : params) {
    p.mutable_grad() = torch::randn_like(p) * 0.01;
    n += p.numel();
  }
  opt.step();
  for (auto _ : state) opt.step();
  state.SetItemsProcessed(state.iterations() * n);  // parameters per second
  state.SetLabel(std::string(c.model) + (quantized ? " e4m3/e6m7" : " fp32") + ", " + std::to_string(params.size()) +
                 " tensors, " + std::to_string(n) + " parameters");
}
}  // namespace

BENCHMARK(BM_OptimizerStep)->Args({0, 0})->Args({0, 1})->Args({1, 0})->Args({1, 1})->Unit(benchmark::kMicrosecond);
