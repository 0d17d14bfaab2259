// The named standard formats (QUANT.md "Standard formats"): bit-exact
// against the independent reference (standard_reference.hpp) under every
// kernel variant and with threads, the special cases the section names, the
// block structure along rows, stochastic rounding on the element grid, and
// the torch entry points.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "peppp/core/error.hpp"
#include "peppp/quant/kernel.hpp"
#include "peppp/quant/quantize.hpp"
#include "standard_reference.hpp"

using peppp::FloatFormat;
using peppp::Rounding;
using peppp::quant::quantize_rows;

namespace {

const float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

FloatFormat fmt(const std::string& label) { return FloatFormat::parse(label); }

std::vector<float> run(const std::vector<float>& in, std::size_t row, const std::string& label,
                       Rounding r = Rounding::nearest, int threads = 1, std::uint64_t seed = 0) {
  std::vector<float> out(in.size());
  quantize_rows(in.data(), out.data(), in.size(), row, fmt(label), r, seed, 0, threads);
  return out;
}

float q1(float x, const std::string& label) { return peppp::quant::quantize_value(x, fmt(label)); }

void expect_same(const std::vector<float>& got, const std::vector<float>& want, const std::vector<float>& in,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  int bad = 0;
  for (std::size_t i = 0; i < got.size() && bad < 10; ++i)
    if (!sref::same(got[i], want[i])) {
      ++bad;
      ADD_FAILURE() << what << " element " << i << ": in " << std::hexfloat << in[i] << " got " << got[i]
                    << " want " << want[i];
    }
}

class Standard : public ::testing::Test {
 protected:
  void TearDown() override { peppp::quant::set_kernel_isa(initial_); }
  std::string initial_ = peppp::quant::kernel_isa();
};

}  // namespace

TEST_F(Standard, ElementwiseFormatsMatchTheReferenceBitForBitUnderEveryVariant) {
  for (const auto& s : sref::specs()) {
    if (s.block != 1) continue;
    const auto in = sref::elementwise_inputs(s, 200000, 7);
    const auto want = sref::reference(in, in.size(), s);
    for (const auto& isa : peppp::quant::kernel_isas()) {
      peppp::quant::set_kernel_isa(isa);
      expect_same(run(in, 0, s.label), want, in, s.label + " " + isa);
      expect_same(run(in, 0, s.label, Rounding::nearest_even, 2), want, in, s.label + " nearest_even, 2 threads");
    }
  }
}

TEST_F(Standard, BlockFormatsMatchTheReferenceBitForBitUnderEveryVariant) {
  for (const auto& s : sref::specs()) {
    if (s.block == 1) continue;
    const std::size_t row = 1000;  // 31 blocks of 32 + one of 8 (nvfp4: 62 of 16 + one of 8)
    const auto in = sref::block_inputs(s, 300, row, 11);
    const auto want = sref::reference(in, row, s);
    for (const auto& isa : peppp::quant::kernel_isas()) {
      peppp::quant::set_kernel_isa(isa);
      expect_same(run(in, row, s.label), want, in, s.label + " " + isa);
    }
    expect_same(run(in, row, s.label, Rounding::nearest, 3), want, in, s.label + " 3 threads");
    std::vector<float> inplace = in;
    quantize_rows(inplace.data(), inplace.data(), in.size(), row, fmt(s.label), Rounding::nearest, 0, 0, 2);
    expect_same(inplace, want, in, s.label + " in place");
  }
}

