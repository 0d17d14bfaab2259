// Rows of several architectures (meta/architectures): the prior of a new row from its model's
// rows (mean of their embeddings, covariance shrunk toward all rows'), widened by the spread
// between the architectures for a model in no row, and the Kendall tau / effect-over-noise
// report on constructed matrices.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <Eigen/Dense>

#include "meta_test_data.hpp"
#include "peppp/core/error.hpp"
#include "peppp/meta/architectures.hpp"
#include "peppp/meta/bayes.hpp"
#include "peppp/meta/lowrank.hpp"

using namespace peppp;
using namespace peppp::meta;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// 3 architectures x 5 rows x 12 configurations: each architecture its own profile, rows of it
// that profile scaled and shifted plus noise (so that the level offset is fitted too).
struct Rows {
  MatrixXd train;
  std::vector<int> group;
};

Rows three_architectures() {
  const int per = 5, d = 12;
  const MatrixXd profile = test::uniform_matrix(3, d, 7, 0.05, 0.5);
  const MatrixXd noise = test::uniform_matrix(3 * per, d, 8, -0.01, 0.01);
  Rows r;
  r.train.resize(3 * per, d);
  for (int g = 0; g < 3; ++g)
    for (int i = 0; i < per; ++i) {
      r.train.row(g * per + i) = profile.row(g) * (0.8 + 0.1 * i) + noise.row(g * per + i);
      r.train.row(g * per + i).array() += 0.01 * i;
      r.group.push_back(g);
    }
  return r;
}

constexpr int kRank = 3;

TEST(ModelRowsPrior, MeanIsTheMeanOfTheModelsEmbeddingsCovarianceShrunkTowardAllRows) {
  const Rows r = three_architectures();
  const EmbeddingPrior all = fit_embedding_prior(r.train, kRank);
  ASSERT_EQ(all.mean.size(), kRank + 1) << "the level offset is part of the prior here";
  const MatrixXd x = embed(r.train, kRank).x;
  for (int g = 0; g < 3; ++g) {
    const EmbeddingPrior p = model_rows_prior(all, r.train, kRank, r.group, g);
    const MatrixXd own = x.middleCols(5 * g, 5);
    const VectorXd mean = own.rowwise().mean();
    for (int q = 0; q < kRank; ++q) EXPECT_NEAR(p.mean(q), mean(q), 1e-12) << g << " " << q;
    EXPECT_EQ(p.mean(kRank), all.mean(kRank));  // the level offset's: unchanged
    EXPECT_EQ(p.cov(kRank, kRank), all.cov(kRank, kRank));
    EXPECT_EQ(p.y, all.y);
    EXPECT_EQ(p.noise_variance, all.noise_variance);
    // Σ₀ = w Σ̂_M + (1 − w) Σ̂ + ridge·I, w = (n_M − 1)/(n_M − 1 + k).
    const MatrixXd centered = own.colwise() - mean;
    const MatrixXd cov_m = centered * centered.transpose() / 4.0;
    MatrixXd cov_all = all.cov.topLeftCorner(kRank, kRank);
    cov_all.diagonal().array() -= all.ridge;
    const double w = 4.0 / (4.0 + kRank);
    MatrixXd want = w * cov_m + (1 - w) * cov_all;
    want.diagonal().array() += all.ridge;
    EXPECT_LT((p.cov.topLeftCorner(kRank, kRank) - want).cwiseAbs().maxCoeff(), 1e-12) << g;
    // The model's rows are closer together than all rows: its prior is narrower, and its mean differs.
    EXPECT_LT(p.cov.topLeftCorner(kRank, kRank).trace(), all.cov.topLeftCorner(kRank, kRank).trace()) << g;
    EXPECT_GT((p.mean.head(kRank) - all.mean.head(kRank)).norm(), 1e-3) << g;
    // Its prior predictive is near the mean of its rows.
    const VectorXd predictive = p.y.transpose() * p.mean;
    const VectorXd rows_mean = r.train.middleRows(5 * g, 5).colwise().mean().transpose();
    EXPECT_LT((predictive - rows_mean).cwiseAbs().maxCoeff(), 0.02) << g;
  }
}

TEST(ModelRowsPrior, OneRowTakesTheAllRowCovariance) {
  Rows r = three_architectures();
  r.group[0] = 3;  // architecture 3: one row
  const EmbeddingPrior all = fit_embedding_prior(r.train, kRank);
  const EmbeddingPrior p = model_rows_prior(all, r.train, kRank, r.group, 3);
  EXPECT_LT((p.cov - all.cov).cwiseAbs().maxCoeff(), 1e-15);
  const VectorXd x0 = embed(r.train, kRank).x.col(0);
  EXPECT_LT((p.mean.head(kRank) - x0).cwiseAbs().maxCoeff(), 1e-12);
}

