#include <gtest/gtest.h>

#include <Eigen/LU>
#include <Eigen/QR>
#include <cmath>
#include <functional>
#include <limits>

#include "meta_test_data.hpp"
#include "peppp/core/error.hpp"
#include "peppp/meta/design.hpp"
#include "peppp/meta/lowrank.hpp"

using namespace peppp;
using namespace peppp::meta;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {
// The naive greedy: same QR start, then recompute log det for every candidate.
std::vector<int> brute_greedy(const MatrixXd& y, const std::vector<int>& t, int l) {
  const int k = static_cast<int>(y.rows());
  MatrixXd yt(k, static_cast<Eigen::Index>(t.size()));
  for (std::size_t i = 0; i < t.size(); ++i) yt.col(static_cast<Eigen::Index>(i)) = y.col(t[i]);
  std::vector<int> s;
  for (int p : pivoted_qr_order(yt, std::min<int>(k, static_cast<int>(t.size())))) s.push_back(t[static_cast<std::size_t>(p)]);
  while (static_cast<int>(s.size()) < std::min<int>(l, static_cast<int>(t.size()))) {
    int best = -1;
    double best_v = -std::numeric_limits<double>::infinity();
    for (int j : t) {
      if (std::find(s.begin(), s.end(), j) != s.end()) continue;
      auto s2 = s;
      s2.push_back(j);
      const double v = design_log_det(y, s2);
      if (v > best_v + 1e-12) {
        best_v = v;
        best = j;
      }
    }
    s.push_back(best);
  }
  return s;
}

// max log det over all subsets of size l of t.
double brute_optimum(const MatrixXd& y, const std::vector<int>& t, int l) {
  double best = -std::numeric_limits<double>::infinity();
  std::vector<int> cur;
  std::function<void(std::size_t)> rec = [&](std::size_t start) {
    if (static_cast<int>(cur.size()) == l) {
      best = std::max(best, design_log_det(y, cur));
      return;
    }
    for (std::size_t i = start; i < t.size(); ++i) {
      cur.push_back(t[i]);
      rec(i + 1);
      cur.pop_back();
    }
  };
  rec(0);
  return best;
}
}  // namespace

TEST(Design, PivotedQrAgreesWithEigen) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const MatrixXd a = test::uniform_matrix(6 + static_cast<int>(seed % 5), 12, seed);
    Eigen::ColPivHouseholderQR<MatrixXd> qr(a);
    const int r = static_cast<int>(std::min(a.rows(), a.cols()));
    const auto mine = pivoted_qr_order(a, r);
    for (int i = 0; i < r; ++i) EXPECT_EQ(mine[static_cast<std::size_t>(i)], qr.colsPermutation().indices()[i]) << seed << " " << i;
  }
}

TEST(Design, GreedyEqualsBruteForceGreedyAndNearOptimum) {
  double worst_ratio = 1;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    const int k = 2 + static_cast<int>(seed % 2), d = 9;
    const MatrixXd y = test::uniform_matrix(k, d, 100 + seed);
    std::vector<int> t;
    for (int j = 0; j < d; ++j)
      if ((j + static_cast<int>(seed)) % 4 != 0) t.push_back(j);  // a memory cap removes some
    const int l = 5;
    const auto g = greedy_d_optimal(y, t, l);
    EXPECT_EQ(g, brute_greedy(y, t, l)) << seed;
    for (int j : g) EXPECT_NE(std::find(t.begin(), t.end(), j), t.end());
    const double ratio = std::exp(design_log_det(y, g) - brute_optimum(y, t, l));
    worst_ratio = std::min(worst_ratio, ratio);
    EXPECT_GE(ratio, 0.95) << seed;
  }
  RecordProperty("worst_det_ratio", std::to_string(worst_ratio));
}

TEST(Design, GreedyIsNestedAndHandlesSmallSets) {
  const MatrixXd y = test::uniform_matrix(3, 30, 5);
  std::vector<int> all(30);
  for (int j = 0; j < 30; ++j) all[static_cast<std::size_t>(j)] = j;
  const auto s10 = greedy_d_optimal(y, all, 10), s6 = greedy_d_optimal(y, all, 6);
  EXPECT_TRUE(std::equal(s6.begin(), s6.end(), s10.begin()));
  EXPECT_EQ(greedy_d_optimal(y, all, 2).size(), 2u);
  EXPECT_EQ(greedy_d_optimal(y, {4, 7}, 5).size(), 2u);
  EXPECT_THROW(greedy_d_optimal(y, {}, 5), InputError);
  EXPECT_THROW(greedy_d_optimal(y, {40}, 5), InputError);
}

