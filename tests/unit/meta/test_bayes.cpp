// The embedding posterior (meta/bayes) and the bounded, noise-aware
// predictions of every acquisition method, EI-MF on synthetic matrices.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include <Eigen/Dense>

#include "meta_test_data.hpp"
#include "peppp/core/error.hpp"
#include "peppp/meta/acquisition.hpp"
#include "peppp/meta/bayes.hpp"
#include "peppp/meta/lowrank.hpp"

using namespace peppp;
using namespace peppp::meta;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// Deterministic standard normals (Box–Muller on the counter RNG).
MatrixXd gaussian(int n, int d, std::uint64_t seed) {
  const MatrixXd u1 = test::uniform_matrix(n, d, seed, 1e-12, 1), u2 = test::uniform_matrix(n, d, seed + 99, 0, 1);
  MatrixXd g(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) g(i, j) = std::sqrt(-2 * std::log(u1(i, j))) * std::cos(2 * M_PI * u2(i, j));
  return g;
}

std::vector<int> all(int d) {
  std::vector<int> v(static_cast<std::size_t>(d));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

AcquisitionContext context(const MatrixXd& train, int k, const PriorOptions& po = {}) {
  AcquisitionContext ctx;
  ctx.prior = fit_embedding_prior(train, k, po);
  ctx.y = ctx.prior.y.topRows(k);
  ctx.train_errors = train;
  ctx.feasible = all(static_cast<int>(train.cols()));
  return ctx;
}

double rel(const VectorXd& a, const VectorXd& b) { return (a - b).norm() / b.norm(); }

}  // namespace

TEST(Bayes, LevelOffsetFollowsAUniformlyEasierTask) {
  // A new task 0.15 below every training task's level: with the offset, three
  // measurements pull the unmeasured predictions down with them.
  const MatrixXd e = (test::low_rank_errors(10, 20, 3, 5, 0.02).array() + 0.2).min(1.0);
  VectorXd truth = e.colwise().mean().transpose().array() - 0.15;
  const std::vector<int> s{1, 8, 14};
  VectorXd v(3);
  for (int q = 0; q < 3; ++q) v(q) = truth(s[static_cast<std::size_t>(q)]);
  PriorOptions with, without;
  without.level_offset = false;
  const EmbeddingPosterior a = embedding_posterior(fit_embedding_prior(e, 3, with), s, v);
  const EmbeddingPosterior b = embedding_posterior(fit_embedding_prior(e, 3, without), s, v);
  double err_a = 0, err_b = 0;
  for (int j = 0; j < 20; ++j) {
    if (std::find(s.begin(), s.end(), j) != s.end()) continue;
    err_a += std::abs(a.mean[j] - truth(j));
    err_b += std::abs(b.mean[j] - truth(j));
  }
  EXPECT_LT(err_a, err_b);
}

TEST(Bayes, PosteriorEqualsDenseFormula) {
  const MatrixXd e = test::low_rank_errors(10, 20, 3, 3, 0.02);
  const EmbeddingPrior p = fit_embedding_prior(e, 3);
  EXPECT_TRUE(p.noise_estimated);
  EXPECT_GE(p.noise_variance, 1e-4);
  EXPECT_GT(p.ridge, 0);
  Eigen::SelfAdjointEigenSolver<MatrixXd> es(p.cov);
  EXPECT_GT(es.eigenvalues().minCoeff(), 0);  // SPD
  const std::vector<int> s{2, 7, 11, 15};
  VectorXd v(4);
  v << 0.3, 0.5, 0.2, 0.4;
  const EmbeddingPosterior post = embedding_posterior(p, s, v);
  EXPECT_EQ(p.y.rows(), 4);  // the embedding's 3 rows + the level offset's row of ones
  EXPECT_TRUE((p.y.row(3).array() == 1.0).all());
  MatrixXd ys(p.y.rows(), 4);
  for (int q = 0; q < 4; ++q) ys.col(q) = p.y.col(s[static_cast<std::size_t>(q)]);
  const MatrixXd prec = p.cov.inverse() + ys * ys.transpose() / p.noise_variance;
  const MatrixXd cov = prec.inverse();
  const VectorXd mu = cov * (p.cov.inverse() * p.mean + ys * v / p.noise_variance);
  EXPECT_LT((post.x_cov - cov).norm(), 1e-9 * cov.norm());
  EXPECT_LT((post.x_mean - mu).norm(), 1e-9 * mu.norm());
  for (int j = 0; j < 20; ++j) {
    const double var = p.y.col(j).dot(cov * p.y.col(j)) + p.noise_variance;
    EXPECT_NEAR(post.model_std[j], std::sqrt(var), 1e-9);
    if (std::find(s.begin(), s.end(), j) == s.end()) {
      EXPECT_NEAR(post.mean[j], std::clamp(p.y.col(j).dot(mu), 0.0, 1.0), 1e-12);
      EXPECT_EQ(post.std[j], post.model_std[j]);
    }
  }
  for (int q = 0; q < 4; ++q) {
    EXPECT_EQ(post.mean[s[static_cast<std::size_t>(q)]], v[q]);
    EXPECT_DOUBLE_EQ(post.std[s[static_cast<std::size_t>(q)]], std::sqrt(p.noise_variance));
  }
  // A given noise variance is used as is; no measurement = the prior predictive.
  PriorOptions known;
  known.noise_variance = 0.0025;
  const EmbeddingPrior pk = fit_embedding_prior(e, 3, known);
  EXPECT_FALSE(pk.noise_estimated);
  EXPECT_EQ(pk.noise_variance, 0.0025);
  const EmbeddingPosterior prior_pred = embedding_posterior(pk, {}, VectorXd());
  EXPECT_LT((prior_pred.x_mean - pk.mean).norm(), 1e-9 * pk.mean.norm());
  EXPECT_THROW(embedding_posterior(pk, {1, 2}, VectorXd::Zero(1)), InputError);
  EXPECT_THROW(embedding_posterior(pk, {25}, VectorXd::Zero(1)), InputError);
  EXPECT_THROW(fit_embedding_prior(e, 0), InputError);
}

