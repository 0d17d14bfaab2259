// loocv.nc, selection.nc, completed.nc: round trips, coordinates, refusals.
#include <gtest/gtest.h>
#include <netcdf.h>

#include <cmath>
#include <filesystem>

#include "peppp/core/error.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/io/selection.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace peppp;

namespace {

io::Loocv small_loocv() {
  io::Loocv l;
  l.setting = {"I", "IV"};
  l.method = {"ed-mf", "random-mf", "random-high-memory"};
  l.measurements = {3, 5};
  l.task = {"a", "b", "c"};
  l.fold = {"a", "c"};
  l.fold_task = {0, 2};
  l.config = {"e3m1/e6m7", "e4m3/e6m7", "e5m2/e8m7", "e4m4/e8m9"};
  l.budget = l.cap = 12.5;
  l.repeats = 2;
  l.allocate();
  for (std::size_t i = 0; i < l.regret.size(); ++i) {
    l.relative_error[i] = 0.01 * i;
    l.convergence[i] = 0.02 * i;
    l.hyperdiff[i] = 0.03 * i;
    l.selected_error[i] = 0.1 + 0.001 * i;
    l.best_feasible_error[i] = 0.1;
    l.regret[i] = 0.001 * i;
    l.measured_memory[i] = 5.0 * i;
    l.selected_config[i] = static_cast<int>(i % 4);
  }
  for (std::size_t i = 0; i < l.selection_order.size(); ++i) l.selection_order[i] = static_cast<int>(i % 5) - 1;
  l.lambda[1] = 0.3;
  l.sampled_fraction = {1, 1, 0.2, 0.25};
  for (std::size_t i = 0; i < l.sampling_mask.size(); ++i) l.sampling_mask[i] = (i * 7) % 3 == 0;
  l.text_attributes["command_line"] = "peppp loocv --x";
  l.number_attributes["seed"] = 7;
  return l;
}

}  // namespace

TEST(LoocvFile, RoundTripKeepsEveryValueAndCoordinate) {
  const std::string dir = test::scratch_dir();
  const std::string path = dir + "/loocv.nc";
  const io::Loocv l = small_loocv();
  io::write_loocv(path, l);
  const io::Loocv r = io::read_loocv(path);
  EXPECT_EQ(r.setting, l.setting);
  EXPECT_EQ(r.method, l.method);
  EXPECT_EQ(r.measurements, l.measurements);
  EXPECT_EQ(r.fold, l.fold);
  EXPECT_EQ(r.fold_task, l.fold_task);
  EXPECT_EQ(r.config, l.config);
  EXPECT_EQ(r.regret, l.regret);
  EXPECT_EQ(r.measured_memory, l.measured_memory);
  EXPECT_EQ(r.selected_config, l.selected_config);
  EXPECT_EQ(r.selection_order, l.selection_order);
  EXPECT_EQ(r.sampling_mask, l.sampling_mask);
  EXPECT_EQ(r.sampled_fraction, l.sampled_fraction);
  EXPECT_TRUE(std::isnan(r.lambda[0]));
  EXPECT_DOUBLE_EQ(r.lambda[1], 0.3);
  EXPECT_DOUBLE_EQ(r.budget, 12.5);
  EXPECT_EQ(r.repeats, 2);
  EXPECT_EQ(r.text_attributes.at("command_line"), "peppp loocv --x");
  EXPECT_EQ(r.text_attributes.at("peppp_file"), "loocv");

  // Every dimension has a coordinate variable; metrics are (setting, acquisition, measurements, fold).
  io::NcFile f = io::NcFile::open(path);
  for (const auto& [dim, len] : f.dims()) EXPECT_TRUE(f.has_var(dim)) << dim;
  for (const auto& name : io::loocv_metric_names())
    EXPECT_EQ(f.var_dims(name), (std::vector<std::string>{"setting", "acquisition", "measurements", "fold"})) << name;
  EXPECT_EQ(f.var_dims("selected_config"), (std::vector<std::string>{"setting", "acquisition", "measurements", "fold"}));
}

TEST(LoocvFile, WrongSizesAreRefusedAndLeaveNoFile) {
  const std::string dir = test::scratch_dir();
  io::Loocv l = small_loocv();
  l.regret.pop_back();
  EXPECT_THROW(io::write_loocv(dir + "/bad.nc", l), InputError);
  EXPECT_FALSE(fs::exists(dir + "/bad.nc"));
  l = small_loocv();
  l.fold_task[1] = 3;
  EXPECT_THROW(io::write_loocv(dir + "/bad.nc", l), InputError);
  EXPECT_THROW(io::read_loocv(dir + "/missing.nc"), InputError);
}

