// The measure stage at one rank with synthetic cells, called as a function
// (no mpirun): campaign.nc written at the stage's edge and read back, the
// summary's counts, the returned campaign equal to the file, the file also
// written when stopped or when cells failed (then the stage throws), the
// lock released, resume rules, and bad input refused before any file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/lock.hpp"
#include "peppp/par/signals.hpp"
#include "peppp/stage/measure.hpp"
#include "stage_fixtures.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace peppp;

TEST(MeasureStage, WritesTheCampaignItReturns) {
  const std::string out = test::scratch_dir() + "/campaign.nc";
  const stage::MeasureJob job = test::synthetic_measure_job(out);
  const par::MeasureResults r = stage::measure_results(job, MPI_COMM_WORLD);
  const par::MeasureSummary& s = r.summary;
  EXPECT_EQ(s.planned, 24);
  EXPECT_EQ(s.missing, 0);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(s.trained, 24);
  EXPECT_EQ(s.resumed, 0);
  EXPECT_GT(s.diverged, 0);
  EXPECT_EQ(s.measured + s.diverged, 24);
  EXPECT_FALSE(s.interrupted);
  EXPECT_FALSE(r.lock);
  EXPECT_FALSE(fs::exists(io::lock_path(out)));

  const io::Campaign f = io::read_campaign(out);
  EXPECT_EQ(f.n_tasks(), 3u);
  EXPECT_EQ(f.n_configs(), 8u);
  EXPECT_EQ(test::count_status(f.status, CellStatus::measured), s.measured);
  EXPECT_EQ(test::count_status(f.status, CellStatus::diverged), s.diverged);
  EXPECT_EQ(f.text_attributes.at("title"), "stage test");
  EXPECT_EQ(f.text_attributes.at("complete"), "1");
  // The campaign handed back is the file's.
  EXPECT_EQ(f.task, r.campaign.task);
  EXPECT_EQ(f.config, r.campaign.config);
  EXPECT_EQ(f.status, r.campaign.status);
  EXPECT_TRUE(test::same_values(f.error, r.campaign.error));
  EXPECT_TRUE(test::same_values(f.train_seconds, r.campaign.train_seconds));
  EXPECT_TRUE(test::same_values(f.memory, r.campaign.memory));

  // Run again: the journal holds this plan's results; without --resume it is refused, with it nothing is trained.
  EXPECT_THROW(stage::measure(job, MPI_COMM_WORLD), InputError);
  stage::MeasureJob again = job;
  again.resume = true;
  const par::MeasureSummary s2 = stage::measure(again, MPI_COMM_WORLD);
  EXPECT_EQ(s2.resumed, 24);
  EXPECT_EQ(s2.trained, 0);
  EXPECT_EQ(s2.measured, s.measured);
  EXPECT_EQ(io::read_campaign(out).status, f.status);
}

TEST(MeasureStage, FailedCellsAreWrittenThenReported) {
  const std::string out = test::scratch_dir() + "/campaign.nc";
  const stage::MeasureJob job = test::synthetic_measure_job(out, 3, 0.3, 0);
  try {
    stage::measure(job, MPI_COMM_WORLD);
    FAIL() << "failed cells did not throw";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("planned cells failed"), std::string::npos) << e.what();
    EXPECT_EQ(e.code(), ExitCode::runtime);
  }
  const io::Campaign f = io::read_campaign(out);  // written before the error
  EXPECT_GT(test::count_status(f.status, CellStatus::failed), 0);
  EXPECT_EQ(test::count_status(f.status, CellStatus::failed) + test::count_status(f.status, CellStatus::measured), 24);
  EXPECT_FALSE(fs::exists(io::lock_path(out)));
}

TEST(MeasureStage, StoppedCampaignIsWrittenThenInterrupted) {
  const std::string out = test::scratch_dir() + "/campaign.nc";
  const stage::MeasureJob job = test::synthetic_measure_job(out);
  par::request_stop(15);  // as a SIGTERM before the first cell
  EXPECT_THROW(stage::measure(job, MPI_COMM_WORLD), Interrupted);
  par::clear_stop();
  const io::Campaign f = io::read_campaign(out);
  EXPECT_EQ(test::count_status(f.status, CellStatus::planned), 24);
  EXPECT_EQ(f.text_attributes.at("complete"), "0");
  stage::MeasureJob resume = job;
  resume.resume = true;
  const par::MeasureSummary s = stage::measure(resume, MPI_COMM_WORLD);
  EXPECT_EQ(s.missing, 0);
  EXPECT_EQ(s.trained, 24);
}

