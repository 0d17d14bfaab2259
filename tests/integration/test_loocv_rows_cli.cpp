// `peppp loocv` and `peppp complete` on task × model × learning-rate rows
// with a per-epoch record (a fast synthetic campaign): --fold-by task holds
// every row of a task out together, --fold-by row only the row; --rows /
// --test-rows select the rows (paper App. E.5 Cases i and ii); --epoch at
// the last epoch equals no --epoch; --fidelity's table and fidelity.nc;
// bad epochs and selectors are refused without output.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/fidelity.hpp"
#include "peppp/io/loocv.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace peppp;
using test::run_command;

namespace {

const char* kOptions =
    "--settings I,III --methods ed-mf,random-mf --measurements 3,4 --rank 2 --lambda 0.02 --cap task-median "
    "--summary false";

std::string cmd(int ranks, const std::string& args) {
  return test::mpi_launch(ranks) + test::peppp_exe() + " " + args + " 2>&1";
}

// 4 tasks × 2 models × 2 learning rates = 16 rows × 9 configurations, 4 epochs (synthetic cells).
const std::string& row_campaign() {
  static const std::string path = [] {
    const std::string p = test::scratch_dir() + "/rows.nc";
    const auto r = run_command(cmd(1, "measure --config " + test::source_path("inputs/ci.ini") +
                                            " --synthetic.seconds 0.01 --campaign.models small-cnn,resnet8 "
                                            "--train.learning_rates 0.01,0.001 --train.epochs 4 --output " + p));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return p;
  }();
  return path;
}

// The same tasks, one model and rate: rows are tasks.
const std::string& plain_campaign() {
  static const std::string path = [] {
    const std::string p = test::scratch_dir() + "/plain.nc";
    const auto r = run_command(cmd(1, "measure --config " + test::source_path("inputs/ci.ini") +
                                            " --synthetic.seconds 0.01 --train.epochs 3 --output " + p));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return p;
  }();
  return path;
}

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

bool same_doubles(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) return false;
  return true;
}

void expect_same(const io::Loocv& a, const io::Loocv& b) {
  EXPECT_EQ(a.fold, b.fold);
  EXPECT_EQ(a.task, b.task);
#define PEPPP_EXPECT_SAME_(member, units, long_name) EXPECT_TRUE(same_doubles(a.member, b.member)) << #member;
  PEPPP_LOOCV_METRICS(PEPPP_EXPECT_SAME_)
#undef PEPPP_EXPECT_SAME_
  EXPECT_TRUE(same_doubles(a.predicted_error, b.predicted_error));
  EXPECT_TRUE(same_doubles(a.lambda, b.lambda));
  EXPECT_EQ(a.selected_config, b.selected_config);
  EXPECT_EQ(a.selection_order, b.selection_order);
  EXPECT_EQ(a.sampling_mask, b.sampling_mask);
}

}  // namespace

TEST(LoocvRows, FoldByTaskHoldsOutEveryRowOfTheTask) {
  const std::string dir = test::scratch_dir();
  const io::Campaign c = io::read_campaign(row_campaign());
  ASSERT_EQ(c.n_tasks(), 16u);
  ASSERT_TRUE(c.has_row_columns());
  auto r = run_command(cmd(2, "loocv --campaign " + row_campaign() + " --output " + dir + "/task.nc " + kOptions));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(cmd(1, "loocv --campaign " + row_campaign() + " --output " + dir + "/row.nc --fold-by row " +
                               kOptions));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Loocv task = io::read_loocv(dir + "/task.nc"), row = io::read_loocv(dir + "/row.nc");
  EXPECT_EQ(task.text_attributes.at("fold_by"), "task");
  EXPECT_EQ(row.text_attributes.at("fold_by"), "row");
  ASSERT_EQ(task.n_folds(), 16u);
  EXPECT_EQ(task.fold_held_out_rows, std::vector<int>(16, 4));
  EXPECT_EQ(row.fold_held_out_rows, std::vector<int>(16, 1));
  // Setting I (full): the meta-training mask is 0 on exactly the held-out row's task, 1 elsewhere.
  const std::size_t n = c.n_tasks(), d = c.n_configs();
  for (std::size_t f = 0; f < task.n_folds(); ++f) {
    const std::string held = c.row_task_of(task.fold_task[f]);
    for (std::size_t t = 0; t < n; ++t) {
      const int want_task = c.row_task_of(t) == held ? 0 : 1;
      const int want_row = static_cast<int>(t) == task.fold_task[f] ? 0 : 1;
      for (std::size_t j = 0; j < d; ++j) {
        ASSERT_EQ(task.sampling_mask[(0 * task.n_folds() + f) * n * d + t * d + j], want_task) << f << " " << t;
        ASSERT_EQ(row.sampling_mask[(0 * row.n_folds() + f) * n * d + t * d + j], want_row) << f << " " << t;
      }
    }
  }
  // The other rows of the task inform fold-by row's predictions: they differ.
  EXPECT_FALSE(same_doubles(task.predicted_error, row.predicted_error));
}

