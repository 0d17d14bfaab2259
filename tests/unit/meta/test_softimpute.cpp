#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "meta_test_data.hpp"
#include "peppp/core/error.hpp"
#include "peppp/meta/sampling.hpp"
#include "peppp/meta/softimpute.hpp"

using namespace peppp;
using namespace peppp::meta;
using Eigen::MatrixXd;

namespace {
// The F3.4 reference shape: 40×99 at 20%, λ = 0.1.
MatrixXd reference_data() {
  const MatrixXd e = test::low_rank_errors(40, 99, 3, 17, 0.02);
  return apply_mask(e, sample_uniform(40, 99, 0.2, 5));
}
// The CV tests' 30×40 matrix, half observed, and their long grid.
MatrixXd cv_data() {
  const MatrixXd e = test::low_rank_errors(30, 40, 2, 8, 0.01);
  return apply_mask(e, sample_uniform(30, 40, 0.5, 3));
}
const std::vector<double> kLongGrid{0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10};
}  // namespace

TEST(SoftImpute, GapCertificateUnweighted) {
  const MatrixXd a = reference_data();
  for (auto solver : {SoftImputeSolver::factored, SoftImputeSolver::proximal}) {
    SCOPED_TRACE(solver == SoftImputeSolver::factored ? "factored" : "proximal");
    SoftImputeOptions o;
    o.lambda = 0.1;
    o.solver = solver;
    const auto r = soft_impute(a, MatrixXd(), o);
    EXPECT_TRUE(r.converged);
    EXPECT_LT(r.gap, 1e-7 * r.objective);
    // Independent evaluation with exact SVDs agrees with the solver's numbers.
    const double f = softimpute_objective(r.estimate, a, MatrixXd(), 0.1);
    EXPECT_NEAR(f, r.objective, 1e-9 * f);
    EXPECT_LT(softimpute_duality_gap(r.estimate, a, MatrixXd(), 0.1), 1e-7 * f);
    EXPECT_GT(r.rank, 0);
    EXPECT_LT(r.rank, 40);
    // The subgradient condition of F3.4.
    const auto sg = softimpute_subgradient(r.estimate, a, MatrixXd(), 0.1, 1e-6);
    EXPECT_EQ(sg.rank, r.rank);
    EXPECT_LT(sg.tangent_residual, 1e-3);
    EXPECT_LE(sg.perp_norm, 1.0 + 1e-3);
  }
}

TEST(SoftImpute, GapCertificateWeighted) {
  // Inverse-probability weights (F4.3) up to ~100: plain proximal gradient on a
  // small case, the accelerated variant on the reference shape; the factored
  // solver on both.
  for (int n : {20, 40})
    for (auto solver : {SoftImputeSolver::factored, SoftImputeSolver::proximal}) {
      SCOPED_TRACE(solver == SoftImputeSolver::factored ? "factored" : "proximal");
      const int d = n == 20 ? 30 : 99;
      const MatrixXd e = test::low_rank_errors(n, d, 3, 21, 0.02);
      const MatrixXd mem = test::uniform_matrix(n, d, 4, 100, 1000);
      const MatrixXd p = nonuniform_probabilities(mem, 0.0, 0.4);
      const MatrixXd a = apply_mask(e, sample_nonuniform(p, 9));
      const MatrixXd w = p.cwiseInverse();
      SoftImputeOptions o;
      o.lambda = 0.3;
      o.solver = solver;
      o.accelerated = n == 40;
      const auto r = soft_impute(a, w, o);
      EXPECT_TRUE(r.converged) << n;
      EXPECT_LT(softimpute_duality_gap(r.estimate, a, w, 0.3), 1e-7 * r.objective);
      const auto sg = softimpute_subgradient(r.estimate, a, w, 0.3, 1e-6);
      EXPECT_LE(sg.perp_norm, 1.0 + 1e-3);
      EXPECT_LT(sg.tangent_residual, 1e-2);
    }
}

