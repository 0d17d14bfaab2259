#include <gtest/gtest.h>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"

using namespace peppp;

TEST(Strings, TrimSplitJoin) {
  EXPECT_EQ(trim("  a b \t\n"), "a b");
  EXPECT_EQ(trim(""), "");
  auto parts = split(" e4m3, e5m2 ,,e8m7 ", ',');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0], "e4m3");
  EXPECT_EQ(parts[1], "e5m2");
  EXPECT_EQ(parts[2], "");
  EXPECT_EQ(parts[3], "e8m7");
  EXPECT_EQ(join({"a", "b", "c"}, ", "), "a, b, c");
}

TEST(Strings, ParseNumbersRejectJunk) {
  std::int64_t i = 0;
  EXPECT_TRUE(parse_int(" 42 ", i));
  EXPECT_EQ(i, 42);
  EXPECT_FALSE(parse_int("4x", i));
  EXPECT_FALSE(parse_int("", i));
  EXPECT_FALSE(parse_int("1.5", i));
  double d = 0;
  EXPECT_TRUE(parse_double("5e-4", d));
  EXPECT_DOUBLE_EQ(d, 5e-4);
  EXPECT_FALSE(parse_double("nan", d));
  EXPECT_FALSE(parse_double("inf", d));
  EXPECT_FALSE(parse_double("0.1.2", d));
  bool b = false;
  EXPECT_TRUE(parse_bool("Yes", b));
  EXPECT_TRUE(b);
  EXPECT_TRUE(parse_bool("off", b));
  EXPECT_FALSE(b);
  EXPECT_FALSE(parse_bool("maybe", b));
}

TEST(Strings, NearestSuggestsCloseKeysOnly) {
  std::vector<std::string> keys = {"train.epochs", "train.batch_size", "campaign.seed"};
  EXPECT_EQ(nearest("train.epoch", keys), "train.epochs");
  EXPECT_EQ(nearest("completely.different", keys), "");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Strings, HashesAreStable) {
  // FNV-1a reference values (published test vectors).
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_NE(mix64(1), mix64(2));
  EXPECT_EQ(mix64(0), 0xe220a8397b1dcdafULL);
}

TEST(Errors, ExitCodes) {
  EXPECT_EQ(static_cast<int>(InputError("x").code()), 1);
  EXPECT_EQ(static_cast<int>(RuntimeError("x").code()), 2);
  EXPECT_EQ(static_cast<int>(Interrupted("x").code()), 3);
  EXPECT_TRUE(InputError("x").all_ranks());
  EXPECT_FALSE(RuntimeError("x").all_ranks());
}

TEST(Strings, FormatGIsPrintfsShortestSixDigits) {
  EXPECT_EQ(format_g(0.01), "0.01");
  EXPECT_EQ(format_g(1e-5), "1e-05");
  EXPECT_EQ(format_g(0.1234567), "0.123457");
  EXPECT_EQ(format_g(3), "3");
  EXPECT_EQ(join_g({0.01, 0.1, 1e-05}, ","), "0.01,0.1,1e-05");
  EXPECT_EQ(join_g({}, ","), "");
}