TEST(MeasureStage, MeasurePlanHandsBackWhatItWrote) {
  const std::string out = test::scratch_dir() + "/select.measured.nc";
  const stage::MeasureJob job = test::synthetic_measure_job(out, 2);
  const meta::Plan plan = stage::plan_campaign(job.campaign, true);
  par::MeasureSettings st;
  st.output = out;
  st.command = "peppp select";
  st.text_attributes["campaign_name"] = "select: t0";
  par::request_stop(15);  // an interrupted plan is written and returned, not thrown
  const par::MeasureResults stopped = stage::measure_plan(plan, par::synthetic_trainer(job.synthetic), st, MPI_COMM_WORLD);
  par::clear_stop();
  EXPECT_TRUE(stopped.summary.interrupted);
  EXPECT_EQ(stopped.summary.missing, 16);
  EXPECT_EQ(io::read_campaign(out).text_attributes.at("complete"), "0");
  st.resume = true;
  const par::MeasureResults r = stage::measure_plan(plan, par::synthetic_trainer(job.synthetic), st, MPI_COMM_WORLD);
  EXPECT_EQ(r.summary.missing, 0);
  EXPECT_FALSE(r.lock);
  const io::Campaign f = io::read_campaign(out);
  EXPECT_EQ(f.status, r.campaign.status);
  EXPECT_TRUE(test::same_values(f.error, r.campaign.error));
  EXPECT_EQ(f.text_attributes.at("campaign_name"), "select: t0");
  EXPECT_EQ(r.campaign.text_attributes.at("campaign_name"), "select: t0");
}

TEST(MeasureStage, BadInputIsRefusedBeforeAnyFile) {
  const std::string dir = test::scratch_dir();
  stage::MeasureJob job = test::synthetic_measure_job(dir + "/campaign.nc");
  job.synthetic.seconds = 0;  // real cells need a catalog
  EXPECT_THROW(stage::measure(job, MPI_COMM_WORLD), InputError);
  job = test::synthetic_measure_job(dir + "/campaign.nc");
  job.resume = job.restart = true;
  EXPECT_THROW(stage::measure(job, MPI_COMM_WORLD), InputError);
  job = test::synthetic_measure_job(dir + "/campaign.nc", 0);
  EXPECT_THROW(stage::measure(job, MPI_COMM_WORLD), InputError);
  job = test::synthetic_measure_job(dir + "/no-such-folder/campaign.nc");
  EXPECT_THROW(stage::measure(job, MPI_COMM_WORLD), InputError);
  EXPECT_TRUE(fs::is_empty(dir));
}

// Issue 28: a finished campaign.nc whose journal folder is gone is never
// trained again and replaced by a run that did not start from it: refused
// naming --restart, which moves it aside (nothing deleted).
TEST(MeasureStage, FinishedOutputWithoutItsJournalIsNeverReplaced) {
  const std::string dir = test::scratch_dir();
  stage::MeasureJob job = test::synthetic_measure_job(dir + "/campaign.nc", 3, 0, 0);
  stage::measure(job, MPI_COMM_WORLD);
  const io::Campaign first = io::read_campaign(job.output);
  fs::remove_all(io::journal_dir(job.output));
  for (bool resume : {false, true}) {
    job.resume = resume;
    try {
      stage::measure(job, MPI_COMM_WORLD);
      ADD_FAILURE() << "the finished output was trained again (resume " << resume << ")";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--restart"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(job.output), std::string::npos) << e.what();
    }
    EXPECT_TRUE(test::same_values(io::read_campaign(job.output).error, first.error));
    EXPECT_FALSE(fs::exists(io::journal_dir(job.output) + "/rank-0.bin"));
  }
  job.resume = false;
  job.restart = true;
  stage::measure(job, MPI_COMM_WORLD);
  int moved = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind("campaign.nc.moved-", 0) == 0) {
      ++moved;
      EXPECT_TRUE(test::same_values(io::read_campaign(e.path().string()).error, first.error));
    }
  EXPECT_EQ(moved, 1);
}

// The queue's cost: measured rows take their median time, the others their
// estimate times the median ratio of time to estimate over measured rows.
TEST(MeasureStage, CalibrateCostsFromMeasuredRows) {
  const double nan = std::nan("");
  // 3 rows x 2 configurations; estimates 1, 2, 4 per row.
  const std::vector<double> est = {1, 1, 2, 2, 4, 4};
  int rows = -1;
  EXPECT_EQ(stage::calibrate_costs(est, 2, std::vector<double>(6, nan), &rows), est);
  EXPECT_EQ(rows, 0);
  // Row 0 measured at 10 s and 30 s (median 20), row 1 at 30 s: ratios 20 and 15, median 17.5.
  const std::vector<double> got = stage::calibrate_costs(est, 2, {10, 30, 30, nan, nan, nan}, &rows);
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(got, (std::vector<double>{20, 20, 30, 30, 70, 70}));
  EXPECT_THROW(stage::calibrate_costs(est, 4, std::vector<double>(6, nan)), InputError);
}

