#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <set>

#include "meta_test_data.hpp"
#include "peppp/core/error.hpp"
#include "peppp/meta/acquisition.hpp"
#include "peppp/meta/design.hpp"
#include "peppp/meta/lowrank.hpp"

using namespace peppp;
using namespace peppp::meta;
using Eigen::MatrixXd;
using Eigen::VectorXd;

TEST(Gp, PosteriorEqualsDenseComputation) {
  const MatrixXd f = test::uniform_matrix(3, 7, 1);
  const VectorXd y = test::uniform_matrix(7, 1, 2, 0, 1).col(0);
  const MatrixXd q = test::uniform_matrix(3, 5, 3);
  const double ell = 0.7, sn = 1e-3;
  GaussianProcess gp(ell, sn);
  gp.fit(f, y);
  VectorXd mu, sd;
  gp.predict(q, mu, sd);
  // Dense closed form of F7.3 with a full inverse.
  const double ybar = y.mean();
  const double s = std::sqrt((y.array() - ybar).square().mean());
  const VectorXd yt = (y.array() - ybar) / s;
  auto kern = [&](const VectorXd& a, const VectorXd& b) { return std::exp(-(a - b).squaredNorm() / (2 * ell * ell)); };
  MatrixXd k(7, 7);
  for (int a = 0; a < 7; ++a)
    for (int b = 0; b < 7; ++b) k(a, b) = kern(f.col(a), f.col(b)) + (a == b ? sn + 1e-10 : 0.0);
  const MatrixXd kinv = k.inverse();
  for (int c = 0; c < 5; ++c) {
    VectorXd kc(7);
    for (int a = 0; a < 7; ++a) kc[a] = kern(f.col(a), q.col(c));
    EXPECT_NEAR(mu[c], ybar + s * kc.dot(kinv * yt), 1e-9);
    EXPECT_NEAR(sd[c], s * std::sqrt(1 + sn - kc.dot(kinv * kc)), 1e-9);
  }
  // At a training point the mean nearly interpolates.
  VectorXd m1, s1;
  gp.predict(f.col(0), m1, s1);
  EXPECT_NEAR(m1[0], y[0], 1e-2);
}

TEST(Gp, LogExpectedImprovementIsStable) {
  auto naive = [](double mu, double sd, double ymin, double xi) {
    const double z = (ymin - mu - xi) / sd;
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
    return std::log((ymin - mu - xi) * cdf + sd * pdf);
  };
  for (double mu : {0.1, 0.2, 0.25, 0.3})
    EXPECT_NEAR(log_expected_improvement(mu, 0.05, 0.2, 0.01), naive(mu, 0.05, 0.2, 0.01), 1e-9);
  // Far in the tail plain EI underflows to 0 but log EI stays finite and ordered.
  const double a = log_expected_improvement(0.9, 1e-3, 0.2, 0.01);
  const double b = log_expected_improvement(0.95, 1e-3, 0.2, 0.01);
  EXPECT_TRUE(std::isfinite(a));
  EXPECT_TRUE(std::isfinite(b));
  EXPECT_GT(a, b);
  const double c = log_expected_improvement(1e3, 1e-3, 0.2, 0.01);
  EXPECT_TRUE(std::isfinite(c));
  EXPECT_GT(b, c);
  EXPECT_EQ(log_expected_improvement(0.5, 0.0, 0.2, 0.01), -std::numeric_limits<double>::infinity());
}

TEST(Acquisition, EveryStrategyRespectsTheMemoryCap) {
  const MatrixXd e = test::low_rank_errors(12, 30, 3, 5, 0.01);
  const MatrixXd train = e.topRows(11);
  const VectorXd target = e.row(11).transpose();
  AcquisitionContext ctx;
  ctx.y = embed(train, 3).y;
  ctx.train_errors = train;
  for (int j = 0; j < 30; ++j)
    if (j % 3 != 1) ctx.feasible.push_back(j);
  ctx.seed = 7;
  for (Method m : all_methods()) {
    auto st = make_strategy(m);
    EXPECT_EQ(st->method(), m);
    EXPECT_EQ(parse_method(method_name(m)), m);
    std::set<int> measured;
    auto s = st->select(ctx, 12, [&](int j) {
      measured.insert(j);
      return target[j];
    });
    ASSERT_EQ(s.size(), 12u) << method_name(m);
    EXPECT_EQ(std::set<int>(s.begin(), s.end()).size(), 12u) << method_name(m);
    for (int j : s) EXPECT_NE(j % 3, 1) << method_name(m) << " picked infeasible " << j;
    for (int j : measured) EXPECT_NE(std::find(s.begin(), s.end(), j), s.end());
    VectorXd vals(12);
    for (int i = 0; i < 12; ++i) vals[i] = target[s[static_cast<std::size_t>(i)]];
    const VectorXd pred = st->predict(ctx, s, vals).mean;
    ASSERT_EQ(pred.size(), 30);
    EXPECT_TRUE(pred.allFinite());
    EXPECT_LT((pred - target).norm() / target.norm(), 0.5) << method_name(m);
    // Nested: a shorter run is a prefix.
    auto s5 = st->select(ctx, 5, [&](int j) { return target[j]; });
    EXPECT_TRUE(std::equal(s5.begin(), s5.end(), s.begin())) << method_name(m);
  }
  // Only 2 feasible configurations: the sequence stops there.
  ctx.feasible = {4, 9};
  for (Method m : all_methods()) EXPECT_EQ(make_strategy(m)->select(ctx, 6, [&](int j) { return target[j]; }).size(), 2u);
  ctx.feasible.clear();
  EXPECT_THROW(make_strategy(Method::ed_mf)->select(ctx, 6, [&](int j) { return target[j]; }), InputError);
  EXPECT_THROW(parse_method("ed_mf2"), InputError);
}

TEST(Acquisition, EdMfStartsFromQrPivotsAndIsDeterministic) {
  const MatrixXd y = test::uniform_matrix(3, 20, 8);
  AcquisitionContext ctx;
  ctx.y = y;
  for (int j = 0; j < 20; ++j) ctx.feasible.push_back(j);
  auto st = make_strategy(Method::ed_mf);
  auto s = st->select(ctx, 8, [](int) { return 0.0; });
  EXPECT_EQ(s, greedy_d_optimal(y, ctx.feasible, 8));
  const auto piv = pivoted_qr_order(y, 3);
  EXPECT_TRUE(std::equal(piv.begin(), piv.end(), s.begin()));
}
