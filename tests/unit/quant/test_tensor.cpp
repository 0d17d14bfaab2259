// The torch entry points: shapes, strides, in place, dtype errors.
#include <gtest/gtest.h>

#include "peppp/core/error.hpp"
#include "peppp/quant/quantize.hpp"

using peppp::FloatFormat;
using peppp::Rounding;

TEST(QuantizeTensor, KeepsShapeAndAcceptsNonContiguous) {
  torch::manual_seed(1);
  const auto base = torch::randn({64, 48}) * 100;
  const auto t = base.t();  // non-contiguous view
  ASSERT_FALSE(t.is_contiguous());
  const auto q = peppp::quantize(t, FloatFormat(4, 3));
  EXPECT_EQ(q.sizes(), t.sizes());
  EXPECT_TRUE(q.is_contiguous());
  EXPECT_TRUE(torch::equal(q, peppp::quantize(t.contiguous(), FloatFormat(4, 3))));
  EXPECT_TRUE(torch::equal(q, peppp::quantize_generic(t, FloatFormat(4, 3))));
  EXPECT_LE(q.abs().max().item<float>(), 480.0f);
  EXPECT_FALSE(torch::equal(q, t));  // it did round
}

TEST(QuantizeTensor, InPlaceMatchesNewTensorAlsoOnViews) {
  torch::manual_seed(2);
  auto x = torch::randn({1000, 70});
  const auto want = peppp::quantize(x, FloatFormat(5, 2), Rounding::stochastic, 3, 5);
  auto y = x.clone();
  peppp::quantize_(y, FloatFormat(5, 2), Rounding::stochastic, 3, 5);
  EXPECT_TRUE(torch::equal(y, want));
  // A strided view: rounded through a copy and written back into the base.
  auto base = x.clone();
  auto view = base.slice(1, 0, 70, 2);
  const auto want_view = peppp::quantize(view, FloatFormat(3, 1));
  peppp::quantize_(view, FloatFormat(3, 1));
  EXPECT_TRUE(torch::equal(base.slice(1, 0, 70, 2), want_view));
  EXPECT_TRUE(torch::equal(base.slice(1, 1, 70, 2), x.slice(1, 1, 70, 2)));  // the rest untouched
}

TEST(QuantizeTensor, RejectsOtherDtypesNamingFloat32) {
  for (auto dt : {torch::kFloat64, torch::kFloat16, torch::kInt32}) {
    try {
      peppp::quantize(torch::ones({4}, dt), FloatFormat(4, 3));
      ADD_FAILURE();
    } catch (const peppp::InputError& e) {
      EXPECT_NE(std::string(e.what()).find("allowed: float32"), std::string::npos) << e.what();
    }
    auto t = torch::ones({4}, dt);
    EXPECT_THROW(peppp::quantize_(t, FloatFormat(4, 3)), peppp::InputError);
  }
}

TEST(QuantizeTensor, EmptyScalarAndRequiresGradInputs) {
  EXPECT_EQ(peppp::quantize(torch::empty({0, 3}), FloatFormat(4, 3)).sizes(), torch::IntArrayRef({0, 3}));
  EXPECT_EQ(peppp::quantize(torch::tensor(1.0625f), FloatFormat(4, 3)).item<float>(), 1.125f);
  const auto w = torch::full({8}, 1.0625f).requires_grad_(true);
  const auto q = peppp::quantize(w, FloatFormat(4, 3));
  EXPECT_FALSE(q.requires_grad());
  EXPECT_EQ(q[3].item<float>(), 1.125f);
}

TEST(QuantizeTensor, LargeTensorUsesThreadsAndMatchesGeneric) {
  torch::manual_seed(3);
  const auto x = torch::randn({1 << 21}) * 1e3;
  for (Rounding r : {Rounding::nearest, Rounding::stochastic}) {
    EXPECT_TRUE(torch::equal(peppp::quantize(x, FloatFormat(5, 2), r, 8).view(torch::kInt32),
                             peppp::quantize_generic(x, FloatFormat(5, 2), r, 8).view(torch::kInt32)));
  }
}

TEST(QuantizeTensor, IntoGivenOutputMatchesAndChecksShape) {
  torch::manual_seed(4);
  const auto x = torch::randn({300, 7}) * 50;
  auto out = torch::empty({300, 7});
  const void* where = out.data_ptr();
  peppp::quantize_into(x, out, FloatFormat(4, 3), Rounding::stochastic, 9, 2);
  EXPECT_EQ(out.data_ptr(), where);  // written in place, no new storage
  EXPECT_TRUE(torch::equal(out, peppp::quantize(x, FloatFormat(4, 3), Rounding::stochastic, 9, 2)));
  auto strided = torch::empty({7, 300}).t();  // non-contiguous output
  peppp::quantize_into(x, strided, FloatFormat(4, 3));
  EXPECT_TRUE(torch::equal(strided, peppp::quantize(x, FloatFormat(4, 3))));
  auto self = x.clone();
  peppp::quantize_into(self, self, FloatFormat(3, 1));
  EXPECT_TRUE(torch::equal(self, peppp::quantize(x, FloatFormat(3, 1))));
  auto wrong = torch::empty({7, 300});
  EXPECT_THROW(peppp::quantize_into(x, wrong, FloatFormat(4, 3)), peppp::InputError);
  auto dbl = torch::empty({300, 7}, torch::kFloat64);
  EXPECT_THROW(peppp::quantize_into(x, dbl, FloatFormat(4, 3)), peppp::InputError);
}
