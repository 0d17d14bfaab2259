// Column hold-out in meta-LOOCV (`--hide-columns`, `--candidates`;
// docs/feature-completion.md): the hidden set (deterministic, its count, never
// every column), the refusal on plain labels, the masks, the split relative
// errors against a direct computation, and --candidates measured keeping
// every method and the zero-shot default off the hidden columns.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "peppp/core/error.hpp"
#include "peppp/meta/loocv.hpp"
#include "role_test_data.hpp"

using namespace peppp;

namespace {

constexpr int kTasks = 8;

// 8 tasks × 12 per-role configurations (3 bodies × 2 first × 2 last), errors
// from the synthetic per-role model; memory grows with the column.
meta::LoocvData role_data() {
  meta::LoocvData data;
  data.config = test::role_labels({"e3m1", "e4m2", "e5m2"}, {"e4m3", "e8m7"}, {"e4m3", "e8m7"}, {}, {"e6m7"});
  const Eigen::MatrixXd e = test::role_errors(data.config, kTasks, 0.02, 5);
  const auto d = static_cast<int>(data.config.size());
  for (int i = 0; i < kTasks; ++i) data.task.push_back("t" + std::to_string(i));
  for (int i = 0; i < kTasks; ++i)
    for (int j = 0; j < d; ++j) {
      data.error.push_back(e(i, j));
      data.memory.push_back(10.0 + j + 0.1 * i);
    }
  return data;
}

meta::LoocvSpec hold_out_spec(const meta::LoocvData& data, double fraction, meta::Candidates candidates) {
  meta::LoocvSpec spec;
  spec.settings = {"I", "III"};
  spec.methods = {"ed-mf", "ei-mf"};
  spec.measurements = {2, 4};
  spec.rank = 2;
  spec.hide_columns = fraction;
  spec.candidates = candidates;
  return meta::validate_loocv(spec, data);
}

bool is_hidden(const meta::LoocvSpec& spec, int j) {
  return std::binary_search(spec.hidden.begin(), spec.hidden.end(), j);
}

}  // namespace

TEST(LoocvHoldOut, HiddenSetIsDeterministicCountedAndNeverEveryColumn) {
  for (std::size_t d : {1u, 2u, 3u, 10u, 12u, 99u})
    for (double f : {0.0, 0.1, 0.25, 0.5, 0.9, 0.99}) {
      const auto h = meta::hidden_columns(d, f, 7);
      const auto want =
          std::min<std::size_t>(static_cast<std::size_t>(std::llround(f * static_cast<double>(d))), d - 1);
      EXPECT_EQ(h.size(), want) << d << " " << f;
      EXPECT_LT(h.size(), d) << "never every column";
      EXPECT_EQ(h, meta::hidden_columns(d, f, 7)) << "deterministic";
      EXPECT_TRUE(std::is_sorted(h.begin(), h.end()));
      EXPECT_EQ(std::set<int>(h.begin(), h.end()).size(), h.size()) << "distinct";
      for (int j : h) EXPECT_TRUE(j >= 0 && static_cast<std::size_t>(j) < d);
    }
  EXPECT_TRUE(meta::hidden_columns(12, 0.0, 3).empty());
  // The seed decides which: two seeds of 99 columns do not pick the same 49.
  EXPECT_NE(meta::hidden_columns(99, 0.5, 1), meta::hidden_columns(99, 0.5, 2));
  // Nested in the fraction? No promise; but a larger fraction hides more.
  EXPECT_GT(meta::hidden_columns(99, 0.6, 1).size(), meta::hidden_columns(99, 0.5, 1).size());
  for (double bad : {-0.1, 1.0, 1.5, std::nan("")}) EXPECT_THROW(meta::hidden_columns(12, bad, 1), InputError) << bad;
}

