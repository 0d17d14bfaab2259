// campaign.model = torchscript:PATH on the command line (issue #29): the
// networks are scripted at test time by examples/models/export.py (skipped
// without a Python that has torch). peppp memory lists the quantizer points;
// a tiny measure on ci-sized Fashion-MNIST tasks trains a user's network and
// records its file hash; bad networks are refused with one line, exit 1,
// nothing written; a changed file is not resumed as the old one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
namespace test = peppp::test;

namespace {

using peppp::test::torch_python;

#define REQUIRE_TORCH_PYTHON() \
  if (torch_python().empty()) GTEST_SKIP() << "no Python with torch (set PEPPP_PYTHON)"

// Script `network` of examples/models/networks.py into `out`.
void export_network(const std::string& out, const std::string& network, int channels, int classes,
                    int resolution, int seed = 0) {
  const auto r = test::run_command(torch_python() + " " + test::source_path("examples/models/export.py") + " " +
                                   network + " --channels " + std::to_string(channels) + " --classes " +
                                   std::to_string(classes) + " --resolution " + std::to_string(resolution) +
                                   " --seed " + std::to_string(seed) + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

// Two of the ci tasks (inputs/tasks/fashion-ci.ini), both with 2 classes at 14 px, so one network fits both.
std::string write_catalog(const std::string& dir) {
  const std::string path = dir + "/tasks.ini";
  std::ofstream(path) << "[dataset fashion]\nkind = idx\npath = /usr/share/datasets/fashion-mnist\n"
                      << "class_names = t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, "
                         "ankle-boot\n"
                      << "[defaults]\ndataset = fashion\nresolution = 14\nchannels = 1\ntrain_size = 200\n"
                      << "test_size = 100\nseed = 7\n"
                      << "[task shirt-coat]\nclasses = shirt, coat\n[task trouser-bag]\nclasses = trouser, bag\n";
  return path;
}

// `peppp measure` on the ci settings, one configuration, the catalog of `dir`, output dir/campaign.nc.
std::string measure_cmd(const std::string& dir, const std::string& args) {
  return test::peppp_exe() + " measure --config " + test::source_path("inputs/ci.ini") + " --campaign.tasks " +
         write_catalog(dir) + " --campaign.formats_a e5m2 --campaign.formats_b e8m11 --train.epochs 1" +
         " --output " + dir + "/campaign.nc " + args + " 2>&1";
}

int error_lines(const std::string& output) {
  int n = 0;
  for (std::size_t p = output.find("error:"); p != std::string::npos; p = output.find("error:", p + 1)) ++n;
  return n;
}

}  // namespace

TEST(TorchScriptCli, MemoryListsTheQuantizerPoints) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  export_network(dir + "/net.pt", "mlp", 1, 2, 14);
  // The path relative to the INI file, as every path option.
  std::ofstream(dir + "/my.ini") << "[campaign]\ntasks = tasks.ini\nmodel = torchscript:net.pt\n";
  write_catalog(dir);
  const auto r = test::run_command("cd / && " + test::peppp_exe() + " memory --config " + dir + "/my.ini 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("# quantizer points of torchscript:" + dir + "/net.pt on shirt-coat"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("input "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("linear "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("relu "), std::string::npos) << r.output;
  // The zoo's networks list theirs too.
  const auto zoo = test::run_command(test::peppp_exe() + " memory --config " + dir +
                                     "/my.ini --campaign.model small-cnn 2>&1");
  ASSERT_EQ(zoo.exit_code, 0) << zoo.output;
  EXPECT_NE(zoo.output.find("# quantizer points of small-cnn on shirt-coat"), std::string::npos) << zoo.output;
  EXPECT_NE(zoo.output.find("conv "), std::string::npos) << zoo.output;
}

TEST(TorchScriptCli, MeasureTrainsAndRecordsTheFileHash) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  export_network(dir + "/net.pt", "mlp", 1, 2, 14);
  const auto r = test::run_command(measure_cmd(dir, "--campaign.model torchscript:" + dir + "/net.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const peppp::io::Campaign c = peppp::io::read_campaign(dir + "/campaign.nc");
  ASSERT_EQ(c.error.size(), 2u);
  for (double e : c.error) EXPECT_LT(e, 0.5) << "a cell at chance or worse";
  ASSERT_TRUE(c.text_attributes.count("model_file_hash")) << r.output;
  EXPECT_NE(c.text_attributes.at("model_file_hash").find("fnv1a64="), std::string::npos);
  ASSERT_TRUE(c.text_attributes.count("model_points"));
  EXPECT_NE(c.text_attributes.at("model_points").find("input:input:196"), std::string::npos)
      << c.text_attributes.at("model_points");

  // A changed file is another network: --resume refuses the old journals, naming the model.
  export_network(dir + "/net.pt", "mlp", 1, 2, 14, /*seed=*/1);
  fs::remove(dir + "/campaign.nc");
  const auto again = test::run_command(measure_cmd(dir, "--campaign.model torchscript:" + dir + "/net.pt --resume"));
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("model.torchscript:" + dir + "/net.pt"), std::string::npos) << again.output;
  EXPECT_FALSE(fs::exists(dir + "/campaign.nc"));
}

TEST(TorchScriptCli, BadNetworksAreRefusedWithOneLine) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  std::ofstream(dir + "/not-a-network.pt") << "this is not TorchScript\n";
  export_network(dir + "/one-logit.pt", "mlp", 1, 1, 14);  // the tasks have 2 classes
  export_network(dir + "/rgb.pt", "small-cnn", 3, 2, 14);   // the tasks have 1 channel
  for (const char* name : {"not-a-network.pt", "one-logit.pt", "rgb.pt", "missing.pt"}) {
    const std::string file = dir + "/" + name;
    const auto r = test::run_command(measure_cmd(dir, "--campaign.model torchscript:" + file));
    EXPECT_EQ(r.exit_code, 1) << name << "\n" << r.output;
    EXPECT_EQ(error_lines(r.output), 1) << name << "\n" << r.output;
    EXPECT_NE(r.output.find(file), std::string::npos) << name << "\n" << r.output;
    EXPECT_FALSE(fs::exists(dir + "/campaign.nc")) << name;
    EXPECT_FALSE(fs::exists(peppp::io::journal_dir(dir + "/campaign.nc"))) << name;
    if (std::string(name) == "one-logit.pt") {  // the task and both sizes named
      EXPECT_NE(r.output.find("task 'shirt-coat' (2 classes, 1x14x14 images)"), std::string::npos) << r.output;
      EXPECT_NE(r.output.find("1 logits for 2 classes"), std::string::npos) << r.output;
    }
  }
  // A row campaign's list takes the prefix too, and refuses a missing file the same way.
  const auto rows = test::run_command(measure_cmd(dir, "--campaign.models small-cnn,torchscript:" + dir + "/x.pt"));
  EXPECT_EQ(rows.exit_code, 1) << rows.output;
  EXPECT_NE(rows.output.find("campaign.models"), std::string::npos) << rows.output;
  EXPECT_NE(rows.output.find(dir + "/x.pt"), std::string::npos) << rows.output;
}
