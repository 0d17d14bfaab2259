// `peppp select` end to end at 2 MPI ranks on the real ci campaign
// (Fashion-MNIST, small CNN, 1 epoch) and a new task not in it: exactly N
// cells trained under the cap, the recommendation under the budget, the same
// recommendation from --measured without training, and bad inputs (exit 1,
// no output file). The new task's own model and learning rate (a plain
// campaign, a task x model campaign that needs --campaign.model, --rows-model)
// and --epoch E (cells stopped after epoch E equal a full run's error after
// epoch E bit for bit; the meta-training matrix is the campaign after epoch E).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <tuple>

#include "peppp/core/format.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/selection.hpp"
#include "peppp/nn/memory.hpp"
#include "test_util.hpp"

using namespace peppp;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  std::string dir, campaign, catalog;
  std::vector<double> memory;  // the new task's memory per campaign configuration, MiB
  io::Campaign c;
};

const Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    x.dir = test::scratch_dir() + "/select";
    fs::remove_all(x.dir);
    fs::create_directories(x.dir);
    x.campaign = x.dir + "/ci.nc";
    auto r = test::run_command(test::mpi_launch(2) + test::peppp_exe() + " measure --config " +
                               test::source_path("inputs/ci.ini") + " --output " + x.campaign +
                               " --run.progress_interval 0 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    x.c = io::read_campaign(x.campaign);
    // A task of classes no ci task uses (ci: shirt, coat, trouser, bag, sneaker, sandal, ankle-boot).
    x.catalog = x.dir + "/new.ini";
    std::ofstream(x.catalog) << "[dataset fashion]\nkind = idx\npath = /usr/share/datasets/fashion-mnist\n"
                                "class_names = t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, "
                                "bag, ankle-boot\n\n[defaults]\ndataset = fashion\nresolution = 14\nchannels = 1\n"
                                "train_size = 200\ntest_size = 100\nseed = 11\n\n"
                                "[task tshirt-dress]\nclasses = t-shirt, dress\n\n"
                                "[task pullover-dress]\nclasses = pullover, dress\n";
    const auto counts = nn::model_counts("small-cnn", 2, 1, 14);
    for (const auto& label : x.c.config)
      x.memory.push_back(nn::memory_from_counts(counts, 32, Configuration::parse(label)).total);
    return x;
  }();
  return f;
}

std::string select_cmd(const std::string& campaign, const std::string& task, const std::string& out,
                       const std::string& extra) {
  return test::mpi_launch(2) + test::peppp_exe() + " select --campaign " + campaign + " --task " + task + " --output " +
         out + " --run.progress_interval 0 " + extra + " 2>&1";
}

