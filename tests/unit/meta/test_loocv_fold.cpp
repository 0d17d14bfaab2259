// One meta-LOOCV fold, serially (meta/loocv.hpp): ED-MF on a held-out task
// of an exactly low-rank error matrix, checked against what the maths says
// (exact recovery, zero regret, feasible picks, nested order), the
// estimate-free baseline, the masks, determinism and the evaluator.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <Eigen/LU>
#include <Eigen/SVD>

#include "meta_test_data.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/meta/architectures.hpp"
#include "peppp/meta/bayes.hpp"
#include "peppp/meta/loocv.hpp"
#include "peppp/meta/softimpute.hpp"

using namespace peppp;

namespace {

constexpr int kTasks = 8, kConfigs = 12, kRank = 2, kFold = 3;

meta::LoocvData low_rank_data() {
  const Eigen::MatrixXd e = test::low_rank_errors(kTasks, kConfigs, kRank, 42);
  meta::LoocvData data;
  for (int i = 0; i < kTasks; ++i) data.task.push_back("t" + std::to_string(i));
  for (int j = 0; j < kConfigs; ++j) data.config.push_back("c" + std::to_string(j));
  for (int i = 0; i < kTasks; ++i)
    for (int j = 0; j < kConfigs; ++j) {
      data.error.push_back(e(i, j));
      data.memory.push_back(10.0 + j + 0.1 * i);  // MiB; the cap (median) leaves about half of each row
    }
  return data;
}

meta::LoocvSpec spec_for(const meta::LoocvData& data) {
  meta::LoocvSpec spec;
  spec.settings = {"I", "II"};
  spec.methods = {"ed-mf"};
  spec.measurements = {5, 2, 3};
  spec.rank = kRank;
  return meta::validate_loocv(spec, data);
}

// Setting IV with ed-mf and ei-mf, λ auto: the per-fold CVs run.
meta::LoocvSpec auto_lambda_spec(const meta::LoocvData& data) {
  auto spec = spec_for(data);
  spec.settings = {"IV"};
  spec.methods = {"ed-mf", "ei-mf"};
  spec.lambda = 0;  // auto
  return meta::validate_loocv(spec, data);
}

double mem(const meta::LoocvData& data, int j) { return data.memory[static_cast<std::size_t>(kFold) * kConfigs + j]; }
double truth(const meta::LoocvData& data, int j) { return data.error[static_cast<std::size_t>(kFold) * kConfigs + j]; }

}  // namespace

TEST(LoocvFold, ValidationResolvesTheCapAndSortsTheCounts) {
  const auto data = low_rank_data();
  const auto spec = spec_for(data);
  EXPECT_EQ(spec.measurements, (std::vector<int>{2, 3, 5}));
  std::vector<double> m = data.memory;
  std::sort(m.begin(), m.end());
  EXPECT_DOUBLE_EQ(spec.cap, 0.5 * (m[m.size() / 2 - 1] + m[m.size() / 2]));
  meta::LoocvSpec bad = spec;
  bad.measurements = {1, 3};  // below the rank
  EXPECT_THROW(meta::validate_loocv(bad, data), InputError);
  bad = spec;
  bad.methods = {"ed-mf", "ed-mf"};
  EXPECT_THROW(meta::validate_loocv(bad, data), InputError);
  EXPECT_THROW(meta::setting_info("VII"), InputError);
}

TEST(LoocvFold, EdMfRecoversAnExactLowRankTask) {
  const auto data = low_rank_data();
  const auto spec = spec_for(data);
  const meta::LoocvItem item{0, kFold, 0, 0};  // setting I (full, uncapped), ED-MF
  const meta::MetaTraining training = meta::build_meta_training(spec, data, 0, kFold, 0);
  ASSERT_EQ(training.estimate.size(), static_cast<std::size_t>((kTasks - 1) * kConfigs));
  EXPECT_EQ(training.fraction, 1.0);
  EXPECT_TRUE(std::isnan(training.lambda));  // no completion for the full matrix

  const meta::LoocvItemResult r = meta::evaluate_loocv_item(spec, data, item, training);
  const std::size_t L = spec.measurements.size();
  for (const auto* v : {&r.relative_error, &r.convergence, &r.hyperdiff, &r.selected_error, &r.best_feasible_error,
                        &r.regret, &r.measured_memory})
    ASSERT_EQ(v->size(), L);
  ASSERT_EQ(r.selected_config.size(), L);

  // The nested order: max(count) distinct configurations.
  ASSERT_EQ(r.order.size(), 5u);
  EXPECT_EQ(std::set<int>(r.order.begin(), r.order.end()).size(), 5u);
  for (int j : r.order) EXPECT_TRUE(j >= 0 && j < kConfigs);

  // The best error under the budget (= cap), by hand.
  double best = INFINITY;
  for (int j = 0; j < kConfigs; ++j)
    if (mem(data, j) <= spec.cap) best = std::min(best, truth(data, j));

  for (std::size_t c = 0; c < L; ++c) {
    const int l = spec.measurements[c];
    // l >= rank measurements of an exactly rank-k row determine it (up to
    // the posterior's shrinkage at the noise floor σ² = 1e-8, meta/bayes.hpp).
    EXPECT_LT(r.relative_error[c], 1e-5) << "l = " << l;
    EXPECT_LT(r.hyperdiff[c], 1e-5) << "l = " << l;
    EXPECT_LT(r.convergence[c], 1e-5) << "l = " << l;
    // Predictions: measured configurations at their measurements, all in [0, 1].
    ASSERT_EQ(r.predicted_error.size(), L * kConfigs);
    for (int q = 0; q < l; ++q) {
      const int j = r.order[static_cast<std::size_t>(q)];
      EXPECT_EQ(r.predicted_error[c * kConfigs + j], truth(data, j));
    }
    for (std::size_t j = 0; j < kConfigs; ++j) {
      EXPECT_GE(r.predicted_error[c * kConfigs + j], 0.0);
      EXPECT_LE(r.predicted_error[c * kConfigs + j], 1.0);
      EXPECT_GE(r.predicted_std[c * kConfigs + j], 0.0);
    }
    const int pick = r.selected_config[c];
    ASSERT_TRUE(pick >= 0 && pick < kConfigs);
    EXPECT_LE(mem(data, pick), spec.cap);  // feasible under the budget
    EXPECT_DOUBLE_EQ(r.best_feasible_error[c], best);
    EXPECT_DOUBLE_EQ(r.selected_error[c], truth(data, pick));
    EXPECT_GE(r.regret[c], 0.0);
    EXPECT_DOUBLE_EQ(r.regret[c], r.selected_error[c] - r.best_feasible_error[c]);
    EXPECT_NEAR(r.regret[c], 0.0, 1e-12);  // exact prediction: the pick is the best feasible
    // Count l measures the first l picks of the order.
    double used = 0;
    for (int q = 0; q < l; ++q) used += mem(data, r.order[q]);
    EXPECT_DOUBLE_EQ(r.measured_memory[c], used);
  }

  // Nested: a smaller largest count gives a prefix of the same order.
  meta::LoocvSpec small = spec;
  small.measurements = {2, 3};
  const auto r3 = meta::evaluate_loocv_item(small, data, item, training);
  ASSERT_EQ(r3.order.size(), 3u);
  EXPECT_TRUE(std::equal(r3.order.begin(), r3.order.end(), r.order.begin()));
  EXPECT_EQ(r3.selected_config[0], r.selected_config[0]);

  // Deterministic, and the evaluator computes the same.
  const auto again = meta::evaluate_loocv_item(spec, data, item, training);
  EXPECT_EQ(again.order, r.order);
  EXPECT_EQ(again.relative_error, r.relative_error);
  EXPECT_EQ(again.regret, r.regret);
  const auto via = meta::loocv_evaluator(spec, data)(item);
  EXPECT_EQ(via.order, r.order);
  EXPECT_EQ(via.selected_config, r.selected_config);
  EXPECT_EQ(via.measured_memory, r.measured_memory);
}

