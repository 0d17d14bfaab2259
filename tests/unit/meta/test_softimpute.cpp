#include <gtest/gtest.h>

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
  const MatrixXd e = test::low_rank_errors(30, 40, 2, 8, 0.01);
  const MatrixXd a = apply_mask(e, sample_uniform(30, 40, 0.5, 3));
  SoftImputeOptions o;
  o.gap_tolerance = 1e-6;
  const std::vector<double> grid{0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10};
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
