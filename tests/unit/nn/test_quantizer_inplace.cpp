// The activation quantizer's in-place rounding of layer outputs nothing
// else refers to: same bits as a new tensor, and never a tensor the caller
// (or autograd) still holds.
#include <gtest/gtest.h>

#include "peppp/nn/model.hpp"
#include "peppp/quant/quantize.hpp"

using peppp::FloatFormat;
using peppp::Rounding;
namespace nn = peppp::nn;

namespace {
nn::ActivationQuantizer make_q() {
  nn::ActivationQuantizer q;
  q.format = FloatFormat(4, 3);
  q.enabled = true;
  q.seed = 11;
  return q;
}
}  // namespace

TEST(NnQuantizerInPlace, HeldTensorsAreNotModified) {
  torch::manual_seed(5);
  auto q = make_q();
  const auto x = torch::randn({4, 3, 8, 8});
  const auto before = x.clone();
  const auto y = q(x, nn::LayerType::input);  // x is held here: a new tensor
  EXPECT_TRUE(torch::equal(x, before));
  EXPECT_NE(y.data_ptr(), x.data_ptr());
  auto w = torch::randn({4, 3, 8, 8}).requires_grad_();
  const auto r = torch::relu(w * 2);  // relu saves its output for backward
  const auto r0 = r.detach().clone();
  const auto qr = q(r, nn::LayerType::relu);
  EXPECT_TRUE(torch::equal(r.detach(), r0));
}

TEST(NnQuantizerInPlace, SameBitsAndGradientsAsANewTensor) {
  torch::manual_seed(6);
  const auto data = torch::randn({4, 3, 8, 8});
  const auto weight = torch::randn({5, 3, 3, 3});
  auto run = [&](bool temporary) {
    auto q = make_q();
    q.backward_rounding = Rounding::stochastic;
    auto w = weight.clone().requires_grad_();
    torch::Tensor y;
    if (temporary) {
      y = q(torch::conv2d(data, w), nn::LayerType::conv);  // a temporary: rounded in place
    } else {
      const auto c = torch::conv2d(data, w);  // held: a new tensor
      y = q(c, nn::LayerType::conv);
    }
    (y * y).sum().backward();
    return std::make_pair(y.detach().clone(), w.grad().clone());
  };
  const auto a = run(true), b = run(false);
  EXPECT_TRUE(torch::equal(a.first, b.first));
  EXPECT_TRUE(torch::equal(a.second, b.second));
  EXPECT_TRUE(torch::equal(a.first, peppp::quantize(a.first, FloatFormat(4, 3))));  // on the grid
}