TEST(Design, RelaxationSatisfiesKkt) {
  const MatrixXd y = test::uniform_matrix(3, 25, 9);
  std::vector<int> t;
  for (int j = 0; j < 25; ++j)
    if (j != 3 && j != 11) t.push_back(j);
  const auto r = relaxed_d_optimal(y, t, 6);
  EXPECT_NEAR(r.v.sum(), 6.0, 1e-6);
  EXPECT_EQ(r.v[3], 0.0);
  EXPECT_EQ(r.v[11], 0.0);
  EXPECT_GE(r.v.minCoeff(), 0.0);
  EXPECT_LE(r.v.maxCoeff(), 1.0);
  EXPECT_LT(r.kkt_residual, 1e-3);
  EXPECT_EQ(r.selection.size(), 6u);
  // The relaxation is a lower bound on every 6-subset's −log det; the greedy is close to it.
  const double greedy = design_log_det(y, greedy_d_optimal(y, t, 6));
  EXPECT_LE(greedy, -r.objective + 1e-8);
  EXPECT_GE(design_log_det(y, r.selection), -r.objective - 3.0);
}

TEST(Design, LeastSquaresRecoversLowRankRow) {
  const MatrixXd e = test::low_rank_errors(20, 40, 3, 4);
  const auto emb = embed(e.topRows(19), 3);
  const VectorXd target = e.row(19).transpose();
  std::vector<int> s = {0, 5, 9, 13, 22, 31};
  VectorXd meas(6);
  for (int i = 0; i < 6; ++i) meas[i] = target[s[static_cast<std::size_t>(i)]];
  const VectorXd pred = ls_predict(emb.y, s, meas);
  EXPECT_LT((pred - target).norm(), 1e-9 * target.norm());
}

TEST(Design, LeastSquaresStdIsTheOlsPredictionInterval) {
  const MatrixXd e = test::low_rank_errors(20, 40, 3, 4);
  const auto emb = embed(e.topRows(19), 3);
  const std::vector<int> s = {0, 5, 9, 13, 22, 31};
  const double s2 = 4e-4;
  const VectorXd sd = ls_predict_std(emb.y, s, s2);
  ASSERT_EQ(sd.size(), 40);
  // Dense: σ²(1 + y_jᵀ(Y_S Y_Sᵀ)⁻¹y_j), the fitted value's variance plus the noise.
  MatrixXd ys(3, 6);
  for (int q = 0; q < 6; ++q) ys.col(q) = emb.y.col(s[static_cast<std::size_t>(q)]);
  const MatrixXd a_inv = (ys * ys.transpose()).inverse();
  for (int j = 0; j < 40; ++j) {
    const double want = std::sqrt(s2 * (1 + emb.y.col(j).dot(a_inv * emb.y.col(j))));
    EXPECT_NEAR(sd[j], want, 1e-12) << j;
    EXPECT_GE(sd[j], std::sqrt(s2));
  }
  // Fewer measurements than the rank: the pseudo-inverse, still finite.
  const VectorXd few = ls_predict_std(emb.y, {0, 5}, s2);
  for (int j = 0; j < 40; ++j) EXPECT_TRUE(std::isfinite(few[j]));
  EXPECT_THROW(ls_predict_std(emb.y, {}, s2), InputError);
  EXPECT_THROW(ls_predict_std(emb.y, {40}, s2), InputError);
  EXPECT_THROW(ls_predict_std(emb.y, s, -1), InputError);
}

TEST(LowRank, EmbeddingExplainedVarianceAndKendall) {
  const MatrixXd e = test::low_rank_errors(15, 20, 2, 6, 1e-3);
  const auto emb = embed(e, 2);
  EXPECT_EQ(emb.x.rows(), 2);
  EXPECT_EQ(emb.x.cols(), 15);
  EXPECT_EQ(emb.y.rows(), 2);
  EXPECT_LT((emb.y * emb.y.transpose() - MatrixXd::Identity(2, 2)).norm(), 1e-12);
  EXPECT_LT((emb.x.transpose() * emb.y - e).norm(), 1e-2 * e.norm());
  EXPECT_GT(explained_variance(emb.singular_values, 2), 0.999);
  EXPECT_NEAR(explained_variance(emb.singular_values, 20), 1.0, 1e-12);
  EXPECT_THROW(embed(e, 16), InputError);
  EXPECT_THROW(embed(e, 0), InputError);
  VectorXd a(5), b(5), c(5), t1(4), t2(4);
  a << 1, 2, 3, 4, 5;
  b << 2, 4, 6, 8, 10;
  c << 5, 4, 3, 2, 1;
  EXPECT_DOUBLE_EQ(kendall_tau_b(a, b), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_b(a, c), -1.0);
  // [1,2,2,3] vs [1,3,2,2]: 3 concordant, 1 discordant, one tie in each: 2/sqrt(5·5).
  t1 << 1, 2, 2, 3;
  t2 << 1, 3, 2, 2;
  EXPECT_NEAR(kendall_tau_b(t1, t2), 0.4, 1e-12);
  const MatrixXd km = kendall_tau_matrix(e);
  EXPECT_EQ(km.rows(), 15);
  EXPECT_LT((km - km.transpose()).norm(), 1e-15);
}
