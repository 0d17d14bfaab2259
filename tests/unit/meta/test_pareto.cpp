#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "meta_test_data.hpp"
#include "peppp/core/error.hpp"
#include "peppp/meta/pareto.hpp"

using namespace peppp;
using namespace peppp::meta;
using Eigen::VectorXd;

namespace {
VectorXd vec(std::initializer_list<double> v) {
  VectorXd out(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double x : v) out[i++] = x;
  return out;
}
using Mask = std::vector<std::uint8_t>;
}  // namespace

TEST(Pareto, HandMadeCaseWithTies) {
  // j: 0      1      2      3      4      5      6
  const VectorXd m = vec({1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 1.0});
  const VectorXd e = vec({0.5, 0.3, 0.3, 0.3, 0.2, 0.1, 0.5});
  // 0 and 6 are exact duplicates (both optimal); 1 and 2 duplicates (both optimal);
  // 3 is dominated by 1 (less memory, same error); 4 and 5 optimal.
  const Mask want = {1, 1, 1, 0, 1, 1, 1};
  EXPECT_EQ(pareto_mask(m, e), want);
  EXPECT_EQ(pareto_mask_sweep(m, e), want);
  // Same memory, different error: only the lower error survives.
  EXPECT_EQ(pareto_mask(vec({1, 1}), vec({0.2, 0.3})), (Mask{1, 0}));
}

TEST(Pareto, SweepEqualsDefinitionOnRandomCasesWithTies) {
  for (std::uint64_t s = 0; s < 50; ++s) {
    VectorXd m = test::uniform_matrix(40, 1, s, 0, 1).col(0), e = test::uniform_matrix(40, 1, s + 100, 0, 1).col(0);
    m = (m * 5).array().round();  // heavy ties in memory
    e = (e * 6).array().round() / 6;
    EXPECT_EQ(pareto_mask(m, e), pareto_mask_sweep(m, e)) << s;
  }
}

TEST(Pareto, HypervolumeConvergenceHyperdiff) {
  // Two points (0.2,0.6),(0.5,0.2), reference (1,1):
  // area = (0.5-0.2)*(1-0.6) + (1-0.5)*(1-0.2) = 0.12 + 0.4 = 0.52.
  std::vector<Point2> p = {{0.5, 0.2}, {0.2, 0.6}};
  EXPECT_NEAR(hypervolume(p), 0.52, 1e-15);
  // A duplicate and a dominated point add nothing; points beyond the reference add nothing.
  auto q = p;
  q.push_back({0.5, 0.2});
  q.push_back({0.6, 0.3});
  q.push_back({1.0, 0.05});
  q.push_back({0.3, 1.2});
  EXPECT_NEAR(hypervolume(q), 0.52, 1e-15);
  // The highest-memory point at m = 1 contributes no area (F8.4).
  EXPECT_NEAR(hypervolume({{1.0, 0.0}}), 0.0, 1e-15);
  EXPECT_NEAR(convergence(p, p), 0.0, 1e-15);
  std::vector<Point2> est = {{0.2, 0.5}, {0.5, 0.5}};
  // distances: 0.1 (to (0.2,0.6)) and 0.3 (to (0.5,0.2)) -> mean 0.2
  EXPECT_NEAR(convergence(p, est), 0.2, 1e-12);
  EXPECT_NEAR(hyperdiff(p, est), std::abs(0.52 - 0.8 * 0.5), 1e-12);
  EXPECT_NEAR(relative_error(vec({1, 1}), vec({1, 2})), 1 / std::sqrt(5.0), 1e-15);
}

TEST(Pareto, FrontierMetricsNormalizesMemory) {
  const VectorXd m = vec({100, 200, 400});
  const VectorXd e = vec({0.5, 0.3, 0.1});
  const auto f = frontier_metrics(m, e, e);
  EXPECT_EQ(f.convergence, 0.0);
  EXPECT_EQ(f.hyperdiff, 0.0);
  EXPECT_EQ(f.pareto_true, (Mask{1, 1, 1}));
  const auto g = frontier_metrics(m, e, vec({0.5, 0.6, 0.1}));
  EXPECT_EQ(g.pareto_estimate, (Mask{1, 0, 1}));
  // true HV on (0.25,.5),(0.5,.3),(1,.1): .25*.5 + .5*.7 = 0.475; estimated: .75*.5 = 0.375
  EXPECT_NEAR(g.hyperdiff, 0.1, 1e-12);
  EXPECT_THROW(frontier_metrics(vec({0, 1, 2}), e, e), InputError);
}

TEST(Pareto, SelectionRuleAndBaseline) {
  const VectorXd m = vec({100, 300, 300, 200, 500, 300});
  const VectorXd p = vec({0.5, 0.2, 0.2, 0.2, 0.05, 0.4});
  // budget 300: lowest predicted error 0.2 at j=1,2 (300) and j=3 (200): smaller memory wins.
  EXPECT_EQ(select_configuration(m, p, 300), 3);
  EXPECT_EQ(select_configuration(m, p, 1000), 4);
  EXPECT_EQ(select_configuration(m, vec({0.5, 0.2, 0.2, 0.3, 0.3, 0.3}), 300), 1);  // tie in memory: lower index
  EXPECT_THROW(select_configuration(m, p, 50), InputError);
  const VectorXd e = vec({0.5, 0.1, 0.3, 0.2, 0.05, 0.2});
  const auto b = random_high_memory(m, e, 300);
  EXPECT_EQ(b.ties, (std::vector<int>{1, 2, 5}));
  EXPECT_DOUBLE_EQ(b.memory, 300);
  EXPECT_NEAR(b.expected_error, 0.2, 1e-15);
  EXPECT_THROW(random_high_memory(m, e, 99), InputError);
  Eigen::MatrixXd mm(2, 2);
  mm << 4, 1, 3, 2;
  EXPECT_DOUBLE_EQ(median(mm), 2.5);
  mm(0, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(median(mm), InputError);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_DOUBLE_EQ(finite_median({5, std::numeric_limits<double>::quiet_NaN(), 1, inf, 3}), 3);  // 1, 3, 5
  EXPECT_DOUBLE_EQ(finite_median({4, 1, -inf, 3, 2}), 2.5);
  EXPECT_TRUE(std::isnan(finite_median({})));
  EXPECT_TRUE(std::isnan(finite_median({std::numeric_limits<double>::quiet_NaN()})));
}
