// stage::merge at one rank: two campaign files -> one, the run's attributes
// on top, the summary it returns; refusals before anything is written.
#include <gtest/gtest.h>

#include <filesystem>

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/stage/merge.hpp"
#include "test_util.hpp"

using namespace peppp;

namespace {

// A finished campaign of `tasks` x 2 configurations, one replicate, every cell measured at `error`.
std::string write_input(const std::string& path, const std::vector<std::string>& tasks, const std::string& seed,
                        double error) {
  io::Campaign c;
  std::vector<TaskRow> rows;
  for (const auto& t : tasks) rows.push_back(TaskRow::named(t));
  io::set_task_rows(c, rows);
  io::set_configurations(c, {Configuration::parse("e4m3/e6m7"), Configuration::parse("e5m2/e6m7")});
  c.replicate = {0};
  c.allocate();
  for (std::size_t i = 0; i < c.error.size(); ++i) {
    c.memory[i] = 1;
    c.sampling_probability[i] = 1;
    c.status[i] = static_cast<std::uint8_t>(CellStatus::measured);
    c.error[i] = c.error_replicates[i] = error;
  }
  c.text_attributes = {{"seed", seed}, {"model", "small-cnn"}, {"option.train.epochs", "1"},
                       {"campaign_name", path}};
  c.number_attributes = {{"learning_rate", 0.01}};
  io::write_campaign(path, c);
  return path;
}

}  // namespace

TEST(MergeStage, WritesTheMergedCampaignAndSaysWhat) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  stage::MergeJob job;
  job.files = {write_input(dir + "/a.nc", {"t", "u"}, "1", 0.2), write_input(dir + "/b.nc", {"t"}, "2", 0.4)};
  job.output = dir + "/all.nc";
  job.attributes.text["peppp_command"] = "merge";
  job.attributes.number["mpi_ranks"] = 1;
  const stage::MergeResult r = stage::merge(job, MPI_COMM_SELF);
  EXPECT_EQ(r.inputs, 2u);
  EXPECT_EQ(r.rows, 2u);
  EXPECT_EQ(r.combined_rows, 1u);  // t from both
  EXPECT_EQ(r.configs, 2u);
  EXPECT_EQ(r.replicates, 2u);
  EXPECT_TRUE(r.notes.empty());

  const io::Campaign m = io::read_campaign(job.output);
  EXPECT_EQ(m.task, (std::vector<std::string>{"t", "u"}));
  EXPECT_EQ(m.row_source, (std::vector<std::string>{"0,1", "0"}));
  EXPECT_DOUBLE_EQ(m.error[m.at(0, 0)], 0.3);  // mean of 0.2 and 0.4
  EXPECT_DOUBLE_EQ(m.error[m.at(1, 1)], 0.2);
  EXPECT_EQ(m.text_attributes.at("peppp_command"), "merge");
  EXPECT_EQ(m.text_attributes.at("source_1_path"), job.files[1]);
}

TEST(MergeStage, NotesOfDroppedConfigurations) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  stage::MergeJob job;
  job.files = {write_input(dir + "/a.nc", {"t"}, "1", 0.2), write_input(dir + "/b.nc", {"u"}, "2", 0.4)};
  job.output = dir + "/all.nc";
  job.configs = io::MergeConfigs::common;
  const stage::MergeResult r = stage::merge(job, MPI_COMM_SELF);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("none dropped"), std::string::npos) << r.notes[0];
  EXPECT_EQ(r.combined_rows, 0u);
}

TEST(MergeStage, RefusalsWriteNothing) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string a = write_input(dir + "/a.nc", {"t"}, "1", 0.2), b = write_input(dir + "/b.nc", {"t"}, "1", 0.4);
  stage::MergeJob job;
  job.files = {a};
  job.output = dir + "/all.nc";
  EXPECT_THROW(stage::merge(job, MPI_COMM_SELF), InputError);  // fewer than 2
  job.files = {a, b};
  EXPECT_THROW(stage::merge(job, MPI_COMM_SELF), InputError);  // the same seed twice
  job.output = dir + "/no-such-folder/all.nc";
  EXPECT_THROW(stage::merge(job, MPI_COMM_SELF), InputError);
  job.files = {a, dir + "/missing.nc"};
  job.output = dir + "/all.nc";
  EXPECT_THROW(stage::merge(job, MPI_COMM_SELF), InputError);
  EXPECT_FALSE(std::filesystem::exists(dir + "/all.nc"));
}