// Rows of two architectures (rows 0-3 and 4-7; the fold, row 3, is of the first): the zero-shot
// pick from the column means of its architecture's other rows, the prior predictive that of
// model_rows_prior; a fold of an architecture in no other row gets the widened prior.
TEST(LoocvFold, RowsOfSeveralArchitecturesFormTheFoldsPriorFromItsOwn) {
  auto data = low_rank_data();
  data.model = {0, 0, 0, 0, 1, 1, 1, 1};
  const auto spec = spec_for(data);
  const int baseline = static_cast<int>(spec.methods.size());
  Eigen::MatrixXd train(kTasks - 1, kConfigs);
  std::vector<int> models;
  for (int i = 0, q = 0; i < kTasks; ++i) {
    if (i == kFold) continue;
    for (int j = 0; j < kConfigs; ++j) train(q, j) = data.error[static_cast<std::size_t>(i) * kConfigs + j];
    models.push_back(data.model[static_cast<std::size_t>(i)]);
    ++q;
  }
  const meta::EmbeddingPrior all = meta::fit_embedding_prior(train, kRank);
  for (int own : {0, 2}) {  // 2: in no other row
    data.model[kFold] = own;
    const auto r = meta::loocv_evaluator(spec, data)({0, kFold, 0, baseline});
    const meta::EmbeddingPrior prior = own == 0 ? meta::model_rows_prior(all, train, kRank, models, own)
                                                : meta::widened_prior(all, train, kRank, models);
    const auto want = meta::embedding_posterior(prior, {}, Eigen::VectorXd());
    for (int j = 0; j < kConfigs; ++j) {
      EXPECT_NEAR(r.zero_shot_predicted_error[j], want.mean[j], 1e-12) << own << " " << j;
      EXPECT_NEAR(r.zero_shot_predicted_std[j], want.std[j], 1e-12) << own << " " << j;
    }
    int pick = -1;
    double best = INFINITY;
    for (int j = 0; j < kConfigs; ++j) {
      if (mem(data, j) > spec.cap) continue;
      double sum = 0;
      int count = 0;
      for (int i = 0; i < kTasks; ++i)
        if (i != kFold && (own != 0 || data.model[static_cast<std::size_t>(i)] == 0))
          sum += data.error[static_cast<std::size_t>(i) * kConfigs + j], ++count;
      if (sum / count < best) best = sum / count, pick = j;
    }
    EXPECT_EQ(r.zero_shot_config, pick) << own;
  }
  // One architecture in every meta-training row: the plain prior.
  data.model = std::vector<int>(kTasks, 0);
  data.model[kFold] = 1;
  const auto plain = meta::loocv_evaluator(spec, data)({0, kFold, 0, baseline});
  data.model.clear();
  const auto none = meta::loocv_evaluator(spec, data)({0, kFold, 0, baseline});
  EXPECT_EQ(plain.zero_shot_predicted_std, none.zero_shot_predicted_std);
  EXPECT_EQ(plain.zero_shot_config, none.zero_shot_config);
}

TEST(LoocvFold, CappedSettingMeasuresOnlyUnderTheCap) {
  const auto data = low_rank_data();
  const auto spec = spec_for(data);
  const meta::LoocvItem item{1, kFold, 0, 0};  // setting II: full, capped
  const auto r = meta::loocv_evaluator(spec, data)(item);
  ASSERT_EQ(r.order.size(), 5u);
  for (int j : r.order) EXPECT_LE(mem(data, j), spec.cap) << j;
  for (std::size_t c = 0; c < spec.measurements.size(); ++c) {
    EXPECT_GE(r.regret[c], 0.0);
    EXPECT_LT(r.relative_error[c], 1e-5);
  }
}

