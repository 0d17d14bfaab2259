// `peppp select` end to end under mpirun -np 2 on the real ci campaign
// (Fashion-MNIST, small CNN, 1 epoch) and a new task not in it: exactly N
// cells trained under the cap, the recommendation under the budget, the same
// recommendation from --measured without training, and bad inputs (exit 1,
// no output file).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

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
    auto r = test::run_command("mpirun -np 2 " + test::peppp_exe() + " measure --config " +
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
  return "mpirun -np 2 " + test::peppp_exe() + " select --campaign " + campaign + " --task " + task + " --output " +
         out + " --run.progress_interval 0 " + extra + " 2>&1";
}

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

  // A tolerance the first round already meets: one round of 2, then stop.
  const std::string early = f.dir + "/seq-early.nc";
  r = test::run_command(select_cmd(f.campaign, task, early,
                                   "--budget " + num(budget) + " --measurements 4 --tolerance 0.5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("stopping after 2 of at most 4"), std::string::npos) << r.output;
  const io::Selection e = io::read_selection(early);
  EXPECT_EQ(e.selection_order.size(), 2u);
  EXPECT_LE(e.expected_regret, 0.5);
  EXPECT_EQ(round_records(early), 2u);
  // The first round is the same whatever the tolerance.
  EXPECT_EQ(e.selection_order, std::vector<int>(s.selection_order.begin(), s.selection_order.begin() + 2));
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