TEST(LoocvHoldOut, ValidationResolvesTheSetAndRefusesPlainLabels) {
  meta::LoocvData data = role_data();
  const auto spec = hold_out_spec(data, 0.5, meta::Candidates::all);
  EXPECT_EQ(spec.hidden, meta::hidden_columns(data.d(), 0.5, spec.seed));
  EXPECT_EQ(spec.hidden.size(), 6u);
  EXPECT_TRUE(hold_out_spec(data, 0.0, meta::Candidates::all).hidden.empty());
  // --candidates measured: at most the 6 columns not hidden can be measured.
  meta::LoocvSpec many = spec;
  many.measurements = {7};
  many.candidates = meta::Candidates::measured;
  EXPECT_THROW(meta::validate_loocv(many, data), InputError);
  many.candidates = meta::Candidates::all;
  EXPECT_NO_THROW(meta::validate_loocv(many, data));
  // Plain labels: SoftImpute cannot predict a column nobody measured.
  for (std::size_t j = 0; j < data.d(); ++j)
    data.config[j] = "e" + std::to_string(3 + j % 4) + "m" + std::to_string(j) + "/e6m7";
  try {
    meta::validate_loocv(spec, data);
    FAIL() << "plain labels with --hide-columns accepted";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--hide-columns 0.5"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  meta::LoocvSpec zero = spec;
  zero.hide_columns = 0;
  EXPECT_NO_THROW(meta::validate_loocv(zero, data));
}

TEST(LoocvHoldOut, MasksLeaveTheHiddenColumnsUnobservedInEverySetting) {
  const meta::LoocvData data = role_data();
  const auto spec = hold_out_spec(data, 0.5, meta::Candidates::all);
  const std::size_t d = data.d();
  for (int setting : {0, 1}) {
    EXPECT_TRUE(meta::completes_meta_training(spec, setting));
    const auto mask = meta::meta_training_mask(spec, data, setting, 2, 0);
    for (std::size_t i = 0; i < data.n(); ++i)
      for (std::size_t j = 0; j < d; ++j) {
        if (i == 2 || is_hidden(spec, static_cast<int>(j)))
          EXPECT_EQ(mask[i * d + j], 0) << setting << " " << i << " " << j;
        else if (setting == 0)
          EXPECT_EQ(mask[i * d + j], 1) << "setting I observes every other entry";
      }
  }
  // The full setting's meta-training matrix is completed: finite in the hidden columns too.
  const meta::MetaTraining t = meta::build_meta_training(spec, data, 0, 2, 0);
  ASSERT_EQ(t.estimate.size(), (data.n() - 1) * d);
  for (double v : t.estimate) EXPECT_TRUE(std::isfinite(v));
  EXPECT_DOUBLE_EQ(t.fraction, 0.5);
  meta::LoocvSpec plain = spec;
  plain.hide_columns = 0;
  plain = meta::validate_loocv(plain, data);
  EXPECT_FALSE(meta::completes_meta_training(plain, 0));
  EXPECT_TRUE(meta::completes_meta_training(plain, 1));
}

TEST(LoocvHoldOut, SplitRelativeErrorsScoreTheUnmeasuredHiddenAndOtherColumns) {
  const meta::LoocvData data = role_data();
  const auto spec = hold_out_spec(data, 0.5, meta::Candidates::all);
  const int d = static_cast<int>(data.d()), fold = 4;
  const meta::MetaTraining t = meta::build_meta_training(spec, data, 0, fold, 0);
  for (int method : {0, 1}) {
    const meta::LoocvItemResult r = meta::evaluate_loocv_item(spec, data, {0, fold, 0, method}, t);
    for (std::size_t c = 0; c < spec.measurements.size(); ++c) {
      const std::vector<int> measured(r.order.begin(), r.order.begin() + spec.measurements[c]);
      double num[2] = {0, 0}, den[2] = {0, 0};
      for (int j = 0; j < d; ++j) {
        if (std::find(measured.begin(), measured.end(), j) != measured.end()) continue;
        const double truth = data.error[static_cast<std::size_t>(fold * d + j)];
        const double pred = r.predicted_error[c * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)];
        const int k = is_hidden(spec, j) ? 1 : 0;
        num[k] += (pred - truth) * (pred - truth);
        den[k] += truth * truth;
      }
      EXPECT_NEAR(r.relative_error_hidden[c], std::sqrt(num[1] / den[1]), 1e-12) << method << " " << c;
      EXPECT_NEAR(r.relative_error_measured[c], std::sqrt(num[0] / den[0]), 1e-12) << method << " " << c;
      EXPECT_GT(r.relative_error_hidden[c], 0);
    }
  }
  // Without hidden columns there is nothing to split.
  meta::LoocvSpec plain = spec;
  plain.hide_columns = 0;
  plain = meta::validate_loocv(plain, data);
  const meta::LoocvItemResult r =
      meta::evaluate_loocv_item(plain, data, {0, fold, 0, 0}, meta::build_meta_training(plain, data, 0, fold, 0));
  for (std::size_t c = 0; c < plain.measurements.size(); ++c) {
    EXPECT_TRUE(std::isnan(r.relative_error_hidden[c]));
    EXPECT_TRUE(std::isnan(r.relative_error_measured[c]));
  }
}

TEST(LoocvHoldOut, CandidatesMeasuredNeverMeasuresOrPicksAHiddenColumn) {
  const meta::LoocvData data = role_data();
  for (auto candidates : {meta::Candidates::measured, meta::Candidates::all}) {
    const auto spec = hold_out_spec(data, 0.5, candidates);
    bool any_hidden = false;
    for (int setting : {0, 1})
      for (int fold = 0; fold < kTasks; ++fold) {
        const meta::MetaTraining t = meta::build_meta_training(spec, data, setting, fold, 0);
        for (int method = 0; method <= static_cast<int>(spec.methods.size()); ++method) {
          const meta::LoocvItemResult r = meta::evaluate_loocv_item(spec, data, {setting, fold, 0, method}, t);
          std::vector<int> touched(r.order);
          for (int j : r.selected_config)
            if (j >= 0) touched.push_back(j);
          if (r.zero_shot_config >= 0) touched.push_back(r.zero_shot_config);
          for (int j : touched) {
            any_hidden = any_hidden || is_hidden(spec, j);
            if (candidates == meta::Candidates::measured) EXPECT_FALSE(is_hidden(spec, j)) << setting << fold << method;
          }
          // The regret is against the best of every configuration under the budget, hidden ones included.
          double best = 1e300;
          for (int j = 0; j < static_cast<int>(data.d()); ++j)
            if (data.memory[static_cast<std::size_t>(fold) * data.d() + j] <= spec.cap)
              best = std::min(best, data.error[static_cast<std::size_t>(fold) * data.d() + j]);
          for (double b : r.best_feasible_error) EXPECT_DOUBLE_EQ(b, best);
        }
      }
    // With every column a candidate, the methods do go into the hidden ones (the check above can fail).
    if (candidates == meta::Candidates::all) EXPECT_TRUE(any_hidden);
  }
}