TEST(SelectionFile, RoundTrip) {
  const std::string dir = test::scratch_dir();
  io::Selection s;
  s.task = "fashion-new";
  s.config = {"e3m1/e6m7", "e4m3/e6m7", "e5m2/e8m7"};
  s.memory = {1, 2, 3};
  s.predicted_error = {0.3, 0.2, 0.25};
  s.predicted_std = {0.01, 0.02, 0.03};
  s.measured = {1, 0, 1};
  s.measured_error = {0.31, std::nan(""), 0.24};
  s.pareto_estimate = {1, 1, 0};
  s.selection_order = {2, 0};
  s.budget = 2.5;
  s.cap = 3;
  s.recommended_index = 1;
  s.recommended_config = "e4m3/e6m7";
  // Issue 30: the zero-shot pick and the expected regret after each round.
  s.round_expected_regret = {0.02, 0.005};
  s.round_recommended_index = {0, 1};
  s.zero_shot_index = 2;
  s.zero_shot_config = "e5m2/e8m7";
  s.zero_shot_predicted_error = 0.25;
  s.zero_shot_predicted_std = 0.03;
  s.zero_shot_expected_regret = 0.04;
  io::write_selection(dir + "/selection.nc", s);
  const io::Selection r = io::read_selection(dir + "/selection.nc");
  EXPECT_EQ(r.round_expected_regret, s.round_expected_regret);
  EXPECT_EQ(r.round_recommended_index, s.round_recommended_index);
  EXPECT_EQ(r.zero_shot_index, 2);
  EXPECT_EQ(r.zero_shot_config, s.zero_shot_config);
  EXPECT_DOUBLE_EQ(r.zero_shot_predicted_error, 0.25);
  EXPECT_DOUBLE_EQ(r.zero_shot_predicted_std, 0.03);
  EXPECT_DOUBLE_EQ(r.zero_shot_expected_regret, 0.04);
  EXPECT_EQ(r.task, s.task);
  EXPECT_EQ(r.config, s.config);
  EXPECT_EQ(r.predicted_error, s.predicted_error);
  EXPECT_EQ(r.measured, s.measured);
  EXPECT_TRUE(std::isnan(r.measured_error[1]));
  EXPECT_EQ(r.selection_order, s.selection_order);
  EXPECT_EQ(r.recommended_config, "e4m3/e6m7");
  EXPECT_EQ(r.recommended_index, 1);
  EXPECT_DOUBLE_EQ(r.budget, 2.5);
  {
    io::NcFile f = io::NcFile::open(dir + "/selection.nc");
    for (const auto& [dim, len] : f.dims()) EXPECT_TRUE(f.has_var(dim)) << dim;
  }
  // A file without rounds or zero-shot pick (ed-mf, --measured, earlier versions) reads as empty / -1.
  io::Selection plain = s;
  plain.round_expected_regret.clear();
  plain.round_recommended_index.clear();
  plain.zero_shot_index = -1;
  io::write_selection(dir + "/plain.nc", plain);
  const io::Selection p = io::read_selection(dir + "/plain.nc");
  EXPECT_TRUE(p.round_expected_regret.empty());
  EXPECT_EQ(p.zero_shot_index, -1);
  EXPECT_FALSE(io::NcFile::open(dir + "/plain.nc").has_var("round"));
  s.zero_shot_index = 3;
  EXPECT_THROW(io::write_selection(dir + "/bad.nc", s), InputError);
  s.zero_shot_index = 2;
  s.recommended_index = 3;
  EXPECT_THROW(io::write_selection(dir + "/bad.nc", s), InputError);
}

TEST(CompletionFile, RoundTripWithAndWithoutTruth) {
  const std::string dir = test::scratch_dir();
  io::Completion c;
  c.task = {"a", "b"};
  c.config = {"x", "y", "z"};
  c.error_observed = {0.1, std::nan(""), 0.3, 0.2, 0.2, std::nan("")};
  c.error_estimate = {0.1, 0.15, 0.3, 0.2, 0.2, 0.22};
  c.memory = {1, 2, 3, 1, 2, 3};
  c.pareto_estimate = {1, 0, 0, 1, 1, 0};
  c.lambda = 0.1;
  c.rank = 2;
  c.iterations = 40;
  c.objective = 0.5;
  c.gap = 1e-9;
  io::write_completion(dir + "/c.nc", c);
  io::Completion r = io::read_completion(dir + "/c.nc");
  EXPECT_EQ(r.error_estimate, c.error_estimate);
  EXPECT_TRUE(r.pareto_true.empty());
  EXPECT_TRUE(r.sweep_ratio.empty());
  EXPECT_EQ(r.rank, 2);
  EXPECT_DOUBLE_EQ(r.gap, 1e-9);

  c.pareto_true = {1, 1, 0, 1, 0, 0};
  c.convergence = {0.01, 0.02};
  c.hyperdiff = {0.0, 0.1};
  c.relative_error = {0.05, 0.06};
  c.sweep_ratio = {0.05, 0.5};
  c.sweep_convergence = {0.1, 0.01};
  c.sweep_hyperdiff = {0.2, 0.02};
  c.sweep_relative_error = {0.3, 0.03};
  io::write_completion(dir + "/c.nc", c);
  r = io::read_completion(dir + "/c.nc");
  EXPECT_EQ(r.pareto_true, c.pareto_true);
  EXPECT_EQ(r.relative_error, c.relative_error);
  EXPECT_EQ(r.sweep_relative_error, c.sweep_relative_error);
  io::NcFile f = io::NcFile::open(dir + "/c.nc");
  for (const auto& [dim, len] : f.dims()) EXPECT_TRUE(f.has_var(dim)) << dim;
}
