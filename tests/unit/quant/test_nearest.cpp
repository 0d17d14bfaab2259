// Deterministic rounding (nearest, nearest_even) against the independent
// long double reference, one QUANT.md rule per test, on all three paths.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "peppp/quant/kernel.hpp"
#include "peppp/quant/quantize.hpp"
#include "reference.hpp"

using peppp::FloatFormat;
using peppp::Rounding;

namespace {

enum class Path { kernel, tensor, generic };

std::vector<float> run(Path path, const std::vector<float>& in, FloatFormat f, Rounding r) {
  std::vector<float> out(in.size());
  if (path == Path::kernel) {
    peppp::quant::quantize_buffer(in.data(), out.data(), in.size(), f, r);
    return out;
  }
  auto x = torch::from_blob(const_cast<float*>(in.data()), {static_cast<long>(in.size())}, torch::kFloat32);
  auto y = path == Path::tensor ? peppp::quantize(x, f, r) : peppp::quantize_generic(x, f, r);
  std::memcpy(out.data(), y.data_ptr<float>(), in.size() * 4);
  return out;
}

// Bitwise comparison with the reference on every path; reports the first few misses.
void expect_reference(const std::vector<float>& in, FloatFormat f, Rounding r) {
  const bool even = r == Rounding::nearest_even;
  for (Path path : {Path::kernel, Path::tensor, Path::generic}) {
    const auto out = run(path, in, f, r);
    std::size_t bad = 0;
    std::ostringstream os;
    for (std::size_t i = 0; i < in.size(); ++i) {
      const float want = ref::round(in[i], f, even);
      if (ref::bits(out[i]) != ref::bits(want) && !(std::isnan(want) && std::isnan(out[i]))) {
        if (bad++ < 5)
          os << "\n  x=" << std::hexfloat << in[i] << " got " << out[i] << " want " << want << std::defaultfloat;
      }
    }
    EXPECT_EQ(bad, 0u) << f.label() << " " << peppp::label(r) << " path " << static_cast<int>(path) << " of "
                       << in.size() << os.str();
  }
}

std::vector<FloatFormat> small_formats() {
  std::vector<FloatFormat> v;
  for (int e = 2; e <= 8; ++e)
    for (int m = 1; m <= 23; ++m)
      if (e + m <= 13 || (e == 4 && m == 3) || (e == 5 && m == 2) || (e == 8 && m == 7) || (e == 5 && m == 10))
        v.emplace_back(e, m);
  return v;
}

std::vector<FloatFormat> large_formats() {
  return {FloatFormat(8, 23), FloatFormat(8, 10), FloatFormat(8, 22), FloatFormat(5, 23), FloatFormat(6, 15),
          FloatFormat(7, 20), FloatFormat(2, 23), FloatFormat(3, 21)};
}

}  // namespace

// Every representable value, every midpoint (tie), the float32 neighbours of
// each, both signs: exhaustive for small formats, sampled for large ones.
TEST(Nearest, ExhaustiveSmallFormatsMatchReference) {
  for (const auto& f : small_formats()) expect_reference(ref::edge_inputs(f), f, Rounding::nearest);
}

TEST(Nearest, SampledLargeFormatsMatchReference) {
  for (const auto& f : large_formats()) expect_reference(ref::edge_inputs(f, 1u << 14), f, Rounding::nearest);
}

TEST(NearestEven, ExhaustiveSmallFormatsMatchReference) {
  for (const auto& f : small_formats()) expect_reference(ref::edge_inputs(f), f, Rounding::nearest_even);
}

TEST(NearestEven, SampledLargeFormatsMatchReference) {
  for (const auto& f : large_formats()) expect_reference(ref::edge_inputs(f, 1u << 14), f, Rounding::nearest_even);
}