TEST(StandardSpecial, OcpE4m3HasMax448NoInfinityAndKeepsNaN) {
  EXPECT_EQ(q1(448.0f, "ocp-e4m3"), 448.0f);
  EXPECT_EQ(q1(464.0f, "ocp-e4m3"), 448.0f);  // tie 448 / 480: even, and 480 does not exist
  EXPECT_EQ(q1(470.0f, "ocp-e4m3"), 448.0f);  // rounds to 480 > max: saturates
  EXPECT_EQ(q1(1e30f, "ocp-e4m3"), 448.0f);
  EXPECT_EQ(q1(kInf, "ocp-e4m3"), 448.0f);
  EXPECT_EQ(q1(-kInf, "ocp-e4m3"), -448.0f);
  EXPECT_TRUE(std::isnan(q1(kNaN, "ocp-e4m3")));
  EXPECT_EQ(q1(std::ldexp(1.0f, -9), "ocp-e4m3"), std::ldexp(1.0f, -9));  // min subnormal kept
  EXPECT_EQ(q1(std::ldexp(1.0f, -10), "ocp-e4m3"), 0.0f);                 // tie 0 / 2^-9: even
  EXPECT_EQ(q1(std::ldexp(3.0f, -11), "ocp-e4m3"), std::ldexp(1.0f, -9));
  EXPECT_EQ(ref::bits(q1(-std::ldexp(1.0f, -12), "ocp-e4m3")), 0x80000000u);  // -0 kept
  EXPECT_EQ(ref::bits(q1(-0.0f, "ocp-e4m3")), 0x80000000u);
  EXPECT_EQ(q1(1.0625f, "ocp-e4m3"), 1.0f);  // tie 1 / 1.125: even (nearest = ties to even)
  EXPECT_EQ(q1(1.1875f, "ocp-e4m3"), 1.25f);
  // The QPyTorch grid of the same bits goes one code further.
  EXPECT_EQ(peppp::quant::quantize_value(470.0f, FloatFormat(4, 3)), 480.0f);
}

TEST(StandardSpecial, OcpE5m2Fp16AndBf16) {
  EXPECT_EQ(q1(57344.0f, "ocp-e5m2"), 57344.0f);
  EXPECT_EQ(q1(61440.0f, "ocp-e5m2"), 57344.0f);  // tie 57344 / 65536: even is 65536 > max: saturate
  EXPECT_EQ(q1(kInf, "ocp-e5m2"), 57344.0f);
  EXPECT_EQ(q1(std::ldexp(1.0f, -16), "ocp-e5m2"), std::ldexp(1.0f, -16));
  EXPECT_EQ(q1(65504.0f, "fp16"), 65504.0f);
  EXPECT_EQ(q1(65519.0f, "fp16"), 65504.0f);
  EXPECT_EQ(q1(65520.0f, "fp16"), 65504.0f);  // the IEEE overflow tie: saturates (SATFINITE)
  EXPECT_EQ(q1(-kInf, "fp16"), -65504.0f);
  EXPECT_EQ(q1(std::ldexp(1.0f, -24), "fp16"), std::ldexp(1.0f, -24));
  EXPECT_EQ(q1(std::ldexp(1.0f, -25), "fp16"), 0.0f);
  EXPECT_EQ(q1(std::ldexp(3.0f, -26), "fp16"), std::ldexp(1.0f, -24));
  const float bmax = std::ldexp(255.0f, 120);  // 3.3895314e38
  EXPECT_EQ(q1(bmax, "bf16"), bmax);
  EXPECT_EQ(q1(std::numeric_limits<float>::max(), "bf16"), kInf);  // not saturating
  EXPECT_EQ(q1(-kInf, "bf16"), -kInf);
  EXPECT_TRUE(std::isnan(q1(-kNaN, "bf16")));
  EXPECT_EQ(q1(1.00390625f, "bf16"), 1.0f);  // tie: even
  EXPECT_EQ(q1(1.01171875f, "bf16"), 1.015625f);
  EXPECT_EQ(q1(std::ldexp(1.0f, -133), "bf16"), std::ldexp(1.0f, -133));  // bf16's min subnormal
  EXPECT_EQ(q1(std::ldexp(1.0f, -134), "bf16"), 0.0f);
}