TEST(LoocvFold, BaselineMeasuresNothingAndHasNoEstimate) {
  const auto data = low_rank_data();
  const auto spec = spec_for(data);
  const meta::LoocvItem item{0, kFold, 0, static_cast<int>(spec.methods.size())};
  const auto r = meta::loocv_evaluator(spec, data)(item);
  EXPECT_TRUE(r.order.empty());
  // The highest memory under the budget, its ties' mean error (F9.2), by hand.
  double top = -1, sum = 0;
  int ties = 0;
  for (int j = 0; j < kConfigs; ++j)
    if (mem(data, j) <= spec.cap) top = std::max(top, mem(data, j));
  for (int j = 0; j < kConfigs; ++j)
    if (mem(data, j) == top) sum += truth(data, j), ++ties;
  for (std::size_t c = 0; c < spec.measurements.size(); ++c) {
    EXPECT_TRUE(std::isnan(r.relative_error[c]));
    EXPECT_TRUE(std::isnan(r.convergence[c]));
    EXPECT_TRUE(std::isnan(r.hyperdiff[c]));
    EXPECT_EQ(r.selected_config[c], -1);
    EXPECT_EQ(r.measured_memory[c], 0.0);
    EXPECT_DOUBLE_EQ(r.selected_error[c], sum / ties);
    EXPECT_GE(r.regret[c], 0.0);
  }
}

TEST(LoocvFold, BaselineItemCarriesTheZeroShotDefault) {
  const auto data = low_rank_data();
  const auto spec = spec_for(data);
  const std::size_t L = spec.measurements.size();
  for (int setting : {0, 1}) {
    const auto r = meta::loocv_evaluator(spec, data)({setting, kFold, 0, static_cast<int>(spec.methods.size())});
    // F9.3 by hand: the column means of the other rows, argmin under the budget (ties: lower memory).
    int want = -1;
    double want_mean = INFINITY;
    for (int j = 0; j < kConfigs; ++j) {
      if (mem(data, j) > spec.cap) continue;
      double sum = 0;
      for (int i = 0; i < kTasks; ++i)
        if (i != kFold) sum += data.error[static_cast<std::size_t>(i) * kConfigs + j];
      if (sum / (kTasks - 1) < want_mean) want_mean = sum / (kTasks - 1), want = j;
    }
    EXPECT_EQ(r.zero_shot_config, want);
    double best = INFINITY;
    for (int j = 0; j < kConfigs; ++j)
      if (mem(data, j) <= spec.cap) best = std::min(best, truth(data, j));
    EXPECT_EQ(r.zero_shot_selected_error, truth(data, want));
    EXPECT_EQ(r.zero_shot_regret, truth(data, want) - best);
    // The prior predictive: every configuration in [0, 1] with a positive std, metrics defined.
    ASSERT_EQ(r.zero_shot_predicted_error.size(), static_cast<std::size_t>(kConfigs));
    ASSERT_EQ(r.zero_shot_predicted_std.size(), static_cast<std::size_t>(kConfigs));
    int inside = 0;
    for (int j = 0; j < kConfigs; ++j) {
      EXPECT_TRUE(r.zero_shot_predicted_error[j] >= 0 && r.zero_shot_predicted_error[j] <= 1);
      EXPECT_GT(r.zero_shot_predicted_std[j], 0.0);
      inside += std::abs(truth(data, j) - r.zero_shot_predicted_error[j]) <= 2 * r.zero_shot_predicted_std[j];
    }
    EXPECT_DOUBLE_EQ(r.zero_shot_coverage, static_cast<double>(inside) / kConfigs);
    EXPECT_TRUE(std::isfinite(r.zero_shot_relative_error) && r.zero_shot_relative_error > 0);
    EXPECT_TRUE(std::isfinite(r.zero_shot_convergence) && std::isfinite(r.zero_shot_hyperdiff));
    for (std::size_t c = 0; c < L; ++c) EXPECT_TRUE(std::isnan(r.coverage[c]));  // the baseline predicts nothing
  }
  // A method's item has no zero-shot numbers, but a coverage per count over its unmeasured configurations.
  const auto m = meta::loocv_evaluator(spec, data)({0, kFold, 0, 0});
  EXPECT_EQ(m.zero_shot_config, -1);
  EXPECT_TRUE(std::isnan(m.zero_shot_regret));
  EXPECT_TRUE(m.zero_shot_predicted_error.empty());
  ASSERT_EQ(m.coverage.size(), L);
  for (std::size_t c = 0; c < L; ++c) {
    int inside = 0, total = 0;
    const std::vector<int> s(m.order.begin(), m.order.begin() + spec.measurements[c]);
    for (int j = 0; j < kConfigs; ++j) {
      if (std::find(s.begin(), s.end(), j) != s.end()) continue;
      ++total;
      inside += std::abs(truth(data, j) - m.predicted_error[c * kConfigs + j]) <= 2 * m.predicted_std[c * kConfigs + j];
    }
    EXPECT_DOUBLE_EQ(m.coverage[c], static_cast<double>(inside) / total);
  }
}

TEST(LoocvFold, LeastSquaresPredictionIsThePapersUnclippedFit) {
  const auto data = low_rank_data();
  auto spec = spec_for(data);
  spec.methods = {"ed-mf", "random-mf", "ei-mf"};
  spec.measurements = {2, 3, 5};
  auto ls = spec;
  ls.prediction = meta::PredictionRule::least_squares;
  const meta::MetaTraining training = meta::build_meta_training(spec, data, 0, kFold, 0);
  for (int method : {0, 1}) {
    const auto post = meta::evaluate_loocv_item(spec, data, {0, kFold, 0, method}, training);
    const auto fit = meta::evaluate_loocv_item(ls, data, {0, kFold, 0, method}, training);
    EXPECT_EQ(post.order, fit.order);  // the measurement order does not depend on the prediction
    // An exactly rank-2 row: least squares on >= 2 measurements recovers it, measured entries included (F6.2).
    for (std::size_t c = 0; c < spec.measurements.size(); ++c) {
      EXPECT_LT(fit.relative_error[c], 1e-9);
      for (int j = 0; j < kConfigs; ++j) {
        EXPECT_NEAR(fit.predicted_error[c * kConfigs + j], truth(data, j), 1e-9);
        EXPECT_TRUE(std::isfinite(fit.predicted_std[c * kConfigs + j]));
      }
    }
  }
  // ei-mf keeps the posterior whatever the rule.
  const auto a = meta::evaluate_loocv_item(spec, data, {0, kFold, 0, 2}, training);
  const auto b = meta::evaluate_loocv_item(ls, data, {0, kFold, 0, 2}, training);
  EXPECT_EQ(a.predicted_error, b.predicted_error);
  EXPECT_EQ(a.regret, b.regret);
  EXPECT_EQ(meta::parse_prediction_rule("least-squares"), meta::PredictionRule::least_squares);
  EXPECT_STREQ(meta::prediction_rule_name(meta::PredictionRule::posterior), "posterior");
  EXPECT_THROW(meta::parse_prediction_rule("lsq"), InputError);
}

