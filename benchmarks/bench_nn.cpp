// One training step (forward, backward, low-precision SGD step) at batch 32:
// float32 (e8m23/e8m23, no quantization) vs a Format A/B configuration
// (e4m3/e6m7, default roundings), same run; items/s = images/s.
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <ctime>
#include <memory>

#include "peppp/core/cell.hpp"
#include "peppp/nn/model.hpp"
#include "peppp/nn/optimizer.hpp"

namespace {

namespace nn = peppp::nn;

struct Case {
  const char* model;
  int channels;
};
const Case kCases[] = {{"small-cnn", 1}, {"resnet8", 3}, {"resnet18", 3}};

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
