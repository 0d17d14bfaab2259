// The new-tensor form's recycled outputs (quantize.cpp's output pool): a
// reused buffer's old contents never show, shapes and resizing behave like
// any torch tensor, and the bits equal the buffer → buffer kernel's.
#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "peppp/quant/kernel.hpp"
#include "peppp/quant/quantize.hpp"

using peppp::FloatFormat;
using peppp::Rounding;

namespace {
torch::Tensor reference(const torch::Tensor& x, FloatFormat f, Rounding r, std::uint64_t seed) {
  auto out = torch::empty_like(x);
  peppp::quant::quantize_buffer(x.data_ptr<float>(), out.data_ptr<float>(), static_cast<std::size_t>(x.numel()), f,
                                r, seed, 0, 1);
  return out;
}
}  // namespace

TEST(QuantizePool, RecycledOutputsShowNoOldContents) {
  torch::manual_seed(3);
  const auto x = torch::randn({256, 300}) * 10;  // 300 KiB: from the pool
  for (int round = 0; round < 4; ++round) {
    {
      auto junk = peppp::quantize(torch::full({256, 300}, std::numeric_limits<float>::quiet_NaN()), FloatFormat(4, 3));
      junk.fill_(12345.0f);
    }  // back to the pool, full of junk
    for (Rounding r : {Rounding::nearest, Rounding::stochastic}) {
      const auto q = peppp::quantize(x, FloatFormat(4, 3), r, 7 + round);
      EXPECT_TRUE(torch::equal(q, reference(x, FloatFormat(4, 3), r, 7 + round)));
    }
  }
}

TEST(QuantizePool, OutputsAreOrdinaryTensors) {
  const auto x = torch::randn({64, 1024});
  auto q = peppp::quantize(x, FloatFormat(5, 2));
  EXPECT_TRUE(q.is_contiguous());
  EXPECT_EQ(q.sizes(), x.sizes());
  auto keep = q.view({-1}).slice(0, 0, 10).clone();
  q.resize_({128, 1024});  // resizable storage (the pool is its allocator)
  EXPECT_EQ(q.numel(), 128 * 1024);
  EXPECT_TRUE(torch::equal(q.view({-1}).slice(0, 0, 10), keep));
  std::vector<torch::Tensor> many;
  for (int i = 0; i < 8; ++i) many.push_back(peppp::quantize(x, FloatFormat(5, 2)));  // several live at once
  for (const auto& m : many) EXPECT_TRUE(torch::equal(m, many.front()));
}
