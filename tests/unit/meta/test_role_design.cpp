#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "peppp/core/error.hpp"
#include "peppp/meta/configuration_features.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/meta/role_design.hpp"
#include "role_test_data.hpp"

using namespace peppp;
using namespace peppp::meta;

TEST(RoleDesign, EveryUniformPlusABalancedFractionOfTheMixed) {
  const std::vector<std::string> four = {"e3m2", "e4m3", "e5m2", "e8m7"};
  const auto labels = test::role_labels(four, four, four, {}, {"e6m7", "e8m23"});
  const int n = 12, d = static_cast<int>(labels.size());
  const auto mask = sample_role_design(labels, n, 0.1, 7);
  ASSERT_EQ(mask.size(), static_cast<std::size_t>(n * d));
  int mixed = 0;
  for (const auto& l : labels) mixed += l.find('[') != std::string::npos;
  ASSERT_EQ(mixed, 128 - 8);
  const int per_task = 12;  // round(0.1 · 120)
  // Level counts per role: (role, format) → measured mixed cells, per task and overall.
  std::map<std::pair<int, std::int64_t>, int> overall;
  for (int t = 0; t < n; ++t) {
    std::map<std::pair<int, std::int64_t>, int> within;
    int taken = 0;
    for (int j = 0; j < d; ++j) {
      const RoleConfiguration c = parse_role_configuration(labels[static_cast<std::size_t>(j)]);
      const bool on = mask[static_cast<std::size_t>(t * d + j)] != 0;
      if (c.uniform) {
        EXPECT_TRUE(on) << labels[static_cast<std::size_t>(j)];
        continue;
      }
      if (!on) continue;
      ++taken;
      for (int r = 0; r < 3; ++r) ++within[{r, c.a[static_cast<std::size_t>(r)].code()}];
      ++within[{5, c.b.code()}];
    }
    EXPECT_EQ(taken, per_task);
    for (const auto& [level, count] : within) {
      overall[level] += count;
      // 12 picks over 4 formats (3 for each role, 6 for B) per role: no level far from its share.
      const int share = level.first == 5 ? 6 : 3;
      EXPECT_LE(std::abs(count - share), 1) << "task " << t << " role " << level.first;
    }
  }
  for (const auto& [level, count] : overall) {
    const int share = level.first == 5 ? n * per_task / 2 : n * per_task / 4;
    EXPECT_LE(std::abs(count - share), 2) << "role " << level.first;
  }
  // Tasks measure different combinations.
  EXPECT_FALSE(std::equal(mask.begin(), mask.begin() + d, mask.begin() + d));
  EXPECT_EQ(sample_role_design(labels, n, 0.1, 7), mask);
  EXPECT_NE(sample_role_design(labels, n, 0.1, 8), mask);
}

TEST(RoleDesign, RefusesBadInputAndParsesTheScheme) {
  EXPECT_THROW(sample_role_design({"e4m3/e6m7", "e4m3[mid=e5m2]/e6m7"}, 2, 0.5, 1), InputError);
  EXPECT_THROW(sample_role_design({"e4m3/e6m7"}, 0, 0.5, 1), InputError);
  EXPECT_THROW(sample_role_design({"e4m3/e6m7"}, 2, 1.5, 1), InputError);
  const auto only_uniform = sample_role_design({"e4m3/e6m7", "e5m2/e6m7"}, 3, 0.5, 1);
  EXPECT_EQ(only_uniform, std::vector<std::uint8_t>(6, 1));
  EXPECT_EQ(parse_scheme("design"), Scheme::design);
  EXPECT_STREQ(label(Scheme::design), "design");
}
