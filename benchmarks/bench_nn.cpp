// One training step (forward, backward, low-precision SGD step) at batch 32:
// float32 (e8m23/e8m23, no quantization) vs a Format A/B configuration
// (e4m3/e6m7, default roundings), same run; items/s = images/s.
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

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

// range(0): case index; range(1): 0 = float32, 1 = e4m3/e6m7.
void BM_TrainStep(benchmark::State& state) {
  at::set_num_threads(1);
  const Case c = kCases[state.range(0)];
  const bool quantized = state.range(1) != 0;
  const int batch = 32, resolution = 32, classes = 10;
  const peppp::Configuration cfg =
      quantized ? peppp::Configuration::parse("e4m3/e6m7") : peppp::Configuration{};
  torch::manual_seed(1);
  auto q = std::make_shared<nn::ActivationQuantizer>();
  q->format = cfg.a;
  q->enabled = quantized;
  auto net = nn::make_model(c.model, classes, c.channels, resolution, q);
  net->train();
  peppp::TrainSettings settings;
  nn::LowPrecisionSgd opt(net->parameters(), cfg, settings, 7);
  const torch::Tensor x = torch::randn({batch, c.channels, resolution, resolution});
  const torch::Tensor y = torch::randint(0, classes, {batch}, torch::kInt64);
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
