// Early-epoch fidelity (meta/fidelity.hpp): Kendall tau-b against
// hand-computed values with ties, the regret of ranking by an early epoch
// (also capped), the per-epoch mean ± standard error and the refusals.
#include <gtest/gtest.h>

#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/meta/fidelity.hpp"

using namespace peppp;

TEST(Fidelity, KendallTauBMatchesHandComputedValues) {
  // Perfect agreement and reversal.
  EXPECT_DOUBLE_EQ(meta::kendall_tau_b({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(meta::kendall_tau_b({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  // x = 1 2 2 3, y = 1 3 2 2: pairs (0,1) (0,2) (0,3) concordant, (1,3) discordant,
  // (1,2) tied in x, (2,3) tied in y: (3 − 1) / sqrt((6 − 1)(6 − 1)) = 0.4.
  EXPECT_NEAR(meta::kendall_tau_b({1, 2, 2, 3}, {1, 3, 2, 2}), 0.4, 1e-15);
  // x = 1 1 2, y = 1 1 3: one pair tied in both; 2 concordant of 3 pairs:
  // 2 / sqrt((3 − 1)(3 − 1)) = 1 (tau-a would give 2/3).
  EXPECT_NEAR(meta::kendall_tau_b({1, 1, 2}, {1, 1, 3}), 1.0, 1e-15);
  // x = 1 2 3, y = 1 1 2: (0,1) tied in y, (0,2) (1,2) concordant: 2 / sqrt(3 · 2).
  EXPECT_NEAR(meta::kendall_tau_b({1, 2, 3}, {1, 1, 2}), 2 / std::sqrt(6.0), 1e-15);
  // Undefined: fewer than 2 pairs, or one side all tied.
  EXPECT_TRUE(std::isnan(meta::kendall_tau_b({1}, {2})));
  EXPECT_TRUE(std::isnan(meta::kendall_tau_b({1, 1, 1}, {1, 2, 3})));
  EXPECT_THROW(meta::kendall_tau_b({1, 2}, {1}), InputError);
}

TEST(Fidelity, RegretIsTheFinalErrorOfTheEarlyPickAboveTheBest) {
  const std::vector<double> early{0.5, 0.2, 0.3, 0.4}, final_error{0.1, 0.3, 0.2, 0.25};
  EXPECT_DOUBLE_EQ(meta::ranking_regret(early, final_error), 0.3 - 0.1);  // early picks 1; best is 0
  EXPECT_DOUBLE_EQ(meta::ranking_regret(final_error, final_error), 0.0);
  // Under a cap allowing 2 and 3 only: early picks 2 (0.3 < 0.4), the best there is 2.
  EXPECT_DOUBLE_EQ(meta::ranking_regret(early, final_error, {false, false, true, true}), 0.0);
  // Unmeasured entries are skipped; ties pick the lowest index.
  EXPECT_DOUBLE_EQ(meta::ranking_regret({NAN, 0.2, 0.2, 0.1}, {0.0, 0.4, 0.3, NAN}), 0.4 - 0.3);
  EXPECT_TRUE(std::isnan(meta::ranking_regret(early, final_error, {false, false, false, false})));
}

TEST(Fidelity, PerRowAndEpochWithMeanAndStandardError) {
  // 2 rows × 3 configurations × 2 epochs; epoch 2 is the final error.
  meta::FidelityData d;
  d.row = {"a", "b"};
  d.d = 3;
  d.epoch = {1, 2};
  d.final_error = {0.1, 0.2, 0.3, 0.3, 0.2, 0.1};
  d.memory = {1, 2, 3, 1, 2, 3};
  // Row a at epoch 1: reversed (tau −1, picks config 2: regret 0.2); row b at epoch 1: same order (tau 1).
  const double early[2][3] = {{0.9, 0.8, 0.7}, {0.6, 0.5, 0.4}};
  for (int t = 0; t < 2; ++t)
    for (int c = 0; c < 3; ++c) {
      d.error_by_epoch.push_back(early[t][c]);
      d.error_by_epoch.push_back(d.final_error[t * 3 + c]);
    }
  meta::FidelityOptions opt;
  opt.cap = 2.5;  // configurations 0 and 1
  const auto r = meta::fidelity(d, opt);
  ASSERT_EQ(r.epoch, (std::vector<int>{1, 2}));
  EXPECT_DOUBLE_EQ(r.kendall_tau[0 * 2 + 0], -1.0);
  EXPECT_DOUBLE_EQ(r.kendall_tau[1 * 2 + 0], 1.0);
  EXPECT_DOUBLE_EQ(r.kendall_tau[0 * 2 + 1], 1.0);
  EXPECT_DOUBLE_EQ(r.kendall_tau[1 * 2 + 1], 1.0);
  EXPECT_NEAR(r.regret[0 * 2 + 0], 0.2, 1e-15);
  EXPECT_DOUBLE_EQ(r.regret[1 * 2 + 0], 0.0);
  EXPECT_NEAR(r.regret_capped[0 * 2 + 0], 0.1, 1e-15);  // picks 1 of {0, 1}: 0.2 − 0.1
  EXPECT_DOUBLE_EQ(r.regret_capped[1 * 2 + 0], 0.0);    // picks 1 of {0, 1}: 0.2, the best there
  EXPECT_EQ(r.configs_compared[0], 3);
  EXPECT_DOUBLE_EQ(r.kendall_tau_stats[0].mean, 0.0);
  EXPECT_DOUBLE_EQ(r.kendall_tau_stats[0].se, 1.0);  // std sqrt(2) over sqrt(2)
  EXPECT_DOUBLE_EQ(r.kendall_tau_stats[1].mean, 1.0);
  EXPECT_DOUBLE_EQ(r.kendall_tau_stats[1].se, 0.0);
  EXPECT_NEAR(r.regret_stats[0].mean, 0.1, 1e-15);
  EXPECT_EQ(r.cap, (std::vector<double>{2.5, 2.5}));
  // The median cap (2 MiB here) and the task median; one epoch only.
  opt.cap = NAN;
  opt.epochs = {1};
  const auto m = meta::fidelity(d, opt);
  ASSERT_EQ(m.epoch, (std::vector<int>{1}));
  EXPECT_EQ(m.cap, (std::vector<double>{2, 2}));
  EXPECT_NEAR(m.regret_capped[0], 0.1, 1e-15);
  opt.epochs = {3};
  EXPECT_THROW(meta::fidelity(d, opt), InputError);
  d.epoch.clear();
  EXPECT_THROW(meta::fidelity(d, {}), InputError);
}
