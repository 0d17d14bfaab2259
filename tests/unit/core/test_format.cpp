#include <gtest/gtest.h>

#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"

#include <algorithm>
#include <cctype>

using namespace peppp;

namespace {
std::string to_upper_copy(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}
}  // namespace

TEST(FloatFormat, ParsesBothLabelFormsAndPrintsEem) {
  const auto f = FloatFormat::parse("e4m3");
  EXPECT_EQ(f.exponent_bits(), 4);
  EXPECT_EQ(f.mantissa_bits(), 3);
  EXPECT_EQ(f.bits(), 8);
  EXPECT_EQ(f.label(), "e4m3");
  EXPECT_EQ(FloatFormat::parse("1-4-3"), f);
  EXPECT_EQ(FloatFormat::parse(" E5M10 "), FloatFormat(5, 10));
  EXPECT_EQ(FloatFormat::parse("1-8-23").label(), "e8m23");
  EXPECT_EQ(FloatFormat(), FloatFormat(8, 23));
  const auto list = FloatFormat::parse_list("e4m3, 1-5-2,e8m7");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1], FloatFormat(5, 2));
}

TEST(FloatFormat, LimitsMatchQuantMd) {
  EXPECT_EQ(FloatFormat(4, 3).max_finite(), 480.0L);
  EXPECT_EQ(FloatFormat(5, 2).max_finite(), 114688.0L);
  EXPECT_EQ(FloatFormat(5, 10).max_finite(), 131008.0L);
  EXPECT_EQ(FloatFormat(3, 1).max_finite(), 24.0L);
  EXPECT_EQ(FloatFormat(3, 1).min_subnormal(), 0.125L);
  EXPECT_EQ(FloatFormat(3, 1).min_normal(), 0.25L);
  EXPECT_EQ(FloatFormat(4, 3).emin(), -6);
  EXPECT_EQ(FloatFormat(4, 3).emax(), 8);
  EXPECT_EQ(FloatFormat(8, 23).min_subnormal(), std::ldexp(1.0L, -149));
  EXPECT_GT(FloatFormat(8, 7).max_finite(), std::ldexp(1.0L, 128));  // beyond float32: overflow gives inf
}

TEST(FloatFormat, RejectsMalformedAndOutOfRangeWithAllowedInMessage) {
  for (const char* bad : {"e9m3", "e1m3", "e4m0", "e4m24", "x", "", "e4", "e4m3x", "2-4-3", "1-4", "e-4m3", "4m3"}) {
    try {
      FloatFormat::parse(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("allowed"), std::string::npos) << msg;
      EXPECT_NE(msg.find('\'' + std::string(bad) + '\''), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos);
    }
  }
  EXPECT_THROW(FloatFormat(8, 24), InputError);
  EXPECT_THROW(FloatFormat(1, 4), InputError);
  EXPECT_THROW(FloatFormat::parse_list("e4m3,,e5m2"), InputError);
}

TEST(Rounding, ParseAndLabelRoundTrip) {
  for (auto r : {Rounding::nearest, Rounding::nearest_even, Rounding::stochastic}) EXPECT_EQ(parse_rounding(label(r)), r);
  EXPECT_EQ(parse_rounding("Stochastic"), Rounding::stochastic);
  try {
    parse_rounding("up");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nearest, nearest_even, stochastic"), std::string::npos);
  }
}

TEST(Configuration, ParseAndAllConfigurationsAreAMajor) {
  const auto c = Configuration::parse("e4m3/1-6-7");
  EXPECT_EQ(c.a, FloatFormat(4, 3));
  EXPECT_EQ(c.b, FloatFormat(6, 7));
  EXPECT_EQ(c.label(), "e4m3/e6m7");
  EXPECT_THROW(Configuration::parse("e4m3"), InputError);
  EXPECT_THROW(Configuration::parse("e4m3/e5m2/e6m7"), InputError);
  const auto all = all_configurations({FloatFormat(4, 3), FloatFormat(5, 2)}, {FloatFormat(6, 7), FloatFormat(8, 7), FloatFormat(8, 23)});
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[3 * 1 + 2].label(), "e5m2/e8m23");
  EXPECT_EQ(all[1].label(), "e4m3/e8m7");
}