TEST(Nearest, RepresentableValuesAreFixedPoints) {
  for (const FloatFormat f : {FloatFormat(4, 3), FloatFormat(5, 2), FloatFormat(3, 1), FloatFormat(8, 7)}) {
    for (std::uint64_t i = 0; i < ref::grid_size(f); ++i) {
      const long double v = ref::grid_value(f, i);
      if (v > std::numeric_limits<float>::max()) break;
      const float x = static_cast<float>(v);
      ASSERT_EQ(peppp::quant::quantize_value(x, f), x) << f.label();
      ASSERT_EQ(peppp::quant::quantize_value(-x, f), -x) << f.label();
    }
  }
}

TEST(Nearest, TiesGoAwayFromZeroAndEvenModeToEven) {
  const FloatFormat f(4, 3);  // 1.0, 1.125, 1.25: ulp 0.125 in [1, 2)
  EXPECT_EQ(peppp::quant::quantize_value(1.0625f, f), 1.125f);
  EXPECT_EQ(peppp::quant::quantize_value(-1.0625f, f), -1.125f);
  EXPECT_EQ(peppp::quant::quantize_value(1.1875f, f), 1.25f);
  EXPECT_EQ(peppp::quant::quantize_value(1.0625f, f, Rounding::nearest_even), 1.0f);
  EXPECT_EQ(peppp::quant::quantize_value(1.1875f, f, Rounding::nearest_even), 1.25f);
  EXPECT_EQ(peppp::quant::quantize_value(std::nextafter(1.0625f, 0.0f), f), 1.0f);
  // A round-up carries into the next binade.
  EXPECT_EQ(peppp::quant::quantize_value(1.9375f, f), 2.0f);
}

TEST(Nearest, SubnormalGridIsExactIncludingBelowTies) {
  const FloatFormat f(3, 1);  // P = 0.125, min normal 0.25
  EXPECT_EQ(peppp::quant::quantize_value(0.0625f, f), 0.125f);  // tie P/2 -> P (away)
  EXPECT_EQ(peppp::quant::quantize_value(0.0625f, f, Rounding::nearest_even), 0.0f);
  EXPECT_EQ(peppp::quant::quantize_value(0.1875f, f), 0.25f);   // 1.5 P -> 2 P = min normal
  EXPECT_EQ(peppp::quant::quantize_value(std::nextafter(0.0625f, 0.0f), f), 0.0f);
  // Just below a subnormal tie, where fl32(x + 2^emin) - 2^emin would round
  // twice (QPyTorch gives P here); one exact rounding gives 0.
  const FloatFormat e4m3(4, 3);  // emin = -6, P = 2^-9
  const float x = std::ldexp(1.0f - std::ldexp(1.0f, -24), -10);
  EXPECT_EQ(peppp::quant::quantize_value(x, e4m3), 0.0f);
  EXPECT_EQ(peppp::quant::quantize_value(std::ldexp(1.0f, -10), e4m3), std::ldexp(1.0f, -9));
  // float32 subnormal inputs on an E < 8 format flush to the right multiple of P.
  EXPECT_EQ(peppp::quant::quantize_value(std::numeric_limits<float>::denorm_min(), e4m3), 0.0f);
}

TEST(Nearest, SaturatesForSmallExponentsAndOverflowsToInfForE8) {
  const float inf = std::numeric_limits<float>::infinity();
  const FloatFormat e4m3(4, 3), e5m2(5, 2), e8m7(8, 7);
  EXPECT_EQ(peppp::quant::quantize_value(480.0f, e4m3), 480.0f);
  EXPECT_EQ(peppp::quant::quantize_value(500.0f, e4m3), 480.0f);
  EXPECT_EQ(peppp::quant::quantize_value(-1e30f, e4m3), -480.0f);
  EXPECT_EQ(peppp::quant::quantize_value(122880.0f, e5m2), 114688.0f);  // the tie above max
  EXPECT_EQ(peppp::quant::quantize_value(inf, e4m3), 480.0f);
  EXPECT_EQ(peppp::quant::quantize_value(-inf, e5m2), -114688.0f);
  EXPECT_EQ(peppp::quant::quantize_value(std::numeric_limits<float>::max(), e8m7), inf);
  EXPECT_EQ(peppp::quant::quantize_value(-std::numeric_limits<float>::max(), e8m7), -inf);
  EXPECT_EQ(peppp::quant::quantize_value(inf, e8m7), inf);
  EXPECT_EQ(peppp::quant::quantize_value(-inf, e8m7), -inf);
}