TEST(Bayes, ExactFitFallsBackToACoarserResidual) {
  // 3 tasks, rank 3: the rank-3 fit is exact, yet the noise is not the floor.
  const MatrixXd e = test::low_rank_errors(3, 9, 2, 4, 0.05);
  const EmbeddingPrior p = fit_embedding_prior(e, 3);
  EXPECT_GT(p.noise_variance, 1e-4);
  EXPECT_TRUE(std::isfinite(p.noise_variance));
}

TEST(Bayes, NoiseFromTheMeasuredValuesNotTheCompletionsModel) {
  // A completion that returns its rank-2 model at the measured entries (the feature completion) has no
  // residual there: σ² must come from the measurements (model + noise of sd 0.02), on the observed half.
  const MatrixXd model = test::low_rank_errors(20, 30, 2, 11, 0.0);
  const MatrixXd measured = model + 0.02 * gaussian(20, 30, 5);
  std::vector<std::uint8_t> observed(20 * 30);
  for (std::size_t i = 0; i < observed.size(); ++i) observed[i] = (i * 7 + i / 30) % 2;
  const EmbeddingPrior own = fit_embedding_prior(model, 2, {}, observed);
  PriorOptions po;
  po.measured = &measured;
  const EmbeddingPrior fixed = fit_embedding_prior(model, 2, po, observed);
  EXPECT_LT(own.noise_variance, 1e-6);  // the model's own residual: nothing
  EXPECT_NEAR(std::sqrt(fixed.noise_variance), 0.02, 0.005);
  // Only σ² changes (and with it the level offset, not added at the floor): the embedding is the completion's.
  EXPECT_EQ(fixed.y.topRows(2), own.y.topRows(2));
  EXPECT_EQ(fixed.mean.head(2), own.mean.head(2));
  // A model with 6 free configuration columns, not 30: more residual degrees of freedom, σ² scaled by their ratio.
  po.free_columns = 6;
  const EmbeddingPrior few = fit_embedding_prior(model, 2, po, observed);
  const double count = static_cast<double>(std::count(observed.begin(), observed.end(), 1));
  EXPECT_NEAR(few.noise_variance / fixed.noise_variance, (count - 2 * (20 + 30 - 2)) / (count - 2 * (20 + 6 - 2)), 1e-12);
  const MatrixXd wrong(3, 3);
  po.measured = &wrong;
  EXPECT_THROW(fit_embedding_prior(model, 2, po, observed), InputError);
}

TEST(Bayes, EveryMethodIsBoundedAndKeepsMeasurements) {
  // Errors near 0 and 1: unbounded fits would leave [0, 1].
  // Errors from 0 to 1 (rank 3 plus noise, clipped).
  MatrixXd e = test::low_rank_errors(12, 30, 3, 21, 0.05);
  e = (2.0 * (e.array() - 0.1)).max(0.0).min(1.0).matrix();
  const MatrixXd train = e.topRows(11);
  const VectorXd target = e.row(11).transpose();
  AcquisitionContext ctx = context(train, 3);
  for (Method m : all_methods()) {
    const auto st = make_strategy(m);
    const auto order = st->select(ctx, 10, [&](int j) { return target[j]; });
    for (int l = 1; l <= 10; ++l) {
      const std::vector<int> s(order.begin(), order.begin() + l);
      VectorXd v(l);
      for (int q = 0; q < l; ++q) v[q] = target[s[static_cast<std::size_t>(q)]];
      const Prediction p = st->predict(ctx, s, v);
      ASSERT_EQ(p.mean.size(), 30);
      ASSERT_EQ(p.std.size(), 30);
      EXPECT_GE(p.mean.minCoeff(), 0.0) << method_name(m) << " l=" << l;
      EXPECT_LE(p.mean.maxCoeff(), 1.0) << method_name(m) << " l=" << l;
      EXPECT_TRUE(p.std.allFinite());
      EXPECT_GE(p.std.minCoeff(), 0.0);
      for (int q = 0; q < l; ++q) EXPECT_EQ(p.mean[s[static_cast<std::size_t>(q)]], v[q]) << method_name(m);
      if (l >= 3) EXPECT_LT(rel(p.mean, target), 2.0) << method_name(m) << " l=" << l;
    }
  }
}