// The estimate is activations x images x epochs of each row: equal across a
// row's configurations, a 28 px row of small-cnn several times a 14 px one
// of as many images, a row of half the images half the cost.
TEST(MeasureStage, CostEstimateScalesWithActivationsImagesEpochs) {
  stage::CampaignSpec c;
  auto task = [](const std::string& name, int res, int train) {
    TaskSpec t;
    t.name = name;
    t.dataset = "fashion-mnist";
    t.classes = {0, 1};
    t.resolution = res;
    t.channels = 1;
    t.train_size = train;
    t.test_size = 0;
    return t;
  };
  c.tasks = {task("r14", 14, 1800), task("r28", 28, 1800), task("r28-half", 28, 900)};
  c.configs = all_configurations({FloatFormat(4, 3), FloatFormat(5, 2)}, {FloatFormat(8, 7)});
  c.train.epochs = 2;
  const meta::Plan plan = stage::plan_campaign(c, false);
  const std::vector<double> cost = stage::cost_estimate(c, plan, par::SyntheticSpec{});
  ASSERT_EQ(cost.size(), 6u);
  EXPECT_EQ(cost[0], cost[1]);
  EXPECT_GT(cost[2] / cost[0], 3.0);
  EXPECT_DOUBLE_EQ(cost[4] * 2, cost[2]);
  c.train.epochs = 4;
  EXPECT_DOUBLE_EQ(stage::cost_estimate(c, plan, par::SyntheticSpec{})[0], 2 * cost[0]);
  // Synthetic rows: their mean time.
  par::SyntheticSpec syn;
  syn.seconds = 0.5;
  syn.row_scale = {1, 3};
  stage::CampaignSpec s;
  s.synthetic_tasks = {"a", "b", "c"};
  s.configs = c.configs;
  const meta::Plan sp = stage::plan_campaign(s, true);
  EXPECT_EQ(stage::cost_estimate(s, sp, syn), (std::vector<double>{0.5, 0.5, 1.5, 1.5, 0.5, 0.5}));
}

// The queue's cost function: on resume the campaign's own finished cells
// calibrate it; without them a reference campaign's train_seconds, matched
// by row name, configuration label and network.
TEST(MeasureStage, QueueCostsCalibrateByFinishedCellsThenByReference) {
  auto task = [](const std::string& name, int res) {
    TaskSpec t;
    t.name = name;
    t.dataset = "fashion-mnist";
    t.classes = {0, 1};
    t.resolution = res;
    t.channels = 1;
    t.train_size = 1800;
    return t;
  };
  stage::CampaignSpec c;
  // Two rows of the reference campaign (14 px; 28 px) and one it does not have.
  c.tasks = {task("tops-t-shirt-pullover", 14), task("tops-r28", 28), task("not-in-reference", 14)};
  c.configs = all_configurations({FloatFormat(3, 1), FloatFormat(4, 3)}, {FloatFormat(6, 7)});
  c.train.epochs = 3;
  const meta::Plan plan = stage::plan_campaign(c, false);
  const std::vector<double> est = stage::cost_estimate(c, plan, par::SyntheticSpec{});
  // Finished cells: row 1 at 8 s and 12 s; the others scaled by its ratio.
  io::JournalRecord a, b;
  a.cell = 2, a.seconds = 8;
  b.cell = 3, b.seconds = 12;
  const std::vector<double> resumed = stage::queue_costs(c, plan, par::SyntheticSpec{}, "")({a, b});
  EXPECT_EQ(resumed[2], 10);
  EXPECT_EQ(resumed[3], 10);
  EXPECT_DOUBLE_EQ(resumed[0], est[0] * 10 / est[2]);
  // No finished cell: the reference's times for its two rows, the third row from their ratio.
  const std::string ref = test::source_path("inputs/reference/fashion-small-cnn.nc");
  const std::vector<double> seconds = stage::reference_seconds(ref, plan, c);
  const io::Campaign rc = io::read_campaign(ref);
  const std::size_t rd = rc.config.size();
  std::size_t row28 = 0;
  while (rc.task[row28] != "tops-r28") ++row28;
  std::size_t col = 0;
  while (rc.config[col] != plan.spec.configs[1].label()) ++col;
  EXPECT_EQ(seconds[3], rc.train_seconds[row28 * rd + col]);
  EXPECT_TRUE(std::isnan(seconds[4]) && std::isnan(seconds[5]));
  const std::vector<double> cost = stage::queue_costs(c, plan, par::SyntheticSpec{}, ref)({});
  EXPECT_GT(cost[2], cost[0]);  // the 28 px row is the longer one, as measured
  EXPECT_GT(cost[4], 0);
  // Another network's rows are not the reference's.
  stage::CampaignSpec other = c;
  other.model = "mlp";
  const meta::Plan other_plan = stage::plan_campaign(other, false);
  for (double s : stage::reference_seconds(ref, other_plan, other)) EXPECT_TRUE(std::isnan(s));
}
