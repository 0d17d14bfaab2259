// The loocv stage at one rank, called as a function (no mpirun), on a
// fully measured synthetic campaign: loocv.nc read back has the settings,
// methods (baseline included), one fold per row, regrets >= 0 and the
// returned result's values; bad input is refused before any file.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "peppp/core/error.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/stage/loocv.hpp"
#include "peppp/stage/measure.hpp"
#include "stage_fixtures.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace peppp;

namespace {
stage::LoocvJob small_job(const std::string& campaign, const std::string& output) {
  stage::LoocvJob job;
  job.campaign = campaign;
  job.output = output;
  job.spec.settings = {"I", "III"};
  job.spec.methods = {"ed-mf", "random-mf"};
  job.spec.measurements = {2, 3};
  job.spec.rank = 2;
  job.fit_counts = true;
  job.print_summary = false;
  return job;
}
}  // namespace

TEST(LoocvStage, WritesTheResultItReturns) {
  const std::string dir = test::scratch_dir();
  stage::measure(test::synthetic_measure_job(dir + "/campaign.nc", 4, 0, 0), MPI_COMM_WORLD);
  const stage::LoocvJob job = small_job(dir + "/campaign.nc", dir + "/loocv.nc");
  const io::Loocv r = stage::loocv(job, MPI_COMM_WORLD);
  const io::Loocv f = io::read_loocv(job.output);
  EXPECT_EQ(f.setting, (std::vector<std::string>{"I", "III"}));
  EXPECT_EQ(f.method, (std::vector<std::string>{"ed-mf", "random-mf", "random-high-memory"}));
  EXPECT_EQ(f.fold.size(), 4u);
  EXPECT_FALSE(f.measurements.empty());
  EXPECT_EQ(f.measurements, r.measurements);
  ASSERT_EQ(f.regret.size(), r.regret.size());
  std::size_t finite = 0;
  for (double v : f.regret)
    if (std::isfinite(v)) {
      EXPECT_GE(v, 0.0);
      ++finite;
    }
  EXPECT_GT(finite, 0u);
  EXPECT_TRUE(test::same_values(f.regret, r.regret));
  EXPECT_TRUE(test::same_values(f.predicted_error, r.predicted_error));
  EXPECT_EQ(f.selected_config, r.selected_config);
  EXPECT_EQ(f.selection_order, r.selection_order);
  EXPECT_EQ(f.text_attributes.at("truth"), "measured");
  EXPECT_EQ(f.text_attributes.at("campaign"), job.campaign);
}

TEST(LoocvStage, BadInputIsRefused) {
  const std::string dir = test::scratch_dir();
  // A sampled campaign has unmeasured cells: LOOCV needs the truth (or --completed).
  stage::MeasureJob m = test::synthetic_measure_job(dir + "/sampled.nc", 4, 0, 0);
  m.campaign.scheme = meta::Scheme::uniform;
  m.campaign.ratio = 0.5;
  stage::measure(m, MPI_COMM_WORLD);
  stage::LoocvJob job = small_job(m.output, dir + "/loocv.nc");
  try {
    stage::loocv(job, MPI_COMM_WORLD);
    FAIL() << "a partly measured campaign was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not measured"), std::string::npos) << e.what();
  }
  job.campaign = dir + "/missing.nc";
  EXPECT_THROW(stage::loocv(job, MPI_COMM_WORLD), InputError);
  job.output = dir + "/no-such-folder/loocv.nc";
  EXPECT_THROW(stage::loocv(job, MPI_COMM_WORLD), InputError);
  EXPECT_FALSE(fs::exists(dir + "/loocv.nc"));
}
