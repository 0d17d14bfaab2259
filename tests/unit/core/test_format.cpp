#include <gtest/gtest.h>

#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"

using namespace peppp;

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
