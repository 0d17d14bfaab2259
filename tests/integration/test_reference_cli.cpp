// The shipped reference matrix (inputs/reference/fashion-small-cnn.nc, issue
// #15): its reproduce command, rerun on 2 of its tasks x 9 configurations
// at 2 MPI ranks, gives the shipped values bit for bit; and a cold-start
// `peppp select` (no --campaign) trains on a tiny new task with the
// reference as its meta-training campaign.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "peppp/io/campaign.hpp"
#include "peppp/io/selection.hpp"
#include "test_util.hpp"

using namespace peppp;
namespace fs = std::filesystem;

namespace {

const std::string kReference = "inputs/reference/fashion-small-cnn.nc";

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// A fresh scratch folder `name` with a Fashion-MNIST catalog `catalog.ini` of the given sections.
std::string scratch_catalog(const std::string& name, const std::string& sections) {
  const std::string dir = test::scratch_dir() + "/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir + "/catalog.ini") << "[dataset fashion]\nkind = idx\npath = /usr/share/datasets/fashion-mnist\n"
                                         "class_names = t-shirt, trouser, pullover, dress, coat, sandal, shirt, "
                                         "sneaker, bag, ankle-boot\n\n"
                                      << sections;
  return dir;
}

}  // namespace

TEST(Reference, ShippedMatrixIsComplete) {
  const io::Campaign c = io::read_campaign(test::source_path(kReference));
  EXPECT_GE(c.n_tasks(), 24u);
  EXPECT_EQ(c.n_configs(), 99u);
  EXPECT_GE(c.n_replicates(), 2u);
  for (double e : c.error_replicates) {
    ASSERT_TRUE(std::isfinite(e));
    EXPECT_GE(e, 0.0);
    EXPECT_LE(e, 1.0);
  }
  int r14 = 0, r28 = 0;
  for (int r : c.task_resolution) {
    r14 += r == 14;
    r28 += r == 28;
  }
  EXPECT_GT(r14, 0);
  EXPECT_GT(r28, 0);
  EXPECT_LT(fs::file_size(test::source_path(kReference)), 1u << 20);
}

TEST(Reference, ReproduceCommandOnTwoTasksGivesTheShippedValuesBitForBit) {
  // Two of the reference catalog's tasks, declared exactly as there (same
  // classes, sizes and subsample seed): cell seeds hash the task's name.
  const std::string dir = scratch_catalog(
      "reference", "[defaults]\ndataset = fashion\nresolution = 14\nchannels = 1\ntrain_size = 1800\n"
                   "test_size = 2000\nseed = 12\n\n[task shoes-sandal-sneaker]\nclasses = sandal, sneaker\n\n"
                   "[task dress-coat]\nclasses = dress, coat\n");
  const std::string catalog = dir + "/catalog.ini";
  const std::string out = dir + "/subset.nc";
  auto r = test::run_command(test::mpi_launch(2) + test::peppp_exe() + " measure --config " +
                             test::source_path("inputs/reference/fashion-small-cnn.ini") + " --campaign.tasks " +
                             catalog + " --campaign.formats_a e3m1,e4m3,e5m2 --campaign.formats_b e6m7,e7m7,e8m7" +
                             " --output " + out + " --run.progress_interval 0 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Campaign sub = io::read_campaign(out);
  const io::Campaign ref = io::read_campaign(test::source_path(kReference));
  ASSERT_EQ(sub.n_replicates(), ref.n_replicates());
  std::map<std::string, std::size_t> ti, ci;
  for (std::size_t i = 0; i < ref.task.size(); ++i) ti[ref.task[i]] = i;
  for (std::size_t j = 0; j < ref.config.size(); ++j) ci[ref.config[j]] = j;
  const std::size_t R = ref.n_replicates();
  int compared = 0;
  for (std::size_t i = 0; i < sub.n_tasks(); ++i)
    for (std::size_t j = 0; j < sub.n_configs(); ++j) {
      ASSERT_TRUE(ti.count(sub.task[i]) && ci.count(sub.config[j])) << sub.task[i] << " " << sub.config[j];
      const std::size_t a = i * sub.n_configs() + j, b = ti[sub.task[i]] * ref.n_configs() + ci[sub.config[j]];
      EXPECT_TRUE(same_bits(sub.error[a], ref.error[b])) << sub.task[i] << " " << sub.config[j];
      for (std::size_t q = 0; q < R; ++q)
        EXPECT_TRUE(same_bits(sub.error_replicates[a * R + q], ref.error_replicates[b * R + q]))
            << sub.task[i] << " " << sub.config[j] << " replicate " << q << ": " << sub.error_replicates[a * R + q]
            << " vs shipped " << ref.error_replicates[b * R + q];
      ++compared;
    }
  EXPECT_EQ(compared, 18);
}

TEST(Reference, ColdStartSelectTrainsFiveCellsWithoutACampaign) {
  const std::string dir = scratch_catalog(
      "cold-start", "[task trouser-coat-tiny]\ndataset = fashion\nclasses = trouser, coat\nresolution = 14\n"
                    "channels = 1\ntrain_size = 200\ntest_size = 100\nseed = 3\n");
  const std::string catalog = dir + "/catalog.ini";
  const std::string out = dir + "/selection.nc";
  // The budget: the reference's median memory of its 14-px pairs is ~0.9 MiB;
  // 2 MiB leaves most configurations feasible for a 14-px pair.
  auto r = test::run_command(test::mpi_launch(2) + test::peppp_exe() + " select --task " + catalog +
                             ":trouser-coat-tiny --budget 2 --measurements 5 --output " + out +
                             " --run.progress_interval 0 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("cold start"), std::string::npos) << r.output;
  const io::Selection s = io::read_selection(out);
  int measured = 0;
  for (auto flag : s.measured) measured += flag ? 1 : 0;
  EXPECT_EQ(measured, 5);
  EXPECT_EQ(s.config.size(), 99u);
  ASSERT_GE(s.recommended_index, 0);
  const io::Campaign m = io::read_campaign(out + ".measured.nc");
  int trained = 0;
  for (double e : m.error) trained += std::isfinite(e) ? 1 : 0;
  EXPECT_EQ(trained, 5);
}
