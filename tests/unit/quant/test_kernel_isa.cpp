// The fused kernel under every instruction-set variant this CPU runs
// (baseline, avx2, avx512; kernel.hpp): the reference comparison of
// test_nearest.cpp on the kernel path, and bit-identical results across
// variants for every rounding, in place, with threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>

#include "peppp/core/error.hpp"
#include "peppp/quant/kernel.hpp"
#include "reference.hpp"

using peppp::FloatFormat;
using peppp::Rounding;
using peppp::quant::quantize_buffer;

namespace {

std::vector<FloatFormat> formats() {
  std::vector<FloatFormat> v;
  for (int e = 2; e <= 8; ++e)
    for (int m = 1; m <= 23; ++m)
      if (e + m <= 11 || (e == 4 && m == 3) || (e == 5 && m == 2) || (e == 8 && m == 7) || (e == 5 && m == 10) ||
          (e == 8 && m == 23) || (e == 8 && m == 10) || (e == 2 && m == 23) || (e == 7 && m == 20))
        v.emplace_back(e, m);
  return v;
}

// Random bit patterns: every class of float32 (normals, subnormals, zeros, inf, NaN).
std::vector<float> random_bits(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<float> in(n);
  for (auto& v : in) v = ref::from_bits(rng());
  for (std::uint32_t b : {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00001u, 0xffffffffu, 0x00000001u})
    in.push_back(ref::from_bits(b));
  return in;
}

std::vector<float> run(const std::vector<float>& in, FloatFormat f, Rounding r, int threads = 1) {
  std::vector<float> out(in.size());
  quantize_buffer(in.data(), out.data(), in.size(), f, r, 42, 1000, threads);
  return out;
}

// Restores the variant chosen at start-up after each test.
class KernelIsa : public ::testing::Test {
 protected:
  void TearDown() override { peppp::quant::set_kernel_isa(initial_); }
  std::string initial_ = peppp::quant::kernel_isa();
};

}  // namespace

// Runs first (and alone in the *_env tests): the start-up choice is
// PEPPP_QUANT_ISA when set, else the best variant the CPU runs.
TEST(KernelIsaEnv, StartupChoiceFollowsTheEnvironment) {
  const char* env = std::getenv("PEPPP_QUANT_ISA");
  const auto isas = peppp::quant::kernel_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), "baseline");
  if (env && std::string(env) == "no-such-isa") {
    EXPECT_THROW(peppp::quant::kernel_isa(), peppp::InputError);
    std::vector<float> x(8, 1.0f);
    EXPECT_THROW(quantize_buffer(x.data(), x.data(), x.size(), FloatFormat(4, 3)), peppp::InputError);
  } else if (env && *env) {
    EXPECT_STREQ(peppp::quant::kernel_isa(), env);
  } else {
    EXPECT_EQ(peppp::quant::kernel_isa(), isas.back());
  }
  std::cout << "variants this CPU runs:";
  for (const auto& s : isas) std::cout << " " << s;
  std::cout << "\n";
}

TEST_F(KernelIsa, UnknownNameIsAnInputError) {
  EXPECT_THROW(peppp::quant::set_kernel_isa("sse9"), peppp::InputError);
  EXPECT_EQ(peppp::quant::kernel_isa(), initial_);
}

TEST_F(KernelIsa, EveryVariantMatchesTheReference) {
  for (const auto& isa : peppp::quant::kernel_isas()) {
    peppp::quant::set_kernel_isa(isa);
    ASSERT_EQ(peppp::quant::kernel_isa(), isa);
    for (const auto& f : formats()) {
      const auto in = ref::edge_inputs(f, 1u << 12);
      for (Rounding r : {Rounding::nearest, Rounding::nearest_even}) {
        const auto out = run(in, f, r);
        std::size_t bad = 0;
        std::ostringstream os;
        for (std::size_t i = 0; i < in.size(); ++i) {
          const float want = ref::round(in[i], f, r == Rounding::nearest_even);
          if (ref::bits(out[i]) != ref::bits(want) && !(std::isnan(want) && std::isnan(out[i])))
            if (bad++ < 5) os << "\n  x=" << std::hexfloat << in[i] << " got " << out[i] << " want " << want;
        }
        EXPECT_EQ(bad, 0u) << isa << " " << f.label() << " " << peppp::label(r) << os.str();
      }
    }
  }
}

TEST_F(KernelIsa, EveryVariantIsBitIdenticalToBaseline) {
  const auto in = random_bits((1u << 18) + 13, 7);  // odd length: vector loop + remainder
  const FloatFormat fs[] = {FloatFormat(4, 3), FloatFormat(5, 2), FloatFormat(8, 7), FloatFormat(2, 1),
                            FloatFormat(7, 20), FloatFormat(8, 23), FloatFormat(6, 9)};
  for (const auto& f : fs) {
    for (Rounding r : {Rounding::nearest, Rounding::nearest_even, Rounding::stochastic}) {
      peppp::quant::set_kernel_isa("baseline");
      const auto want = run(in, f, r);
      for (const auto& isa : peppp::quant::kernel_isas()) {
        peppp::quant::set_kernel_isa(isa);
        for (int threads : {1, 3}) {
          const auto got = run(in, f, r, threads);
          EXPECT_EQ(std::memcmp(got.data(), want.data(), in.size() * 4), 0)
              << isa << " " << f.label() << " " << peppp::label(r) << " threads=" << threads;
        }
        auto x = in;  // in place
        quantize_buffer(x.data(), x.data(), x.size(), f, r, 42, 1000, 1);
        EXPECT_EQ(std::memcmp(x.data(), want.data(), in.size() * 4), 0) << isa << " in place";
      }
    }
  }
}

