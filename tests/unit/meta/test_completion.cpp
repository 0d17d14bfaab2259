#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "meta_test_data.hpp"
#include "peppp/core/error.hpp"
#include "peppp/meta/completion.hpp"
#include "peppp/meta/pareto.hpp"
#include "peppp/meta/sampling.hpp"

using namespace peppp;
using namespace peppp::meta;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
MatrixXd memory_matrix(int n, int d) {
  // Affine in the bit count per task, with ties between configurations.
  MatrixXd m(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) m(i, j) = (100.0 + 30.0 * i) * (5 + j % 5) + 10.0 * (j / 5);
  return m;
}
}  // namespace

TEST(Completion, PartialCampaignWithCertificateAndFrontiers) {
  const MatrixXd e = test::low_rank_errors(15, 20, 2, 3, 0.01);
  const MatrixXd a = apply_mask(e, sample_uniform(15, 20, 0.4, 1));
  const MatrixXd mem = memory_matrix(15, 20);
  CompletionOptions o;
  o.lambda_auto = false;
  o.lambda = 0.05;
  const auto r = complete_campaign(a, mem, o);
  EXPECT_FALSE(r.fully_observed);
  EXPECT_FALSE(r.weighted);
  EXPECT_EQ(r.observed, 120);
  EXPECT_TRUE(r.converged);
  EXPECT_LE(r.gap, 1e-7 * r.objective);
  EXPECT_NEAR(softimpute_objective(r.estimate, a, MatrixXd(), 0.05), r.objective, 1e-9 * r.objective);
  EXPECT_EQ(r.pareto_true.size(), 0);
  EXPECT_TRUE(std::isnan(r.relative_error_all));
  EXPECT_TRUE(std::isnan(r.convergence[0]));
  EXPECT_TRUE(r.sweep.empty());
  EXPECT_LT(r.relative_error_observed, 0.2);
  for (int i = 0; i < 15; ++i) {
    const auto want = pareto_mask(normalize_memory(mem.row(i).transpose()), r.estimate.row(i).transpose());
    for (int j = 0; j < 20; ++j) EXPECT_EQ(r.pareto_estimate(i, j), want[static_cast<std::size_t>(j)]);
  }
}

TEST(Completion, WeightedWhenThePlanWasNonUniform) {
  const MatrixXd e = test::low_rank_errors(15, 20, 2, 4, 0.01);
  const MatrixXd mem = memory_matrix(15, 20);
  const MatrixXd p = nonuniform_probabilities(mem, 0.2, 0.9);
  const MatrixXd a = apply_mask(e, sample_nonuniform(p, 2));
  CompletionOptions o;
  o.lambda_auto = false;
  o.lambda = 0.05;
  o.sampling_probabilities = p;
  const auto r = complete_campaign(a, mem, o);
  EXPECT_TRUE(r.weighted);
  EXPECT_TRUE(r.converged);
  const MatrixXd w = p.cwiseInverse();
  EXPECT_NEAR(softimpute_objective(r.estimate, a, w, 0.05), r.objective, 1e-9 * r.objective);
  EXPECT_LE(softimpute_duality_gap(r.estimate, a, w, 0.05), 1e-7 * r.objective);
}