TEST(LoocvFold, MasksHoldOutTheFoldAndSampleTheRatio) {
  const auto data = low_rank_data();
  auto spec = spec_for(data);
  const auto full = meta::meta_training_mask(spec, data, 0, kFold, 0);
  ASSERT_EQ(full.size(), static_cast<std::size_t>(kTasks * kConfigs));
  for (int i = 0; i < kTasks; ++i)
    for (int j = 0; j < kConfigs; ++j) EXPECT_EQ(full[i * kConfigs + j], i == kFold ? 0 : 1);

  spec.settings = {"III"};
  spec.ratio = 0.25;
  spec.lambda = 0.05;  // fixed: no cross-validation in a unit test
  const auto m0 = meta::meta_training_mask(spec, data, 0, kFold, 0);
  const auto m1 = meta::meta_training_mask(spec, data, 0, kFold, 1);
  EXPECT_EQ(m0, meta::meta_training_mask(spec, data, 0, kFold, 0));  // seeded
  EXPECT_NE(m0, m1);                                                 // repeats differ
  int kept = 0;
  for (int i = 0; i < kTasks; ++i)
    for (int j = 0; j < kConfigs; ++j) {
      kept += m0[i * kConfigs + j];
      if (i == kFold) EXPECT_EQ(m0[i * kConfigs + j], 0);
    }
  EXPECT_EQ(kept, static_cast<int>(std::lround(0.25 * (kTasks - 1) * kConfigs)));
  const auto t = meta::build_meta_training(spec, data, 0, kFold, 0);
  EXPECT_DOUBLE_EQ(t.lambda, 0.05);
  EXPECT_NEAR(t.fraction, static_cast<double>(kept) / ((kTasks - 1) * kConfigs), 1e-15);
  for (double v : t.estimate) EXPECT_TRUE(std::isfinite(v));
}

TEST(LoocvFold, FoldsOfASplitRunAreContiguousBlocks) {
  const auto data = low_rank_data();
  auto spec = spec_for(data);
  std::vector<int> all;
  spec.parts = 3;
  for (spec.part = 1; spec.part <= 3; ++spec.part) {
    const auto f = meta::loocv_folds(spec, data.n());
    all.insert(all.end(), f.begin(), f.end());
  }
  std::vector<int> expected(kTasks);
  for (int i = 0; i < kTasks; ++i) expected[i] = i;
  EXPECT_EQ(all, expected);
}

TEST(LoocvFold, EveryMethodSettingAndCountPredictsInsideTheUnitInterval) {
  auto data = low_rank_data();
  // Noise and errors near 0 and 1, where an unbounded fit would leave [0, 1].
  const Eigen::MatrixXd noise = test::uniform_matrix(kTasks, kConfigs, 77);
  for (int i = 0; i < kTasks; ++i)
    for (int j = 0; j < kConfigs; ++j) {
      double& e = data.error[static_cast<std::size_t>(i) * kConfigs + j];
      e = std::clamp(1.6 * (e - 0.1) + 0.05 * noise(i, j), 0.0, 1.0);
    }
  meta::LoocvSpec spec;
  spec.methods = meta::loocv_method_names();
  spec.measurements = {2, 3, 5};
  spec.rank = kRank;
  spec.lambda = 0.05;
  spec = meta::validate_loocv(spec, data);
  const auto eval = meta::loocv_evaluator(spec, data);
  for (int s = 0; s < static_cast<int>(spec.settings.size()); ++s)
    for (int f : {0, kFold})
      for (int m = 0; m < static_cast<int>(spec.methods.size()); ++m) {
        const auto r = eval({s, f, 0, m});
        ASSERT_EQ(r.predicted_error.size(), spec.measurements.size() * kConfigs);
        for (std::size_t q = 0; q < r.predicted_error.size(); ++q) {
          EXPECT_GE(r.predicted_error[q], 0.0) << spec.methods[m];
          EXPECT_LE(r.predicted_error[q], 1.0) << spec.methods[m];
          EXPECT_TRUE(r.predicted_std[q] >= 0 && std::isfinite(r.predicted_std[q])) << spec.methods[m];
        }
        for (std::size_t c = 0; c < spec.measurements.size(); ++c)
          EXPECT_LT(r.relative_error[c], 2.0) << spec.settings[s] << " " << spec.methods[m];
      }
}

