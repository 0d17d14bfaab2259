// TorchScript networks in whole campaigns (issue #29): the ViT of
// examples/models/ in `peppp run` on the ci tasks at 2 ranks (one file for
// tasks of 2 and 3 classes: a 3-logit head, each task using its first C
// logits; a 2-logit head refused naming file, task and sizes); a task x model
// row campaign (small-cnn, torchscript:vit.pt) killed with SIGKILL mid-way
// and resumed without retraining a finished cell; select inheriting the
// campaign's network path. Networks are scripted at test time by
// examples/models/export.py (skipped without a Python that has torch).
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "../fault/fault_util.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/io/selection.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
namespace test = peppp::test;
namespace fault = peppp::fault;
namespace io = peppp::io;

namespace {

using peppp::test::torch_python;

#define REQUIRE_TORCH_PYTHON() \
  if (torch_python().empty()) GTEST_SKIP() << "no Python with torch (set PEPPP_PYTHON)"

// Script examples/models/networks.py's `network` for 1-channel 14 px images into `out`.
void export_network(const std::string& out, const std::string& network, int classes) {
  const auto r = test::run_command(torch_python() + " " + test::source_path("examples/models/export.py") + " " +
                                   network + " --channels 1 --classes " + std::to_string(classes) +
                                   " --resolution 14 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

// A catalog of Fashion-MNIST tasks at 14 px, `train` / `test` images each, the tasks given as "name: classes" lines.
std::string write_catalog(const std::string& path, int train, int test, const std::string& tasks) {
  std::ofstream(path) << "[dataset fashion]\nkind = idx\npath = /usr/share/datasets/fashion-mnist\n"
                      << "class_names = t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, "
                         "ankle-boot\n"
                      << "[defaults]\ndataset = fashion\nresolution = 14\nchannels = 1\ntrain_size = " << train
                      << "\ntest_size = " << test << "\nseed = 7\n"
                      << tasks;
  return path;
}

std::string text_attr(const std::map<std::string, std::string>& a, const std::string& key) {
  auto it = a.find(key);
  return it == a.end() ? "(absent)" : it->second;
}

}  // namespace

// The ci tasks have 2 and 3 classes: one ViT file with a 3-logit head runs them all; a 2-logit
// head is refused before anything is trained, naming the file, the task and both sizes.
TEST(TorchScriptCampaign, VitRunsTheCiTasksAtTwoRanks) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  export_network(dir + "/vit.pt", "vit", 3);
  auto run = [&](const std::string& net, const std::string& out) {
    return test::run_command(test::mpi_launch(2) + test::peppp_exe() + " run --config " +
                             test::source_path("inputs/ci.ini") + " --campaign.model torchscript:" + net +
                             " --output-dir " + out + " --run.progress_interval 0 2>&1");
  };
  const auto r = run(dir + "/vit.pt", dir + "/run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"campaign.nc", "completed.nc", "loocv.nc"})
    EXPECT_TRUE(fs::exists(dir + "/run/" + f)) << f << "\n" << r.output;
  const io::Campaign c = io::read_campaign(dir + "/run/campaign.nc");
  ASSERT_EQ(c.n_tasks(), 4u);
  ASSERT_EQ(c.error.size(), 36u);
  EXPECT_EQ(text_attr(c.text_attributes, "model"), "torchscript:" + dir + "/vit.pt");
  // The 2-class tasks count the whole 3-logit head (the last point), the 3-class task too.
  const std::string points = text_attr(c.text_attributes, "model_points");
  EXPECT_NE(points.find("[1x14x14:2] input:input:196"), std::string::npos) << points;
  EXPECT_NE(points.find("[1x14x14:3] input:input:196"), std::string::npos) << points;
  EXPECT_NE(points.find("fc.linear:linear:3; "), std::string::npos) << points;
  // Every cell trained; each task below chance (errors 1/2, 2/3) in some configuration, and
  // some task far below (one epoch of 200 images: 7 steps).
  double best_of_all = 1;
  for (std::size_t t = 0; t < c.n_tasks(); ++t) {
    double best = 1;
    for (std::size_t j = 0; j < c.n_configs(); ++j) {
      const std::size_t i = t * c.n_configs() + j;
      EXPECT_NE(c.status[i], 1) << c.task[t] << " " << c.config[j] << " not measured";
      if (std::isfinite(c.error[i])) best = std::min(best, c.error[i]);
    }
    EXPECT_LT(best, c.task[t] == "shoes" ? 0.62 : 0.48) << c.task[t];
    best_of_all = std::min(best_of_all, best);
  }
  EXPECT_LT(best_of_all, 0.25);

  export_network(dir + "/two.pt", "vit", 2);
  const auto bad = run(dir + "/two.pt", dir + "/bad");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_EQ(fault::error_lines(bad.output), 1u) << bad.output;
  for (const std::string& s : {dir + "/two.pt", std::string("task 'shoes' (3 classes, 1x14x14 images)"),
                               std::string("returns [1, 2]"), std::string("2 logits for 3 classes")})
    EXPECT_NE(bad.output.find(s), std::string::npos) << s << "\n" << bad.output;
  EXPECT_EQ(bad.output.find("MPI_ABORT"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(dir + "/bad/campaign.nc"));
  EXPECT_FALSE(fs::exists(io::journal_dir(dir + "/bad/campaign.nc")));
}

// kill -9 of every rank mid-campaign, then --resume: the cells journaled before the kill keep
// their records (none trained again: one record per cell in all), and the result equals an
// uninterrupted run bit for bit. The network is named relative to the working folder.
TEST(TorchScriptCampaign, RowCampaignResumesAfterKillNine) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  export_network(dir + "/vit.pt", "vit", 2);
  const std::string catalog = write_catalog(dir + "/tasks.ini", 100, 50,
                                            "[task shirt-coat]\nclasses = shirt, coat\n"
                                            "[task trouser-bag]\nclasses = trouser, bag\n");
  auto measure = [&](const std::string& out, const std::string& extra) {
    // --output first: fault::kill_ranks finds the ranks by " OUT " on their command line.
    return "cd " + dir + " && " + test::mpi_launch(2) + test::peppp_exe() + " measure --output " + out +
           " --config " + test::source_path("inputs/ci.ini") + " --campaign.tasks " + catalog +
           " --campaign.models small-cnn,torchscript:vit.pt --campaign.formats_a e4m3,e5m2"
           " --campaign.formats_b e8m11,e6m7 --train.epochs 2 --run.progress_interval 0" + extra;
  };
  constexpr std::size_t kCells = 16;  // 2 tasks x 2 models x 4 configurations
  const std::string ref = dir + "/reference.nc", out = dir + "/killed.nc";
  auto r = test::run_command(measure(ref, "") + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;

  fault::Background bg(dir, measure(out, ""));
  ASSERT_TRUE(fault::wait_for_records(out, 3, 120)) << bg.log();
  EXPECT_EQ(fault::kill_ranks(out, SIGKILL), 2) << bg.log();
  EXPECT_NE(bg.wait(120), 0) << bg.log();
  EXPECT_FALSE(fs::exists(out));
  const io::JournalContents before = io::scan_journals(io::journal_dir(out));
  ASSERT_GE(before.records.size(), 3u);
  ASSERT_LT(before.records.size(), kCells) << "the campaign finished before the kill; the test proves nothing";

  r = test::run_command(measure(out, " --resume") + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming"), std::string::npos) << r.output;
  const io::Campaign c = io::read_campaign(out), want = io::read_campaign(ref);
  const auto fp = std::stoull(c.text_attributes.at("plan_fingerprint"), nullptr, 16);
  const io::JournalContents after = io::read_journals(io::journal_dir(out), fp);
  ASSERT_EQ(after.records.size(), kCells) << "a cell trained twice, or one missing";
  std::map<std::uint64_t, io::JournalRecord> finished;
  for (const auto& rec : after.records) finished[rec.cell] = rec;
  for (const auto& rec : before.records) {
    // The same record, not a new training of the cell: same rank, same wall time.
    ASSERT_TRUE(finished.count(rec.cell)) << rec.cell;
    EXPECT_EQ(finished[rec.cell].seconds, rec.seconds) << "cell " << rec.cell << " trained again";
    EXPECT_EQ(finished[rec.cell].rank, rec.rank) << rec.cell;
  }
  ASSERT_EQ(c.task, want.task);
  ASSERT_EQ(c.status, want.status);
  for (std::size_t i = 0; i < c.error.size(); ++i) EXPECT_EQ(c.error[i], want.error[i]) << i;  // bit for bit

  // Row labels TASK:MODEL with the network's absolute path; the columns split them.
  const std::string vit = "torchscript:" + dir + "/vit.pt";
  ASSERT_EQ(c.task, (std::vector<std::string>{"shirt-coat:small-cnn", "shirt-coat:" + vit, "trouser-bag:small-cnn",
                                              "trouser-bag:" + vit}));
  EXPECT_EQ(c.row_task, (std::vector<std::string>{"shirt-coat", "shirt-coat", "trouser-bag", "trouser-bag"}));
  EXPECT_EQ(c.row_model, (std::vector<std::string>{"small-cnn", vit, "small-cnn", vit}));
  const auto info = test::run_command(test::peppp_exe() + " info " + out + " 2>&1");
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find(vit), std::string::npos) << info.output;
}

// select inherits the campaign's network as measure resolved it: measure records the path
// absolute, so a select started elsewhere trains (and sizes) the same file; a relative path of an
// older campaign is taken relative to the campaign file's folder. --rows-model takes the path
// relative to the working folder, matching the rows' absolute one, and so do loocv's row selectors.
TEST(TorchScriptCampaign, SelectInheritsTheCampaignsNetwork) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  fs::create_directories(dir + "/nets");
  export_network(dir + "/nets/vit.pt", "vit", 3);
  const std::string vit = "torchscript:" + dir + "/nets/vit.pt";
  const std::string catalog = write_catalog(dir + "/new.ini", 200, 100, "[task tshirt-dress]\nclasses = t-shirt, dress\n");
  auto synthetic = [&](const std::string& out, const std::string& model_args) {
    const auto r = test::run_command("cd " + dir + " && " + test::mpi_launch(2) + test::peppp_exe() +
                                     " measure --config " + test::source_path("inputs/ci.ini") +
                                     " --synthetic.seconds 0.001 --output " + out + " --run.progress_interval 0 " +
                                     model_args + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.output;
  };
  synthetic(dir + "/plain.nc", "--campaign.model torchscript:nets/vit.pt");
  const io::Campaign plain = io::read_campaign(dir + "/plain.nc");
  EXPECT_EQ(text_attr(plain.text_attributes, "model"), vit);
  std::ofstream(dir + "/three.csv") << "config,error\ne3m1/e6m7,0.30\ne4m2/e7m9,0.20\ne5m2/e8m11,0.25\n";
  auto select = [&](const std::string& cwd, const std::string& campaign, const std::string& out,
                    const std::string& extra) {
    return test::run_command("cd " + cwd + " && " + test::mpi_launch(2) + test::peppp_exe() + " select --campaign " +
                             campaign + " --task " + catalog + ":tshirt-dress --output " + out +
                             " --run.progress_interval 0 --acquisition ed-mf --budget 1000 --measured " + dir +
                             "/three.csv " + extra + " 2>&1");
  };
  // From another folder: the recorded absolute path; the memory is the ViT's on a 2-class task,
  // as the campaign's 2-class rows have it.
  auto r = select("/", dir + "/plain.nc", dir + "/sel.nc", "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection s = io::read_selection(dir + "/sel.nc");
  EXPECT_EQ(text_attr(s.text_attributes, "model"), vit);
  ASSERT_EQ(s.config, plain.config);
  for (std::size_t j = 0; j < s.config.size(); ++j) EXPECT_EQ(s.memory[j], plain.memory[j]) << s.config[j];

  // An older campaign recording the path relative: relative to the campaign file's folder.
  io::Campaign legacy = plain;
  legacy.text_attributes["model"] = "torchscript:nets/vit.pt";
  io::write_campaign(dir + "/legacy.nc", legacy);
  r = select("/", dir + "/legacy.nc", dir + "/sel-legacy.nc", "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(text_attr(io::read_selection(dir + "/sel-legacy.nc").text_attributes, "model"), vit);

  // A row campaign: --campaign.model and --rows-model relative to the working folder.
  synthetic(dir + "/rows.nc", "--campaign.models small-cnn,torchscript:nets/vit.pt");
  r = select(dir, dir + "/rows.nc", dir + "/sel-rows.nc",
             "--campaign.model torchscript:nets/vit.pt --rows-model torchscript:./nets/vit.pt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection sr = io::read_selection(dir + "/sel-rows.nc");
  EXPECT_EQ(text_attr(sr.text_attributes, "model"), vit);
  EXPECT_EQ(text_attr(sr.text_attributes, "meta_training_rows"), "model " + vit);
  // LOOCV's row selectors take the path the same way: model=torchscript:PATH (working folder)
  // picks the rows of the absolute path; only they are held out and scored.
  const auto lo = test::run_command("cd " + dir + " && " + test::peppp_exe() + " loocv --campaign rows.nc --output " +
                                    dir + "/loocv.nc --test-rows model=torchscript:nets/vit.pt --settings I "
                                    "--methods ed-mf --measurements 3 --rank 2 --lambda 0.02 --cap task-median --summary false 2>&1");
  ASSERT_EQ(lo.exit_code, 0) << lo.output;
  const io::Loocv held = io::read_loocv(dir + "/loocv.nc");
  ASSERT_EQ(held.fold.size(), 4u);
  for (const auto& row : held.fold) EXPECT_EQ(row.substr(row.find(':') + 1), vit) << row;
  // A path with a ',' cannot be told from a list: refused naming it.
  fs::copy_file(dir + "/nets/vit.pt", dir + "/a,b.pt");
  const auto comma = test::run_command("cd " + dir + " && " + test::peppp_exe() + " memory --config " +
                                       test::source_path("inputs/ci.ini") + " --campaign.model torchscript:a,b.pt 2>&1");
  EXPECT_EQ(comma.exit_code, 1) << comma.output;
  EXPECT_NE(comma.output.find("has a ','"), std::string::npos) << comma.output;
}
