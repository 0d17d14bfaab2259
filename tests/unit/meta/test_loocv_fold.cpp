#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "meta_test_data.hpp"
#include "peppp/core/error.hpp"
#include "peppp/meta/loocv_fold.hpp"
#include "peppp/meta/pareto.hpp"

using namespace peppp;
using namespace peppp::meta;
using Eigen::MatrixXd;

namespace {
MatrixXd memory_matrix(int n, int d) {
  MatrixXd m(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) m(i, j) = (100.0 + 40.0 * i) * (5 + j % 6) + 20.0 * (j / 6);
  return m;
}
LoocvOptions small_options() {
  LoocvOptions o;
  o.measurements = {3, 5, 8};
  o.lambda_auto = false;
  o.lambda = 0.05;
  o.uniform_ratio = 0.5;
  o.p_max = 0.9;
  o.gap_tolerance = 1e-6;
  o.seed = 4;
  return o;
}
}  // namespace

TEST(LoocvFold, AllSettingsAndMethodsRespectTheCap) {
  const MatrixXd e = test::low_rank_errors(10, 24, 3, 11);
  const MatrixXd mem = memory_matrix(10, 24);
  const auto o = small_options();
  const auto r = loocv_fold(e, mem, 2, o);
  EXPECT_EQ(r.fold, 2);
  EXPECT_DOUBLE_EQ(r.cap, median(mem));
  EXPECT_DOUBLE_EQ(r.budget, r.cap);
  ASSERT_EQ(r.settings.size(), 6u);
  const Eigen::VectorXd m2 = mem.row(2).transpose(), e2 = e.row(2).transpose();
  for (const auto& s : r.settings) {
    ASSERT_EQ(s.methods.size(), 5u);
    EXPECT_EQ(s.capped, setting_capped(s.setting));
    EXPECT_FALSE(s.no_feasible);
    if (!s.capped) EXPECT_EQ(s.feasible.size(), 24u);
    const auto b = random_high_memory(m2, e2, r.budget);
    EXPECT_DOUBLE_EQ(s.baseline_error, b.expected_error);
    for (const auto& c : s.methods) {
      ASSERT_EQ(c.relative_error.size(), 3u);
      for (int j : c.sequence) {
        if (s.capped) EXPECT_LE(m2[j], r.cap) << setting_name(s.setting) << " " << method_name(c.method);
      }
      for (std::size_t li = 0; li < 3; ++li) {
        EXPECT_EQ(c.measured_count[li], std::min<int>(o.measurements[li], static_cast<int>(s.feasible.size())));
        EXPECT_GE(c.regret[li], -1e-15);
        ASSERT_GE(c.selected_config[li], 0);
        EXPECT_LE(m2[c.selected_config[li]], r.budget);
        EXPECT_DOUBLE_EQ(c.selected_error[li], e2[c.selected_config[li]]);
        EXPECT_GE(c.hyperdiff[li], 0);
        EXPECT_GT(c.measured_memory[li], 0);
      }
      // ED-MF on an exactly rank-3 full meta-training matrix recovers the test row.
      if (s.setting == Setting::I && c.method == Method::ed_mf) EXPECT_LT(c.relative_error[0], 1e-8);
    }
  }
  // III/IV share one sample; V/VI another; the full settings have none.
  EXPECT_TRUE(r.settings[0].mask.empty());
  EXPECT_EQ(r.settings[2].mask, r.settings[3].mask);
  EXPECT_EQ(r.settings[4].mask, r.settings[5].mask);
  EXPECT_NE(r.settings[2].mask, r.settings[4].mask);
  EXPECT_EQ(r.settings[2].observed, static_cast<int>(std::lround(0.5 * 9 * 24)));
  // Deterministic.
  const auto again = loocv_fold(e, mem, 2, o);
  EXPECT_EQ(again.settings[5].methods[4].sequence, r.settings[5].methods[4].sequence);
  EXPECT_EQ(again.settings[3].methods[2].relative_error, r.settings[3].methods[2].relative_error);
}

TEST(LoocvFold, NoFeasibleConfigurationIsRecordedNotFatal) {
  const MatrixXd e = test::low_rank_errors(8, 12, 2, 12);
  MatrixXd mem = memory_matrix(8, 12);
  auto o = small_options();
  o.settings = {Setting::I, Setting::II};
  o.methods = {Method::ed_mf};
  o.rank = 2;
  o.cap = mem.row(0).minCoeff() / 2;  // below every configuration of task 0
  const auto r = loocv_fold(e, mem, 0, o);
  EXPECT_FALSE(r.settings[0].no_feasible);
  EXPECT_TRUE(r.settings[1].no_feasible);
  EXPECT_TRUE(std::isnan(r.settings[1].methods[0].relative_error[0]));
  EXPECT_EQ(r.settings[0].methods[0].selected_config[0], -1);  // nothing fits the budget
  EXPECT_TRUE(std::isnan(r.settings[0].baseline_error));
}

TEST(LoocvFold, BadInput) {
  const MatrixXd e = test::low_rank_errors(6, 10, 2, 13);
  const MatrixXd mem = memory_matrix(6, 10);
  auto o = small_options();
  o.rank = 6;  // > n − 1
  EXPECT_THROW(loocv_fold(e, mem, 0, o), InputError);
  o.rank = 2;
  EXPECT_THROW(loocv_fold(e, mem, 6, o), InputError);
  MatrixXd nan = e;
  nan(2, 3) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(loocv_fold(nan, mem, 0, o), InputError);
  o.measurements = {0};
  EXPECT_THROW(loocv_fold(e, mem, 0, o), InputError);
  EXPECT_THROW(parse_setting("VII"), InputError);
  EXPECT_EQ(parse_setting("iv"), Setting::IV);
}
