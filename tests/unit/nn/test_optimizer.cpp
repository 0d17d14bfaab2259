// Low-precision SGD: optimizer state on the Format B grid, forward weights
// Format A of the accumulator, float32 mode equal to torch's SGD.
#include <gtest/gtest.h>

#include "peppp/nn/optimizer.hpp"
#include "peppp/quant/quantize.hpp"

using peppp::Configuration;
using peppp::FloatFormat;
using peppp::Rounding;
using peppp::TrainSettings;
namespace nn = peppp::nn;

namespace {

bool on_grid(const torch::Tensor& t, FloatFormat f) {
  return torch::equal(peppp::quantize(t.contiguous(), f, Rounding::nearest), t.contiguous());
}

std::vector<torch::Tensor> make_params() {
  torch::manual_seed(5);
  return {torch::randn({7, 5}).requires_grad_(), torch::randn({13}).requires_grad_()};
}

void set_grads(std::vector<torch::Tensor>& ps, int step) {
  torch::manual_seed(100 + step);
  for (auto& p : ps) p.mutable_grad() = torch::randn_like(p) * 0.1;
}

TrainSettings settings() {
  TrainSettings s;
  s.learning_rate = 0.05;  // large enough that every step moves the weights on the coarse grids
  return s;
}

}  // namespace

TEST(NnOptimizer, StateOnFormatBGridAndWeightsOnFormatAGrid) {
  const Configuration cfg{FloatFormat(4, 3), FloatFormat(6, 7)};
  for (Rounding r : {Rounding::stochastic, Rounding::nearest}) {
    TrainSettings s = settings();
    s.rounding.gradient = s.rounding.momentum = s.rounding.accumulator = s.rounding.weights = r;
    auto ps = make_params();
    nn::LowPrecisionSgd opt(ps, cfg, s, 42);
    for (std::size_t i = 0; i < ps.size(); ++i) {
      EXPECT_TRUE(on_grid(opt.accumulator(i), cfg.b));
      EXPECT_TRUE(on_grid(ps[i].detach(), cfg.a));
    }
    for (int step = 0; step < 3; ++step) {
      const auto before = opt.accumulator(0).clone();
      set_grads(ps, step);
      opt.step();
      EXPECT_FALSE(torch::equal(before, opt.accumulator(0)));
      for (std::size_t i = 0; i < ps.size(); ++i) {
        EXPECT_TRUE(on_grid(opt.accumulator(i), cfg.b)) << "accumulator " << i;
        EXPECT_TRUE(on_grid(opt.momentum_buffer(i), cfg.b)) << "momentum " << i;
        EXPECT_TRUE(on_grid(ps[i].grad(), cfg.b)) << "gradient " << i;
        EXPECT_TRUE(on_grid(ps[i].detach(), cfg.a)) << "weights " << i;
        EXPECT_FALSE(on_grid(opt.accumulator(i), FloatFormat(4, 3)));  // finer than A: not trivially on grid
        if (r == Rounding::nearest) {
          EXPECT_TRUE(torch::equal(ps[i].detach(), peppp::quantize(opt.accumulator(i), cfg.a, Rounding::nearest)));
        }
      }
    }
  }
}

TEST(NnOptimizer, Float32ModeIsTorchSgd) {
  const TrainSettings s = settings();
  auto ps = make_params();
  auto ref = make_params();
  nn::LowPrecisionSgd opt(ps, Configuration{}, s, 1);
  EXPECT_FALSE(opt.quantizes());
  torch::optim::SGD sgd(ref, torch::optim::SGDOptions(s.learning_rate).momentum(s.momentum).weight_decay(s.weight_decay));
  for (int step = 0; step < 4; ++step) {
    set_grads(ps, step);
    set_grads(ref, step);
    opt.step();
    sgd.step();
  }
  for (std::size_t i = 0; i < ps.size(); ++i) EXPECT_TRUE(torch::allclose(ps[i], ref[i], 1e-6, 1e-7));
}

TEST(NnOptimizer, StochasticRoundingIsSeeded) {
  const Configuration cfg{FloatFormat(3, 2), FloatFormat(6, 7)};
  auto run = [&](std::uint64_t seed) {
    auto ps = make_params();
    nn::LowPrecisionSgd opt(ps, cfg, settings(), seed);
    for (int step = 0; step < 3; ++step) {
      set_grads(ps, step);
      opt.step();
    }
    return opt.accumulator(0).clone();
  };
  EXPECT_TRUE(torch::equal(run(7), run(7)));
  EXPECT_FALSE(torch::equal(run(7), run(8)));
}
