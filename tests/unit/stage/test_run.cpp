// The run stage at one rank, called as a function (no mpirun), with
// synthetic cells: measure -> complete -> loocv into one folder, every file
// read back, the closing lines from the campaign handed back by measure;
// an output folder that cannot be made is refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/stage/run.hpp"
#include "stage_fixtures.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace peppp;

namespace {
stage::RunJob small_run(const std::string& dir) {
  stage::RunJob job;
  job.dir = dir;
  job.measure = test::synthetic_measure_job("", 4, 0, 0);
  job.complete.sweep = false;
  job.loocv.spec.settings = {"I", "II"};
  job.loocv.spec.methods = {"ed-mf", "random-mf"};
  job.loocv.spec.measurements = {2, 3};
  job.loocv.print_summary = false;
  return job;
}
}  // namespace

TEST(RunStage, EveryFileOfThePipeline) {
  const std::string dir = test::scratch_dir() + "/run";
  testing::internal::CaptureStdout();
  stage::run(small_run(dir), MPI_COMM_WORLD);
  const std::string printed = testing::internal::GetCapturedStdout();
  const io::Campaign c = io::read_campaign(dir + "/campaign.nc");
  EXPECT_EQ(c.n_tasks(), 4u);
  EXPECT_EQ(test::count_status(c.status, CellStatus::measured), 32);
  EXPECT_EQ(c.text_attributes.at("title"), "stage test");
  const io::Completion k = io::read_completion(dir + "/completed.nc");
  EXPECT_EQ(k.task, c.task);
  EXPECT_FALSE(k.pareto_true.empty());  // fully measured: the truth is known
  const io::Loocv l = io::read_loocv(dir + "/loocv.nc");
  EXPECT_EQ(l.fold, c.task);
  EXPECT_EQ(l.setting, (std::vector<std::string>{"I", "II"}));
  EXPECT_EQ(l.text_attributes.at("truth"), "measured, SoftImpute estimates where unmeasured");
  EXPECT_NE(printed.find("peppp run finished: 4 tasks x 8 configurations, 32 cells measured (100%)"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find(dir + "/loocv.nc"), std::string::npos) << printed;
}

TEST(RunStage, AnOutputFolderThatCannotBeMadeIsRefused) {
  const std::string file = test::scratch_dir() + "/a-file";
  std::ofstream(file) << "x";
  EXPECT_THROW(stage::run(small_run(file + "/run"), MPI_COMM_WORLD), InputError);
}

// Issue 28: a LOOCV option that cannot work (a cap below every
// configuration's memory) is refused before anything is trained, and the
// results of an earlier run never stay beside the files of a new one.
TEST(RunStage, LoocvOptionsCheckedBeforeTrainingAndEarlierResultsNotLeftBeside) {
  const std::string dir = test::scratch_dir() + "/run";
  stage::RunJob bad = small_run(dir);
  bad.loocv.spec.cap = 1e-9;  // MiB: nothing fits
  bad.loocv.spec.measurements = {3};
  try {
    stage::run(bad, MPI_COMM_WORLD);
    ADD_FAILURE() << "a LOOCV cap no configuration fits under was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cap"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir + "/campaign.nc")) << "trained before refusing the LOOCV options";
  EXPECT_FALSE(fs::exists(dir + "/campaign.nc.journal"));

  // Results of an earlier run: replaced by this run's, never left beside them.
  std::ofstream(dir + "/completed.nc") << "earlier";
  std::ofstream(dir + "/loocv.nc") << "earlier";
  stage::RunJob good = small_run(dir);
  good.loocv.spec.methods = {"no-such-method"};  // found before training: the earlier files stay untouched
  EXPECT_THROW(stage::run(good, MPI_COMM_WORLD), InputError);
  EXPECT_FALSE(fs::exists(dir + "/campaign.nc"));
  testing::internal::CaptureStdout();
  stage::run(small_run(dir), MPI_COMM_WORLD);
  testing::internal::GetCapturedStdout();
  EXPECT_NO_THROW(io::read_completion(dir + "/completed.nc"));
  EXPECT_NO_THROW(io::read_loocv(dir + "/loocv.nc"));
}
