// The sequential EI-MF selection of `peppp select` as an object: rounds of joint picks
// with fantasies (the same picks as the loop it replaced), failed cells not tried again,
// the stop on the measurement limit, the tolerance and an exhausted cap.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "meta_test_data.hpp"
#include "peppp/core/error.hpp"
#include "peppp/meta/bayes.hpp"
#include "peppp/meta/sequential.hpp"

using namespace peppp;
using namespace peppp::meta;

namespace {

struct Case {
  AcquisitionContext ctx;
  Eigen::VectorXd memory, truth;
};

// 12 meta-training tasks x 24 configurations of rank 3 (+ noise); the new task is row 12.
Case make_case(double cap = 16, double budget = 17) {
  Case c;
  const Eigen::MatrixXd e = test::low_rank_errors(13, 24, 3, 7, 0.01);
  const Eigen::MatrixXd train = e.topRows(12);
  c.truth = e.row(12).transpose();
  c.memory.resize(24);
  for (int j = 0; j < 24; ++j) c.memory(j) = 10.0 + (j % 12);
  c.ctx.prior = fit_embedding_prior(train, 3);
  c.ctx.y = c.ctx.prior.y.topRows(3);
  c.ctx.train_errors = train;
  for (int j = 0; j < 24; ++j) {
    if (c.memory(j) <= cap) c.ctx.feasible.push_back(j);
    if (c.memory(j) <= budget) c.ctx.decision.push_back(j);
  }
  return c;
}

SequentialOptions options(int measurements, int per_round, double tolerance = 0) {
  SequentialOptions o;
  o.measurements = measurements;
  o.per_round = per_round;
  o.budget = 17;
  o.tolerance = tolerance;
  o.risk_samples = 500;
  return o;
}

// Run the selection to its end with the true errors (NaN for the configurations in `fail`).
SequentialSelection run(const Case& c, const SequentialOptions& o, const std::set<int>& fail = {}) {
  SequentialSelection s(c.ctx, c.memory, o);
  for (int guard = 0; guard < 100; ++guard) {
    const std::vector<int> picks = s.next_picks();
    if (picks.empty()) break;
    std::vector<double> got;
    for (int j : picks) got.push_back(fail.count(j) ? std::numeric_limits<double>::quiet_NaN() : c.truth(j));
    s.observe(picks, got);
  }
  return s;
}

}  // namespace

TEST(SequentialSelection, RoundsEqualTheJointFantasyLoop) {
  const Case c = make_case();
  SequentialSelection s = run(c, options(5, 2));
  ASSERT_TRUE(s.done());
  EXPECT_EQ(s.stop_reason(), StopReason::measurements);
  // The reference: each round's picks by ei_mf_next, the pending ones at their posterior mean.
  std::vector<int> used;
  std::vector<double> values;
  while (used.size() < 5) {
    std::vector<int> sset = used;
    std::vector<double> v = values;
    std::vector<int> picks;
    for (std::size_t i = 0; i < std::min<std::size_t>(2, 5 - used.size()); ++i) {
      const Eigen::VectorXd vv = Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
      const int j = ei_mf_next(c.ctx, c.ctx.prior, sset, vv);
      ASSERT_GE(j, 0);
      v.push_back(embedding_posterior(c.ctx.prior, sset, vv).mean(j));
      sset.push_back(j);
      picks.push_back(j);
    }
    for (int j : picks) {
      used.push_back(j);
      values.push_back(c.truth(j));
    }
  }
  EXPECT_EQ(s.measured_configs(), used);
  EXPECT_EQ(s.measured_rounds(), (std::vector<int>{0, 0, 1, 1, 2}));
  ASSERT_EQ(s.rounds().size(), 3u);
  EXPECT_EQ(s.rounds()[2].picks.size(), 1u);  // the limit cuts the last round
  for (int j : s.measured_configs()) EXPECT_LE(c.memory(j), 16) << j;
  // The recommendation is the posterior selection of everything measured, as after the last round.
  const SelectionPrediction r = s.recommendation();
  const SelectionPrediction p = posterior_selection(c.ctx.prior, c.memory, used, values, 17, 500, 1);
  EXPECT_EQ(r.recommended_index, p.recommended_index);
  EXPECT_EQ(r.recommended_index, s.rounds().back().after.recommended_index);
  EXPECT_DOUBLE_EQ(r.expected_regret, s.rounds().back().after.expected_regret);
  EXPECT_LE(c.memory(r.recommended_index), 17);
  EXPECT_TRUE(s.next_picks().empty());
}