// Rows grouped by task (8 rows = 4 tasks × 2 models): fold-by task keeps the
// held-out row's whole group out of meta-training, fold-by row only the row.
TEST(LoocvFold, FoldByTaskHoldsTheWholeGroupOut) {
  auto data = low_rank_data();
  data.group = {0, 0, 1, 1, 2, 2, 3, 3};
  auto spec = spec_for(data);
  ASSERT_EQ(spec.fold_by, meta::FoldBy::task);  // the default
  EXPECT_EQ(meta::held_out_rows(spec, data, kFold), (std::vector<int>{2, 3}));
  EXPECT_EQ(meta::training_rows(spec, data, kFold), (std::vector<int>{0, 1, 4, 5, 6, 7}));
  const auto mask = meta::meta_training_mask(spec, data, 0, kFold, 0);
  for (int i = 0; i < kTasks; ++i)
    for (int j = 0; j < kConfigs; ++j) EXPECT_EQ(mask[i * kConfigs + j], i == 2 || i == 3 ? 0 : 1) << i;
  // The meta-training matrix is the other 6 rows, in order: row 2 (the held-out row's partner) is not in it.
  const auto t = meta::build_meta_training(spec, data, 0, kFold, 0);
  ASSERT_EQ(t.estimate.size(), static_cast<std::size_t>(6 * kConfigs));
  const std::vector<int> rows{0, 1, 4, 5, 6, 7};
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (int j = 0; j < kConfigs; ++j)
      EXPECT_EQ(t.estimate[r * kConfigs + j], data.error[static_cast<std::size_t>(rows[r]) * kConfigs + j]);
  // A sampled scheme samples the 6 rows alone and leaves both held-out rows unobserved.
  auto sampled = spec;
  sampled.settings = {"III"};
  sampled.ratio = 0.5;
  sampled.lambda = 0.05;
  const auto m = meta::meta_training_mask(sampled, data, 0, kFold, 0);
  int kept = 0;
  for (int i = 0; i < kTasks; ++i)
    for (int j = 0; j < kConfigs; ++j) {
      kept += m[i * kConfigs + j];
      if (i == 2 || i == 3) EXPECT_EQ(m[i * kConfigs + j], 0);
    }
  EXPECT_EQ(kept, static_cast<int>(std::lround(0.5 * 6 * kConfigs)));
  EXPECT_EQ(meta::build_meta_training(sampled, data, 0, kFold, 0).estimate.size(), static_cast<std::size_t>(6 * kConfigs));
  // The item runs on the 6-row matrix and scores the held-out row.
  const auto r = meta::evaluate_loocv_item(spec, data, meta::LoocvItem{0, kFold, 0, 0}, t);
  for (double g : r.regret) EXPECT_GE(g, 0.0);

  spec.fold_by = meta::FoldBy::row;
  EXPECT_EQ(meta::held_out_rows(spec, data, kFold), (std::vector<int>{kFold}));
  EXPECT_EQ(meta::build_meta_training(spec, data, 0, kFold, 0).estimate.size(),
            static_cast<std::size_t>((kTasks - 1) * kConfigs));
}

TEST(LoocvFold, LambdaOnceUsesTheFirstFoldsChoiceEverywhere) {
  const auto data = low_rank_data();
  const auto spec = auto_lambda_spec(data);
  const auto first = meta::loocv_lambdas(spec, data, 0, data.folds().front(), 0);
  ASSERT_FALSE(std::isnan(first.lambda));
  ASSERT_FALSE(std::isnan(first.centered));  // ei-mf is among the default methods
  EXPECT_TRUE(std::isnan(meta::once_lambdas(spec, data, 0, 0).lambda));  // only with lambda_once
  auto once = spec;
  once.lambda_once = true;
  const auto l = meta::once_lambdas(once, data, 0, 0);
  EXPECT_EQ(l.lambda, first.lambda);
  EXPECT_EQ(l.centered, first.centered);
  // Every fold's matrix is its own completion at that λ, given or found.
  const auto t = meta::build_meta_training(once, data, 0, kFold, 0);
  EXPECT_EQ(t.lambda, first.lambda);
  EXPECT_EQ(t.centered_lambda, first.centered);
  EXPECT_EQ(meta::build_meta_training(once, data, 0, kFold, 0, &l).estimate, t.estimate);
  auto fixed = spec;
  fixed.lambda = first.lambda;
  const auto f = meta::build_meta_training(fixed, data, 0, kFold, 0);
  EXPECT_EQ(f.estimate, t.estimate);
  if (first.centered == first.lambda) EXPECT_EQ(f.centered, t.centered);
  // The evaluator computes it once and gives the same items.
  const meta::LoocvItem item{0, kFold, 0, 0};
  EXPECT_EQ(meta::loocv_evaluator(once, data)(item).regret, meta::evaluate_loocv_item(once, data, item, t).regret);
}

TEST(LoocvFold, CvOptionsKeepTheLambdaAndWarmFinalSolvesTheOptimum) {
  const auto data = low_rank_data();
  const auto spec = auto_lambda_spec(data);
  ASSERT_TRUE(spec.lambda_cv_blocked);  // the default
  auto plain = spec;
  plain.lambda_cv_blocked = false;
  const auto t = meta::build_meta_training(spec, data, 0, kFold, 0);
  const auto p = meta::build_meta_training(plain, data, 0, kFold, 0);
  // The CV's preconditioner changes last bits of its errors only: the same λ, the same final solves.
  EXPECT_EQ(t.lambda, p.lambda);
  EXPECT_EQ(t.centered_lambda, p.centered_lambda);
  EXPECT_EQ(t.estimate, p.estimate);
  EXPECT_EQ(t.centered, p.centered);
  // --lambda-flat 0 is the default; --lambda-warm: the same λ, the same optimum to the certificate.
  auto warm = spec;
  warm.lambda_warm = true;
  const auto w = meta::build_meta_training(warm, data, 0, kFold, 0);
  EXPECT_EQ(w.lambda, t.lambda);
  EXPECT_EQ(w.centered_lambda, t.centered_lambda);
  // This 7 × 12 matrix with ~17 observed entries has no unique Z* (docs/softimpute.md): compare F_λ.
  const std::vector<int> rows = meta::training_rows(spec, data, kFold);
  const auto mask = meta::meta_training_mask(spec, data, 0, kFold, 0);
  const auto n = static_cast<Eigen::Index>(rows.size());
  Eigen::MatrixXd observed(n, kConfigs), zt(n, kConfigs), zw(n, kConfigs);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int j = 0; j < kConfigs; ++j) {
      const auto at = static_cast<std::size_t>(rows[static_cast<std::size_t>(i)]) * kConfigs + j;
      observed(i, j) = mask[at] ? data.error[at] : std::numeric_limits<double>::quiet_NaN();
      zt(i, j) = t.estimate[static_cast<std::size_t>(i) * kConfigs + j];
      zw(i, j) = w.estimate[static_cast<std::size_t>(i) * kConfigs + j];
    }
  const double ft = meta::softimpute_objective(zt, observed, Eigen::MatrixXd(), t.lambda);
  EXPECT_NEAR(meta::softimpute_objective(zw, observed, Eigen::MatrixXd(), t.lambda), ft, 2e-7 * ft);
  EXPECT_LE(meta::softimpute_duality_gap(zw, observed, Eigen::MatrixXd(), t.lambda), 1e-7 * ft);
  // λ fixed: no CV, so neither option changes a bit.
  auto fixed = warm;
  fixed.lambda = 0.1;
  fixed.lambda_flat = 0.5;
  auto fixed_plain = spec;
  fixed_plain.lambda = 0.1;
  EXPECT_EQ(meta::build_meta_training(fixed, data, 0, kFold, 0).estimate,
            meta::build_meta_training(fixed_plain, data, 0, kFold, 0).estimate);
}

