// The complete stage at one rank, called as a function (no mpirun), on a
// half-measured synthetic campaign: completed.nc read back holds the
// observed entries where measured, finite estimates everywhere, and the
// campaign's rows and columns; bad input is refused before any file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/stage/complete.hpp"
#include "peppp/stage/measure.hpp"
#include "stage_fixtures.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace peppp;

TEST(CompleteStage, CompletesAHalfMeasuredCampaign) {
  const std::string dir = test::scratch_dir();
  stage::MeasureJob m = test::synthetic_measure_job(dir + "/campaign.nc", 4, 0, 0);
  m.campaign.scheme = meta::Scheme::uniform;
  m.campaign.ratio = 0.5;
  stage::measure(m, MPI_COMM_WORLD);
  const io::Campaign c = io::read_campaign(m.output);

  stage::CompleteJob job;
  job.campaign = m.output;
  job.output = dir + "/completed.nc";
  job.attributes.text["title"] = "complete stage test";
  const meta::CompletionResult r = stage::complete(job, MPI_COMM_WORLD);
  const io::Completion f = io::read_completion(job.output);
  EXPECT_EQ(f.task, c.task);
  EXPECT_EQ(f.config, c.config);
  ASSERT_EQ(f.error_observed.size(), c.error.size());
  ASSERT_EQ(f.error_estimate.size(), c.error.size());
  std::int64_t observed = 0;
  for (std::size_t i = 0; i < c.error.size(); ++i) {
    const bool measured = c.status[i] == static_cast<std::uint8_t>(CellStatus::measured);
    observed += measured;
    if (measured) EXPECT_EQ(f.error_observed[i], c.error[i]) << i;
    else EXPECT_TRUE(std::isnan(f.error_observed[i])) << i;
    EXPECT_TRUE(std::isfinite(f.error_estimate[i])) << i;
  }
  EXPECT_GT(observed, 0);  // a sample of the 32 cells
  EXPECT_LT(observed, 32);
  EXPECT_EQ(r.observed, observed);
  EXPECT_EQ(f.lambda, r.lambda);
  EXPECT_TRUE(f.pareto_true.empty());  // the truth is unknown on a sampled campaign
  EXPECT_EQ(f.text_attributes.at("title"), "complete stage test");
  EXPECT_EQ(f.text_attributes.at("campaign"), m.output);
}

TEST(CompleteStage, BadInputIsRefused) {
  const std::string dir = test::scratch_dir();
  stage::CompleteJob job;
  job.campaign = dir + "/missing.nc";
  job.output = dir + "/completed.nc";
  EXPECT_THROW(stage::complete(job, MPI_COMM_WORLD), InputError);
  job.output = dir + "/no-such-folder/completed.nc";
  EXPECT_THROW(stage::complete(job, MPI_COMM_WORLD), InputError);
  stage::measure(test::synthetic_measure_job(dir + "/campaign.nc", 3, 0, 0), MPI_COMM_WORLD);
  job.campaign = dir + "/campaign.nc";
  job.output = dir + "/completed.nc";
  job.epoch = -1;
  EXPECT_THROW(stage::complete(job, MPI_COMM_WORLD), InputError);
  EXPECT_FALSE(fs::exists(job.output));
}

// Issue 28: a task with nothing measured is named with its file; a one-task
// campaign completes (the sampling-ratio sweep, which needs two tasks, is
// skipped) instead of failing inside the sweep.
TEST(CompleteStage, UnmeasuredTaskIsNamedAndOneTaskCampaignCompletes) {
  const std::string dir = test::scratch_dir();
  stage::MeasureJob m = test::synthetic_measure_job(dir + "/campaign.nc", 3, 0, 0);
  stage::measure(m, MPI_COMM_WORLD);
  io::Campaign c = io::read_campaign(m.output);
  const std::size_t d = c.n_configs();
  for (std::size_t j = 0; j < d; ++j) {  // row 1: nothing measured
    c.status[d + j] = static_cast<std::uint8_t>(CellStatus::planned);
    c.error[d + j] = std::nan("");
  }
  const std::string holed = dir + "/holed.nc";
  io::write_campaign(holed, c);
  stage::CompleteJob job;
  job.campaign = holed;
  job.output = dir + "/completed.nc";
  try {
    stage::complete(job, MPI_COMM_WORLD);
    ADD_FAILURE() << "a task without a measured configuration was completed";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(holed), std::string::npos) << what;
    EXPECT_NE(what.find("task '" + c.task[1] + "'"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(job.output));

  stage::MeasureJob one = test::synthetic_measure_job(dir + "/one.nc", 1, 0, 0);
  stage::measure(one, MPI_COMM_WORLD);
  job.campaign = one.output;
  const meta::CompletionResult r = stage::complete(job, MPI_COMM_WORLD);
  EXPECT_TRUE(r.sweep.empty());
  EXPECT_TRUE(fs::exists(job.output));
}
