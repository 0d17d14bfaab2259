#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/meta/completion.hpp"
#include "peppp/meta/configuration_features.hpp"
#include "peppp/meta/feature_completion.hpp"
#include "peppp/meta/loocv.hpp"
#include "peppp/meta/sampling.hpp"
#include "role_test_data.hpp"

using namespace peppp;
using namespace peppp::meta;
using Eigen::MatrixXd;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const std::vector<std::string> kBody = {"e3m2", "e4m3", "e5m2", "e8m7"};
const std::vector<std::string> kB = {"e6m7", "e8m23"};

// Mean |ê − e|/e over the cells of rows `rows` where `pick(i, j)` holds.
template <class Pick>
double mean_relative_error(const MatrixXd& est, const MatrixXd& truth, int row0, Pick pick) {
  double sum = 0;
  int count = 0;
  for (Eigen::Index i = row0; i < truth.rows(); ++i)
    for (Eigen::Index j = 0; j < truth.cols(); ++j)
      if (pick(i, j)) {
        sum += std::abs(est(i, j) - truth(i, j)) / truth(i, j);
        ++count;
      }
  EXPECT_GT(count, 0);
  return sum / count;
}
}  // namespace

TEST(ConfigurationFeatures, UniformAndPerRoleLabels) {
  const MatrixXd f = configuration_features({"e4m3/e6m7", "e4m3[first=e8m7,last=e5m2]/e6m7", "mxfp8-e5m2[norm=bf16]/fp16"});
  ASSERT_EQ(f.rows(), 3);
  ASSERT_EQ(f.cols(), kConfigurationFeatureCount);
  const Eigen::RowVectorXd uniform = (Eigen::RowVectorXd(13) << 1, 4, 3, 4, 3, 4, 3, 4, 3, 4, 3, 6, 7).finished();
  EXPECT_EQ(f.row(0), uniform);
  const Eigen::RowVectorXd mixed = (Eigen::RowVectorXd(13) << 1, 4, 3, 8, 7, 5, 2, 4, 3, 4, 3, 6, 7).finished();
  EXPECT_EQ(f.row(1), mixed);
  EXPECT_EQ(f(2, 1), 5);   // body: the element format's bits
  EXPECT_EQ(f(2, 9), 8);   // norm = bf16
  EXPECT_EQ(f(2, 10), 7);
  EXPECT_EQ(f(2, 12), 10);  // B = fp16
  EXPECT_EQ(configuration_feature_names().size(), 13u);
  EXPECT_EQ(configuration_feature_names()[3], "first.exponent");
  EXPECT_FALSE(has_per_role_labels({"e4m3/e6m7", "e5m2/e6m7"}));
  EXPECT_FALSE(has_per_role_labels({}));
  EXPECT_TRUE(has_per_role_labels({"e4m3/e6m7", "e4m3[last=e8m7]/e6m7"}));
  EXPECT_TRUE(parse_role_configuration("e4m3/e6m7").uniform);
  EXPECT_FALSE(parse_role_configuration("e4m3[attention=e5m2]/e6m7").uniform);
}

