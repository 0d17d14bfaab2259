// Stochastic rounding (QUANT.md): only the two neighbours, unbiased, exact
// probability at the smallest fraction, symmetric, reproducible whatever the
// threads or path.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cmath>

#include "peppp/quant/kernel.hpp"
#include "peppp/quant/quantize.hpp"
#include "reference.hpp"

using peppp::FloatFormat;
using peppp::Rounding;
using peppp::quant::quantize_buffer;

namespace {

constexpr std::uint64_t kSeed = 20240611;

std::vector<float> stoch(const std::vector<float>& in, FloatFormat f, std::uint64_t seed = kSeed,
                         std::uint64_t offset = 0, int threads = 1) {
  std::vector<float> out(in.size());
  quantize_buffer(in.data(), out.data(), in.size(), f, Rounding::stochastic, seed, offset, threads);
  return out;
}

// Random finite float32 values spread over the format's whole range, subnormals included.
std::vector<float> random_in_range(FloatFormat f, std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> ex(static_cast<double>(f.emin() - f.mantissa_bits() - 3),
                                            std::min(static_cast<double>(f.emax()) + 0.99, 127.9));
  std::vector<float> v(n);
  for (auto& x : v) {
    x = static_cast<float>(std::exp2(ex(rng)));
    if (rng() & 1) x = -x;
  }
  return v;
}

}  // namespace

TEST(Stochastic, OutputsAreOnlyTheTwoNeighbours) {
  for (const FloatFormat f : {FloatFormat(4, 3), FloatFormat(5, 2), FloatFormat(8, 7), FloatFormat(3, 1),
                              FloatFormat(6, 9)}) {
    const auto in = random_in_range(f, 1 << 16, 1);
    const auto out = stoch(in, f);
    std::size_t bad = 0, up = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      float lo, hi;
      ref::neighbours(in[i], f, lo, hi);
      if (ref::bits(out[i]) != ref::bits(lo) && ref::bits(out[i]) != ref::bits(hi)) ++bad;
      up += out[i] == hi && hi != lo;
    }
    EXPECT_EQ(bad, 0u) << f.label();
    EXPECT_GT(up, in.size() / 4) << f.label();  // both neighbours occur
    EXPECT_LT(up, 3 * in.size() / 4) << f.label();
  }
}

TEST(Stochastic, RepresentableValuesComeBackUnchanged) {
  for (const FloatFormat f : {FloatFormat(4, 3), FloatFormat(3, 1), FloatFormat(8, 7)}) {
    std::vector<float> in;
    for (std::uint64_t i = 0; i < ref::grid_size(f); ++i) {
      const long double v = ref::grid_value(f, i);
      if (v > std::numeric_limits<float>::max()) break;
      in.push_back(static_cast<float>(v));
      in.push_back(-static_cast<float>(v));
    }
    EXPECT_EQ(std::memcmp(stoch(in, f).data(), in.data(), in.size() * 4), 0) << f.label();
  }
}

// E[q(x)] = x. N = 2^20 draws of x: the mean's standard deviation is
// ulp sqrt(frac (1 - frac) / N); with a fixed seed the check is
// deterministic, and 5 standard deviations would fail by chance with
// probability 6e-7 for a random seed.
TEST(Stochastic, UnbiasedInNormalAndSubnormalRange) {
  const std::size_t n = 1 << 20;
  struct Case { FloatFormat f; float x; };
  const FloatFormat e4m3(4, 3), e5m2(5, 2), e8m7(8, 7);
  const std::vector<Case> cases = {
      {e4m3, 1.0f + 0.3f * 0.125f},                      // normal, frac 0.3
      {e4m3, -(3.0f + 0.9f * 0.25f)},                    // negative, frac 0.9
      {e4m3, std::ldexp(1.37f, -9)},                     // subnormal range (P = 2^-9)
      {e4m3, std::ldexp(0.01f, -9)},                     // far below P
      {e4m3, 470.0f},                                    // just below max
      {e5m2, std::ldexp(2.6f, -16)},                     // subnormal, P = 2^-16
      {e8m7, 3.14159265f},
      {e8m7, std::ldexp(1.2345f, -130)},                 // float32 subnormal
  };
  for (const auto& c : cases) {
    const std::vector<float> in(n, c.x);
    const auto out = stoch(in, c.f);
    long double sum = 0;
    for (float v : out) sum += v;
    const long double mean = sum / n;
    float lo, hi;
    ref::neighbours(c.x, c.f, lo, hi);
    const long double ulp = std::fabs(static_cast<long double>(hi) - lo);
    const long double frac = (std::fabs(static_cast<long double>(c.x)) - std::fabs(static_cast<long double>(lo))) / ulp;
    const long double sd = ulp * std::sqrt(frac * (1 - frac) / n);
    EXPECT_LE(std::fabs(mean - c.x), 5 * sd) << c.f.label() << " x=" << c.x << " frac=" << static_cast<double>(frac);
  }
}

