// The distributed LOOCV driver: every work item computed once on some rank,
// gathered into the right place, repeats averaged, failures raised on every
// rank, split runs merged back into the single-run result. The per-item
// numerics are replaced by a function of the item's indices, so what is
// checked here is the decomposition, the queue and the gather.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/meta/loocv.hpp"
#include "peppp/par/loocv.hpp"
#include "test_util.hpp"

using namespace peppp;

namespace {

meta::LoocvData toy_data(int n, int d) {
  meta::LoocvData data;
  for (int i = 0; i < n; ++i) data.task.push_back("task" + std::to_string(i));
  for (int j = 0; j < d; ++j) data.config.push_back("c" + std::to_string(j));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) {
      data.error.push_back(0.1 + 0.01 * ((i * 7 + j * 3) % 11));
      data.memory.push_back(10.0 + j + i);
    }
  return data;
}

double value(const meta::LoocvItem& it, int q, std::size_t l) {
  return it.setting * 1000 + it.fold * 100 + it.method * 10 + it.repeat + q * 0.1 + l * 0.001;
}

meta::LoocvItemResult fake(const meta::LoocvItem& it, std::size_t counts) {
  meta::LoocvItemResult r;
  for (std::size_t l = 0; l < counts; ++l) {
    r.relative_error.push_back(value(it, 0, l));
    r.convergence.push_back(value(it, 1, l));
    r.hyperdiff.push_back(value(it, 2, l));
    r.selected_error.push_back(value(it, 3, l));
    r.best_feasible_error.push_back(value(it, 4, l));
    r.regret.push_back(value(it, 5, l));
    r.measured_memory.push_back(value(it, 6, l));
    r.selected_config.push_back(it.fold + it.method + static_cast<int>(l));
  }
  r.order = {it.fold, it.method, it.setting};
  // Per (count, config) predictions (8 configs), the baseline's left empty (NaN).
  if (it.method < 2)
    for (std::size_t l = 0; l < counts; ++l)
      for (int j = 0; j < 8; ++j) {
        r.predicted_error.push_back(value(it, 7, l) + j * 1e-5);
        r.predicted_std.push_back(value(it, 8, l) + j * 1e-5);
      }
  // The baseline item (method 2) carries the zero-shot default: its pick and prior predictive.
  if (it.method == 2) {
    r.zero_shot_config = it.fold + it.setting;
    for (int j = 0; j < 8; ++j) {
      r.zero_shot_predicted_error.push_back(value(it, 9, 0) + j * 1e-5);
      r.zero_shot_predicted_std.push_back(value(it, 10, 0) + j * 1e-5);
    }
  }
  r.lambda = 0.5 + it.fold;
  r.sampled_fraction = 0.2;
  return r;
}

meta::LoocvSpec toy_spec(const meta::LoocvData& data) {
  meta::LoocvSpec spec;
  spec.settings = {"I", "IV"};
  spec.methods = {"ed-mf", "random-mf"};
  spec.measurements = {5, 3};
  spec.repeats = 2;
  spec.cap = 100;
  return meta::validate_loocv(spec, data);
}

}  // namespace

TEST(LoocvDriver, EveryItemOnceInItsPlace) {
  const auto data = toy_data(5, 8);
  const auto spec = toy_spec(data);
  ASSERT_EQ(spec.measurements, (std::vector<int>{3, 5}));
  int calls = 0;
  auto eval = [&](const meta::LoocvItem& it) {
    ++calls;
    return fake(it, spec.measurements.size());
  };
  const io::Loocv l = par::run_loocv(data, spec, MPI_COMM_WORLD, eval);
  int total = 0;
  MPI_Allreduce(&calls, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(total, 2 * 5 * 2 * 3);  // settings × folds × repeats × (methods + baseline)
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) return;
  ASSERT_EQ(l.method, (std::vector<std::string>{"ed-mf", "random-mf", "random-high-memory"}));
  ASSERT_EQ(l.fold, data.task);
  for (int s = 0; s < 2; ++s)
    for (int m = 0; m < 3; ++m)
      for (std::size_t c = 0; c < 2; ++c)
        for (int f = 0; f < 5; ++f) {
          meta::LoocvItem it{s, f, 0, m};
          // The mean over repeats 0 and 1 adds 0.5 to the repeat-0 value.
          EXPECT_NEAR(l.relative_error[l.at(s, m, c, f)], value(it, 0, c) + 0.5, 1e-9);
          EXPECT_NEAR(l.measured_memory[l.at(s, m, c, f)], value(it, 6, c) + 0.5, 1e-9);
          EXPECT_EQ(l.selected_config[l.at(s, m, c, f)], f + m + static_cast<int>(c));
          const std::size_t o = ((static_cast<std::size_t>(s) * 3 + m) * 5 + f) * 5;
          EXPECT_EQ(l.selection_order[o], f);
          EXPECT_EQ(l.selection_order[o + 2], s);
          EXPECT_EQ(l.selection_order[o + 3], -1);
          for (int j = 0; j < 8; ++j) {
            const double pe = l.predicted_error[l.at(s, m, c, f, j)], ps = l.predicted_std[l.at(s, m, c, f, j)];
            if (m == 2) {  // the baseline predicts nothing
              EXPECT_TRUE(std::isnan(pe) && std::isnan(ps));
            } else {  // repeat 0's values, not averaged
              EXPECT_DOUBLE_EQ(pe, value(it, 7, c) + j * 1e-5);
              EXPECT_DOUBLE_EQ(ps, value(it, 8, c) + j * 1e-5);
            }
          }
        }
  // The zero-shot pick and prior predictive come from each fold's baseline item of repeat 0.
  for (int s = 0; s < 2; ++s)
    for (int f = 0; f < 5; ++f) {
      const meta::LoocvItem base{s, f, 0, 2};
      EXPECT_EQ(l.zero_shot_config[l.at(s, f)], f + s);
      for (int j = 0; j < 8; ++j) {
        EXPECT_DOUBLE_EQ(l.zero_shot_predicted_error[l.at(s, f) * 8 + j], value(base, 9, 0) + j * 1e-5);
        EXPECT_DOUBLE_EQ(l.zero_shot_predicted_std[l.at(s, f) * 8 + j], value(base, 10, 0) + j * 1e-5);
      }
    }
  EXPECT_DOUBLE_EQ(l.lambda[1 * 5 + 3], 3.5);
  // Setting I's meta-training mask is everything but the held-out row; IV's samples 20%.
  const std::size_t nd = 5 * 8;
  int kept_I = 0, kept_IV = 0;
  for (std::size_t i = 0; i < nd; ++i) {
    kept_I += l.sampling_mask[2 * nd + i];
    kept_IV += l.sampling_mask[(5 + 2) * nd + i];
  }
  EXPECT_EQ(kept_I, 4 * 8);
  EXPECT_EQ(kept_IV, static_cast<int>(std::lround(0.2 * 4 * 8)));
  for (int j = 0; j < 8; ++j) EXPECT_EQ(l.sampling_mask[(5 + 2) * nd + 2 * 8 + j], 0);
}