TEST(StandardSpecial, MxBlockRules) {
  // Rule 1: a NaN or inf poisons its block only.
  std::vector<float> v(64, 1.0f);
  v[3] = kInf;
  auto q = run(v, 0, "mxfp8-e4m3");
  for (int i = 0; i < 32; ++i) EXPECT_TRUE(std::isnan(q[i])) << i;
  for (int i = 32; i < 64; ++i) EXPECT_EQ(q[i], 1.0f) << i;
  // Rule 2: an all-zero block keeps signed zeros.
  std::vector<float> z(32, 0.0f);
  z[5] = -0.0f;
  q = run(z, 0, "mxfp4");
  for (int i = 0; i < 32; ++i) EXPECT_EQ(ref::bits(q[i]), ref::bits(z[i]));
  // Rule 3/4: scale from amax; mxfp4 with amax = 7.9·2^8 (floor(log2) = 10 = 8 + emax_elem): X = 2^8.
  std::vector<float> m(32, 0.0f);
  const float X = 256.0f;
  const float vals[] = {6 * X, 0.25f * X, 0.5f * X, 0.75f * X, 1.25f * X, 2.5f * X, 3.5f * X, 5.0f * X, -1.75f * X, 7.9f * X};
  for (int i = 0; i < 10; ++i) m[i] = vals[i];
  q = run(m, 0, "mxfp4");
  // E2M1 grid {0, .5, 1, 1.5, 2, 3, 4, 6}: ties to even (0.25 -> 0, 0.75 -> 1, 1.25 -> 1, 2.5 -> 2, 3.5 -> 4,
  // 5 -> 4, -1.75 -> -2), 7.9 saturates at 6.
  const float want[] = {6 * X, 0.0f, 0.5f * X, 1.0f * X, 1.0f * X, 2.0f * X, 4.0f * X, 4.0f * X, -2.0f * X, 6 * X};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(q[i], want[i]) << i;
  // amax in the top half of the element's top binade saturates at max·X: mxfp8-e4m3, amax = 500.
  std::vector<float> s(32, 1.0f);
  s[0] = 500.0f;
  q = run(s, 0, "mxfp8-e4m3");
  EXPECT_EQ(q[0], 448.0f);  // X = 2^0 (floor(log2 500) = 8 = emax_elem)
  EXPECT_EQ(q[1], 1.0f);
  // Scale clamped at 2^-127: a block of float32 subnormals keeps them on the element grid of 2^-127.
  std::vector<float> t(32, 0.0f);
  t[0] = std::ldexp(1.0f, -130);  // floor(log2) - 8 = -138: clamped to -127; element 2^-3 (normal)
  t[1] = std::ldexp(1.0f, -136);  // element 2^-9: E4M3's smallest subnormal
  t[2] = std::ldexp(1.0f, -138);  // element 2^-11, below half of 2^-9: 0
  t[3] = std::ldexp(3.0f, -138);  // element 1.5·2^-10 > half: 2^-9
  q = run(t, 0, "mxfp8-e4m3");
  EXPECT_EQ(q[0], std::ldexp(1.0f, -130));
  EXPECT_EQ(q[1], std::ldexp(1.0f, -136));
  EXPECT_EQ(q[2], 0.0f);
  EXPECT_EQ(q[3], std::ldexp(1.0f, -136));
  EXPECT_EQ(q, sref::reference(t, 32, sref::spec("mxfp8-e4m3")));
}

TEST(StandardSpecial, BlocksFollowRowsAndNeverStraddleThem) {
  // Rows of 40: blocks [0, 32), [32, 40) per row. A large value in row 0's short block must not scale row 1.
  std::vector<float> v(80, 1.0f);
  v[35] = 1000.0f;
  v[40] = 1.3f;
  const auto q = run(v, 40, "mxfp4");
  EXPECT_EQ(q[0], 1.0f);
  EXPECT_EQ(q[36], 0.0f);  // 1 in a block with amax 1000: X = 2^7, 1/128 rounds to 0
  EXPECT_EQ(q[40], 1.5f);  // row 1's block has its own scale (amax 1.3: X = 2^-2)
  EXPECT_EQ(q, sref::reference(v, 40, sref::spec("mxfp4")));
  // One row (row_length 0) differs: the block [32, 64) spans both rows.
  const auto one = run(v, 0, "mxfp4");
  EXPECT_EQ(one[40], 0.0f);
  EXPECT_THROW(run(v, 30, "mxfp4"), peppp::InputError);  // 80 is not whole rows of 30
}

