// The info stage at one rank: what a campaign file holds (cells, status, noise from
// replicates or from the completion complete runs), a completion file, refusals.
#include <gtest/gtest.h>

#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/stage/complete.hpp"
#include "peppp/stage/info.hpp"
#include "test_util.hpp"

using namespace peppp;

namespace {

// 6 tasks x 9 configurations of rank 2 plus a small deterministic wiggle, R replicates;
// with `missing`, every 7th cell is planned but without a result.
io::Campaign campaign(int R, bool missing) {
  io::Campaign c;
  std::vector<TaskRow> rows;
  for (const char* t : {"a", "b", "c", "d", "e", "f"}) rows.push_back(TaskRow::named(t));
  io::set_task_rows(c, rows);
  io::set_configurations(c, all_configurations(FloatFormat::parse_list("e3m1,e4m2,e5m2"),
                                               FloatFormat::parse_list("e6m7,e7m9,e8m11")));
  if (R > 1)
    for (int r = 0; r < R; ++r) c.replicate.push_back(r);
  c.allocate();
  const std::size_t d = c.n_configs();
  for (std::size_t i = 0; i < c.error.size(); ++i) {
    const std::size_t t = i / d, j = i % d;
    const double e = 0.2 + 0.05 * std::sin(1.3 * t + 0.7 * j) + 0.01 * std::sin(7.1 * i);
    c.memory[i] = 1 + 0.1 * j;
    if (missing && i % 7 == 3) {
      c.status[i] = static_cast<std::uint8_t>(CellStatus::planned);
      c.error[i] = std::nan("");
      continue;
    }
    c.status[i] = static_cast<std::uint8_t>(CellStatus::measured);
    double sum = 0;
    for (int r = 0; r < R && R > 1; ++r) {
      c.error_replicates[i * R + r] = e + 0.004 * (r % 2 ? 1 : -1);
      sum += c.error_replicates[i * R + r];
    }
    c.error[i] = R > 1 ? sum / R : e;
  }
  return c;
}

}  // namespace

TEST(InfoStage, CampaignCellsAndTheNoiseCompleteReports) {
  const std::string dir = test::scratch_dir();
  const std::string path = dir + "/c.nc";
  io::write_campaign(path, campaign(1, true));
  const stage::FileInfo info = stage::info(path);
  EXPECT_FALSE(info.journal_folder);
  EXPECT_EQ(info.kind, "campaign");
  ASSERT_TRUE(info.campaign.has_value());
  const stage::CampaignInfo& c = *info.campaign;
  EXPECT_EQ(c.tasks, 6u);
  EXPECT_EQ(c.configs, 9u);
  EXPECT_EQ(c.status[static_cast<int>(CellStatus::planned)], 8u);  // i % 7 == 3 for i < 54
  EXPECT_EQ(c.finished(), 46u);
  EXPECT_EQ(c.finite, 46u);
  EXPECT_EQ(c.planned(), 54u);
  ASSERT_TRUE(c.noise.has_value()) << c.noise_error;
  EXPECT_EQ(c.noise->source, "low-rank residual");
  // The same rule as `peppp complete` with its defaults: the same noise in completed.nc.
  stage::CompleteJob job;
  job.campaign = path;
  job.output = dir + "/completed.nc";
  job.sweep = false;
  stage::complete(job, MPI_COMM_WORLD);
  const stage::FileInfo k = stage::info(job.output);
  EXPECT_EQ(k.kind, "completion");
  EXPECT_FALSE(k.campaign.has_value());
  EXPECT_FALSE(k.completion_noise.has_value());  // completed.nc records its noise
  const io::Completion done = io::read_completion(job.output);
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const meta::NoiseEstimate written = meta::residual_noise(Eigen::Map<const RowMajor>(done.error_observed.data(), 6, 9),
                                                           Eigen::Map<const RowMajor>(done.error_estimate.data(), 6, 9),
                                                           done.rank);
  EXPECT_DOUBLE_EQ(written.std, c.noise->std);
  EXPECT_EQ(written.dof, c.noise->dof);
}

TEST(InfoStage, ReplicatesGiveTheNoise) {
  const std::string dir = test::scratch_dir();
  io::write_campaign(dir + "/r.nc", campaign(2, false));
  const stage::FileInfo info = stage::info(dir + "/r.nc");
  ASSERT_TRUE(info.campaign && info.campaign->noise);
  EXPECT_EQ(info.campaign->replicates, 2);
  EXPECT_EQ(info.campaign->noise->source, "replicates");
  EXPECT_NEAR(info.campaign->noise->std, 0.008 / std::sqrt(2.0), 1e-12);  // two values 0.008 apart
  EXPECT_EQ(info.campaign->noise->cells, 54);
}

TEST(InfoStage, RefusesWhatIsNotAPepppFile) {
  const std::string dir = test::scratch_dir();
  EXPECT_THROW(stage::info(dir + "/none.nc"), Error);
}

TEST(CampaignErrors, WeightsOfANonUniformPlanAndTheMetaTrainingMatrix) {
  io::Campaign c = campaign(1, false);
  c.text_attributes["sampling_scheme"] = "nonuniform";
  for (auto& p : c.sampling_probability) p = 0.5;
  EXPECT_EQ(stage::completion_options(c, true).sampling_probabilities.rows(), 6);
  EXPECT_EQ(stage::completion_options(c, false).sampling_probabilities.size(), 0);
  c.text_attributes["sampling_scheme"] = "uniform";
  EXPECT_EQ(stage::completion_options(c, true).sampling_probabilities.size(), 0);
  // Fully measured: the measured errors as they are, no completion.
  meta::CompletionResult none;
  const Eigen::MatrixXd full = stage::meta_training_errors(c, 1, &none);
  EXPECT_EQ(none.estimate.size(), 0);
  EXPECT_EQ(full(2, 5), c.error[2 * 9 + 5]);
  EXPECT_EQ(stage::campaign_replicate_noise(c).source, "none");
  // Cells missing: completed (centered SoftImpute: measured cells near their values), every entry finite.
  const io::Campaign gaps = campaign(1, true);
  meta::CompletionResult done;
  const Eigen::MatrixXd filled = stage::meta_training_errors(gaps, 1, &done);
  EXPECT_EQ(done.estimate.rows(), 6);
  EXPECT_TRUE(filled.allFinite());
  EXPECT_NEAR(filled(0, 0), gaps.error[0], 0.01);
  EXPECT_TRUE(std::isnan(stage::observed_errors(gaps)(0, 3)));  // cell 3 is planned, not measured
}