TEST(EiMf, NoiselessLowRankMatchesMeasurementsAndEdMf) {
  // Noiseless rank-3 errors; a prior from 19 tasks, 5 held-out tasks.
  const MatrixXd e = test::low_rank_errors(24, 40, 3, 31);
  const MatrixXd train = e.topRows(19);
  AcquisitionContext ctx = context(train, 3);
  EXPECT_DOUBLE_EQ(ctx.prior.noise_variance, 1e-8);  // the floor: no residual
  const auto ei = make_strategy(Method::ei_mf), ed = make_strategy(Method::ed_mf);
  for (int t = 19; t < 24; ++t) {
    const VectorXd target = e.row(t).transpose();
    for (int l : {3, 5, 8}) {
      auto run = [&](const AcquisitionStrategy& st) {
        const auto s = st.select(ctx, l, [&](int j) { return target[j]; });
        EXPECT_EQ(static_cast<int>(s.size()), l);
        VectorXd v(l);
        for (int q = 0; q < l; ++q) v[q] = target[s[static_cast<std::size_t>(q)]];
        const Prediction p = st.predict(ctx, s, v);
        for (int q = 0; q < l; ++q) EXPECT_EQ(p.mean[s[static_cast<std::size_t>(q)]], v[q]);
        return rel(p.mean, target);
      };
      const double r_ei = run(*ei), r_ed = run(*ed);
      EXPECT_LE(r_ei, r_ed + 0.01) << "task " << t << " l=" << l;
    }
  }
}

TEST(EiMf, PredictiveStdIsCalibratedUnderNoise) {
  // 8 meta-training tasks (a small campaign), 12 held out; noise std 0.03.
  const int ntr = 8, n = ntr + 12, d = 60;
  MatrixXd clean = test::low_rank_errors(n, d, 3, 41);
  const double sd = 0.03;
  const MatrixXd noisy = clean + sd * gaussian(n, d, 43);
  const MatrixXd train = noisy.topRows(ntr);
  AcquisitionContext ctx = context(train, 3);
  EXPECT_GT(ctx.prior.noise_variance, 0.25 * sd * sd);
  EXPECT_LT(ctx.prior.noise_variance, 4 * sd * sd);
  const auto st = make_strategy(Method::ei_mf);
  int inside = 0, total = 0;
  for (int t = ntr; t < n; ++t) {
    const VectorXd target = noisy.row(t).transpose();  // what a measurement shows
    for (int l : {4, 8}) {
      const auto s = st->select(ctx, l, [&](int j) { return target[j]; });
      VectorXd v(l);
      for (int q = 0; q < l; ++q) v[q] = target[s[static_cast<std::size_t>(q)]];
      const Prediction p = st->predict(ctx, s, v);
      for (int j = 0; j < d; ++j) {
        if (std::find(s.begin(), s.end(), j) != s.end()) continue;
        ++total;
        inside += std::abs(target[j] - p.mean[j]) <= 2 * p.std[j];
      }
    }
  }
  const double frac = static_cast<double>(inside) / total;
  EXPECT_GE(frac, 0.5);
  EXPECT_LE(frac, 0.95 + 1e-12) << "inside ±2 std: " << frac;
  std::printf("held-out errors inside ±2 std: %.3f of %d\n", frac, total);
}

TEST(EiMf, MeasuresOnlyUnderTheCapAndPrefersTheDecisionSet) {
  const MatrixXd e = test::low_rank_errors(12, 30, 3, 5, 0.01);
  const MatrixXd train = e.topRows(11);
  const VectorXd target = e.row(11).transpose();
  AcquisitionContext ctx = context(train, 3);
  ctx.feasible.clear();
  for (int j = 0; j < 30; ++j)
    if (j % 3 != 1) ctx.feasible.push_back(j);
  ctx.decision = {0, 2, 3, 5};
  const auto s = make_strategy(Method::ei_mf)->select(ctx, 6, [&](int j) { return target[j]; });
  ASSERT_EQ(s.size(), 6u);
  // The 4 decision configurations first, then the rest of T by variance.
  EXPECT_EQ(std::set<int>(s.begin(), s.begin() + 4), (std::set<int>{0, 2, 3, 5}));
  for (int j : s) EXPECT_NE(j % 3, 1);
  // Deterministic and nested.
  const auto s4 = make_strategy(Method::ei_mf)->select(ctx, 4, [&](int j) { return target[j]; });
  EXPECT_TRUE(std::equal(s4.begin(), s4.end(), s.begin()));
  // The QR start begins with ED-MF's pivots.
  ctx.decision.clear();
  ctx.ei.qr_start = true;
  const auto q = make_strategy(Method::ei_mf)->select(ctx, 5, [&](int j) { return target[j]; });
  const auto ed = make_strategy(Method::ed_mf)->select(ctx, 3, [&](int j) { return target[j]; });
  EXPECT_TRUE(std::equal(ed.begin(), ed.end(), q.begin()));
  EXPECT_EQ(parse_method("ei-mf"), Method::ei_mf);
}
