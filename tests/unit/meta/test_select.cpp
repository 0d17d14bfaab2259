// Meta-test core of `peppp select`: ED-MF choice under the cap, LS
// prediction with its uncertainty, frontier and the recommendation.
#include <gtest/gtest.h>

#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/meta/select.hpp"

using namespace peppp;

namespace {

struct Case {
  Eigen::MatrixXd train;  // 10 × 20, rank 3
  Eigen::VectorXd truth;  // the new task, same model
  Eigen::VectorXd memory;
  std::vector<std::string> config;
};

Case make_case() {
  Case c;
  const int n = 10, d = 20;
  Eigen::MatrixXd x(3, n + 1), y(3, d);
  for (int i = 0; i <= n; ++i)
    for (int r = 0; r < 3; ++r) x(r, i) = (r == 0 ? 1.0 : 0.2) * std::sin(1.7 * i + 0.9 * r + 0.3);
  for (int j = 0; j < d; ++j)
    for (int r = 0; r < 3; ++r) y(r, j) = (r == 0 ? 0.3 : 0.1) * std::cos(2.3 * j + 1.1 * r) + (r == 0 ? 0.3 : 0.0);
  const Eigen::MatrixXd e = x.transpose() * y;
  c.train = e.topRows(n);
  c.truth = e.row(n).transpose();
  c.memory.resize(d);
  for (int j = 0; j < d; ++j) c.memory(j) = 10.0 + (j % 10);
  for (int j = 0; j < d; ++j) c.config.push_back("c" + std::to_string(j));
  return c;
}

}  // namespace

TEST(Select, ChoosesUnderTheCapAndPredictsAnExactLowRankTask) {
  const Case c = make_case();
  const double cap = 15, budget = 17;
  const auto chosen = meta::choose_configurations(c.train, c.memory, 5, cap, 3);
  ASSERT_EQ(chosen.size(), 5u);
  for (int j : chosen) EXPECT_LE(c.memory(j), cap);
  std::vector<double> measured;
  for (int j : chosen) measured.push_back(c.truth(j));
  const meta::SelectionPrediction s = meta::predict_selection(c.train, c.memory, chosen, measured, budget, 3);
  for (int j = 0; j < 20; ++j) {
    EXPECT_NEAR(s.predicted_error(j), c.truth(j), 1e-9) << j;
    EXPECT_LT(s.predicted_std(j), 1e-6) << j;
    EXPECT_EQ(s.measured[j], std::find(chosen.begin(), chosen.end(), j) != chosen.end());
  }
  // The recommendation is the lowest true error under the budget (prediction is exact here).
  int best = -1;
  for (int j = 0; j < 20; ++j)
    if (c.memory(j) <= budget && (best < 0 || c.truth(j) < c.truth(best))) best = j;
  EXPECT_EQ(s.recommended_index, best);
  EXPECT_LE(c.memory(s.recommended_index), budget);
  EXPECT_EQ(s.selection_order, chosen);
  for (int j : chosen) EXPECT_EQ(s.measured_error(j), c.truth(j));
  EXPECT_EQ(s.pareto_estimate[best], 1);
}

TEST(Select, NoisyMeasurementsGiveAPositiveUncertainty) {
  const Case c = make_case();
  const auto chosen = meta::choose_configurations(c.train, c.memory, 6, 19, 3);
  std::vector<double> measured;
  for (std::size_t q = 0; q < chosen.size(); ++q) measured.push_back(c.truth(chosen[q]) + (q % 2 ? 0.01 : -0.01));
  const meta::SelectionPrediction s = meta::predict_selection(c.train, c.memory, chosen, measured, 19, 3);
  for (int j = 0; j < 20; ++j) {
    EXPECT_GT(s.predicted_std(j), 0) << j;
    EXPECT_LT(std::abs(s.predicted_error(j) - c.truth(j)), 6 * s.predicted_std(j) + 1e-3) << j;
  }
}

TEST(Select, BadRequestsAreRefused) {
  const Case c = make_case();
  EXPECT_THROW(meta::choose_configurations(c.train, c.memory, 7, 12, 3), InputError);   // 6 under the cap
  EXPECT_THROW(meta::choose_configurations(c.train, c.memory, 2, 19, 3), InputError);   // below the rank
  const auto chosen = meta::choose_configurations(c.train, c.memory, 4, 19, 3);
  std::vector<double> measured;
  for (int j : chosen) measured.push_back(c.truth(j));
  EXPECT_THROW(meta::predict_selection(c.train, c.memory, chosen, measured, 5, 3), InputError);
}

TEST(DecisionRisk, CertainBeliefHasNoRegretAndOneWinner) {
  Eigen::VectorXd mean(4), memory(4);
  mean << 0.30, 0.10, 0.20, 0.05;
  memory << 1, 2, 3, 9;  // the last does not fit a budget of 5
  const auto r = meta::decision_risk(mean, Eigen::MatrixXd::Zero(4, 4), memory, 5, 500, 3);
  EXPECT_EQ(r.recommended_index, 1);
  EXPECT_DOUBLE_EQ(r.expected_regret, 0.0);
  EXPECT_DOUBLE_EQ(r.p_best(1), 1.0);
  EXPECT_DOUBLE_EQ(r.p_best(3), 0.0);
}

TEST(DecisionRisk, TwoEqualIndependentChoicesMatchTheClosedForm) {
  // e1, e2 ~ N(0.3, s²) independent: P(best) = 1/2 each and
  // E[e_rec − min(e1, e2)] = E[max(0, e1 − e2)] = s·sqrt(2)·φ(0) = s/sqrt(π).
  const double s = 0.05;
  Eigen::VectorXd mean = Eigen::VectorXd::Constant(3, 0.3), memory(3);
  mean(2) = 0.9;
  memory << 1, 1, 1;
  Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(3, 3);
  cov(0, 0) = cov(1, 1) = s * s;
  const auto r = meta::decision_risk(mean, cov, memory, 1, 40000, 11);
  const double expected = s / std::sqrt(M_PI);
  const double se = s * std::sqrt(1 - 1 / M_PI) / std::sqrt(40000.0);  // sd of max(0, Δ) is below s
  EXPECT_NEAR(r.expected_regret, expected, 5 * se) << "expected " << expected;
  EXPECT_NEAR(r.p_best(0), 0.5, 0.02);
  EXPECT_NEAR(r.p_best(1), 0.5, 0.02);
  EXPECT_DOUBLE_EQ(r.p_best(2), 0.0);
  // Deterministic in the seed.
  const auto again = meta::decision_risk(mean, cov, memory, 1, 40000, 11);
  EXPECT_EQ(r.expected_regret, again.expected_regret);
}