TEST(StandardSpecial, Nvfp4TensorAndBlockScales) {
  EXPECT_EQ(peppp::quant::nvfp4_tensor_scale(std::vector<float>(4, 0.0f).data(), 4), 1.0f);
  std::vector<float> v(32, 0.0f);
  v[0] = 2688.0f;  // t = 1; block 0: x_b = 448, X_b = 448
  v[1] = 448.0f * 1.25f;
  v[16] = 3.0f;    // block 1: x_b = rne_e4m3(0.5) = 0.5, X_b = 0.5: elements 3 -> 6 · 0.5
  v[17] = -0.2f;   // -0.4 -> -0.5 (e2m1), times 0.5
  v[18] = 0.1f;    // 0.2 -> 0
  const auto q = run(v, 0, "nvfp4");
  EXPECT_EQ(q[0], 2688.0f);
  EXPECT_EQ(q[1], 448.0f);  // 1.25 -> 1 (tie to even)
  EXPECT_EQ(q[16], 3.0f);
  EXPECT_EQ(q[17], -0.25f);
  EXPECT_EQ(q[18], 0.0f);
  EXPECT_EQ(peppp::quant::nvfp4_tensor_scale(v.data(), v.size()), 1.0f);
  // A block whose x_b rounds to 0 becomes signed zeros.
  std::vector<float> w(32, 0.0f);
  w[0] = 1e6f;
  w[16] = -1e-4f;
  const auto r = run(w, 0, "nvfp4");
  EXPECT_EQ(ref::bits(r[16]), 0x80000000u);
  EXPECT_EQ(r, sref::reference(w, 32, sref::spec("nvfp4")));
  // NaN in one block: that block NaN, t from the finite values.
  w[20] = kNaN;
  const auto n = run(w, 0, "nvfp4");
  EXPECT_EQ(n[0], r[0]);
  for (int i = 16; i < 32; ++i) EXPECT_TRUE(std::isnan(n[i]));
}

TEST(StandardStochastic, UnbiasedOnTheElementGridOfEachBlockFormat) {
  for (const auto& label : {"mxfp8-e4m3", "mxfp8-e5m2", "mxfp6-e3m2", "mxfp6-e2m3", "mxfp4", "nvfp4"}) {
    const auto& s = sref::spec(label);
    const std::size_t k = static_cast<std::size_t>(s.block);
    // Element 0 of each block fixes the scale at X = 2^-3 (MX: amax = 1.5·2^(emax-3)); the others are x.
    const float amax = 1.5f * std::ldexp(1.0f, s.emax - 3);
    for (float frac : {0.3f, 0.0625f, 0.9f}) {
      for (const bool sub : {false, true}) {
        // A normal element value 1.x·2^-3·2^1 or one in the element's subnormal range, on a grid point + frac·ulp.
        const int e = sub ? s.emin - 1 : s.emin + 1;
        const float ulp = std::ldexp(1.0f, (sub ? s.emin : e) - s.m - 3);
        const float lo = sub ? 3 * ulp : std::ldexp(1.0f, e - 3) + ulp;
        const float x = lo + frac * ulp;
        std::vector<float> v(k * 4096, x);
        for (std::size_t b = 0; b < v.size(); b += k) v[b] = amax;
        if (s.nvfp4) v[0] = amax;  // t from amax: x_b = rne_e4m3(amax/6/t) = 448, X_b = amax/6
        std::vector<float> q(v.size());
        quantize_rows(v.data(), q.data(), v.size(), v.size(), fmt(label), Rounding::stochastic, 5, 0, 1);
        // The element grid of this block, for nvfp4 from its own scale.
        double lo_g = lo, hi_g = lo + ulp;
        if (s.nvfp4) {
          // x_b = rne_e4m3(amax / 6 / t) = 448 (amax / 6 / t is 448 within float32's rounding of t).
          const double Xb = 448.0 * static_cast<double>(peppp::quant::nvfp4_tensor_scale(v.data(), v.size()));
          const double y = x / Xb;
          const double u = y < 1 ? 0.5 : (y < 2 ? 0.5 : (y < 4 ? 1.0 : 2.0));
          lo_g = std::floor(y / u) * u * Xb;
          hi_g = lo_g + u * Xb;
        }
        double sum = 0;
        std::size_t n = 0, ups = 0;
        for (std::size_t i = 0; i < q.size(); ++i) {
          if (i % k == 0) continue;
          ASSERT_TRUE(q[i] == static_cast<float>(lo_g) || q[i] == static_cast<float>(hi_g))
              << label << " x " << x << " got " << q[i] << " lo " << lo_g << " hi " << hi_g;
          sum += q[i];
          ups += q[i] == static_cast<float>(hi_g);
          ++n;
        }
        const double p = (x - lo_g) / (hi_g - lo_g);
        const double se = std::sqrt(p * (1 - p) / static_cast<double>(n));
        EXPECT_NEAR(static_cast<double>(ups) / static_cast<double>(n), p, 5 * se + 1e-9)
            << label << " frac " << frac << (sub ? " subnormal element" : "");
        EXPECT_NEAR(sum / static_cast<double>(n), x, (hi_g - lo_g) * (5 * se + 1e-9)) << label;
      }
    }
  }
}