// The smallest fraction 2^-(23-M) (x one float32 step above a grid point)
// must round up with exactly that probability: up iff the top 23-M of the
// element's 32 random bits are all ones, and the count is as expected.
TEST(Stochastic, ExactProbabilityAtTheSmallestFraction) {
  const std::size_t n = 1 << 22;
  for (const FloatFormat f : {FloatFormat(5, 10), FloatFormat(8, 7), FloatFormat(4, 12)}) {
    const int d = 23 - f.mantissa_bits();
    const float lo = 1.5f;
    const float x = std::nextafter(lo, 2.0f);
    const auto out = stoch(std::vector<float>(n, x), f);
    std::size_t up = 0, expect_exact = 0;
    for (std::size_t i = 0; i < n; ++i) {
      up += out[i] != lo;
      expect_exact += (peppp::quant::random_bits(kSeed, i) >> (32 - d)) == (1u << d) - 1u;
    }
    EXPECT_EQ(up, expect_exact) << f.label();
    const double mu = std::ldexp(static_cast<double>(n), -d);  // binomial mean; sd = sqrt(mu)
    EXPECT_NEAR(static_cast<double>(up), mu, 5 * std::sqrt(mu)) << f.label();
  }
}

TEST(Stochastic, SymmetricInSign) {
  const FloatFormat f(4, 3);
  auto in = random_in_range(f, 1 << 16, 2);
  const auto pos = stoch(in, f);
  for (auto& v : in) v = -v;
  const auto neg = stoch(in, f);
  for (std::size_t i = 0; i < in.size(); ++i) ASSERT_EQ(ref::bits(pos[i]) ^ 0x80000000u, ref::bits(neg[i]));
}

TEST(Stochastic, SaturatesAboveMax) {
  const FloatFormat f(4, 3);
  const std::vector<float> in(4096, 479.0f);
  for (float v : stoch(in, f)) ASSERT_TRUE(v == 480.0f || v == 448.0f);
  for (float v : stoch(std::vector<float>(4096, 1e6f), f)) ASSERT_EQ(v, 480.0f);
  for (float v : stoch(std::vector<float>(64, -std::numeric_limits<float>::infinity()), f)) ASSERT_EQ(v, -480.0f);
}

TEST(Stochastic, SameResultForAnyThreadCount) {
  const FloatFormat f(5, 2);
  const auto in = random_in_range(f, (1 << 20) + 17, 3);
  const auto one = stoch(in, f, kSeed, 99, 1);
  for (int t : {2, 3, 8}) EXPECT_EQ(std::memcmp(stoch(in, f, kSeed, 99, t).data(), one.data(), in.size() * 4), 0) << t;
  auto x = torch::from_blob(const_cast<float*>(in.data()), {static_cast<long>(in.size())}, torch::kFloat32);
  const int saved = at::get_num_threads();
  for (int t : {1, 2}) {
    at::set_num_threads(t);
    const auto y = peppp::quantize(x, f, Rounding::stochastic, kSeed, 99);
    EXPECT_EQ(std::memcmp(y.data_ptr<float>(), one.data(), in.size() * 4), 0) << "torch threads " << t;
  }
  at::set_num_threads(saved);
  const auto g = peppp::quantize_generic(x, f, Rounding::stochastic, kSeed, 99);
  EXPECT_EQ(std::memcmp(g.data_ptr<float>(), one.data(), in.size() * 4), 0) << "generic path";
}

TEST(Stochastic, SeedAndOffsetReproducibility) {
  const FloatFormat f(4, 3);
  const auto in = random_in_range(f, 1 << 16, 4);
  const auto a = stoch(in, f, 1);
  EXPECT_EQ(std::memcmp(stoch(in, f, 1).data(), a.data(), in.size() * 4), 0);
  const auto b = stoch(in, f, 2);
  std::size_t diff = 0;
  for (std::size_t i = 0; i < in.size(); ++i) diff += a[i] != b[i];
  EXPECT_GT(diff, in.size() / 10);  // a different seed is a different stream
  // Element i uses counter offset + i: a tail with offset k equals the tail of the whole.
  const std::size_t k = 1000;
  const std::vector<float> tail(in.begin() + k, in.end());
  EXPECT_EQ(std::memcmp(stoch(tail, f, 1, k).data(), a.data() + k, tail.size() * 4), 0);
}