TEST(SoftImpute, PathEqualsDirectAndVariantsAgree) {
  const MatrixXd a = reference_data();
  SoftImputeOptions o;
  o.lambda = 0.1;
  o.gap_tolerance = 1e-10;
  const auto direct = soft_impute(a, MatrixXd(), o);
  o.path = {3.0, 1.0, 0.3};
  const auto path = soft_impute(a, MatrixXd(), o);
  EXPECT_NEAR(path.objective, direct.objective, 1e-9 * direct.objective);
  EXPECT_LT((path.estimate - direct.estimate).norm(), 1e-3 * direct.estimate.norm());
  EXPECT_GT(path.total_iterations, path.iterations);
  o.path.clear();
  o.solver = SoftImputeSolver::proximal;
  const auto prox = soft_impute(a, MatrixXd(), o);
  EXPECT_NEAR(prox.objective, direct.objective, 1e-9 * direct.objective);
  EXPECT_EQ(prox.rank, direct.rank);
  EXPECT_LT((prox.estimate - direct.estimate).norm(), 1e-3 * direct.estimate.norm());
  o.accelerated = true;
  const auto acc = soft_impute(a, MatrixXd(), o);
  EXPECT_NEAR(acc.objective, direct.objective, 1e-9 * direct.objective);
  o.accelerated = false;
  o.svd = SvdMethod::exact;
  const auto ex = soft_impute(a, MatrixXd(), o);
  o.svd = SvdMethod::randomized;
  const auto rnd = soft_impute(a, MatrixXd(), o);
  EXPECT_NEAR(ex.objective, direct.objective, 1e-9 * direct.objective);
  EXPECT_NEAR(rnd.objective, direct.objective, 1e-9 * direct.objective);
}

// The factored solver starts with a few columns more than the warm start's
// rank (at least 8) and must add columns when the solution needs more: a
// fully observed 20×30 noise matrix at a small λ has rank ~20; the warm start
// has rank 1.
TEST(SoftImpute, FactoredGrowsTheRankToTheCertificate) {
  const MatrixXd a = test::uniform_matrix(20, 30, 41, -1, 1);
  SoftImputeOptions o;
  o.lambda = 0.05;
  o.gap_tolerance = 1e-9;
  const MatrixXd rank_one = MatrixXd::Constant(20, 30, 0.1);
  const auto r = soft_impute(a, MatrixXd(), o, rank_one);
  EXPECT_TRUE(r.converged);
  EXPECT_GT(r.rank, 12);
  EXPECT_LT(softimpute_duality_gap(r.estimate, a, MatrixXd(), 0.05), 1e-9 * r.objective);
  o.solver = SoftImputeSolver::proximal;
  const auto p = soft_impute(a, MatrixXd(), o, rank_one);
  EXPECT_EQ(p.rank, r.rank);
  EXPECT_NEAR(p.objective, r.objective, 2e-9 * r.objective);
}

TEST(SoftImpute, RecoversRankTwoFromFortyPercent) {
  const MatrixXd e = test::low_rank_errors(60, 80, 2, 33);
  const MatrixXd a = apply_mask(e, sample_uniform(60, 80, 0.4, 2));
  SoftImputeOptions o;
  o.lambda = 1e-4;
  o.accelerated = true;
  o.path = {1.0, 0.1, 0.01, 1e-3};
  const auto r = soft_impute(a, MatrixXd(), o);
  EXPECT_TRUE(r.converged);
  EXPECT_EQ(r.rank, 2);
  EXPECT_LT((r.estimate - e).norm() / e.norm(), 1e-3);
}

TEST(SoftImpute, SvdAboveMatchesExact) {
  const MatrixXd x = test::low_rank_errors(120, 90, 6, 3, 0.01);
  const auto ex = svd_above(x, 0.05, SvdMethod::exact);
  const auto rn = svd_above(x, 0.05, SvdMethod::randomized);
  ASSERT_EQ(ex.s.size(), rn.s.size());
  EXPECT_LT((ex.s - rn.s).norm(), 1e-10);
  EXPECT_LT((ex.u * ex.s.asDiagonal() * ex.v.transpose() - rn.u * rn.s.asDiagonal() * rn.v.transpose()).norm(), 1e-8);
  EXPECT_NEAR(spectral_norm(x), ex.s[0], 1e-12 * ex.s[0]);
}

TEST(SoftImpute, CrossValidationPicksAGoodLambda) {
  const MatrixXd e = test::low_rank_errors(30, 40, 2, 8, 0.01);
  const MatrixXd a = apply_mask(e, sample_uniform(30, 40, 0.5, 3));
  SoftImputeOptions o;
  o.gap_tolerance = 1e-6;
  const auto cv = cv_lambda(a, MatrixXd(), o, {0.01, 0.1, 10}, 4, 1);
  ASSERT_EQ(cv.heldout_error.size(), 3u);
  // λ = 10 kills everything (error 1); the small λ do far better.
  EXPECT_NEAR(cv.heldout_error[2], 1.0, 1e-9);
  EXPECT_LT(cv.lambda, 10);
  for (double h : cv.heldout_error) EXPECT_GE(h, cv.heldout_error[cv.lambda == 0.01 ? 0 : 1]);
  const auto again = cv_lambda(a, MatrixXd(), o, {0.01, 0.1, 10}, 4, 1);
  EXPECT_EQ(again.heldout_error, cv.heldout_error);
  // The standard error over the folds: λ = 10 predicts 0 in every fold, each
  // fold's relative error is 1, so it is 0; elsewhere the folds disagree a little.
  ASSERT_EQ(cv.heldout_se.size(), 3u);
  EXPECT_NEAR(cv.heldout_se[2], 0.0, 1e-12);
  for (int i : {0, 1}) {
    EXPECT_GT(cv.heldout_se[i], 0) << i;
    EXPECT_LT(cv.heldout_se[i], cv.heldout_error[i]) << i;
  }
}