// The tiled kernel's normal-range shortcut (tiles of 256 with nothing in the
// format's subnormal range and no NaN) gives the bits of the full path:
// whole buffers against element-by-element calls (n = 1: always the full
// path), every variant, every rounding, tiles that take the shortcut
// (normal values of every binade, zeros, ±inf) and tiles that do not.
TEST_F(KernelIsa, TiledShortcutEqualsTheFullPath) {
  std::mt19937 rng(77);
  std::vector<float> in(256 * 64);
  for (std::size_t t = 0; t < in.size() / 256; ++t) {
    const int kind = static_cast<int>(t % 4);
    for (std::size_t j = 0; j < 256; ++j) {
      // Biased exponent 1..254: every float32 binade (normal for e8 formats,
      // partly subnormal for the others: those tiles take the full path).
      std::uint32_t e = 1 + rng() % 254;
      if (kind == 0) e = 127 + rng() % 8;  // normal for every format with E >= 4
      std::uint32_t b = (e << 23) | (rng() & 0x7fffffu) | (rng() & 0x80000000u);
      if (j % 17 == 0) b &= 0x80000000u;              // signed zeros
      if (kind == 1 && j == 100) b = 0xff800000u;     // -inf
      if (kind == 3 && j == 200) b = 0x7fc00001u;     // a NaN: full path
      in[t * 256 + j] = ref::from_bits(b);
    }
  }
  std::vector<FloatFormat> fs = formats();
  for (const auto& l : {"ocp-e4m3", "ocp-e5m2", "fp16", "bf16"}) fs.push_back(FloatFormat::parse(l));
  for (const auto& isa : peppp::quant::kernel_isas()) {
    peppp::quant::set_kernel_isa(isa);
    for (const auto& f : fs)
      for (Rounding r : {Rounding::nearest, Rounding::nearest_even, Rounding::stochastic}) {
        std::vector<float> out(in.size());
        quantize_buffer(in.data(), out.data(), in.size(), f, r, 5, 0, 1);
        for (std::size_t i = 0; i < in.size(); ++i) {
          const float one = peppp::quant::quantize_value(in[i], f, r, 5, i);
          ASSERT_EQ(ref::bits(out[i]), ref::bits(one))
              << isa << " " << f.label() << " " << peppp::label(r) << " element " << i << " in " << in[i];
        }
      }
  }
}

// The normal-range shortcut on long runs that are normal for the format
// itself (so that every tile takes it, whatever the tile size up to 2048):
// every binade from the smallest normal to beyond the largest finite value
// (saturation of both signs; for E = 8 up to float32's largest binade, where
// a round-up gives inf), exact ties of the dropped bits, signed zeros, ±inf;
// then the same runs with one element in the subnormal range or a NaN (the
// full path). Buffer -> buffer and in place against element-by-element calls
// (n = 1: always the full path), every variant and rounding.
TEST_F(KernelIsa, NormalRunsEqualTheFullPath) {
  constexpr std::size_t kRun = 2048;
  std::vector<FloatFormat> fs = formats();
  for (const auto& l : {"ocp-e4m3", "ocp-e5m2", "fp16", "bf16"}) fs.push_back(FloatFormat::parse(l));
  for (const auto& f : fs) {
    std::mt19937 rng(static_cast<unsigned>(f.exponent_bits() * 64 + f.mantissa_bits()));
    const int drop = 23 - f.mantissa_bits();
    const int lo_e = f.exponent_bits() < 8 ? f.emin() + 127 : 1;
    const int hi_e = std::min(f.emax() + 127 + 2, 254);
    std::vector<float> in(kRun * 4);
    for (std::size_t i = 0; i < in.size(); ++i) {
      const auto e = static_cast<std::uint32_t>(lo_e + static_cast<int>(rng() % static_cast<unsigned>(hi_e - lo_e + 1)));
      std::uint32_t man = rng() & 0x7fffffu;
      if (drop > 0 && rng() % 4 == 0) man = (man & ~((1u << drop) - 1u)) | (1u << (drop - 1));  // a tie
      std::uint32_t b = (e << 23) | man | (rng() & 0x80000000u);
      if (i % 29 == 0) b &= 0x80000000u;                 // signed zeros
      if (i % 301 == 0) b = (b & 0x80000000u) | 0x7f800000u;  // ±inf
      in[i] = ref::from_bits(b);
    }
    if (f.exponent_bits() < 8) in[kRun * 2 + 777] = ref::from_bits(0x80000001u | (static_cast<std::uint32_t>(lo_e - 1) << 23));
    in[kRun * 3 + 5] = ref::from_bits(0xffc00007u);  // a NaN (payload and sign kept)
    for (const auto& isa : peppp::quant::kernel_isas()) {
      peppp::quant::set_kernel_isa(isa);
      for (Rounding r : {Rounding::nearest, Rounding::nearest_even, Rounding::stochastic}) {
        std::vector<float> out(in.size());
        quantize_buffer(in.data(), out.data(), in.size(), f, r, 9, 0, 1);
        auto x = in;
        quantize_buffer(x.data(), x.data(), x.size(), f, r, 9, 0, 1);
        for (std::size_t i = 0; i < in.size(); ++i) {
          const float one = peppp::quant::quantize_value(in[i], f, r, 9, i);
          ASSERT_EQ(ref::bits(out[i]), ref::bits(one))
              << isa << " " << f.label() << " " << peppp::label(r) << " element " << i << " in " << std::hexfloat
              << in[i];
          ASSERT_EQ(ref::bits(x[i]), ref::bits(one)) << isa << " in place " << f.label() << " element " << i;
        }
      }
    }
  }
}