TEST(SequentialSelection, FailedConfigurationsAreNotTriedAgain) {
  const Case c = make_case();
  const SequentialSelection first = run(c, options(1, 1));
  const int failing = first.measured_configs().front();
  const SequentialSelection s = run(c, options(4, 1), {failing});
  ASSERT_EQ(s.measured_configs().size(), 4u);
  EXPECT_EQ(s.measured_configs().front(), failing);
  EXPECT_TRUE(std::isnan(s.measured_errors().front()));
  EXPECT_EQ(std::count(s.measured_configs().begin(), s.measured_configs().end(), failing), 1);
  std::set<int> distinct(s.measured_configs().begin(), s.measured_configs().end());
  EXPECT_EQ(distinct.size(), 4u);
}

TEST(SequentialSelection, StopsOnTheToleranceAndWhenTheCapIsExhausted) {
  const Case c = make_case();
  // Any regret is within 1: the zero-shot pick already is, so nothing is trained (checked before round 1).
  const SequentialSelection tol = run(c, options(6, 1, 1.0));
  EXPECT_EQ(tol.stop_reason(), StopReason::tolerance);
  EXPECT_TRUE(tol.measured_configs().empty());
  EXPECT_TRUE(tol.rounds().empty());
  // A tolerance the first round meets but the prior does not: one round, then stop.
  const SequentialSelection all6 = run(c, options(6, 1));
  const double zero = all6.zero_shot().expected_regret, first = all6.rounds().front().after.expected_regret;
  ASSERT_LT(first, zero) << "the case's first measurement lowers the expected regret";
  const SequentialSelection one = run(c, options(6, 1, first));
  EXPECT_EQ(one.stop_reason(), StopReason::tolerance);
  EXPECT_EQ(one.measured_configs().size(), 1u);

  const Case small = make_case(11, 17);  // two configurations (memory 10 and 11, twice each: 4) under the cap
  const SequentialSelection all = run(small, options(10, 3));
  EXPECT_EQ(all.stop_reason(), StopReason::exhausted);
  EXPECT_EQ(all.measured_configs().size(), small.ctx.feasible.size());
  EXPECT_EQ(all.rounds().size(), 2u);  // 3 + 1
}

TEST(SequentialSelection, NoMeasurementIsTheZeroShotPrior) {
  const Case c = make_case();
  SequentialSelection s(c.ctx, c.memory, options(0, 2));
  EXPECT_TRUE(s.done());
  EXPECT_TRUE(s.next_picks().empty());
  const SelectionPrediction r = s.recommendation();
  EXPECT_EQ(r.recommended_index,
            posterior_selection(c.ctx.prior, c.memory, {}, {}, 17, 500, 1).recommended_index);
  EXPECT_GE(r.recommended_index, 0);
}

TEST(SequentialSelection, RefusesMismatchedInputs) {
  const Case c = make_case();
  EXPECT_THROW(SequentialSelection(c.ctx, Eigen::VectorXd::Ones(3), options(2, 1)), InputError);
  EXPECT_THROW(SequentialSelection(c.ctx, c.memory, options(2, 0)), InputError);
  SequentialSelection s(c.ctx, c.memory, options(2, 1));
  EXPECT_THROW(s.observe({1, 2}, {0.1}), InputError);
}

// Issue 30: the zero-shot answer is the prior's (nothing measured), kept beside the rounds, and
// each round records the recommendation before it (the zero-shot pick before round 1).
TEST(SequentialSelection, KeepsTheZeroShotPickAndTheRecommendationBeforeEachRound) {
  const Case c = make_case();
  const SequentialSelection s = run(c, options(5, 2));
  const SelectionPrediction& z = s.zero_shot();
  const SelectionPrediction prior = posterior_selection(c.ctx.prior, c.memory, {}, {}, 17, 500, 1);
  EXPECT_EQ(z.recommended_index, prior.recommended_index);
  EXPECT_DOUBLE_EQ(z.expected_regret, prior.expected_regret);
  EXPECT_GT(z.expected_regret, 0.0);
  // The lowest prior mean error under the budget.
  for (int j : c.ctx.decision) EXPECT_GE(z.predicted_error(j), z.predicted_error(z.recommended_index)) << j;
  EXPECT_LE(c.memory(z.recommended_index), 17);
  ASSERT_EQ(s.rounds().size(), 3u);
  EXPECT_EQ(s.rounds()[0].recommended_before, z.recommended_index);
  for (std::size_t k = 1; k < s.rounds().size(); ++k)
    EXPECT_EQ(s.rounds()[k].recommended_before, s.rounds()[k - 1].after.recommended_index);
  // Measuring lowers the expected regret of the pick on this case (the prior is unsure).
  EXPECT_LT(s.rounds().back().after.expected_regret, z.expected_regret);
  // No measurement: the recommendation is the zero-shot pick, and the selection is done at once.
  const SequentialSelection none(c.ctx, c.memory, options(0, 2));
  EXPECT_EQ(none.stop_reason(), StopReason::measurements);
  EXPECT_EQ(none.recommendation().recommended_index, none.zero_shot().recommended_index);
}