TEST(LoocvFold, EveryRowItsOwnGroupIsTheRowFold) {
  // Plain rows (one per task): fold-by task and row give the same masks and matrices.
  auto data = low_rank_data();
  for (int i = 0; i < kTasks; ++i) data.group.push_back(i);
  auto spec = spec_for(data);
  spec.settings = {"I", "III"};
  spec.lambda = 0.05;
  auto by_row = spec;
  by_row.fold_by = meta::FoldBy::row;
  for (int s = 0; s < 2; ++s) {
    EXPECT_EQ(meta::meta_training_mask(spec, data, s, kFold, 0), meta::meta_training_mask(by_row, data, s, kFold, 0));
    EXPECT_EQ(meta::build_meta_training(spec, data, s, kFold, 0).estimate,
              meta::build_meta_training(by_row, data, s, kFold, 0).estimate);
  }
}

TEST(LoocvFold, GroupsLeavingTooFewRowsOrTooLowARankAreRefused) {
  auto data = low_rank_data();
  data.group = {0, 0, 0, 0, 0, 0, 0, 1};  // holding out group 0 leaves 1 row
  meta::LoocvSpec spec;
  spec.settings = {"I"};
  spec.methods = {"ed-mf"};
  spec.measurements = {2};
  spec.rank = 1;
  EXPECT_THROW(meta::validate_loocv(spec, data), InputError);
  spec.fold_by = meta::FoldBy::row;
  EXPECT_NO_THROW(meta::validate_loocv(spec, data));
  data.group = {0, 0, 0, 0, 1, 1, 2, 2};  // 4 training rows at the least
  spec.fold_by = meta::FoldBy::task;
  spec.rank = 5;
  spec.measurements = {5};
  EXPECT_THROW(meta::validate_loocv(spec, data), InputError);
  spec.rank = 4;
  EXPECT_NO_THROW(meta::validate_loocv(spec, data));
}

TEST(LoocvFold, FoldRowsRestrictTheHeldOutRows) {
  auto data = low_rank_data();
  data.fold_rows = {1, 4, 6};
  auto spec = spec_for(data);
  EXPECT_EQ(meta::loocv_folds(spec, data), (std::vector<int>{1, 4, 6}));
  spec.parts = 2;
  spec.part = 2;
  EXPECT_EQ(meta::loocv_folds(spec, data), (std::vector<int>{4, 6}));
  spec.parts = 4;  // more parts than held-out rows
  EXPECT_THROW(meta::validate_loocv(spec, data), InputError);
}