TEST(Completion, FullCampaignGivesTruthMetricsAndSweep) {
  const MatrixXd e = test::low_rank_errors(12, 18, 2, 5, 0.005);
  const MatrixXd mem = memory_matrix(12, 18);
  CompletionOptions o;
  o.lambda_auto = false;
  o.lambda = 0.02;
  o.sweep_ratios = {0.1, 0.3, 0.5};
  const auto r = complete_campaign(e, mem, o);
  EXPECT_TRUE(r.fully_observed);
  ASSERT_EQ(r.pareto_true.rows(), 12);
  for (int i = 0; i < 12; ++i) {
    const auto want = pareto_mask(normalize_memory(mem.row(i).transpose()), e.row(i).transpose());
    for (int j = 0; j < 18; ++j) EXPECT_EQ(r.pareto_true(i, j), want[static_cast<std::size_t>(j)]);
    EXPECT_GE(r.hyperdiff[i], 0);
    EXPECT_GE(r.convergence[i], 0);
  }
  EXPECT_LT(r.relative_error_all, 0.1);
  ASSERT_EQ(r.sweep.size(), 3u);
  EXPECT_EQ(r.sweep[0].observed, static_cast<int>(std::lround(0.1 * 12 * 18)));
  EXPECT_EQ(r.sweep[2].observed, 108);
  EXPECT_LT(r.sweep[2].relative_error, r.sweep[0].relative_error);
  EXPECT_GT(r.sweep[0].relative_error_unobserved, 0);
  EXPECT_EQ(r.sweep[1].convergence.size(), 12);
  EXPECT_NEAR(r.sweep[1].mean_hyperdiff, r.sweep[1].hyperdiff.mean(), 1e-15);
  // Deterministic: the same seed gives the same sweep.
  const auto again = complete_campaign(e, mem, o);
  EXPECT_EQ(again.sweep[1].mask, r.sweep[1].mask);
  EXPECT_EQ(again.sweep[1].relative_error, r.sweep[1].relative_error);
}

TEST(Completion, LambdaAutoUsesCrossValidation) {
  const MatrixXd e = test::low_rank_errors(10, 12, 2, 6, 0.01);
  const MatrixXd a = apply_mask(e, sample_uniform(10, 12, 0.6, 3));
  CompletionOptions o;
  o.gap_tolerance = 1e-6;
  const auto r = complete_campaign(a, memory_matrix(10, 12), o);
  EXPECT_TRUE(r.lambda_auto);
  ASSERT_EQ(r.cv_grid.size(), 6u);
  ASSERT_EQ(r.cv_error.size(), 6u);
  EXPECT_NE(std::find(r.cv_grid.begin(), r.cv_grid.end(), r.lambda), r.cv_grid.end());
}

TEST(Completion, BadInput) {
  MatrixXd e = test::low_rank_errors(5, 6, 2, 7);
  const MatrixXd mem = memory_matrix(5, 6);
  CompletionOptions o;
  o.lambda_auto = false;
  MatrixXd row_missing = e;
  row_missing.row(3).setConstant(kNaN);
  EXPECT_THROW(complete_campaign(row_missing, mem, o), InputError);
  try {
    complete_campaign(row_missing, mem, o);
  } catch (const InputError& x) {
    EXPECT_NE(std::string(x.what()).find("task row 3"), std::string::npos) << x.what();
  }
  o.lambda = 0;
  EXPECT_THROW(complete_campaign(e, mem, o), InputError);
  o.lambda = 0.1;
  MatrixXd bad_mem = mem;
  bad_mem(1, 1) = -3;
  EXPECT_THROW(complete_campaign(e, bad_mem, o), InputError);
  EXPECT_THROW(complete_campaign(e, MatrixXd::Ones(4, 6), o), InputError);
  o.sampling_probabilities = MatrixXd::Zero(5, 6);
  EXPECT_THROW(complete_campaign(e, mem, o), InputError);
  // Status: NaN where status says measured is an error; other statuses are unobserved.
  std::vector<std::uint8_t> status(30, 2);
  status[7] = 4;  // failed
  MatrixXd with_nan = e;
  with_nan(1, 1) = kNaN;  // cell 7
  const MatrixXd obs = measured_errors(with_nan, status);
  EXPECT_TRUE(std::isnan(obs(1, 1)));
  EXPECT_EQ(obs(0, 0), e(0, 0));
  status[7] = 2;
  EXPECT_THROW(measured_errors(with_nan, status), InputError);
  EXPECT_THROW(measured_errors(e, std::vector<std::uint8_t>(29, 2)), InputError);
}