TEST(StandardStochastic, ReproducibleWhateverTheThreadsAndSymmetricInSign) {
  for (const auto& s : sref::specs()) {
    const auto in = s.block == 1 ? sref::elementwise_inputs(s, 50000, 3) : sref::block_inputs(s, 200, 1000, 3);
    const std::size_t row = s.block == 1 ? 0 : 1000;
    const auto a = run(in, row, s.label, Rounding::stochastic, 1, 9);
    const auto b = run(in, row, s.label, Rounding::stochastic, 3, 9);
    expect_same(b, a, in, s.label + " stochastic, 3 threads vs 1");
    std::vector<float> neg(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) neg[i] = -in[i];
    const auto c = run(neg, row, s.label, Rounding::stochastic, 1, 9);
    for (std::size_t i = 0; i < in.size(); ++i)
      if (!std::isnan(a[i])) ASSERT_EQ(ref::bits(c[i]), ref::bits(a[i]) ^ 0x80000000u) << s.label << " " << i;
    // Representable values come back unchanged: the default rounding's outputs are on the grid.
    const auto g = run(in, row, s.label);
    const auto h = run(g, row, s.label, Rounding::stochastic, 1, 9);
    if (s.label != "nvfp4") expect_same(h, g, g, s.label + " stochastic of grid values");
  }
}

TEST(StandardTensor, TorchEntryPointsUseTheLastDimensionAsRows) {
  torch::manual_seed(3);
  const auto x = torch::randn({3, 5, 40}) * 100;
  for (const auto& label : {"mxfp8-e4m3", "mxfp4", "nvfp4", "ocp-e4m3", "bf16"}) {
    const auto f = fmt(label);
    const auto q = peppp::quantize(x, f, Rounding::nearest);
    std::vector<float> in(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
    const auto want = run(in, 40, label);
    EXPECT_EQ(std::memcmp(q.data_ptr<float>(), want.data(), 4 * want.size()), 0) << label;
    auto y = x.clone();
    peppp::quantize_(y, f, Rounding::stochastic, 4);
    EXPECT_TRUE(torch::equal(y, peppp::quantize(x, f, Rounding::stochastic, 4))) << label;
    EXPECT_TRUE(torch::equal(peppp::quantize_generic(x, f, Rounding::stochastic, 4), y)) << label;
    EXPECT_TRUE(torch::equal(peppp::quantize_generic(x, f), q)) << label;
    // Non-contiguous input: the rows are still the last dimension of the logical shape.
    const auto t = x.transpose(0, 1);
    EXPECT_TRUE(torch::equal(peppp::quantize(t, f), peppp::quantize(t.contiguous(), f))) << label;
  }
}