TEST(SoftImpute, CrossValidationPatienceStopsThePathAfterTheMinimum) {
  const MatrixXd a = cv_data();
  SoftImputeOptions o;
  o.gap_tolerance = 1e-6;
  const std::vector<double>& grid = kLongGrid;
  const auto all = cv_lambda(a, MatrixXd(), o, grid, 4, 1);
  // The same solves in the same order per fold: patience only skips the end of the path.
  for (int patience : {1, 2}) {
    const auto early = cv_lambda(a, MatrixXd(), o, grid, 4, 1, patience);
    EXPECT_EQ(early.lambda, all.lambda) << patience;
    int reached = 0;
    for (std::size_t i = 0; i < grid.size(); ++i)
      if (!std::isnan(early.heldout_error[i])) {
        EXPECT_EQ(early.heldout_error[i], all.heldout_error[i]) << i;
        EXPECT_EQ(early.heldout_se[i], all.heldout_se[i]) << i;
        ++reached;
      } else {
        EXPECT_TRUE(std::isnan(early.heldout_se[i])) << i;
      }
    EXPECT_GE(reached, 1 + patience);
    if (patience == 1) EXPECT_LT(reached, static_cast<int>(grid.size()));  // this curve rises below its minimum
  }
  EXPECT_THROW(cv_lambda(a, MatrixXd(), o, grid, 4, 1, -1), InputError);
}

TEST(SoftImpute, CrossValidationFlatStopsOnceTheCurveFlattens) {
  const MatrixXd a = cv_data();
  SoftImputeOptions o;
  o.gap_tolerance = 1e-6;
  const std::vector<double>& grid = kLongGrid;
  const auto all = cv_lambda(a, MatrixXd(), o, grid, 4, 1, 1);
  // flat_se = 0 is the path as before, bit for bit.
  const auto off = cv_lambda(a, MatrixXd(), o, grid, 4, 1, 1, 0.0);
  EXPECT_EQ(off.lambda, all.lambda);
  for (std::size_t i = 0; i < grid.size(); ++i) {
    EXPECT_EQ(std::isnan(off.heldout_error[i]), std::isnan(all.heldout_error[i])) << i;
    if (!std::isnan(all.heldout_error[i])) EXPECT_EQ(off.heldout_error[i], all.heldout_error[i]) << i;
  }
  // Each solved candidate has the error of the full path; the path stops at
  // the first candidate that gains less than flat_se standard errors on the one before.
  int shorter = 0;
  for (double flat : {0.5, 3.0, 1e9}) {
    SCOPED_TRACE(flat);
    const auto early = cv_lambda(a, MatrixXd(), o, grid, 4, 1, 1, flat);
    std::vector<std::size_t> solved;  // largest λ first
    for (std::size_t i = grid.size(); i-- > 0;)
      if (!std::isnan(early.heldout_error[i])) {
        EXPECT_EQ(early.heldout_error[i], all.heldout_error[i]) << i;
        solved.push_back(i);
      }
    ASSERT_GE(solved.size(), 2u);
    auto gain = [&](std::size_t q) {  // of the q-th solved candidate over the one before, in its SEs
      return (early.heldout_error[solved[q - 1]] - early.heldout_error[solved[q]]) / early.heldout_se[solved[q]];
    };
    bool descended = false;
    for (std::size_t q = 1; q + 1 < solved.size(); ++q) {  // no step before the last stopped the path
      EXPECT_FALSE(descended && gain(q) < flat) << q;
      descended = descended || gain(q) >= flat;
    }
    const auto patience_solved = static_cast<std::size_t>(std::count_if(
        all.heldout_error.begin(), all.heldout_error.end(), [](double x) { return !std::isnan(x); }));
    if (solved.size() < patience_solved) {
      EXPECT_TRUE(descended && gain(solved.size() - 1) < flat);  // stopped before patience did: flat
      ++shorter;
    }
    if (flat == 1e9) EXPECT_EQ(solved.size(), patience_solved);  // no step gains 1e9 SE: never descended
    double lowest = early.heldout_error[solved.front()];
    for (std::size_t i : solved) lowest = std::min(lowest, early.heldout_error[i]);
    EXPECT_LE(early.heldout_error[static_cast<std::size_t>(
                  std::find(grid.begin(), grid.end(), early.lambda) - grid.begin())],
              lowest * (1 + kCvTie));
  }
  EXPECT_GE(shorter, 1);  // the rule does end this path early for some flat_se
  EXPECT_THROW(cv_lambda(a, MatrixXd(), o, grid, 4, 1, 1, -0.5), InputError);
}