TEST(LoocvDriver, SplitPartsMergeToTheSingleRun) {
  const auto data = toy_data(5, 8);
  auto spec = toy_spec(data);
  auto eval = [&](const meta::LoocvItem& it) { return fake(it, spec.measurements.size()); };
  const io::Loocv whole = par::run_loocv(data, spec, MPI_COMM_WORLD, eval);
  std::vector<io::Loocv> parts;
  std::vector<std::string> names;
  for (int k = 1; k <= 3; ++k) {
    spec.part = k;
    spec.parts = 3;
    parts.push_back(par::run_loocv(data, spec, MPI_COMM_WORLD, eval));
    names.push_back("part" + std::to_string(k));
  }
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) return;
  EXPECT_EQ(parts[0].fold.size() + parts[1].fold.size() + parts[2].fold.size(), 5u);
  const io::Loocv merged = par::merge_loocv({parts[2], parts[0], parts[1]}, {names[2], names[0], names[1]});
  EXPECT_EQ(merged.fold, whole.fold);
  EXPECT_EQ(merged.regret, whole.regret);
  EXPECT_EQ(merged.relative_error, whole.relative_error);
  EXPECT_EQ(merged.selected_config, whole.selected_config);
  EXPECT_EQ(merged.selection_order, whole.selection_order);
  EXPECT_EQ(merged.sampling_mask, whole.sampling_mask);
  EXPECT_EQ(merged.lambda, whole.lambda);
  auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
    return true;
  };
  EXPECT_TRUE(same(merged.predicted_error, whole.predicted_error));
  EXPECT_TRUE(same(merged.predicted_std, whole.predicted_std));
  EXPECT_THROW(par::merge_loocv({parts[0], parts[1]}, {names[0], names[1]}), InputError);  // a fold missing
  EXPECT_THROW(par::merge_loocv({parts[0], parts[0], parts[1], parts[2]}, {"a", "b", "c", "d"}), InputError);
}

TEST(LoocvDriver, AFailingItemFailsEveryRankWithoutHanging) {
  const auto data = toy_data(4, 6);
  meta::LoocvSpec spec;
  spec.settings = {"I"};
  spec.methods = {"ed-mf"};
  spec.measurements = {3};
  spec.cap = 100;
  spec = meta::validate_loocv(spec, data);
  auto eval = [&](const meta::LoocvItem& it) {
    if (it.fold == 2 && it.method == 0) throw RuntimeError("singular matrix");
    return fake(it, 1);
  };
  try {
    par::run_loocv(data, spec, MPI_COMM_WORLD, eval);
    FAIL() << "no exception";
  } catch (const RuntimeError& e) {
    EXPECT_TRUE(e.all_ranks());
    EXPECT_NE(std::string(e.what()).find("fold 'task2'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("singular matrix"), std::string::npos) << e.what();
  }
}

TEST(LoocvDriver, BadSpecsAreRefused) {
  auto data = toy_data(5, 8);
  auto expect_bad = [&](meta::LoocvSpec spec, const std::string& needle) {
    try {
      meta::validate_loocv(spec, data);
      FAIL() << "accepted; expected " << needle;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  meta::LoocvSpec ok;
  ok.measurements = {3, 4};
  ok.cap = 100;
  EXPECT_NO_THROW(meta::validate_loocv(ok, data));
  auto s = ok;
  s.settings = {"VII"};
  expect_bad(s, "VII");
  s = ok;
  s.methods = {"ed-mf", "grid"};
  expect_bad(s, "grid");
  s = ok;
  s.measurements = {3, 9};
  expect_bad(s, "9");
  s = ok;
  s.cap = 14;  // task0 has 5 configurations at <= 14 MiB (10..14)
  s.measurements = {3, 6};
  expect_bad(s, "under the cap");
  s = ok;
  s.cap = 5;
  expect_bad(s, "below every configuration");
  s = ok;
  s.measurements = {2};
  expect_bad(s, "below the rank");
  auto small = toy_data(2, 8);
  EXPECT_THROW(meta::validate_loocv(ok, small), InputError);
}