// Cell records in the journal of `output` (each may come with its epoch record).
std::size_t journal_records(const std::string& output) {
  return io::count_journal_records(io::journal_dir(output));
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

TEST(Select, TrainsNUnderCapAndMeasuredFileReproduces) {
  const Fixture& f = fixture();
  ASSERT_EQ(f.c.n_tasks(), 4u);
  std::vector<double> sorted = f.memory;
  std::sort(sorted.begin(), sorted.end());
  const double budget = sorted[sorted.size() / 2];  // at least half the configurations fit
  const int n_measure = 3;
  const std::string out = f.dir + "/sel.nc";
  // The paper's one-shot ED-MF: every pick up front, one training round.
  auto r = test::run_command(select_cmd(f.campaign, f.catalog + ":tshirt-dress", out,
                                        "--acquisition ed-mf --budget " + num(budget) + " --measurements " +
                                            std::to_string(n_measure)));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("recommended"), std::string::npos) << r.output;

  const io::Selection s = io::read_selection(out);
  EXPECT_EQ(s.task, "tshirt-dress");
  ASSERT_EQ(s.config, f.c.config);
  EXPECT_DOUBLE_EQ(s.cap, budget);  // the cap defaults to the budget
  int measured = 0;
  for (std::size_t j = 0; j < s.config.size(); ++j) {
    EXPECT_NEAR(s.memory[j], f.memory[j], 1e-9);
    if (!s.measured[j]) continue;
    ++measured;
    EXPECT_LE(s.memory[j], s.cap) << s.config[j];
    EXPECT_TRUE(std::isfinite(s.measured_error[j]));
    EXPECT_TRUE(std::isfinite(s.predicted_std[j]));
  }
  EXPECT_EQ(measured, n_measure);
  EXPECT_EQ(s.selection_order.size(), static_cast<std::size_t>(n_measure));
  // Exactly N cells trained, through the journal; the measured file holds them.
  EXPECT_EQ(journal_records(out + ".measured.nc"), static_cast<std::size_t>(n_measure));
  const io::Campaign m = io::read_campaign(out + ".measured.nc");
  EXPECT_EQ(m.n_tasks(), 1u);
  EXPECT_EQ(m.n_configs(), static_cast<std::size_t>(n_measure));
  ASSERT_GE(s.recommended_index, 0);
  EXPECT_LE(s.memory[s.recommended_index], budget);
  EXPECT_EQ(s.config[s.recommended_index], s.recommended_config);
  // The recommendation is the lowest predicted error under the budget (F9.1).
  for (std::size_t j = 0; j < s.config.size(); ++j)
    if (s.memory[j] <= budget) EXPECT_GE(s.predicted_error[j], s.predicted_error[s.recommended_index]);

  // An interrupted selection resumes from its journal: nothing is trained twice.
  fs::remove(out);
  fs::remove(out + ".measured.nc");
  r = test::run_command(select_cmd(f.campaign, f.catalog + ":tshirt-dress", out,
                                   "--acquisition ed-mf --budget " + num(budget) + " --measurements " +
                                       std::to_string(n_measure) + " --resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(journal_records(out + ".measured.nc"), static_cast<std::size_t>(n_measure));
  EXPECT_EQ(io::read_selection(out).recommended_config, s.recommended_config);

  // The same errors from a file: same recommendation and predictions, nothing trained.
  const std::string csv = f.dir + "/errors.csv";
  {
    std::ofstream e(csv);
    e << "config,error\n# measured elsewhere\n";
    for (int j : s.selection_order) e << s.config[j] << "," << num(s.measured_error[j]) << "\n";
  }
  const std::string out2 = f.dir + "/sel2.nc";
  r = test::run_command(select_cmd(f.campaign, f.catalog + ":tshirt-dress", out2,
                                   "--acquisition ed-mf --budget " + num(budget) + " --measured " + csv));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(out2 + ".measured.nc"));
  EXPECT_FALSE(fs::exists(io::journal_dir(out2 + ".measured.nc")));
  const io::Selection s2 = io::read_selection(out2);
  EXPECT_EQ(s2.recommended_config, s.recommended_config);
  for (std::size_t j = 0; j < s.config.size(); ++j) {
    EXPECT_NEAR(s2.predicted_error[j], s.predicted_error[j], 1e-9) << s.config[j];
    EXPECT_EQ(s2.measured[j], s.measured[j]);
  }
  // The measured .nc of the first run works as --measured too.
  const std::string out3 = f.dir + "/sel3.nc";
  r = test::run_command(select_cmd(f.campaign, f.catalog + ":tshirt-dress", out3,
                                   "--acquisition ed-mf --budget " + num(budget) + " --measured " + out +
                                       ".measured.nc"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(io::read_selection(out3).recommended_config, s.recommended_config);
  // --prediction least-squares: the paper's F6.2 fit of the same errors (no p_best, no expected regret),
  // the pick the argmin of its prediction under the budget.
  const std::string out4 = f.dir + "/sel4.nc";
  r = test::run_command(select_cmd(f.campaign, f.catalog + ":tshirt-dress", out4,
                                   "--acquisition ed-mf --budget " + num(budget) + " --measured " + csv +
                                       " --prediction least-squares"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection s4 = io::read_selection(out4);
  EXPECT_TRUE(s4.p_best.empty());
  EXPECT_TRUE(std::isnan(s4.expected_regret));
  EXPECT_NE(s4.predicted_error, s2.predicted_error);
  int pick = -1;
  for (std::size_t j = 0; j < s4.config.size(); ++j)
    if (s4.memory[j] <= budget && (pick < 0 || s4.predicted_error[j] < s4.predicted_error[pick])) pick = static_cast<int>(j);
  ASSERT_GE(pick, 0);
  EXPECT_EQ(s4.predicted_error[s4.recommended_index], s4.predicted_error[pick]);
}

// Journal records of every round of a sequential selection.
std::size_t round_records(const std::string& out) {
  std::size_t n = 0;
  for (int k = 1; fs::exists(io::journal_dir(out + ".round-" + std::to_string(k) + ".nc")); ++k)
    n += journal_records(out + ".round-" + std::to_string(k) + ".nc");
  return n;
}

TEST(Select, SequentialEiMfStopsAtTheToleranceOrTrainsAllAndResumes) {
  const Fixture& f = fixture();
  std::vector<double> sorted = f.memory;
  std::sort(sorted.begin(), sorted.end());
  const double budget = sorted[sorted.size() / 2];
  const std::string task = f.catalog + ":tshirt-dress";
  // A tolerance nothing reaches: all 4 measurements, in rounds of 2 (2 ranks).
  const std::string full = f.dir + "/seq-full.nc";
  auto r = test::run_command(select_cmd(f.campaign, task, full,
                                        "--budget " + num(budget) + " --measurements 4 --tolerance 1e-12"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection s = io::read_selection(full);
  EXPECT_EQ(s.acquisition, "ei-mf");
  ASSERT_EQ(s.selection_order.size(), 4u);
  EXPECT_EQ(s.selection_round, (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(round_records(full), 4u);
  EXPECT_FALSE(fs::exists(full + ".round-3.nc"));
  ASSERT_EQ(s.p_best.size(), s.config.size());
  double total = 0;
  for (std::size_t j = 0; j < s.config.size(); ++j) {
    EXPECT_GE(s.predicted_error[j], 0.0);
    EXPECT_LE(s.predicted_error[j], 1.0);
    if (s.memory[j] > budget) EXPECT_EQ(s.p_best[j], 0.0) << s.config[j];
    if (s.measured[j]) {
      EXPECT_EQ(s.predicted_error[j], s.measured_error[j]) << "a measured configuration keeps its measurement";
      EXPECT_LE(s.memory[j], budget) << "ei-mf measures under the budget first";
    }
    total += s.p_best[j];
  }
  EXPECT_NEAR(total, 1.0, 1e-9);
  EXPECT_TRUE(std::isfinite(s.expected_regret));
  EXPECT_GE(s.expected_regret, 0.0);
  // The measured file holds the 4 cells in pick order.
  const io::Campaign m = io::read_campaign(full + ".measured.nc");
  EXPECT_EQ(m.n_configs(), 4u);
  // Rerun (an interrupted job resubmitted): the rounds replay, nothing is trained again.
  r = test::run_command(select_cmd(f.campaign, task, full,
                                   "--budget " + num(budget) + " --measurements 4 --tolerance 1e-12 --resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(round_records(full), 4u);
  EXPECT_EQ(io::read_selection(full).selection_order, s.selection_order);
  EXPECT_EQ(io::read_selection(full).recommended_config, s.recommended_config);

  // Issue 30: the zero-shot pick is recorded, and the expected regret after each round.
  ASSERT_GE(s.zero_shot_index, 0);
  EXPECT_LE(s.memory[s.zero_shot_index], budget);
  ASSERT_EQ(s.round_expected_regret.size(), 2u);
  EXPECT_EQ(s.round_expected_regret.back(), s.expected_regret);
  EXPECT_EQ(s.round_recommended_index.back(), s.recommended_index);
  EXPECT_NE(r.output.find("zero-shot pick"), std::string::npos) << r.output;

  // Issue 28: a rerun on another number of ranks continues the rounds of 2: nothing trained again.
  r = test::run_command(test::mpi_launch(1) + test::peppp_exe() + " select --campaign " + f.campaign + " --task " +
                        task + " --output " + full + " --run.progress_interval 0 --budget " + num(budget) +
                        " --measurements 4 --tolerance 1e-12 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("in its rounds of 2 configuration(s), now on 1 rank(s)"), std::string::npos) << r.output;
  EXPECT_EQ(round_records(full), 4u);
  EXPECT_EQ(io::read_selection(full).selection_round, s.selection_round);
  EXPECT_EQ(io::read_selection(full).selection_order, s.selection_order);
  // ... but not for another task: one error line naming what changed, nothing touched.
  r = test::run_command(select_cmd(f.campaign, f.catalog + ":pullover-dress", full,
                                   "--budget " + num(budget) + " --measurements 4 --tolerance 1e-12"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("error: --output " + full + ": an earlier selection into it was begun under other "
                          "conditions (task.definition "),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("task.name tshirt-dress -> pullover-dress"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--restart"), std::string::npos) << r.output;
  EXPECT_EQ(round_records(full), 4u);

  // A generous tolerance the prior already meets: nothing trained, and the log says why.
  const std::string early = f.dir + "/seq-early.nc";
  r = test::run_command(select_cmd(f.campaign, task, early,
                                   "--budget " + num(budget) + " --measurements 4 --tolerance 0.5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("the prior is already sure enough, nothing trained"), std::string::npos) << r.output;
  const io::Selection e = io::read_selection(early);
  EXPECT_TRUE(e.selection_order.empty());
  EXPECT_EQ(e.recommended_index, s.zero_shot_index);
  EXPECT_EQ(round_records(early), 0u);
  EXPECT_FALSE(fs::exists(early + ".round-1.nc"));
  // A tolerance the first round meets but the prior does not: one round of 2, then stop; the
  // first round is the same whatever the tolerance.
  if (s.round_expected_regret.front() < s.zero_shot_expected_regret) {
    const std::string one = f.dir + "/seq-one.nc";
    r = test::run_command(select_cmd(f.campaign, task, one,
                                     "--budget " + num(budget) + " --measurements 4 --tolerance " +
                                         num(s.round_expected_regret.front())));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("stopping after 2 of at most 4"), std::string::npos) << r.output;
    const io::Selection o = io::read_selection(one);
    EXPECT_EQ(o.selection_order, std::vector<int>(s.selection_order.begin(), s.selection_order.begin() + 2));
    EXPECT_EQ(round_records(one), 2u);
  }
  // --restart moves the earlier selection aside (nothing deleted) and starts over.
  r = test::run_command(select_cmd(f.campaign, task, full,
                                   "--budget " + num(budget) + " --measurements 4 --tolerance 0.5 --restart"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(io::read_selection(full).selection_order.empty());
  std::size_t moved = 0;
  for (const auto& entry : fs::directory_iterator(f.dir))
    moved += entry.path().filename().string().rfind("seq-full.nc.round-", 0) == 0 &&
             entry.path().filename().string().find(".moved-") != std::string::npos;
  EXPECT_EQ(moved, 4u);  // two rounds, each its file and journal
}

// Issue 28: a rerun that changed only --measurements, --budget, --cap or --tolerance reuses
// every cell trained before (they count towards --measurements) and continues in new round
// files numbered after the earlier ones; another task is still refused.
TEST(Select, SequentialEiMfRerunsReuseTheTrainedCells) {
  const Fixture& f = fixture();
  std::vector<double> sorted = f.memory;
  std::sort(sorted.begin(), sorted.end());
  const double budget = sorted[sorted.size() / 2];
  const std::string task = f.catalog + ":tshirt-dress";
  const std::string out = f.dir + "/seq-reuse.nc";
  const std::string opts = "--budget " + num(budget) + " --tolerance 1e-12 --measurements ";
  auto r = test::run_command(select_cmd(f.campaign, task, out, opts + "2"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(round_records(out), 2u);
  // More measurements: the 2 cells are reused, only 2 new ones trained, in round 2.
  r = test::run_command(select_cmd(f.campaign, task, out, opts + "4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("select: reusing 2 cell(s) measured under measurements 2 -> 4; continuing"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(journal_records(out + ".round-1.nc"), 2u);
  EXPECT_EQ(journal_records(out + ".round-2.nc"), 2u);
  EXPECT_FALSE(fs::exists(out + ".round-3.nc"));
  const io::Selection reused = io::read_selection(out);
  ASSERT_EQ(reused.selection_order.size(), 4u);
  EXPECT_EQ(reused.selection_round, (std::vector<int>{0, 0, 1, 1}));
  // The same selection as an uninterrupted run of 4 (round 1 picks the same 2 either way).
  const std::string whole = f.dir + "/seq-whole.nc";
  r = test::run_command(select_cmd(f.campaign, task, whole, opts + "4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection w = io::read_selection(whole);
  EXPECT_EQ(reused.selection_order, w.selection_order);
  EXPECT_EQ(reused.selection_round, w.selection_round);
  EXPECT_EQ(reused.recommended_config, w.recommended_config);
  EXPECT_EQ(reused.predicted_error, w.predicted_error);
  // Another budget: the 4 cells are reused, nothing is trained.
  const double wider = sorted[sorted.size() - 1];
  r = test::run_command(select_cmd(f.campaign, task, out, "--budget " + num(wider) + " --tolerance 1e-12 "
                                                          "--measurements 4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("select: reusing 4 cell(s) measured under budget "), std::string::npos) << r.output;
  EXPECT_EQ(round_records(out), 4u);
  EXPECT_FALSE(fs::exists(out + ".round-3.nc"));
  EXPECT_EQ(io::read_selection(out).selection_order, reused.selection_order);
  EXPECT_EQ(io::read_selection(out).budget, wider);
  // Another task: refused, nothing trained.
  r = test::run_command(select_cmd(f.campaign, f.catalog + ":pullover-dress", out, opts + "4"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("task.name tshirt-dress -> pullover-dress"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--restart"), std::string::npos) << r.output;
  EXPECT_EQ(round_records(out), 4u);
  EXPECT_FALSE(fs::exists(out + ".round-3.nc"));
}

// Issue 30: --measurements 0 is the prior's answer: the zero-shot pick, nothing trained.
TEST(Select, NoMeasurementAnswersWithTheZeroShotPick) {
  const Fixture& f = fixture();
  std::vector<double> sorted = f.memory;
  std::sort(sorted.begin(), sorted.end());
  const double budget = sorted[sorted.size() / 2];
  const std::string out = f.dir + "/zero.nc";
  auto r = test::run_command(select_cmd(f.campaign, f.catalog + ":tshirt-dress", out,
                                        "--budget " + num(budget) + " --measurements 0"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--measurements 0: the prior's answer"), std::string::npos) << r.output;
  const io::Selection s = io::read_selection(out);
  ASSERT_GE(s.zero_shot_index, 0);
  EXPECT_EQ(s.recommended_index, s.zero_shot_index);
  EXPECT_EQ(s.recommended_config, s.zero_shot_config);
  EXPECT_TRUE(s.selection_order.empty());
  EXPECT_EQ(s.expected_regret, s.zero_shot_expected_regret);
  for (std::size_t j = 0; j < s.config.size(); ++j)
    if (s.memory[j] <= budget) EXPECT_GE(s.predicted_error[j], s.zero_shot_predicted_error) << s.config[j];
  for (const std::string& left : {out + ".round-1.nc", out + ".measured.nc", out + ".conditions"})
    EXPECT_FALSE(fs::exists(left)) << left;
  EXPECT_FALSE(fs::exists(io::journal_dir(out + ".round-1.nc")));
}

TEST(Select, BadInputsExitOneWithoutOutput) {
  const Fixture& f = fixture();
  std::vector<double> sorted = f.memory;
  std::sort(sorted.begin(), sorted.end());
  const std::string budget = num(sorted.back());
  const std::string task = f.catalog + ":tshirt-dress";

  // A campaign of 2 tasks.
  io::Campaign two = f.c;
  const std::size_t d = two.n_configs();
  two.task.resize(2);
  for (auto* v : {&two.task_classes, &two.task_resolution, &two.task_train_size, &two.task_test_size})
    if (!v->empty()) v->resize(2);
  if (!two.task_dataset.empty()) two.task_dataset.resize(2);
  for (auto* v : {&two.error, &two.memory, &two.memory_weights, &two.memory_activations, &two.memory_optimizer,
                  &two.train_seconds, &two.final_loss, &two.sampling_probability, &two.error_std})
    if (!v->empty()) v->resize(2 * d);
  two.error_replicates.resize(2 * d * two.n_replicates());
  for (auto* v : {&two.error_by_epoch, &two.loss_by_epoch})
    if (!v->empty()) v->resize(2 * d * two.n_epochs());
  two.status.resize(2 * d);
  const std::string two_path = f.dir + "/two.nc";
  io::write_campaign(two_path, two);

  int at_min = 0;
  for (double m : f.memory) at_min += m <= sorted.front() ? 1 : 0;
  const std::string in_campaign = f.dir + "/old.ini";
  {
    std::ifstream src(f.catalog);
    std::string text((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
    std::ofstream(in_campaign) << text << "\n[task shirt-coat]\nclasses = shirt, coat\n";
  }
  const std::string unknown_csv = f.dir + "/unknown.csv";
  std::ofstream(unknown_csv) << "e9m9/e6m7,0.1\n";

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"fewer than 3 tasks", select_cmd(two_path, task, "OUT", "--budget " + budget + " --measurements 3")},
      {"budget under every configuration",
       select_cmd(f.campaign, task, "OUT", "--budget " + num(sorted.front() * 0.5) + " --measurements 3")},
      {"N above the feasible configurations",
       select_cmd(f.campaign, task, "OUT", "--budget " + num(sorted.front()) + " --measurements " +
                                               std::to_string(std::max(at_min + 1, 3)))},
      {"task already in the campaign",
       select_cmd(f.campaign, in_campaign + ":shirt-coat", "OUT", "--budget " + budget + " --measurements 3")},
      {"catalog with two tasks, none named", select_cmd(f.campaign, f.catalog, "OUT", "--budget " + budget + " --measurements 3")},
      {"unknown label in --measured", select_cmd(f.campaign, task, "OUT", "--budget " + budget + " --measured " + unknown_csv)},
      {"no --measurements nor --measured", select_cmd(f.campaign, task, "OUT", "--budget " + budget)},
  };
  int k = 0;
  for (const auto& [what, cmd] : cases) {
    const std::string out = f.dir + "/bad" + std::to_string(k++) + ".nc";
    std::string c = cmd;
    c.replace(c.find("OUT"), 3, out);
    const auto r = test::run_command(c);
    EXPECT_EQ(r.exit_code, 1) << what << "\n" << r.output;
    EXPECT_FALSE(fs::exists(out)) << what;
    EXPECT_FALSE(fs::exists(out + ".measured.nc")) << what;
    EXPECT_FALSE(fs::exists(io::journal_dir(out + ".measured.nc"))) << what;
    EXPECT_NE(r.output.find("rror"), std::string::npos) << what << "\n" << r.output;
  }
}

}  // namespace

namespace {

std::vector<double> model_memory(const std::string& model, const std::vector<std::string>& configs) {
  const auto counts = nn::model_counts(model, 2, 1, 14);  // the new task: 2 classes, 1 channel, 14 px
  std::vector<double> out;
  for (const auto& label : configs) out.push_back(nn::memory_from_counts(counts, 32, Configuration::parse(label)).total);
  return out;
}

std::string text_attr(const std::map<std::string, std::string>& a, const std::string& key) {
  auto it = a.find(key);
  return it == a.end() ? "(absent)" : it->second;
}

// A numeric global attribute as read back (the readers give every attribute as text); NaN when absent.
double number_attr(const std::map<std::string, std::string>& a, const std::string& key) {
  auto it = a.find(key);
  return it == a.end() ? std::nan("") : std::stod(it->second);
}

// Synthetic campaigns (fast, with a fake learning curve per cell) of the ci tasks and settings.
std::string synthetic_campaign(const std::string& path, const std::string& extra) {
  auto r = test::run_command(test::mpi_launch(2) + test::peppp_exe() + " measure --config " +
                             test::source_path("inputs/ci.ini") + " --synthetic.seconds 0.001 --output " + path +
                             " --run.progress_interval 0 " + extra + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return path;
}

// A --measured file of three of the ci configurations.
std::string three_errors(const std::string& dir) {
  const std::string csv = dir + "/three.csv";
  std::ofstream(csv) << "config,error\ne3m1/e6m7,0.30\ne4m2/e7m9,0.20\ne5m2/e8m11,0.25\n";
  return csv;
}

}  // namespace

// --campaign.model on a plain small-cnn campaign: the new task's cells train resnet8 (its memory model
// everywhere), the selection and the measured file say so.
TEST(SelectModel, PlainCampaignTrainsTheGivenModel) {
  const std::string dir = test::scratch_dir();  // before the fixture: it may live under this test's folder
  const Fixture& f = fixture();
  const std::vector<double> r8 = model_memory("resnet8", f.c.config);
  ASSERT_EQ(text_attr(f.c.text_attributes, "model"), "small-cnn");
  int differ = 0;
  for (std::size_t j = 0; j < r8.size(); ++j) differ += std::abs(r8[j] - f.memory[j]) > 1e-6 ? 1 : 0;
  ASSERT_GT(differ, 0) << "the two memory models must differ for this test to mean anything";
  const double budget = *std::max_element(r8.begin(), r8.end());
  const std::string out = dir + "/r8.nc";
  auto r = test::run_command(select_cmd(f.campaign, f.catalog + ":tshirt-dress", out,
                                        "--acquisition ed-mf --measurements 3 --budget " + num(budget) +
                                            " --campaign.model resnet8"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection s = io::read_selection(out);
  ASSERT_EQ(s.config, f.c.config);
  for (std::size_t j = 0; j < s.config.size(); ++j) EXPECT_NEAR(s.memory[j], r8[j], 1e-9) << s.config[j];
  EXPECT_EQ(text_attr(s.text_attributes, "model"), "resnet8");
  EXPECT_EQ(number_attr(s.text_attributes, "learning_rate"), 0.01);  // the campaign's (inputs/ci.ini)
  EXPECT_EQ(text_attr(s.text_attributes, "meta_training_rows"), "all");
  EXPECT_TRUE(std::isnan(number_attr(s.text_attributes, "epoch_used")));  // no --epoch
  const io::Campaign m = io::read_campaign(out + ".measured.nc");
  EXPECT_EQ(text_attr(m.text_attributes, "model"), "resnet8");
  ASSERT_EQ(m.n_configs(), 3u);
  for (std::size_t q = 0; q < m.n_configs(); ++q) {
    const auto j = static_cast<std::size_t>(std::find(f.c.config.begin(), f.c.config.end(), m.config[q]) -
                                            f.c.config.begin());
    ASSERT_LT(j, r8.size());
    EXPECT_NEAR(m.memory[q], r8[j], 1e-9) << m.config[q];
    EXPECT_EQ(static_cast<CellStatus>(m.status[q]), CellStatus::measured);
  }
  // The plan names the model: a journal of small-cnn cells is never reused for resnet8 ones.
  std::ifstream plan(io::journal_dir(out + ".measured.nc") + "/plan.txt");
  const std::string text((std::istreambuf_iterator<char>(plan)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("campaign.model=resnet8\n"), std::string::npos) << text;
}

// A task x model campaign: no model to inherit (refused with the models named), --campaign.model
// accepted; every row meta-trains by default, --rows-model only that model's rows (the same
// prediction as a one-model campaign of them).
TEST(SelectModel, RowCampaignNeedsTheModelAndRowsModelSubsets) {
  const std::string dir = test::scratch_dir();
  const Fixture& f = fixture();
  const std::string rows = synthetic_campaign(dir + "/rows.nc", "--campaign.models small-cnn,resnet8");
  // A one-element list is a plain campaign of that model, whose option.campaign.model keeps its
  // default (small-cnn): select must take the rows' model (resnet8), not that option.
  const std::string plain = synthetic_campaign(dir + "/plain-r8.nc", "--campaign.models resnet8");
  ASSERT_EQ(text_attr(io::read_campaign(plain).text_attributes, "option.campaign.model"), "small-cnn");
  const std::string rates = synthetic_campaign(dir + "/rates.nc", "--train.learning_rates 0.01,0.02");
  const io::Campaign rc = io::read_campaign(rows);
  ASSERT_TRUE(rc.has_row_columns());
  ASSERT_EQ(rc.n_tasks(), 8u);
  const std::string csv = three_errors(dir);
  const std::string task = f.catalog + ":tshirt-dress";
  const std::string base = "--acquisition ed-mf --budget 1000 --measured " + csv;

  // Refused with exit 1 and `message`, nothing written to `out`.
  auto refused = [&](const std::string& campaign, const std::string& out, const std::string& extra,
                     const std::string& message) {
    const auto r = test::run_command(select_cmd(campaign, task, out, base + extra));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out));
  };
  // No --campaign.model: refused, naming the campaign's models.
  refused(rows, dir + "/none.nc", "",
          "error: --campaign " + rows + ": its rows train several models (small-cnn, resnet8); give --campaign.model NAME");
  // A list on select's command line is refused too (one model for the new task).
  refused(rows, dir + "/list.nc", " --campaign.models resnet8,vgg11",
          "error: --campaign.models: select trains the new task with one model");
  // Rows of several learning rates: the new task's rate must be given.
  refused(rates, dir + "/lr.nc", "",
          "error: --campaign " + rates + ": its rows train with several learning rates (0.01, 0.02); give "
          "--train.learning_rate X");
  auto r = test::run_command(select_cmd(rates, task, dir + "/lr.nc", base + " --train.learning_rate 0.02"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(number_attr(io::read_selection(dir + "/lr.nc").text_attributes, "learning_rate"), 0.02);

  // With it: every row meta-trains, the memory is resnet8's.
  const std::string all = dir + "/all.nc";
  r = test::run_command(select_cmd(rows, task, all, base + " --campaign.model resnet8"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection sa = io::read_selection(all);
  const std::vector<double> r8 = model_memory("resnet8", sa.config);
  for (std::size_t j = 0; j < sa.config.size(); ++j) EXPECT_NEAR(sa.memory[j], r8[j], 1e-9) << sa.config[j];
  EXPECT_EQ(text_attr(sa.text_attributes, "model"), "resnet8");
  EXPECT_EQ(text_attr(sa.text_attributes, "meta_training_rows"), "all");
  EXPECT_EQ(number_attr(sa.text_attributes, "meta_training_row_count"), 8.0);

  // --rows-model resnet8: its 4 rows only, exactly what a one-model resnet8 campaign gives (a row's
  // cells equal a one-model campaign's); every row gives another prediction.
  const std::string sub = dir + "/sub.nc", one = dir + "/one.nc";
  r = test::run_command(select_cmd(rows, task, sub, base + " --campaign.model resnet8 --rows-model resnet8"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_command(select_cmd(plain, task, one, base));  // model inherited: resnet8
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection ss = io::read_selection(sub), so = io::read_selection(one);
  EXPECT_EQ(text_attr(ss.text_attributes, "meta_training_rows"), "model resnet8");
  EXPECT_EQ(number_attr(ss.text_attributes, "meta_training_row_count"), 4.0);
  EXPECT_EQ(text_attr(so.text_attributes, "model"), "resnet8");
  ASSERT_EQ(ss.config, so.config);
  double moved = 0;
  for (std::size_t j = 0; j < ss.config.size(); ++j) {
    EXPECT_NEAR(ss.predicted_error[j], so.predicted_error[j], 1e-12) << ss.config[j];
    EXPECT_NEAR(ss.predicted_std[j], so.predicted_std[j], 1e-12) << ss.config[j];
    EXPECT_NEAR(ss.memory[j], so.memory[j], 1e-12) << ss.config[j];
    moved = std::max(moved, std::abs(ss.predicted_std[j] - sa.predicted_std[j]));
  }
  EXPECT_GT(moved, 1e-6) << "all rows and one model's rows should not give the same posterior";

  // A model without rows, and a task the rows already train on: refused.
  r = test::run_command(select_cmd(rows, task, dir + "/vgg.nc", base + " --campaign.model resnet8 --rows-model vgg11"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("error: --rows-model 'vgg11': the campaign " + rows +
                          " has no rows of it; allowed: small-cnn, resnet8"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(dir + "/vgg.nc"));
  r = test::run_command(select_cmd(rows, test::source_path("inputs/tasks/fashion-ci.ini") + ":shirt-coat",
                                   dir + "/old.nc", base + " --campaign.model resnet8"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("is already in the campaign"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/old.nc"));
}

// --epoch 1 on a 2-epoch campaign: the new task's cells stop after epoch 1 with the schedule of the
// 2-epoch run, so their errors equal a full 2-epoch measure's error after epoch 1 bit for bit (with
// the model of the new task, resnet8 here); the meta-training matrix is the campaign after epoch 1;
// the journal's plan says so; bad epochs are refused.
TEST(SelectEpoch, CellsStopAfterEpochEAndMetaTrainOnTheCampaignAtE) {
  const std::string dir = test::scratch_dir();
  const Fixture& f = fixture();
  const std::string camp = synthetic_campaign(dir + "/two-epochs.nc", "--train.epochs 2");
  const std::string task = f.catalog + ":tshirt-dress";
  // The full 2-epoch run of the new task's every cell (a one-task catalog: same task, same seeds).
  const std::string one_task = dir + "/one-task.ini";
  {
    std::ifstream src(f.catalog);
    std::string text((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
    text = text.substr(0, text.find("[task pullover-dress]"));
    std::ofstream(one_task) << text;
  }
  const std::string full = dir + "/full.nc";
  auto r = test::run_command(test::mpi_launch(2) + test::peppp_exe() + " measure --config " +
                             test::source_path("inputs/ci.ini") + " --campaign.tasks " + one_task +
                             " --campaign.model resnet8 --train.epochs 2 --output " + full +
                             " --run.progress_interval 0 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Campaign fc = io::read_campaign(full);
  ASSERT_EQ(fc.n_tasks(), 1u);
  ASSERT_EQ(fc.n_epochs(), 2u);

  const std::string out = dir + "/e1.nc";
  const std::string base = "--acquisition ed-mf --budget 1000 --measurements 3 --campaign.model resnet8";
  r = test::run_command(select_cmd(camp, task, out, base + " --epoch 1"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection s = io::read_selection(out);
  EXPECT_EQ(number_attr(s.text_attributes, "epoch_used"), 1.0);
  const io::Campaign m = io::read_campaign(out + ".measured.nc");
  EXPECT_EQ(number_attr(m.text_attributes, "epoch_used"), 1.0);
  EXPECT_EQ(number_attr(m.text_attributes, "epochs"), 2.0);  // the schedule's
  ASSERT_EQ(m.n_configs(), 3u);
  int earlier = 0;
  for (std::size_t q = 0; q < m.n_configs(); ++q) {
    const auto k = static_cast<std::size_t>(std::find(fc.config.begin(), fc.config.end(), m.config[q]) -
                                            fc.config.begin());
    ASSERT_LT(k, fc.n_configs());
    ASSERT_EQ(static_cast<CellStatus>(m.status[q]), CellStatus::measured) << m.config[q];
    EXPECT_EQ(m.error[q], fc.error_by_epoch[k * 2 + 0]) << m.config[q] << ": not the full run's error after epoch 1";
    earlier += m.error[q] != fc.error[k] ? 1 : 0;
    const auto j = static_cast<std::size_t>(std::find(s.config.begin(), s.config.end(), m.config[q]) - s.config.begin());
    ASSERT_LT(j, s.config.size());
    EXPECT_TRUE(s.measured[j]);
    EXPECT_EQ(s.measured_error[j], m.error[q]);
  }
  EXPECT_GT(earlier, 0) << "no cell's error after epoch 1 differs from its final one: the check proves nothing";
  // The journal's plan names the epoch, so a run with another --epoch (or none) never reuses these cells.
  {
    std::ifstream plan(io::journal_dir(out + ".measured.nc") + "/plan.txt");
    const std::string text((std::istreambuf_iterator<char>(plan)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("\nselect.epoch=1\n"), std::string::npos) << text;
  }
  // A rerun into the same output with another --epoch is refused before any training, by the
  // selection's conditions record (the journal's plan would refuse it too: above).
  r = test::run_command(select_cmd(camp, task, out, base + " --epoch 2"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("epoch 1 -> 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--restart"), std::string::npos) << r.output;

  // The meta-training matrix is the campaign after epoch 1: the same selection as from a campaign
  // file holding those errors (without --epoch), given the same measurements.
  const std::string at1 = dir + "/at-epoch-1.nc";
  io::write_campaign(at1, io::campaign_at_epoch(io::read_campaign(camp), 1, camp));
  const std::string csv = three_errors(dir);
  const std::string fb = "--acquisition ed-mf --budget 1000 --campaign.model resnet8 --measured " + csv;
  r = test::run_command(select_cmd(camp, task, dir + "/m-e1.nc", fb + " --epoch 1"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_command(select_cmd(at1, task, dir + "/m-at1.nc", fb));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_command(select_cmd(camp, task, dir + "/m-final.nc", fb));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection a = io::read_selection(dir + "/m-e1.nc"), b = io::read_selection(dir + "/m-at1.nc"),
                      c = io::read_selection(dir + "/m-final.nc");
  double moved = 0;
  for (std::size_t j = 0; j < a.config.size(); ++j) {
    EXPECT_NEAR(a.predicted_error[j], b.predicted_error[j], 1e-12) << a.config[j];
    EXPECT_NEAR(a.predicted_std[j], b.predicted_std[j], 1e-12) << a.config[j];
    moved = std::max(moved, std::abs(a.predicted_error[j] - c.predicted_error[j]));
  }
  EXPECT_GT(moved, 1e-6) << "the final errors give the same prediction as epoch 1's: the check proves nothing";
  // The measured file of the --epoch 1 run reads back as errors after epoch 1.
  r = test::run_command(select_cmd(camp, task, dir + "/back.nc",
                                   "--acquisition ed-mf --budget 1000 --campaign.model resnet8 --epoch 1 --measured " +
                                       out + ".measured.nc"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(io::read_selection(dir + "/back.nc").recommended_config, s.recommended_config);

  // Bad epochs: exit 1, one error line naming what is allowed, no output.
  io::Campaign no_epochs = f.c;
  no_epochs.epoch.clear();
  no_epochs.error_by_epoch.clear();
  no_epochs.loss_by_epoch.clear();
  const std::string no_epochs_path = dir + "/no-epochs.nc";
  io::write_campaign(no_epochs_path, no_epochs);
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"an epoch beyond the new task's", select_cmd(camp, task, "OUT", base + " --epoch 3"),
       "error: --epoch 3: the new task trains train.epochs = 2 epochs; allowed: 1..2"},
      {"an epoch the campaign does not record", select_cmd(camp, task, "OUT", base + " --epoch 3 --train.epochs 3"),
       "error: --epoch 3: --campaign " + camp + " records the errors after epochs 1..2; allowed: one of them"},
      {"a campaign without per-epoch errors", select_cmd(no_epochs_path, task, "OUT", base + " --epoch 1"),
       "error: --epoch 1: --campaign " + no_epochs_path + " has no per-epoch errors"},
      {"epoch 0", select_cmd(camp, task, "OUT", base + " --epoch 0"), "--epoch"},
      {"a --measured .nc without the epoch",
       select_cmd(camp, task, "OUT", "--acquisition ed-mf --budget 1000 --epoch 1 --measured " + no_epochs_path),
       "error: --epoch 1: --measured " + no_epochs_path},
  };
  int k = 0;
  for (const auto& [what, cmd, message] : cases) {
    const std::string o = dir + "/bad" + std::to_string(k++) + ".nc";
    std::string line = cmd;
    line.replace(line.find("OUT"), 3, o);
    r = test::run_command(line);
    EXPECT_EQ(r.exit_code, 1) << what << "\n" << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << what << "\n" << r.output;
    EXPECT_FALSE(fs::exists(o)) << what;
    EXPECT_FALSE(fs::exists(o + ".measured.nc")) << what;
    EXPECT_FALSE(fs::exists(io::journal_dir(o + ".measured.nc"))) << what;
  }
}