TEST(ConfigurationFeatures, RefusesMalformedLabelsNamingThem) {
  for (const std::string bad : {"e4m3[head=e8m7]/e6m7", "e4m3[first=e8m7,first=e5m2]/e6m7", "e4m3", "e4m3[first=e8m7/e6m7",
                                "e4m3[first]/e6m7", "e4m3[]/e6m7", "e4m3/e9m9", "e4m3]/e6m7", "e4m3[first=e8m7]x/e6m7"}) {
    try {
      configuration_features({"e4m3/e6m7", bad});
      ADD_FAILURE() << bad << " was accepted";
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("'" + bad + "'"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
}

TEST(FeatureExpansion, DropsConstantAndDuplicateColumnsAndStandardises) {
  // Columns: constant, x, a copy of x, -x, y: raw keeps x and y (2), products x², xy, y² (3).
  MatrixXd f(6, 5);
  for (int j = 0; j < 6; ++j) f.row(j) << 1, j, j, -j, (j * j) % 5;
  const MatrixXd phi = feature_expansion(f);
  ASSERT_EQ(phi.cols(), 1 + 2 + 3);
  EXPECT_TRUE(phi.col(0).isOnes());
  for (Eigen::Index c = 1; c < phi.cols(); ++c) {
    EXPECT_NEAR(phi.col(c).mean(), 0, 1e-12);
    EXPECT_NEAR(phi.col(c).squaredNorm() / 6, 1, 1e-12);
  }
  f(2, 1) = kNaN;
  EXPECT_THROW(feature_expansion(f), InputError);
}

// Column hold-out (issue 31's acceptance): 30 tasks × 512 role combinations;
// half the columns are never measured by any row. The 24 training rows
// measure 60 % of the other columns, the 6 held-out rows 8 cells each. The
// held-out rows' never-measured columns are predicted within 1.5× the
// relative error of their unmeasured cells in measured columns, and both far
// better than each held-out row's mean.
TEST(FeatureCompletion, PredictsColumnsNoRowMeasured) {
  const auto labels = test::role_labels(kBody, kBody, kBody, kBody, {"e6m7", "e5m10"});
  ASSERT_EQ(labels.size(), 512u);
  const int n = 30, train = 24, d = static_cast<int>(labels.size());
  const MatrixXd truth = test::role_errors(labels, n, 0.02, 11);
  std::vector<char> measured_column(static_cast<std::size_t>(d), 0);
  const std::vector<int> perm = random_permutation(d, 5);
  for (int q = 0; q < d; ++q) measured_column[static_cast<std::size_t>(perm[static_cast<std::size_t>(q)])] = q % 2 == 0;
  MatrixXd a = MatrixXd::Constant(n, d, kNaN);
  CounterRng rng(9);
  for (int i = 0; i < n; ++i) {
    int taken = 0;
    for (int p : random_permutation(d, 100 + i)) {
      if (!measured_column[static_cast<std::size_t>(p)]) continue;
      if (i < train ? rng.next_double() < 0.6 : taken++ < 8) a(i, p) = truth(i, p);
    }
  }
  FeatureCompletionOptions o;
  o.seed = 3;
  const FeatureCompletionResult r = feature_complete(a, MatrixXd(), configuration_features(labels), o);
  ASSERT_EQ(r.estimate.rows(), n);
  ASSERT_EQ(r.estimate.cols(), d);
  EXPECT_FALSE(r.cv_error.empty());
  const double never = mean_relative_error(r.estimate, truth, train, [&](auto, auto j) { return !measured_column[j]; });
  const double measured =
      mean_relative_error(r.estimate, truth, train, [&](auto i, auto j) { return measured_column[j] && std::isnan(a(i, j)); });
  MatrixXd row_mean(n, d);
  for (int i = 0; i < n; ++i) {
    double s = 0;
    int c = 0;
    for (int j = 0; j < d; ++j)
      if (!std::isnan(a(i, j))) s += a(i, j), ++c;
    row_mean.row(i).setConstant(s / c);
  }
  const double baseline = mean_relative_error(row_mean, truth, train, [&](auto, auto j) { return !measured_column[j]; });
  // The free column residual sharpens the measured columns and leaves the others alone.
  o.column_residual = true;
  const FeatureCompletionResult res = feature_complete(a, MatrixXd(), configuration_features(labels), o);
  EXPECT_LT(mean_relative_error(res.estimate, truth, 0, [&](auto i, auto j) { return measured_column[j] && std::isnan(a(i, j)); }),
            mean_relative_error(r.estimate, truth, 0, [&](auto i, auto j) { return measured_column[j] && std::isnan(a(i, j)); }));
  std::printf("column hold-out: rank %d ridge %g; mean relative error never-measured %.4f, measured %.4f, ratio %.3f; "
              "row-mean baseline %.4f\n", r.rank, r.ridge, never, measured, never / measured, baseline);
  EXPECT_LE(never, 1.5 * measured);
  EXPECT_LT(never, 0.5 * baseline);
  // Deterministic given the seed.
  o.column_residual = false;
  const FeatureCompletionResult again = feature_complete(a, MatrixXd(), configuration_features(labels), o);
  EXPECT_EQ((again.estimate - r.estimate).cwiseAbs().maxCoeff(), 0.0);
}

// A space of 1,000 role combinations completes within seconds.
TEST(FeatureCompletion, ThousandRoleCombinationsInSeconds) {
  const std::vector<std::string> five = {"e3m2", "e4m3", "e5m2", "e8m7", "e5m10"};
  const auto space = test::role_labels(five, five, five, {"e4m3", "e8m7"}, {"e6m7", "e8m23", "e5m10", "e8m10"});
  ASSERT_EQ(space.size(), 1000u);
  const int n = 30;
  const MatrixXd truth = test::role_errors(space, n, 0.02, 4);
  const MatrixXd a = apply_mask(truth, sample_uniform(n, static_cast<int>(space.size()), 0.2, 8));
  const auto t0 = std::chrono::steady_clock::now();
  FeatureCompletionOptions o;
  const FeatureCompletionResult r = feature_complete(a, MatrixXd(), configuration_features(space), o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%d x %zu role combinations (%d expanded features): %.2f s, rank %d\n", n, space.size(),
              r.expanded_features, s, r.rank);
  EXPECT_LT(s, 30.0);
  EXPECT_LT(mean_relative_error(r.estimate, truth, 0, [&](auto i, auto j) { return std::isnan(a(i, j)); }), 0.15);
}

TEST(FeatureCompletion, CompleteCampaignUsesItForPerRoleLabelsOnly) {
  const auto labels = test::role_labels({"e4m3", "e5m2"}, {"e4m3", "e8m7"}, {"e4m3", "e8m7"}, {}, {"e6m7"});
  const int n = 8, d = static_cast<int>(labels.size());
  const MatrixXd truth = test::role_errors(labels, n, 0.01, 2);
  MatrixXd a = apply_mask(truth, sample_uniform(n, d, 0.6, 1));
  a.col(d - 1).setConstant(kNaN);  // a column no row measured
  for (int i = 0; i < n; ++i) a(i, 0) = truth(i, 0);
  const MatrixXd mem = MatrixXd::Constant(n, d, 10.0);
  CompletionOptions o;
  o.sweep = false;
  o.seed = 4;
  o.center = true;  // ignored for per-role labels
  o.configuration_labels = labels;
  const CompletionResult r = complete_campaign(a, mem, o);
  const FeatureSolve f = feature_solve(a, MatrixXd(), labels, 4);
  EXPECT_EQ((r.estimate - f.result.estimate).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(r.lambda, f.result.lambda);
  EXPECT_TRUE(r.estimate.col(d - 1).allFinite());
  // Uniform labels: exactly SoftImpute, as without labels.
  CompletionOptions u = o;
  u.configuration_labels.assign(static_cast<std::size_t>(d), "e4m3/e6m7");
  CompletionOptions none = o;
  none.configuration_labels.clear();
  EXPECT_EQ((complete_campaign(a, mem, u).estimate - complete_campaign(a, mem, none).estimate).cwiseAbs().maxCoeff(), 0.0);
}

TEST(FeatureCompletion, RefusesBadInput) {
  const MatrixXd a = MatrixXd::Constant(3, 4, 0.5);
  FeatureCompletionOptions o;
  EXPECT_THROW(feature_complete(a, MatrixXd(), MatrixXd::Ones(3, 2), o), InputError);
  EXPECT_THROW(feature_complete(MatrixXd::Constant(3, 4, kNaN), MatrixXd(), MatrixXd::Ones(4, 2), o), InputError);
  o.ridge_grid = {0.0};
  EXPECT_THROW(feature_complete(a, MatrixXd(), MatrixXd::Ones(4, 2), o), InputError);
}

// Meta-LOOCV on a per-role campaign: each fold's sampled meta-training matrix
// is completed with the features, so columns no meta-training row measured
// get finite, task-specific estimates, and ei-mf chooses among all columns.
TEST(FeatureCompletion, MetaLoocvCompletesPerRoleTrainingAndEiMfSeesEveryColumn) {
  const auto labels = test::role_labels({"e4m3", "e5m2", "e8m7"}, {"e4m3", "e8m7"}, {"e4m3", "e8m7"}, {}, {"e6m7"});
  const int n = 10, d = static_cast<int>(labels.size()), fold = 2;
  const MatrixXd truth = test::role_errors(labels, n, 0.01, 6);
  LoocvData data;
  data.config = labels;
  for (int i = 0; i < n; ++i) {
    data.task.push_back("t" + std::to_string(i));
    for (int j = 0; j < d; ++j) {
      data.error.push_back(truth(i, j));
      data.memory.push_back(10.0 + j);
    }
  }
  LoocvSpec spec;
  spec.settings = {"III"};
  spec.methods = {"ei-mf"};
  spec.measurements = {3, 5};
  spec.ratio = 0.15;
  spec.rank = 2;
  spec = validate_loocv(spec, data);
  const MetaTraining t = build_meta_training(spec, data, 0, fold, 0);
  ASSERT_EQ(t.estimate.size(), static_cast<std::size_t>((n - 1) * d));
  EXPECT_EQ(t.centered, t.estimate);
  EXPECT_TRUE(t.lambda == 0.1 || t.lambda == 0.01 || t.lambda == 0.001) << t.lambda;  // the feature ridge grid
  const std::vector<int> rows = training_rows(spec, data, fold);
  const std::vector<std::uint8_t> mask = meta_training_mask(spec, data, 0, fold, 0);
  int unmeasured_columns = 0;
  for (int j = 0; j < d; ++j) {
    bool measured = false;
    for (int i : rows) measured = measured || mask[static_cast<std::size_t>(i * d + j)];
    if (measured) continue;
    ++unmeasured_columns;
    double lo = 1e9, hi = -1e9;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      const double v = t.estimate[r * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)];
      EXPECT_TRUE(std::isfinite(v));
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    EXPECT_GT(hi - lo, 1e-6) << labels[static_cast<std::size_t>(j)];  // per task, not a constant fill
  }
  EXPECT_GT(unmeasured_columns, 0);
  LoocvItem item;
  item.fold = fold;
  item.method = 0;
  const LoocvItemResult res = evaluate_loocv_item(spec, data, item, t);
  ASSERT_EQ(res.selected_config.size(), 2u);
  for (int c : res.selected_config) EXPECT_TRUE(c >= 0 && c < d);
  EXPECT_EQ(res.predicted_error.size(), static_cast<std::size_t>(2 * d));
}