TEST(WidenedPrior, AddsTheCovarianceOfTheArchitectureMeans) {
  const Rows r = three_architectures();
  const EmbeddingPrior all = fit_embedding_prior(r.train, kRank);
  const EmbeddingPrior p = widened_prior(all, r.train, kRank, r.group);
  EXPECT_EQ(p.mean, all.mean);
  EXPECT_GT(p.cov.trace(), all.cov.trace() + 1e-3);
  const MatrixXd x = embed(r.train, kRank).x;
  MatrixXd m(kRank, 3);
  for (int g = 0; g < 3; ++g) m.col(g) = x.middleCols(5 * g, 5).rowwise().mean();
  const MatrixXd c = m.colwise() - m.rowwise().mean();
  const MatrixXd b = c * c.transpose() / 2.0;
  EXPECT_LT((p.cov.topLeftCorner(kRank, kRank) - all.cov.topLeftCorner(kRank, kRank) - b).cwiseAbs().maxCoeff(),
            1e-12);
  // Wider than the prior of any one model's rows too.
  for (int g = 0; g < 3; ++g)
    EXPECT_GT(p.cov.trace(), model_rows_prior(all, r.train, kRank, r.group, g).cov.trace()) << g;
}

TEST(ArchitecturePriors, BadInputsAreRefused) {
  const Rows r = three_architectures();
  const EmbeddingPrior all = fit_embedding_prior(r.train, kRank);
  std::vector<int> short_group(r.group.begin(), r.group.end() - 1);
  EXPECT_THROW(model_rows_prior(all, r.train, kRank, short_group, 0), InputError);
  EXPECT_THROW(model_rows_prior(all, r.train, kRank, r.group, 5), InputError);  // no row of it
  EXPECT_THROW(widened_prior(all, r.train, kRank, std::vector<int>(r.group.size(), 0)), InputError);  // one model
  EXPECT_THROW(widened_prior(all, r.train, kRank, short_group), InputError);
}

// Architecture 0 and 1 rank the 6 configurations alike (1 shifted), 2 in reverse order, 3 with one
// swapped pair; every cell has 2 replicates e ± 0.01 (noise sd 0.01·√2).
TEST(ArchitectureRankings, KendallTauBetweenMeanRankingsAndEffectOverNoise) {
  const int d = 6;
  const VectorXd up = VectorXd::LinSpaced(d, 0.1, 0.35);
  VectorXd swapped = up;
  std::swap(swapped(0), swapped(1));
  const std::vector<VectorXd> profiles = {up, up.array() + 0.05, up.reverse(), swapped};
  MatrixXd errors(8, d);
  std::vector<int> group;
  for (int g = 0; g < 4; ++g)
    for (int i = 0; i < 2; ++i) {
      errors.row(2 * g + i) = profiles[static_cast<std::size_t>(g)].transpose().array() + 0.02 * i;
      group.push_back(g);
    }
  errors(1, 2) = std::nan("");  // an unmeasured cell: skipped in the mean
  MatrixXd reps(8 * d, 2);
  for (int c = 0; c < 8 * d; ++c) {
    const double e = errors(c / d, c % d);
    reps(c, 0) = e - 0.01;
    reps(c, 1) = e + 0.01;
  }
  const ArchitectureRankings a = architecture_rankings(errors, group, 4, reps);
  EXPECT_NEAR(a.mean_error(0, 0), up(0) + 0.01, 1e-15);
  EXPECT_NEAR(a.mean_error(0, 2), up(2), 1e-15);  // row 1's cell is not measured
  EXPECT_NEAR(a.tau(0, 1), 1.0, 1e-15);
  EXPECT_NEAR(a.tau(0, 2), -1.0, 1e-15);
  EXPECT_NEAR(a.tau(0, 3), 13.0 / 15.0, 1e-15);  // one discordant pair of 15
  EXPECT_NEAR(a.tau(3, 0), a.tau(0, 3), 0);
  EXPECT_NEAR(a.tau(2, 2), 1.0, 1e-15);
  const double sd = std::sqrt(((up.array() - up.mean()).square().sum()) / (d - 1));
  for (int g = 0; g < 4; ++g) {
    EXPECT_NEAR(a.noise(g), 0.01 * std::sqrt(2.0), 1e-12) << g;
    if (g != 0) EXPECT_NEAR(a.median_effect(g), sd, 1e-12) << g;
    if (g != 0) EXPECT_NEAR(a.median_ratio(g), sd / (0.01 * std::sqrt(2.0)), 1e-9) << g;
  }
  // Without replicates: no noise, no ratio; the rankings are the same.
  const ArchitectureRankings b = architecture_rankings(errors, group, 4, MatrixXd());
  EXPECT_TRUE(std::isnan(b.noise(0)));
  EXPECT_TRUE(std::isnan(b.median_ratio(0)));
  EXPECT_EQ(b.tau, a.tau);
  EXPECT_THROW(architecture_rankings(errors, std::vector<int>(7, 0), 4, reps), InputError);
  EXPECT_THROW(architecture_rankings(errors, std::vector<int>(8, 4), 4, reps), InputError);
  EXPECT_THROW(architecture_rankings(errors, group, 4, MatrixXd(5, 2)), InputError);
}

}  // namespace
