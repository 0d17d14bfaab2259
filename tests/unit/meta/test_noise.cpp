// The noise estimators (meta/noise.hpp): pooled replicate variance and the
// low-rank residual with its degrees-of-freedom correction.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <Eigen/SVD>

#include "peppp/core/error.hpp"
#include "peppp/meta/noise.hpp"

using namespace peppp;

TEST(MetaNoise, ReplicatesPoolTheWithinCellVariance) {
  const double nan = std::nan("");
  Eigen::MatrixXd r(4, 3);
  r << 0.1, 0.3, nan,   // n=2, mean 0.2, ss 0.02
      0.5, 0.5, 0.8,    // n=3, mean 0.6, ss 0.06
      0.4, nan, nan,    // n=1: left out
      nan, nan, nan;
  const meta::NoiseEstimate e = meta::replicate_noise(r);
  EXPECT_EQ(e.source, "replicates");
  EXPECT_EQ(e.cells, 2);
  EXPECT_EQ(e.dof, 3);
  EXPECT_NEAR(e.std, std::sqrt((0.02 + 0.06) / 3), 1e-15);
}

TEST(MetaNoise, NoCellWithTwoReplicatesIsNone) {
  Eigen::MatrixXd r = Eigen::MatrixXd::Constant(5, 1, 0.3);
  const meta::NoiseEstimate e = meta::replicate_noise(r);
  EXPECT_EQ(e.source, "none");
  EXPECT_TRUE(std::isnan(e.std));
  EXPECT_EQ(e.cells, 0);
}

TEST(MetaNoise, ReplicatesRecoverTheNoiseOfSimulatedCells) {
  std::mt19937_64 gen(3);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::uniform_real_distribution<double> truth(0.1, 0.9);
  Eigen::MatrixXd r(2000, 3);
  for (Eigen::Index c = 0; c < r.rows(); ++c) {
    const double t = truth(gen);
    for (Eigen::Index k = 0; k < r.cols(); ++k) r(c, k) = t + noise(gen);
  }
  EXPECT_NEAR(meta::replicate_noise(r).std, 0.05, 0.002);
}

TEST(MetaNoise, ResidualOfTheLeastSquaresFitIsUnbiasedWithTheDofCorrection) {
  // Rank-2 truth + noise, fully observed; the rank-2 truncated SVD is the
  // least-squares fit, whose RSS has expectation σ²(nd − k(n + d − k)).
  std::mt19937_64 gen(5);
  std::normal_distribution<double> g(0.0, 1.0);
  const int n = 60, d = 40, k = 2;
  const double sigma = 0.03;
  Eigen::MatrixXd u(n, k), v(d, k);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < k; ++j) u(i, j) = g(gen);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < k; ++j) v(i, j) = g(gen);
  Eigen::MatrixXd y = 0.1 * u * v.transpose();
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) y(i, j) += sigma * g(gen);
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(y, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::MatrixXd fit = svd.matrixU().leftCols(k) * svd.singularValues().head(k).asDiagonal() *
                              svd.matrixV().leftCols(k).transpose();
  const meta::NoiseEstimate e = meta::residual_noise(y, fit, k);
  EXPECT_EQ(e.source, "low-rank residual");
  EXPECT_EQ(e.cells, n * d);
  EXPECT_EQ(e.dof, n * d - k * (n + d - k));
  EXPECT_NEAR(e.std, sigma, 0.05 * sigma);
  // Without the correction the RMS underestimates σ by sqrt(dof / m).
  const double rms = std::sqrt((y - fit).squaredNorm() / (n * d));
  EXPECT_LT(rms, e.std);
}

TEST(MetaNoise, ResidualSkipsUnobservedAndNeedsDegreesOfFreedom) {
  const double nan = std::nan("");
  Eigen::MatrixXd obs(2, 2), est(2, 2);
  obs << 0.1, nan, 0.3, 0.4;
  est << 0.2, 0.9, 0.3, 0.2;
  const meta::NoiseEstimate none = meta::residual_noise(obs, est, 1);  // dof = 3 − 1·3 = 0
  EXPECT_EQ(none.cells, 3);
  EXPECT_TRUE(std::isnan(none.std));
  const meta::NoiseEstimate k0 = meta::residual_noise(obs, est, 0);
  EXPECT_NEAR(k0.std, std::sqrt((0.01 + 0.04) / 3), 1e-15);
  EXPECT_THROW(meta::residual_noise(obs, Eigen::MatrixXd::Zero(3, 2), 1), InputError);
}

// The feature completion's configuration factors Φ W have p free rows, not d:
// a wide matrix that SoftImpute's count leaves no degrees of freedom keeps some.
TEST(MetaNoise, ResidualCountsFreeColumnsOfAFeatureModel) {
  const int n = 4, d = 50;
  Eigen::MatrixXd obs = Eigen::MatrixXd::Constant(n, d, std::nan("")), est = Eigen::MatrixXd::Zero(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = i; j < d; j += 5) obs(i, j) = 0.1 * ((i + j) % 3);  // 40 cells < 1·(4 + 50 − 1)
  EXPECT_TRUE(std::isnan(meta::residual_noise(obs, est, 1).std));
  const meta::NoiseEstimate f = meta::residual_noise(obs, est, 1, 6);  // dof = 40 − 1·(4 + 6 − 1) = 31
  EXPECT_EQ(f.cells, 40);
  EXPECT_DOUBLE_EQ(f.dof, 31);
  EXPECT_TRUE(std::isfinite(f.std));
  EXPECT_DOUBLE_EQ(meta::residual_noise(obs, est, 1, 500).dof, meta::residual_noise(obs, est, 1).dof);  // p ≥ d: d
}
