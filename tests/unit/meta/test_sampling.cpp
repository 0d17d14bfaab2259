#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "peppp/core/error.hpp"
#include "peppp/meta/sampling.hpp"

using namespace peppp;
using namespace peppp::meta;

TEST(Sampling, UniformExactCountAndSeeded) {
  for (double ratio : {0.0, 0.05, 0.2, 0.5, 1.0}) {
    auto m = sample_uniform(87, 99, ratio, 7);
    ASSERT_EQ(m.size(), 87u * 99u);
    const long count = std::accumulate(m.begin(), m.end(), 0L);
    EXPECT_EQ(count, std::lround(ratio * 87 * 99)) << ratio;
  }
  EXPECT_EQ(sample_uniform(10, 20, 0.3, 1), sample_uniform(10, 20, 0.3, 1));
  EXPECT_NE(sample_uniform(10, 20, 0.3, 1), sample_uniform(10, 20, 0.3, 2));
}

TEST(Sampling, UniformIsPlatformStable) {
  // Pinned values: the plan must not depend on the standard library.
  auto m = sample_uniform(4, 5, 0.25, 42);
  std::vector<int> on;
  for (int k = 0; k < 20; ++k)
    if (m[static_cast<std::size_t>(k)]) on.push_back(k);
  ASSERT_EQ(on.size(), 5u);
  EXPECT_EQ(CounterRng::at(0, 0), CounterRng::at(0, 0));
  CounterRng a(5), b(5);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
}

TEST(Sampling, UniformMarginalsAreRoughlyUniform) {
  // Over many seeds every cell of a 3x4 matrix is picked ~ratio of the time.
  std::vector<int> hits(12, 0);
  const int reps = 4000;
  for (int s = 0; s < reps; ++s) {
    auto m = sample_uniform(3, 4, 0.5, static_cast<std::uint64_t>(s));
    for (int k = 0; k < 12; ++k) hits[static_cast<std::size_t>(k)] += m[static_cast<std::size_t>(k)];
  }
  for (int h : hits) EXPECT_NEAR(h / double(reps), 0.5, 0.04);
}

TEST(Sampling, PermutationIsAPermutation) {
  auto p = random_permutation(50, 3);
  auto q = p;
  std::sort(q.begin(), q.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(q[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(p, random_permutation(50, 3));
  EXPECT_NE(p, random_permutation(50, 4));
}

TEST(Sampling, NonuniformProbabilitiesFollowTheCdf) {
  Eigen::MatrixXd mem(2, 3);
  mem << 100, 200, 400,
         100, 800, 50;
  auto p = nonuniform_probabilities(mem, 0.0, 0.6);
  // inverse memories: the smallest memory (50) has the largest 1/M -> F = 1.
  EXPECT_DOUBLE_EQ(p(1, 2), 0.6);
  // 800 MiB is the largest memory: F = 1/6.
  EXPECT_DOUBLE_EQ(p(1, 1), 0.6 / 6);
  // the tie at 100 MiB shares one value: F = 5/6 (<= counting).
  EXPECT_DOUBLE_EQ(p(0, 0), 0.6 * 5 / 6);
  EXPECT_DOUBLE_EQ(p(1, 0), p(0, 0));
  EXPECT_DOUBLE_EQ(p(0, 1), 0.6 * 3 / 6);
  auto q = nonuniform_probabilities(mem, 0.2, 1.0);
  EXPECT_DOUBLE_EQ(q(1, 2), 1.0);
  EXPECT_DOUBLE_EQ(q(1, 1), 0.2 + 0.8 / 6);
}

TEST(Sampling, NonuniformDrawsMatchProbabilities) {
  Eigen::MatrixXd p(100, 100);
  for (int i = 0; i < 100; ++i)
    for (int j = 0; j < 100; ++j) p(i, j) = j < 50 ? 0.1 : 0.7;
  auto m = sample_nonuniform(p, 11);
  double lo = 0, hi = 0;
  for (int i = 0; i < 100; ++i)
    for (int j = 0; j < 100; ++j) (j < 50 ? lo : hi) += m[static_cast<std::size_t>(i * 100 + j)];
  EXPECT_NEAR(lo / 5000, 0.1, 0.02);
  EXPECT_NEAR(hi / 5000, 0.7, 0.02);
  EXPECT_EQ(m, sample_nonuniform(p, 11));
  Eigen::MatrixXd ones = Eigen::MatrixXd::Ones(3, 3), zeros = Eigen::MatrixXd::Zero(3, 3);
  for (auto v : sample_nonuniform(ones, 1)) EXPECT_EQ(v, 1);
  for (auto v : sample_nonuniform(zeros, 1)) EXPECT_EQ(v, 0);
}

TEST(Sampling, MaskHelpers) {
  Eigen::MatrixXd v(2, 2);
  v << 1, 2, 3, 4;
  auto x = apply_mask(v, {1, 0, 0, 1});
  EXPECT_TRUE(std::isnan(x(0, 1)));
  EXPECT_TRUE(std::isnan(x(1, 0)));
  EXPECT_EQ(x(1, 1), 4);
  EXPECT_EQ(observed_mask(x), (std::vector<std::uint8_t>{1, 0, 0, 1}));
}

TEST(Sampling, BadInput) {
  EXPECT_THROW(sample_uniform(0, 5, 0.2, 1), InputError);
  EXPECT_THROW(sample_uniform(3, 5, 1.5, 1), InputError);
  Eigen::MatrixXd mem = Eigen::MatrixXd::Constant(2, 2, 10.0);
  EXPECT_THROW(nonuniform_probabilities(mem, 0.5, 0.2), InputError);
  EXPECT_THROW(nonuniform_probabilities(mem, 0.0, 0.0), InputError);
  mem(0, 0) = 0;
  EXPECT_THROW(nonuniform_probabilities(mem, 0.0, 0.4), InputError);
  Eigen::MatrixXd bad = Eigen::MatrixXd::Constant(2, 2, 1.5);
  EXPECT_THROW(sample_nonuniform(bad, 1), InputError);
  EXPECT_THROW(apply_mask(bad, {1, 0}), InputError);
}