namespace {

// Equal entry by entry, NaN (a candidate the path did not reach) equal to NaN.
bool same_curve(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

// The rows `rows` of the errors, observed (else NaN) where the sampling mask
// of fold `fold` (setting 0, repeat 0) is 1.
Eigen::MatrixXd observed_rows(const meta::LoocvSpec& spec, const meta::LoocvData& data, int fold,
                              const std::vector<int>& rows) {
  const auto mask = meta::meta_training_mask(spec, data, 0, fold, 0);
  Eigen::MatrixXd observed(static_cast<Eigen::Index>(rows.size()), kConfigs);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (int j = 0; j < kConfigs; ++j) {
      const auto at = static_cast<std::size_t>(rows[r]) * kConfigs + j;
      observed(static_cast<Eigen::Index>(r), j) = mask[at] ? data.error[at] : std::numeric_limits<double>::quiet_NaN();
    }
  return observed;
}

// Block `block`'s λ-CV matrix, built here from the public pieces: the rows
// outside the block's rows, observed where the block's first fold's
// sampling mask is 1.
Eigen::MatrixXd block_cv_matrix(const meta::LoocvSpec& spec, const meta::LoocvData& data, int block) {
  const std::vector<int> folds = meta::lambda_cv_blocks(spec, data).at(static_cast<std::size_t>(block));
  std::vector<int> rows;
  for (int i = 0; i < kTasks; ++i)
    if (std::find(folds.begin(), folds.end(), i) == folds.end()) rows.push_back(i);
  return observed_rows(spec, data, folds.front(), rows);
}

// λ auto (setting IV, ed-mf and ei-mf) at ratio 0.5 with --lambda-cv-folds 3.
meta::LoocvSpec three_block_spec(const meta::LoocvData& data) {
  auto spec = auto_lambda_spec(data);
  spec.ratio = 0.5;
  spec.lambda_cv_folds = 3;
  return meta::validate_loocv(spec, data);
}

}  // namespace

TEST(LoocvFold, LambdaCvFoldsRunOneCvPerBlockWithoutTheBlocksRows) {
  const auto data = low_rank_data();
  const auto spec = three_block_spec(data);
  // 8 held-out rows in 3 contiguous blocks: entries [b·8/3, (b+1)·8/3).
  const auto blocks = meta::lambda_cv_blocks(spec, data);
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0], (std::vector<int>{0, 1}));
  EXPECT_EQ(blocks[1], (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(blocks[2], (std::vector<int>{5, 6, 7}));
  for (int b = 0; b < 3; ++b)
    for (int f : blocks[static_cast<std::size_t>(b)]) EXPECT_EQ(meta::lambda_cv_block_of(spec, data, f), b);
  EXPECT_EQ(meta::lambda_cv_block_rows(spec, data, 1), (std::vector<int>{2, 3, 4}));

  const meta::LoocvEvaluator eval = meta::loocv_evaluator(spec, data);
  for (int block = 0; block < 3; ++block) {
    // The CVs computed here on the matrix without the block's rows, with the
    // CV settings of docs/softimpute.md ("λ in meta-LOOCV"): the same curves.
    const int first = blocks[static_cast<std::size_t>(block)].front();
    const Eigen::MatrixXd observed = block_cv_matrix(spec, data, block);
    meta::SoftImputeOptions opt;
    opt.gap_tolerance = 1e-3;
    opt.blocked_preconditioner = true;
    const auto paper = meta::cv_lambda(observed, Eigen::MatrixXd(), opt, {}, 5, mix64(1000 * spec.seed + first), 1);
    meta::SoftImputeOptions copt = opt;
    copt.gap_absolute = meta::kCenteredGapAbsolute;
    const auto centered = meta::cv_lambda(meta::center_errors(observed).residual, Eigen::MatrixXd(), copt,
                                          {0.01, 0.03, 0.1, 0.3, 1, 3}, 5, mix64(1000 * spec.seed + first + 17u), 1);
    const auto p = meta::block_lambda_cv(spec, data, 0, block, 0, false);
    const auto c = meta::block_lambda_cv(spec, data, 0, block, 0, true);
    EXPECT_EQ(p.lambda, paper.lambda) << "block " << block;
    EXPECT_EQ(p.grid, paper.grid);
    EXPECT_TRUE(same_curve(p.heldout_error, paper.heldout_error)) << "block " << block;
    EXPECT_TRUE(same_curve(p.heldout_se, paper.heldout_se)) << "block " << block;
    EXPECT_EQ(c.lambda, centered.lambda) << "block " << block;
    EXPECT_TRUE(same_curve(c.heldout_error, centered.heldout_error)) << "block " << block;
    const auto l = meta::block_lambdas(spec, data, 0, block, 0);
    EXPECT_EQ(l.lambda, paper.lambda);
    EXPECT_EQ(l.centered, centered.lambda);
    // Every fold of the block completes at that λ, built directly or through the evaluator.
    for (int f : blocks[static_cast<std::size_t>(block)]) {
      const auto t = meta::build_meta_training(spec, data, 0, f, 0);
      EXPECT_EQ(t.lambda, paper.lambda) << "fold " << f;
      EXPECT_EQ(t.centered_lambda, centered.lambda) << "fold " << f;
      EXPECT_EQ(eval(meta::LoocvItem{0, f, 0, 0}).lambda, paper.lambda) << "fold " << f;
    }
  }
  // One fold per block is the fold's own CV; B = 0 (the default) has no blocks.
  auto per_fold = spec;
  per_fold.lambda_cv_folds = kTasks;
  auto plain = spec;
  plain.lambda_cv_folds = 0;
  for (int f = 0; f < kTasks; ++f) {
    const auto a = meta::block_lambdas(per_fold, data, 0, f, 0);
    const auto b = meta::loocv_lambdas(plain, data, 0, f, 0);
    EXPECT_EQ(a.lambda, b.lambda) << "fold " << f;
    EXPECT_EQ(a.centered, b.centered) << "fold " << f;
    EXPECT_EQ(meta::build_meta_training(per_fold, data, 0, f, 0).estimate,
              meta::build_meta_training(plain, data, 0, f, 0).estimate);
  }
  EXPECT_TRUE(meta::lambda_cv_blocks(plain, data).empty());
  EXPECT_EQ(meta::lambda_cv_block_of(plain, data, 0), -1);
  EXPECT_TRUE(std::isnan(meta::block_lambdas(plain, data, 0, 0, 0).lambda));
  // λ fixed or a full setting: no block CV.
  auto fixed = spec;
  fixed.lambda = 0.1;
  EXPECT_TRUE(std::isnan(meta::block_lambdas(fixed, data, 0, 0, 0).lambda));
  auto full = spec;
  full.settings = {"I"};
  EXPECT_TRUE(std::isnan(meta::block_lambdas(full, data, 0, 0, 0).lambda));
}

TEST(LoocvFold, LambdaWarmWithBlocksStartsEachFoldFromItsBlocksCompletion) {
  const auto data = low_rank_data();
  const auto spec = three_block_spec(data);
  auto warm = spec;
  warm.lambda_warm = true;
  const int block = 1;  // folds 2, 3, 4
  const auto cold = meta::block_lambdas(spec, data, 0, block, 0);
  const auto l = meta::block_lambdas(warm, data, 0, block, 0);
  EXPECT_TRUE(cold.start.empty());  // only with lambda_warm
  EXPECT_EQ(l.lambda, cold.lambda);  // the start changes no λ
  EXPECT_EQ(l.centered, cold.centered);
  // The start is the block's λ-CV matrix completed at its λ, to the final solves' certificate.
  const std::vector<int> rows = meta::lambda_cv_matrix_rows(spec, data, block);
  EXPECT_EQ(rows, (std::vector<int>{0, 1, 5, 6, 7}));
  const Eigen::MatrixXd observed = block_cv_matrix(spec, data, block);
  meta::SoftImputeOptions opt;
  opt.lambda = l.lambda;
  const Eigen::MatrixXd z = meta::soft_impute(observed, Eigen::MatrixXd(), opt).estimate;
  ASSERT_EQ(l.start.size(), rows.size() * kConfigs);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (int j = 0; j < kConfigs; ++j)
      EXPECT_EQ(l.start[r * kConfigs + j], z(static_cast<Eigen::Index>(r), j)) << r << "," << j;
  opt.lambda = l.centered;
  opt.gap_absolute = meta::kCenteredGapAbsolute;
  const Eigen::MatrixXd zc = meta::soft_impute(meta::center_errors(observed).residual, Eigen::MatrixXd(), opt).estimate;
  ASSERT_EQ(l.centered_start.size(), rows.size() * kConfigs);
  EXPECT_EQ(l.centered_start.back(), zc(zc.rows() - 1, kConfigs - 1));

  // fold_start: the start's rows copied, the others the ridge fit on B = V Σ^½,
  // then one proximal step (unit weights: step 1) kept to rank k + max(4, k/4).
  const int fold = 3;
  const std::vector<int> fold_rows = meta::training_rows(spec, data, fold);  // 0 1 2 4 5 6 7
  const Eigen::MatrixXd a = observed_rows(spec, data, fold, fold_rows);
  const Eigen::MatrixXd s = meta::fold_start(l.start, rows, a, Eigen::MatrixXd(), fold_rows, l.lambda);
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(z, Eigen::ComputeThinV);
  Eigen::Index k = 0;
  while (k < svd.singularValues().size() && svd.singularValues()[k] > 1e-8 * svd.singularValues()[0]) ++k;
  ASSERT_GT(k, 0);
  const Eigen::MatrixXd b = svd.matrixV().leftCols(k) * svd.singularValues().head(k).cwiseSqrt().asDiagonal();
  Eigen::MatrixXd z0(a.rows(), kConfigs);
  for (std::size_t r = 0; r < fold_rows.size(); ++r) {
    const auto i = static_cast<Eigen::Index>(r);
    const auto in = std::find(rows.begin(), rows.end(), fold_rows[r]);
    if (in != rows.end()) {
      z0.row(i) = z.row(in - rows.begin());
      continue;
    }
    std::vector<int> seen;
    for (int j = 0; j < kConfigs; ++j)
      if (std::isfinite(a(i, j))) seen.push_back(j);
    Eigen::MatrixXd bo(static_cast<Eigen::Index>(seen.size()), k);
    Eigen::VectorXd ao(static_cast<Eigen::Index>(seen.size()));
    for (std::size_t q = 0; q < seen.size(); ++q) {
      bo.row(static_cast<Eigen::Index>(q)) = b.row(seen[q]);
      ao(static_cast<Eigen::Index>(q)) = a(i, seen[q]);
    }
    z0.row(i) = (b * ((bo.transpose() * bo + l.lambda * Eigen::MatrixXd::Identity(k, k)).inverse() *
                      bo.transpose() * ao)).transpose();
  }
  Eigen::MatrixXd y = z0;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (int j = 0; j < kConfigs; ++j)
      if (std::isfinite(a(i, j))) y(i, j) = a(i, j);  // Z0 + P_Ω(A − Z0)
  Eigen::JacobiSVD<Eigen::MatrixXd> prox(y, Eigen::ComputeThinU | Eigen::ComputeThinV);
  Eigen::VectorXd shrunk = (prox.singularValues().array() - l.lambda).max(0.0).matrix();
  const Eigen::Index keep = std::min<Eigen::Index>(shrunk.size(), k + std::max<Eigen::Index>(4, k / 4));
  shrunk.tail(shrunk.size() - keep).setZero();
  const Eigen::MatrixXd expected = prox.matrixU() * shrunk.asDiagonal() * prox.matrixV().transpose();
  EXPECT_LT((s - expected).norm(), 1e-10 * (1 + expected.norm()));
  EXPECT_THROW(meta::fold_start(l.start, {0, 1}, a, Eigen::MatrixXd(), fold_rows, l.lambda), InputError);

  // Every fold of the block completes at the block's λ, to the same certificate, given or found.
  for (int f : {2, 3, 4}) {
    const auto t = meta::build_meta_training(spec, data, 0, f, 0);
    const auto w = meta::build_meta_training(warm, data, 0, f, 0);
    EXPECT_EQ(meta::build_meta_training(warm, data, 0, f, 0, &l).estimate, w.estimate) << "fold " << f;
    EXPECT_EQ(w.lambda, t.lambda);
    EXPECT_EQ(w.centered_lambda, t.centered_lambda);
    const Eigen::MatrixXd obs = observed_rows(spec, data, f, meta::training_rows(spec, data, f));
    using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const Eigen::MatrixXd zt = Eigen::Map<const RowMajor>(t.estimate.data(), obs.rows(), kConfigs);
    const Eigen::MatrixXd zw = Eigen::Map<const RowMajor>(w.estimate.data(), obs.rows(), kConfigs);
    const double ft = meta::softimpute_objective(zt, obs, Eigen::MatrixXd(), t.lambda);
    EXPECT_NEAR(meta::softimpute_objective(zw, obs, Eigen::MatrixXd(), t.lambda), ft, 2e-7 * ft) << "fold " << f;
    EXPECT_LE(meta::softimpute_duality_gap(zw, obs, Eigen::MatrixXd(), t.lambda), 1e-7 * ft) << "fold " << f;
  }
}

TEST(LoocvFold, LambdaCvFoldsOutsideTheirRangeAreRefusedInOneLine) {
  const auto data = low_rank_data();
  const auto spec = auto_lambda_spec(data);
  auto expect_bad = [&](int blocks, bool once, const std::string& needle) {
    auto s = spec;
    s.lambda_cv_folds = blocks;
    s.lambda_once = once;
    try {
      meta::validate_loocv(s, data);
      ADD_FAILURE() << blocks << " accepted; expected " << needle;
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  };
  const std::string range = "allowed: 0 (a lambda CV per fold) or 1..8 (blocks of the 8 held-out rows)";
  expect_bad(-1, false, "--lambda-cv-folds -1 is not allowed; " + range);
  expect_bad(9, false, "--lambda-cv-folds 9 is not allowed; " + range);
  // One block of all 8 rows leaves no row to run its CV on; 2 blocks of 4 leave 4.
  expect_bad(1, false, "--lambda-cv-folds 1 leaves 0 rows in block 0's lambda-CV matrix; allowed: 0 or 2..8");
  // 8 × 12 at ratio 0.05: a block of 4 rows leaves about 2 observed entries, too few for the CV's 5 splits.
  {
    auto s = spec;
    s.ratio = 0.05;
    s.lambda_cv_folds = 2;
    try {
      meta::validate_loocv(s, data);
      ADD_FAILURE() << "sparse blocks accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("observed entries in block"), std::string::npos) << e.what();
    }
  }
  expect_bad(2, true, "--lambda-cv-folds 2 is not allowed with --lambda once");
  for (int b : {0, 2, 5, 8}) {
    auto s = spec;
    s.lambda_cv_folds = b;
    EXPECT_NO_THROW(meta::validate_loocv(s, data)) << b;
  }
}