TEST(LoocvRows, PlainCampaignIsTheSameEitherWay) {
  const std::string dir = test::scratch_dir();
  const std::string opts = "--settings I,III --methods ed-mf,random-mf --measurements 3 --rank 2 --lambda 0.02 "
                           "--summary false";
  const io::Campaign c = io::read_campaign(plain_campaign());
  ASSERT_FALSE(c.has_row_columns());
  for (const char* by : {"", "--fold-by task", "--fold-by row"}) {
    const auto r = run_command(cmd(1, "loocv --campaign " + plain_campaign() + " --output " + dir + "/p" +
                                            std::to_string(std::string(by).size()) + ".nc " + by + " " + opts));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const io::Loocv a = io::read_loocv(dir + "/p0.nc");
  EXPECT_TRUE(a.fold_held_out_rows.empty());  // not written: one row per fold, the file as before
  expect_same(a, io::read_loocv(dir + "/p14.nc"));
  expect_same(a, io::read_loocv(dir + "/p13.nc"));
}

TEST(LoocvRows, RowsAndTestRowsMakeTheTwoCasesOfAppendixE5) {
  const std::string dir = test::scratch_dir();
  // Case i: one architecture's rows only (meta-training and held out).
  auto r = run_command(cmd(1, "loocv --campaign " + row_campaign() + " --output " + dir + "/i.nc --rows model=resnet8 " +
                                    kOptions));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Loocv one = io::read_loocv(dir + "/i.nc");
  ASSERT_EQ(one.task.size(), 8u);
  for (const auto& t : one.task) EXPECT_NE(t.find(":resnet8"), std::string::npos) << t;
  EXPECT_EQ(one.fold_held_out_rows, std::vector<int>(8, 2));  // the task's two learning rates
  EXPECT_EQ(one.text_attributes.at("rows"), "model=resnet8");
  // Case ii: every row meta-trains, the architecture's rows are held out (with their whole task).
  r = run_command(cmd(2, "loocv --campaign " + row_campaign() + " --output " + dir + "/ii.nc --test-rows model=resnet8 " +
                               kOptions));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Loocv across = io::read_loocv(dir + "/ii.nc");
  EXPECT_EQ(across.task.size(), 16u);
  EXPECT_EQ(across.fold, one.task);
  EXPECT_EQ(across.fold_held_out_rows, std::vector<int>(8, 4));
  // A split Case ii run merges into the single run.
  for (int k = 1; k <= 2; ++k) {
    r = run_command(cmd(1, "loocv --campaign " + row_campaign() + " --output " + dir + "/ii-" + std::to_string(k) +
                                 ".nc --test-rows model=resnet8 --part " + std::to_string(k) + "/2 " + kOptions));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  r = run_command(cmd(1, "loocv --merge " + dir + "/ii-2.nc," + dir + "/ii-1.nc --output " + dir + "/ii-m.nc --summary false"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Loocv merged = io::read_loocv(dir + "/ii-m.nc");
  expect_same(across, merged);
  EXPECT_EQ(merged.fold_held_out_rows, across.fold_held_out_rows);
  r = run_command(cmd(1, "loocv --merge " + dir + "/ii-1.nc --output " + dir + "/ii-x.nc"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/ii-x.nc"));
  // Unknown values and keys are refused.
  for (const std::string bad : {"--rows model=vgg11", "--rows colour=red", "--test-rows lr=abc",
                                "--rows model=resnet8,lr=0.5"}) {
    r = run_command(cmd(1, "loocv --campaign " + row_campaign() + " --output " + dir + "/bad.nc " + bad + " " + kOptions));
    EXPECT_EQ(r.exit_code, 1) << bad << "\n" << r.output;
    EXPECT_NE(r.output.find("error:"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir + "/bad.nc"));
  }
}

TEST(LoocvRows, EpochAtTheLastEpochIsTheFinalErrors) {
  const std::string dir = test::scratch_dir();
  auto r = run_command(cmd(1, "loocv --campaign " + row_campaign() + " --output " + dir + "/final.nc " + kOptions));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(cmd(1, "loocv --campaign " + row_campaign() + " --output " + dir + "/e4.nc --epoch 4 " + kOptions));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(cmd(1, "loocv --campaign " + row_campaign() + " --output " + dir + "/e1.nc --epoch 1 " + kOptions));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Loocv last = io::read_loocv(dir + "/e4.nc"), first = io::read_loocv(dir + "/e1.nc");
  expect_same(io::read_loocv(dir + "/final.nc"), last);
  EXPECT_EQ(last.text_attributes.at("epoch_used"), "4");
  EXPECT_FALSE(same_doubles(first.best_feasible_error, last.best_feasible_error));  // epoch 1's errors differ
  // Unrecorded epochs and campaigns without a per-epoch record are refused.
  r = run_command(cmd(1, "loocv --campaign " + row_campaign() + " --output " + dir + "/e9.nc --epoch 9 " + kOptions));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("1..4"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/e9.nc"));
  io::Campaign old = io::read_campaign(row_campaign());
  old.epoch.clear();
  old.error_by_epoch.clear();
  old.loss_by_epoch.clear();
  io::write_campaign(dir + "/old.nc", old);
  r = run_command(cmd(1, "loocv --campaign " + dir + "/old.nc --output " + dir + "/o.nc --epoch 2 " + kOptions));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no per-epoch errors"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/o.nc"));

  // complete --epoch: the completion of that epoch, which loocv --completed takes at the same epoch only.
  r = run_command(cmd(1, "complete --campaign " + row_campaign() + " --output " + dir + "/k2.nc --epoch 2 --lambda 0.02 --sweep false"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Completion k = io::read_completion(dir + "/k2.nc");
  EXPECT_EQ(k.text_attributes.at("epoch_used"), "2");
  const io::Campaign c = io::read_campaign(row_campaign());
  r = run_command(cmd(1, "complete --campaign " + row_campaign() + " --output " + dir + "/kf.nc --lambda 0.02 --sweep false"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(io::read_completion(dir + "/kf.nc").error_observed, k.error_observed);
  r = run_command(cmd(1, "loocv --campaign " + row_campaign() + " --completed " + dir + "/k2.nc --output " + dir +
                               "/m.nc " + kOptions));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("epoch 2"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/m.nc"));
  r = run_command(cmd(1, "loocv --campaign " + row_campaign() + " --completed " + dir + "/k2.nc --epoch 2 --output " +
                               dir + "/m.nc " + kOptions));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_command(cmd(1, "complete --campaign " + row_campaign() + " --output " + dir + "/k9.nc --epoch 9"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/k9.nc"));
}

TEST(LoocvRows, FidelityTableAndFile) {
  const std::string dir = test::scratch_dir();
  // Each row's own median memory as the cap: the two models' memory differs by a factor.
  auto r = run_command(cmd(2, "loocv --fidelity --campaign " + row_campaign() + " --cap task-median --output " + dir + "/f.nc"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("kendall tau"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("regret capped"), std::string::npos) << r.output;
  const io::Fidelity f = io::read_fidelity(dir + "/f.nc");
  EXPECT_EQ(f.text_attributes.at("peppp_file"), "fidelity");
  EXPECT_EQ(f.text_attributes.at("cap_rule"), "task-median: each row's median memory");
  ASSERT_EQ(f.epoch, (std::vector<int>{1, 2, 3, 4}));
  ASSERT_EQ(f.n_rows(), 16u);
  const io::Campaign c = io::read_campaign(row_campaign());
  EXPECT_EQ(f.row, c.task);
  for (std::size_t t = 0; t < f.n_rows(); ++t) {
    // The last epoch is the final error: a perfect ranking, no regret.
    EXPECT_DOUBLE_EQ(f.kendall_tau[f.at(t, 3)], 1.0) << t;
    EXPECT_DOUBLE_EQ(f.regret[f.at(t, 3)], 0.0) << t;
    EXPECT_DOUBLE_EQ(f.regret_capped[f.at(t, 3)], 0.0) << t;
    EXPECT_EQ(f.configs_compared[f.at(t, 3)], 9);
    for (std::size_t e = 0; e < 4; ++e) {
      EXPECT_TRUE(f.kendall_tau[f.at(t, e)] >= -1 && f.kendall_tau[f.at(t, e)] <= 1);
      EXPECT_GE(f.regret[f.at(t, e)], 0.0);
    }
  }
  EXPECT_DOUBLE_EQ(f.kendall_tau_mean[3], 1.0);
  EXPECT_DOUBLE_EQ(f.kendall_tau_se[3], 0.0);
  // One epoch, one architecture.
  r = run_command(cmd(1, "loocv --fidelity --campaign " + row_campaign() +
                             " --epoch 2 --rows model=small-cnn --cap task-median --output " + dir + "/f2.nc --summary false"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Fidelity g = io::read_fidelity(dir + "/f2.nc");
  EXPECT_EQ(g.epoch, std::vector<int>{2});
  EXPECT_EQ(g.n_rows(), 8u);
  EXPECT_EQ(g.text_attributes.at("epoch_used"), "2");
  for (std::size_t t = 0; t < 8; ++t) {
    const std::size_t row = static_cast<std::size_t>(std::find(f.row.begin(), f.row.end(), g.row[t]) - f.row.begin());
    ASSERT_LT(row, f.n_rows());
    EXPECT_TRUE(same(g.kendall_tau[t], f.kendall_tau[f.at(row, 1)]));
  }
  // Refused: an unrecorded epoch, a campaign without per-epoch errors, LOOCV-only options.
  for (const std::string bad : {"--epoch 9", "--completed x.nc", "--settings I"}) {
    r = run_command(cmd(1, "loocv --fidelity --campaign " + row_campaign() + " --output " + dir + "/bad.nc " + bad));
    EXPECT_EQ(r.exit_code, 1) << bad << "\n" << r.output;
    EXPECT_NE(r.output.find("error:"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir + "/bad.nc"));
  }
  io::Campaign old = io::read_campaign(row_campaign());
  old.epoch.clear();
  old.error_by_epoch.clear();
  old.loss_by_epoch.clear();
  io::write_campaign(dir + "/old.nc", old);
  r = run_command(cmd(1, "loocv --fidelity --campaign " + dir + "/old.nc --output " + dir + "/bad.nc"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("no per-epoch errors"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/bad.nc"));
}

TEST(LoocvRows, HelpListsTheNewKeys) {
  auto r = run_command(test::peppp_exe() + " loocv --help 2>&1");
  for (const char* k : {"--fold-by", "--epoch", "--rows", "--test-rows", "--fidelity"})
    EXPECT_NE(r.output.find(k), std::string::npos) << k;
  r = run_command(test::peppp_exe() + " run --help 2>&1");
  for (const char* k : {"loocv.fold_by", "loocv.epoch", "loocv.rows", "loocv.test_rows", "complete.epoch"})
    EXPECT_NE(r.output.find(k), std::string::npos) << k;
  r = run_command(test::peppp_exe() + " complete --help 2>&1");
  EXPECT_NE(r.output.find("--epoch"), std::string::npos);
}