TEST(SoftImpute, WarmStartFromTheCvEstimateReachesTheSameOptimum) {
  const MatrixXd a = reference_data();
  SoftImputeOptions o;
  o.gap_tolerance = 1e-3;
  const auto cv = cv_lambda(a, MatrixXd(), o, {0.03, 0.1, 0.3, 1}, 5, 4, 1, 0.0, true);
  const auto plain = cv_lambda(a, MatrixXd(), o, {0.03, 0.1, 0.3, 1}, 5, 4, 1);
  EXPECT_EQ(cv.lambda, plain.lambda);  // keeping the estimate changes no solve
  EXPECT_EQ(cv.heldout_error, std::vector<double>(plain.heldout_error));
  EXPECT_EQ(plain.estimate.size(), 0);
  ASSERT_EQ(cv.estimate.rows(), a.rows());
  ASSERT_EQ(cv.estimate.cols(), a.cols());
  SoftImputeOptions f;
  f.lambda = cv.lambda;
  const auto cold = soft_impute(a, MatrixXd(), f);
  const auto warm = soft_impute(a, MatrixXd(), f, cv.estimate);
  ASSERT_TRUE(cold.converged);
  ASSERT_TRUE(warm.converged);
  // Both certified at gap ≤ 1e-7·F: their objectives agree to that, and the warm one needs no λ_max path.
  EXPECT_NEAR(warm.objective, cold.objective, 2e-7 * cold.objective);
  EXPECT_LT(softimpute_duality_gap(warm.estimate, a, MatrixXd(), f.lambda), 1e-7 * warm.objective);
  EXPECT_EQ(warm.total_iterations, warm.iterations);
  EXPECT_LT(warm.total_iterations, cold.total_iterations);
  EXPECT_EQ(warm.rank, cold.rank);
}

TEST(SoftImpute, BlockedPreconditionerReachesTheSameOptimum) {
  for (double lambda : {0.01, 0.1}) {
    SCOPED_TRACE(lambda);
    const MatrixXd a = reference_data();
    SoftImputeOptions o;
    o.lambda = lambda;
    const auto plain = soft_impute(a, MatrixXd(), o);
    o.blocked_preconditioner = true;
    for (bool single : {false, true}) {
      SCOPED_TRACE(single);
      o.single_precision_preconditioner = single;
      const auto blocked = soft_impute(a, MatrixXd(), o);
      ASSERT_TRUE(plain.converged);
      ASSERT_TRUE(blocked.converged);
      EXPECT_NEAR(blocked.objective, plain.objective, 2e-7 * plain.objective);
      EXPECT_LT(softimpute_duality_gap(blocked.estimate, a, MatrixXd(), lambda), 1e-7 * blocked.objective);
      EXPECT_EQ(blocked.rank, plain.rank);
      // The same preconditioner up to round-off (single: to ~1e-7): about the same number of steps.
      EXPECT_NEAR(blocked.total_iterations, plain.total_iterations, 0.2 * plain.total_iterations + 5);
    }
  }
}

TEST(SoftImpute, BadInput) {
  MatrixXd a = test::uniform_matrix(5, 6, 1);
  SoftImputeOptions o;
  o.lambda = 0;
  EXPECT_THROW(soft_impute(a, MatrixXd(), o), InputError);
  o.lambda = -1;
  EXPECT_THROW(soft_impute(a, MatrixXd(), o), InputError);
  o.lambda = 0.1;
  MatrixXd w = MatrixXd::Ones(5, 6);
  w(1, 1) = 0;
  EXPECT_THROW(soft_impute(a, w, o), InputError);
  EXPECT_THROW(soft_impute(a, MatrixXd::Ones(4, 6), o), InputError);
  MatrixXd none = MatrixXd::Constant(3, 3, std::numeric_limits<double>::quiet_NaN());
  EXPECT_THROW(soft_impute(none, MatrixXd(), o), InputError);
  EXPECT_THROW(cv_lambda(a, MatrixXd(), o, {0.1, -2}), InputError);
}