TEST(Nearest, SignOfZeroIsKept) {
  for (Rounding r : {Rounding::nearest, Rounding::nearest_even, Rounding::stochastic}) {
    for (const FloatFormat f : {FloatFormat(4, 3), FloatFormat(8, 7), FloatFormat(2, 1)}) {
      SCOPED_TRACE(f.label());
      EXPECT_EQ(ref::bits(peppp::quant::quantize_value(0.0f, f, r)), 0u);
      EXPECT_EQ(ref::bits(peppp::quant::quantize_value(-0.0f, f, r)), 0x80000000u);
      const float tiny = -std::ldexp(1.0f, -40);  // below P/2 for E < 8
      if (r != Rounding::stochastic && f.exponent_bits() < 8) EXPECT_EQ(ref::bits(peppp::quant::quantize_value(tiny, f, r)), 0x80000000u);
    }
  }
}

TEST(Nearest, NaNStaysNaNWithItsBits) {
  for (Rounding r : {Rounding::nearest, Rounding::nearest_even, Rounding::stochastic})
    for (const FloatFormat f : {FloatFormat(4, 3), FloatFormat(5, 2), FloatFormat(8, 7), FloatFormat(8, 23)})
      for (std::uint32_t b : {0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u, 0x7fffffffu, 0x7fa00000u}) {
        std::vector<float> in(3, ref::from_bits(b));
        std::vector<float> out(3);
        peppp::quant::quantize_buffer(in.data(), out.data(), in.size(), f, r, 7);
        EXPECT_EQ(ref::bits(out[0]), b) << f.label();
        auto g = peppp::quantize_generic(torch::from_blob(in.data(), {3}, torch::kFloat32), f, r, 7);
        EXPECT_EQ(ref::bits(g.data_ptr<float>()[1]), b) << f.label();  // not item(): via double it quiets sNaN
      }
}

TEST(Nearest, E8M23IsTheIdentityOnEveryBitPattern) {
  std::mt19937 rng(3);
  std::vector<float> in(1 << 20);
  for (auto& v : in) v = ref::from_bits(rng());
  for (Rounding r : {Rounding::nearest, Rounding::nearest_even, Rounding::stochastic}) {
    std::vector<float> out(in.size());
    peppp::quant::quantize_buffer(in.data(), out.data(), in.size(), FloatFormat(8, 23), r, 11);
    EXPECT_EQ(std::memcmp(in.data(), out.data(), in.size() * 4), 0) << peppp::label(r);
  }
}

TEST(Paths, FusedAndGenericAgreeOnMillionsOfRandomBitPatterns) {
  std::mt19937 rng(5);
  std::vector<float> in(1 << 20);
  for (auto& v : in) v = ref::from_bits(rng());
  auto x = torch::from_blob(in.data(), {static_cast<long>(in.size())}, torch::kFloat32);
  for (const FloatFormat f : {FloatFormat(4, 3), FloatFormat(5, 2), FloatFormat(8, 7), FloatFormat(2, 1),
                              FloatFormat(7, 20), FloatFormat(6, 9)}) {
    for (Rounding r : {Rounding::nearest, Rounding::nearest_even, Rounding::stochastic}) {
      const auto a = peppp::quantize(x, f, r, 42, 1000);
      const auto b = peppp::quantize_generic(x, f, r, 42, 1000);
      EXPECT_TRUE(torch::equal(a.view(torch::kInt32), b.view(torch::kInt32))) << f.label() << " " << peppp::label(r);
    }
  }
}
