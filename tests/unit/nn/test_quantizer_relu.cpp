// The fused relu + activation quantizer (ActivationQuantizer::relu,
// peppp::quantize_relu, quant::quantize_relu_buffer) against the pair it
// replaces, q(torch::relu(x)): the same bits forward, the same gradient
// bits backward, the same counter, counts and observer calls, for inputs
// with -0, NaN of both signs, ±inf and values that round to zero, every
// kernel variant, nearest and stochastic streams.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "peppp/nn/model.hpp"
#include "peppp/quant/kernel.hpp"
#include "peppp/quant/quantize.hpp"

using peppp::FloatFormat;
using peppp::Rounding;
namespace nn = peppp::nn;

namespace {

// Bitwise equality (torch::equal says -0 == +0 and NaN != NaN).
bool same_bits(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.detach().contiguous(), y = b.detach().contiguous();
  return x.sizes() == y.sizes() && std::memcmp(x.data_ptr<float>(), y.data_ptr<float>(), x.numel() * 4) == 0;
}

float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// Normal values, tiny ones (below half the smallest subnormal of e4m3:
// round to ±0), -0, NaN of both signs, ±inf; the first 4096 elements in
// long normal runs (the kernel's normal-range shortcut), the rest mixed.
torch::Tensor special_input(std::int64_t n) {
  torch::manual_seed(3);
  auto x = torch::randn({n});
  float* p = x.data_ptr<float>();
  const std::uint32_t specials[] = {0x80000000u, 0x00000000u, 0xff800000u, 0x7f800000u, 0x7fc00001u,
                                    0xffc00007u, 0x80000001u, 0x3a000000u, 0xba000000u, 0xb9800001u};
  for (std::int64_t i = 4096; i < n; i += 7) p[i] = from_bits(specials[(i / 7) % 10]);
  for (std::int64_t i = 0; i < 4096; i += 97) p[i] = from_bits(i % 2 ? 0x80000000u : 0xff800000u);
  return x;
}

}  // namespace

TEST(NnQuantizerRelu, TorchReluBitsAsTheKernelAssumes) {
  // relu_bits in the kernel: negatives (-inf included) to +0; -0 and NaN kept.
  const auto x = special_input(8192);
  const auto r = torch::relu(x);
  const float* xp = x.data_ptr<float>();
  const float* rp = r.data_ptr<float>();
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    std::uint32_t b, got;
    std::memcpy(&b, xp + i, 4);
    std::memcpy(&got, rp + i, 4);
    const std::uint32_t want = (b > 0x80000000u && b <= 0xff800000u) ? 0u : b;
    ASSERT_EQ(got, want) << "element " << i << " bits " << std::hex << b;
  }
}

TEST(NnQuantizerRelu, QuantizeReluIsQuantizeOfRelu) {
  const auto x = special_input(150005).reshape({-1, 5});  // > 2 * 65536: two threads split it;
  const FloatFormat fs[] = {FloatFormat(4, 3), FloatFormat(5, 2), FloatFormat(8, 23), FloatFormat(2, 1),
                            FloatFormat::parse("ocp-e4m3"), FloatFormat::parse("bf16"),
                            FloatFormat::parse("mxfp8-e4m3")};
  const auto initial = std::string(peppp::quant::kernel_isa());
  for (const auto& isa : peppp::quant::kernel_isas()) {
    peppp::quant::set_kernel_isa(isa);
    for (const auto& f : fs)
      for (Rounding r : {Rounding::nearest, Rounding::nearest_even, Rounding::stochastic}) {
        const auto want = peppp::quantize(torch::relu(x), f, r, 17, 3);
        EXPECT_TRUE(same_bits(peppp::quantize_relu(x, f, r, 17, 3), want)) << isa << " " << f.label() << " "
                                                                            << peppp::label(r);
        auto buf = x.contiguous().clone();  // in place through the buffer form
        peppp::quant::quantize_relu_rows(buf.data_ptr<float>(), buf.data_ptr<float>(), buf.numel(), 5, f, r, 17, 3,
                                         2);
        EXPECT_TRUE(same_bits(buf, want)) << isa << " in place " << f.label() << " " << peppp::label(r);
      }
  }
  peppp::quant::set_kernel_isa(initial);
}

TEST(NnQuantizerRelu, SameBitsGradientsAndCountsAsReluThenQuantize) {
  torch::manual_seed(8);
  const auto data = torch::randn({4, 3, 10, 10});
  const auto weight = torch::randn({6, 3, 3, 3}) * 0.3;
  const auto upstream = torch::randn({4, 6, 8, 8});
  for (Rounding fr : {Rounding::nearest, Rounding::stochastic})
    for (Rounding br : {Rounding::nearest, Rounding::stochastic}) {
      auto run = [&](bool fused) {
        nn::ActivationQuantizer q;
        q.format = FloatFormat(4, 3);
        q.enabled = true;
        q.seed = 21;
        q.forward_rounding = fr;
        q.backward_rounding = br;
        std::map<std::string, std::int64_t> counts;
        q.counts = &counts;
        std::vector<torch::Tensor> seen;
        q.observer = [&](nn::LayerType t, const torch::Tensor& y) {
          if (t == nn::LayerType::relu) seen.push_back(y.detach().clone());
        };
        auto w = weight.clone().requires_grad_();
        auto c = torch::conv2d(data, w);
        // -0 and tiny values among the relu inputs (round to 0: relu's mask must come from c, not q(c))
        c = c * (c.abs() > 2.5).to(torch::kFloat32) + (c.abs() <= 2.5).to(torch::kFloat32) * c * 1e-4;
        c = torch::where(c.abs() < 1e-5, -torch::zeros_like(c), c);
        torch::Tensor y = fused ? q.relu(c) : q(torch::relu(c), nn::LayerType::relu);
        torch::Tensor y2 = q(y * 3, nn::LayerType::conv);  // a second point after it: same counter
        (y2 * upstream).sum().backward();
        return std::make_tuple(y.detach().clone(), y2.detach().clone(), w.grad().clone(), q.counter, counts, seen);
      };
      const auto a = run(true), b = run(false);
      EXPECT_TRUE(same_bits(std::get<0>(a), std::get<0>(b))) << "forward";
      EXPECT_TRUE(same_bits(std::get<1>(a), std::get<1>(b))) << "next layer";
      EXPECT_TRUE(same_bits(std::get<2>(a), std::get<2>(b))) << "weight gradient";
      EXPECT_EQ(std::get<3>(a), std::get<3>(b));
      EXPECT_EQ(std::get<4>(a), std::get<4>(b));
      ASSERT_EQ(std::get<5>(a).size(), 1u);
      ASSERT_EQ(std::get<5>(b).size(), 1u);
      EXPECT_TRUE(same_bits(std::get<5>(a)[0], std::get<5>(b)[0]));
    }
}

TEST(NnQuantizerRelu, DisabledIsTorchRelu) {
  nn::ActivationQuantizer q;
  const auto x = special_input(5000);
  EXPECT_TRUE(same_bits(q.relu(x), torch::relu(x)));
  EXPECT_EQ(q.counter, 0u);
}

TEST(NnQuantizerRelu, InputIsLeftAsItIs) {
  nn::ActivationQuantizer q;
  q.format = FloatFormat(4, 3);
  q.enabled = true;
  const auto x = special_input(5000);
  const auto before = x.clone();
  const auto y = q.relu(x);
  EXPECT_TRUE(same_bits(x, before));
  EXPECT_NE(y.data_ptr(), x.data_ptr());
}