TEST(StandardFormat, LabelsParseAndPrintAndAreDistinctFromEemm) {
  const std::vector<std::string> labels = {"ocp-e4m3", "ocp-e5m2", "fp16", "bf16", "mxfp8-e4m3",
                                           "mxfp8-e5m2", "mxfp6-e3m2", "mxfp6-e2m3", "mxfp4", "nvfp4"};
  EXPECT_EQ(FloatFormat::standard_labels(), labels);
  for (const auto& l : labels) {
    const auto f = FloatFormat::parse(l);
    EXPECT_TRUE(f.is_standard()) << l;
    EXPECT_EQ(f.label(), l);
    EXPECT_EQ(FloatFormat::parse(" " + to_upper_copy(l) + " "), f) << l;
    EXPECT_EQ(FloatFormat::from_code(f.code()), f) << l;
  }
  EXPECT_NE(FloatFormat::parse("ocp-e4m3"), FloatFormat(4, 3));
  EXPECT_EQ(FloatFormat::parse("ocp-e4m3").exponent_bits(), 4);
  EXPECT_EQ(FloatFormat::parse("mxfp6-e2m3").mantissa_bits(), 3);
  EXPECT_EQ(FloatFormat::from_code(FloatFormat(5, 17).code()), FloatFormat(5, 17));
  EXPECT_THROW(FloatFormat::from_code(12345678), InputError);
  const auto list = FloatFormat::parse_list("mxfp8-e4m3, mxfp6-e3m2, mxfp4,e4m3");
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[3], FloatFormat(4, 3));
  const auto c = Configuration::parse("mxfp8-e4m3/bf16");
  EXPECT_EQ(c.label(), "mxfp8-e4m3/bf16");
  EXPECT_EQ(c.b, FloatFormat(StandardFormat::bf16));
  try {
    FloatFormat::parse("mxfp5");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("nvfp4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'mxfp5'"), std::string::npos) << e.what();
  }
}

TEST(StandardFormat, LimitsBlocksAndBitsMatchQuantMd) {
  auto f = [](const char* l) { return FloatFormat::parse(l); };
  EXPECT_EQ(f("ocp-e4m3").max_finite(), 448.0L);
  EXPECT_EQ(f("ocp-e5m2").max_finite(), 57344.0L);
  EXPECT_EQ(f("fp16").max_finite(), 65504.0L);
  EXPECT_EQ(static_cast<float>(f("bf16").max_finite()), 3.3895314e38f);
  EXPECT_EQ(f("ocp-e4m3").emin(), -6);
  EXPECT_EQ(f("fp16").emin(), -14);
  EXPECT_EQ(f("bf16").emin(), -126);
  EXPECT_EQ(f("fp16").min_subnormal(), std::ldexp(1.0L, -24));
  EXPECT_EQ(f("mxfp6-e3m2").max_finite(), 28.0L);
  EXPECT_EQ(f("mxfp6-e3m2").min_normal(), 0.25L);
  EXPECT_EQ(f("mxfp6-e3m2").min_subnormal(), 0.0625L);
  EXPECT_EQ(f("mxfp6-e2m3").max_finite(), 7.5L);
  EXPECT_EQ(f("mxfp6-e2m3").min_normal(), 1.0L);
  EXPECT_EQ(f("mxfp6-e2m3").min_subnormal(), 0.125L);
  EXPECT_EQ(f("mxfp4").max_finite(), 6.0L);
  EXPECT_EQ(f("mxfp4").min_subnormal(), 0.5L);
  const struct {
    const char* l;
    int emax, block, scale;
    double bits;
  } t[] = {{"ocp-e4m3", 8, 1, 0, 8}, {"ocp-e5m2", 15, 1, 0, 8}, {"fp16", 15, 1, 0, 16}, {"bf16", 127, 1, 0, 16},
           {"mxfp8-e4m3", 8, 32, 8, 8.25}, {"mxfp8-e5m2", 15, 32, 8, 8.25}, {"mxfp6-e3m2", 4, 32, 8, 6.25},
           {"mxfp6-e2m3", 2, 32, 8, 6.25}, {"mxfp4", 2, 32, 8, 4.25}, {"nvfp4", 2, 16, 8, 4.5}};
  for (const auto& r : t) {
    EXPECT_EQ(f(r.l).emax(), r.emax) << r.l;
    EXPECT_EQ(f(r.l).block_size(), r.block) << r.l;
    EXPECT_EQ(f(r.l).scale_bits(), r.scale) << r.l;
    EXPECT_EQ(f(r.l).bits_per_element(), r.bits) << r.l;
    EXPECT_EQ(f(r.l).is_block(), r.block > 1) << r.l;
    EXPECT_EQ(f(r.l).saturates(), std::string(r.l) != "bf16") << r.l;
    EXPECT_EQ(f(r.l).effective_rounding(Rounding::nearest), Rounding::nearest_even) << r.l;
    EXPECT_EQ(f(r.l).effective_rounding(Rounding::stochastic), Rounding::stochastic) << r.l;
  }
  EXPECT_EQ(f("mxfp8-e4m3").element_format(), f("ocp-e4m3"));
  EXPECT_EQ(f("mxfp8-e5m2").element_format(), f("ocp-e5m2"));
  EXPECT_EQ(f("mxfp6-e3m2").element_format(), FloatFormat(3, 2));
  EXPECT_EQ(f("nvfp4").element_format(), FloatFormat(2, 1));
  // eEmM formats are unchanged.
  EXPECT_EQ(FloatFormat(4, 3).bits_per_element(), 8.0);
  EXPECT_EQ(FloatFormat(4, 3).block_size(), 1);
  EXPECT_EQ(FloatFormat(4, 3).effective_rounding(Rounding::nearest), Rounding::nearest);
  EXPECT_TRUE(FloatFormat(7, 3).saturates());
  EXPECT_FALSE(FloatFormat(8, 7).saturates());
}
