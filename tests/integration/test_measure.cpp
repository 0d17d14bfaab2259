// `peppp measure` end to end under real mpirun, with synthetic cells (the
// queue, journal, kill, SIGTERM and resume behaviour does not depend on what
// a cell computes): identical matrices at 1/2/3 ranks, kill -9 then resume,
// SIGTERM then resume, bad inputs (exit 1 on every rank, no file, no hang).
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/netcdf.hpp"
#include "test_util.hpp"

using namespace peppp;
namespace fs = std::filesystem;

namespace {

std::string measure_cmd(int ranks, const std::string& out, const std::string& extra = "") {
  return test::mpi_launch(ranks) + test::peppp_exe() + " measure --config " +
         test::source_path("inputs/ci.ini") + " --output " + out +
         // 4 tasks x 4 configurations = 16 cells, whatever ci.ini's format lists become.
         (extra.find("--campaign.formats_") == std::string::npos
              ? " --campaign.formats_a e3m1,e5m2 --campaign.formats_b e6m7,e8m7"
              : "") +
         " --run.progress_interval 0 " + extra;
}

const std::string kSynthetic = " --synthetic.seconds 0.02 --synthetic.fail_fraction 0.1 --synthetic.diverge_fraction 0.1";

// Child pids of `pid` (from /proc).
std::vector<int> children(int pid) {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat;
    try {  // a process exiting while its stat is read: gone (libstdc++ throws on ESRCH)
      std::ifstream in(e.path() / "stat");
      std::getline(in, stat);
    } catch (const std::exception&) {
      continue;
    }
    auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == pid) out.push_back(std::stoi(name));
  }
  return out;
}

// A campaign started in the background; its exit code lands in `<dir>/rc`.
struct Background {
  int shell = 0;
  std::string dir;
  Background(const std::string& dir_, const std::string& command) : dir(dir_) {
    auto r = test::run_command("(" + command + " > " + dir + "/log 2>&1; echo $? > " + dir + "/rc) > /dev/null 2>&1 & echo $!");
    shell = std::stoi(r.output);
  }
  std::vector<int> ranks() const {
    for (int mpirun : children(shell)) return children(mpirun);
    return {};
  }
  int wait(double timeout_s = 60) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < end) {
      std::ifstream in(dir + "/rc");
      int rc = -1;
      if (in >> rc) return rc;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
  std::string log() const {
    std::ifstream in(dir + "/log");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
};

// Journal records on disk (every rank file), without checking the plan.
std::size_t journaled(const std::string& out) {
  return io::count_journal_records(io::journal_dir(out));
}

bool wait_for_records(const std::string& out, std::size_t n, double timeout_s = 60) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    if (journaled(out) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::size_t journal_records(const std::string& out, const io::Campaign& c) {
  std::uint64_t fp = std::stoull(c.text_attributes.at("plan_fingerprint"), nullptr, 16);
  return io::read_journals(io::journal_dir(out), fp).records.size();
}

void expect_same_results(const io::Campaign& a, const io::Campaign& b) {
  ASSERT_EQ(a.status, b.status);
  ASSERT_EQ(a.error.size(), b.error.size());
  for (std::size_t i = 0; i < a.error.size(); ++i) {
    if (std::isnan(a.error[i]))
      EXPECT_TRUE(std::isnan(b.error[i])) << i;
    else
      EXPECT_EQ(a.error[i], b.error[i]) << i;  // bit for bit
  }
  // The per-epoch record travels through journals, resumes and gathers alike.
  ASSERT_EQ(a.epoch, b.epoch);
  ASSERT_EQ(a.error_by_epoch.size(), b.error_by_epoch.size());
  for (std::size_t i = 0; i < a.error_by_epoch.size(); ++i) {
    if (std::isnan(a.error_by_epoch[i]))
      EXPECT_TRUE(std::isnan(b.error_by_epoch[i])) << "error_by_epoch " << i;
    else
      EXPECT_EQ(a.error_by_epoch[i], b.error_by_epoch[i]) << "error_by_epoch " << i;
  }
}

}  // namespace

TEST(Measure, IdenticalMatricesAtOneTwoThreeRanks) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  std::vector<io::Campaign> results;
  for (int n : {1, 2, 3}) {
    const std::string out = dir + "/np" + std::to_string(n) + ".nc";
    auto r = test::run_command(measure_cmd(n, out, kSynthetic + " --sampling.scheme uniform --sampling.ratio 0.75"));
    // Injected failures fail again on their retry: the file is written, the exit code says so.
    ASSERT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("planned cells failed, also on their retry"), std::string::npos) << r.output;
    results.push_back(io::read_campaign(out));
  }
  const io::Campaign& c = results[0];
  EXPECT_EQ(c.n_tasks(), 4u);
  EXPECT_EQ(c.n_configs(), 4u);
  std::size_t planned = 0;
  for (std::size_t i = 0; i < c.status.size(); ++i) {
    if (c.status[i] == 0) {
      EXPECT_TRUE(std::isnan(c.error[i])) << i;
    } else {
      ++planned;
      EXPECT_TRUE(c.status[i] == 2 || c.status[i] == 3 || c.status[i] == 4) << int(c.status[i]);
    }
  }
  EXPECT_EQ(planned, 12u);  // round(0.75 * 16)
  EXPECT_EQ(c.text_attributes.at("synthetic"), "1");
  EXPECT_NE(c.text_attributes.at("campaign_name").find("SYNTHETIC"), std::string::npos);
  EXPECT_EQ(c.text_attributes.at("sampling_scheme"), "uniform");
  EXPECT_EQ(c.text_attributes.at("mpi_ranks"), "1");
  EXPECT_EQ(results[2].text_attributes.at("mpi_ranks"), "3");
  for (const char* k : {"peppp_version", "git_commit", "command_line", "created", "option.train.epochs"})
    EXPECT_TRUE(c.text_attributes.count(k)) << k;
  expect_same_results(c, results[1]);
  expect_same_results(c, results[2]);
  // info summarises it.
  auto info = test::run_command(test::peppp_exe() + " info " + dir + "/np2.nc");
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("SYNTHETIC"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("planned 12"), std::string::npos) << info.output;
}

// The same with real training (inputs/ci.ini, one thread per rank): a cell's
// result depends on its seed only, not on the rank that trains it.
TEST(Measure, IdenticalMatricesRealTrainingAtOneTwoThreeRanks) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  std::vector<io::Campaign> results;
  for (int n : {1, 2, 3}) {
    const std::string out = dir + "/np" + std::to_string(n) + ".nc";
    auto r = test::run_command(measure_cmd(n, out));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    results.push_back(io::read_campaign(out));
  }
  const io::Campaign& c = results[0];
  EXPECT_EQ(c.text_attributes.at("synthetic"), "0");
  double best = 1;
  for (std::size_t i = 0; i < c.status.size(); ++i) {
    EXPECT_TRUE(c.status[i] == 2 || c.status[i] == 3) << int(c.status[i]);
    if (std::isfinite(c.error[i])) best = std::min(best, c.error[i]);
  }
  EXPECT_LT(best, 0.2);  // learning is real on some cell
  for (std::size_t i = 0; i < c.final_loss.size(); ++i)
    if (std::isfinite(c.final_loss[i])) EXPECT_EQ(c.final_loss[i], results[1].final_loss[i]) << i;
  expect_same_results(c, results[1]);
  expect_same_results(c, results[2]);
}

// Rows = task x model x learning rate (campaign.models, train.learning_rates): 4 rows per task,
// each row's cells bit for bit those of a one-model, one-rate campaign, with that model's memory.
TEST(Measure, RowsOfModelsAndRatesEqualOneModelCampaigns) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string rows = dir + "/rows.nc";
  auto r = test::run_command(measure_cmd(2, rows, "--campaign.models small-cnn,resnet8 --train.learning_rates 0.01,0.002"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Campaign c = io::read_campaign(rows);
  ASSERT_TRUE(c.has_row_columns());
  ASSERT_EQ(c.n_tasks(), 16u);  // 4 tasks x 2 models x 2 rates
  EXPECT_EQ(c.task[0], "shirt-coat:small-cnn:lr=0.01");
  EXPECT_EQ(c.task[3], "shirt-coat:resnet8:lr=0.002");
  EXPECT_EQ(c.row_task[3], "shirt-coat");
  EXPECT_EQ(c.row_model[3], "resnet8");
  EXPECT_EQ(c.row_learning_rate[3], 0.002);
  {
    io::NcFile f = io::NcFile::open(rows);
    EXPECT_EQ(f.var_dims("error"), (std::vector<std::string>{"row", "config"}));
  }
  std::size_t compared = 0;
  for (const std::string model : {"small-cnn", "resnet8"})
    for (const std::string lr : {"0.01", "0.002"}) {
      const std::string one = dir + "/" + model + "-" + lr + ".nc";
      r = test::run_command(measure_cmd(1, one, "--campaign.model " + model + " --train.learning_rate " + lr));
      ASSERT_EQ(r.exit_code, 0) << r.output;
      const io::Campaign s = io::read_campaign(one);
      ASSERT_FALSE(s.has_row_columns());
      for (std::size_t t = 0; t < s.n_tasks(); ++t) {
        const std::string label = s.task[t] + ":" + model + ":lr=" + lr;
        const auto it = std::find(c.task.begin(), c.task.end(), label);
        ASSERT_NE(it, c.task.end()) << label;
        const std::size_t row = static_cast<std::size_t>(it - c.task.begin());
        EXPECT_EQ(c.row_task_of(row), s.task[t]);
        for (std::size_t k = 0; k < s.n_configs(); ++k) {
          const std::size_t i = c.at(row, k), j = s.at(t, k);
          EXPECT_EQ(c.status[i], s.status[j]) << label;
          if (std::isfinite(s.error[j])) EXPECT_EQ(c.error[i], s.error[j]) << label << " " << s.config[k];
          EXPECT_EQ(c.memory[i], s.memory[j]) << label;  // the row's own memory model
          EXPECT_EQ(c.error_by_epoch[i * c.n_epochs() + c.n_epochs() - 1], c.error[i]) << label;
          ++compared;
        }
      }
    }
  EXPECT_EQ(compared, 64u);
  // resnet8 rows need more memory than small-cnn rows of the same task
  EXPECT_NE(c.memory[c.at(0, 0)], c.memory[c.at(2, 0)]);
  // both the scalar and the list in one place: refused
  const std::string ini = dir + "/both.ini";
  {
    std::ifstream in(test::source_path("inputs/ci.ini"));
    std::stringstream text;
    text << in.rdbuf();
    std::string body = text.str();
    body.replace(body.find("model = small-cnn"), 17, "model = small-cnn\nmodels = small-cnn,resnet8");
    std::ofstream(ini) << body;
    fs::copy(test::source_path("inputs/tasks"), dir + "/tasks", fs::copy_options::recursive);
  }
  r = test::run_command(test::peppp_exe() + " measure --config " + ini + " --output " + dir + "/x.nc");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("campaign.model ("), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("give one of them"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/x.nc"));
}

TEST(Measure, KillOneRankThenResume) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  // No injected failures: a failed cell is trained again on --resume (tests/fault), which would
  // blur "nothing trained twice" here.
  const std::string slow = " --synthetic.seconds 0.15 --synthetic.diverge_fraction 0.1 --train.epochs 3";
  const std::string ref = dir + "/reference.nc", out = dir + "/killed.nc";
  auto r = test::run_command(measure_cmd(2, ref, slow));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  Background bg(dir, measure_cmd(2, out, slow));
  ASSERT_TRUE(wait_for_records(out, 3)) << bg.log();
  auto ranks = bg.ranks();
  ASSERT_EQ(ranks.size(), 2u) << bg.log();
  ::kill(ranks[1], SIGKILL);
  const int rc = bg.wait();
  EXPECT_NE(rc, 0) << bg.log();
  EXPECT_FALSE(fs::exists(out));  // died before writing anything
  const std::size_t before = journaled(out);
  EXPECT_GE(before, 3u);
  EXPECT_LT(before, 16u) << "the campaign finished before the kill; the test proves nothing";

  r = test::run_command(measure_cmd(2, out, slow + " --resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming"), std::string::npos) << r.output;
  io::Campaign c = io::read_campaign(out);
  for (auto s : c.status) EXPECT_TRUE(s == 2 || s == 3 || s == 4) << int(s);
  EXPECT_EQ(journal_records(out, c), 16u);  // nothing trained twice
  expect_same_results(c, io::read_campaign(ref));
}

TEST(Measure, SigtermWritesPartialFileExitsThreeThenResumeCompletes) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string out = dir + "/campaign.nc";
  const std::string slow = " --synthetic.seconds 0.15";
  Background bg(dir, measure_cmd(2, out, slow));
  ASSERT_TRUE(wait_for_records(out, 2)) << bg.log();
  auto ranks = bg.ranks();
  ASSERT_EQ(ranks.size(), 2u) << bg.log();
  for (int pid : ranks) ::kill(pid, SIGTERM);  // as Slurm signals every task
  EXPECT_EQ(bg.wait(), 3) << bg.log();
  io::Campaign partial = io::read_campaign(out);
  std::size_t missing = 0;
  for (auto s : partial.status) missing += s == 1;
  EXPECT_GT(missing, 0u);
  EXPECT_EQ(partial.text_attributes.at("complete"), "0");
  EXPECT_NE(bg.log().find("--resume"), std::string::npos) << bg.log();

  auto r = test::run_command(measure_cmd(2, out, slow + " --resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  io::Campaign c = io::read_campaign(out);
  for (auto s : c.status) EXPECT_TRUE(s == 2 || s == 3 || s == 4) << int(s);
  EXPECT_EQ(journal_records(out, c), 16u);
  EXPECT_EQ(c.text_attributes.at("complete"), "1");
}

namespace {
void expect_refused(const std::string& out, const std::string& args, const std::string& expect) {
  auto r = test::run_command(measure_cmd(2, out, kSynthetic + " " + args));
  EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.output;
  EXPECT_NE(r.output.find(expect), std::string::npos) << args << "\n" << r.output;
  EXPECT_EQ(r.output.find("MPI_ABORT"), std::string::npos) << r.output;  // every rank agreed, none aborted
  EXPECT_FALSE(fs::exists(out)) << args;
  EXPECT_FALSE(fs::exists(io::journal_dir(out))) << args;
}
}  // namespace

TEST(Measure, BadSettingsExitOneOnEveryRankWithoutOutput) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string out = dir + "/campaign.nc";
  std::ofstream(dir + "/empty-catalog.ini")
      << "[dataset fashion]\nkind = idx\npath = /usr/share/datasets/fashion-mnist\nclasses = 10\n";
  expect_refused(out, "--campaign.formats_a e3m1,x9m2", "x9m2");
  expect_refused(out, "--campaign.tasks " + dir + "/empty-catalog.ini", "task");
  expect_refused(out, "--sampling.scheme uniform --sampling.ratio 1.5", "sampling.ratio");
}

TEST(Measure, BadFilesExitOneOnEveryRankWithoutOutput) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  std::ofstream(dir + "/missing-data.ini")
      << "[dataset fashion]\nkind = idx\npath = " << dir << "/no-such-data\nclasses = 10\n"
      << "[task a]\ndataset = fashion\nclasses = 0, 1\nresolution = 14\nchannels = 1\n";
  expect_refused(dir + "/campaign.nc", "--campaign.tasks " + dir + "/missing-data.ini", "no-such-data");
  expect_refused(dir + "/no/such/folder/c.nc", "", "does not exist");
}

namespace {
void expect_same(const std::vector<double>& a, const std::vector<double>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i])) EXPECT_TRUE(std::isnan(b[i])) << what << " " << i;
    else EXPECT_EQ(a[i], b[i]) << what << " " << i;  // bit for bit
  }
}
}  // namespace

// Two replicates with real training: error is the mean of the replicates
// (summed in replicate order) bit for bit, identical at 1, 2 and 3 ranks, and
// replicate 0 is the 1-replicate campaign's cell.
TEST(Measure, ReplicatesRealTrainingMeanIdenticalAtOneTwoThreeRanks) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  auto r = test::run_command(measure_cmd(2, dir + "/one.nc"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Campaign one = io::read_campaign(dir + "/one.nc");
  std::vector<io::Campaign> results;
  for (int n : {1, 2, 3}) {
    const std::string out = dir + "/np" + std::to_string(n) + ".nc";
    r = test::run_command(measure_cmd(n, out, "--train.replicates 2"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    results.push_back(io::read_campaign(out));
  }
  const io::Campaign& c = results[0];
  ASSERT_EQ(c.n_replicates(), 2u);
  EXPECT_NE(c.text_attributes.at("plan_fingerprint"), one.text_attributes.at("plan_fingerprint"));
  std::size_t spread = 0;
  for (std::size_t i = 0; i < c.error.size(); ++i) {
    ASSERT_TRUE(c.status[i] == 2 || c.status[i] == 3) << int(c.status[i]);
    const double e0 = c.error_replicates[2 * i], e1 = c.error_replicates[2 * i + 1];
    EXPECT_EQ(e0, one.error[i]) << i;  // replicate 0 = the 1-replicate cell
    EXPECT_EQ(c.error[i], (e0 + e1) / 2) << i;
    EXPECT_TRUE(std::isfinite(c.error_std[i])) << i;
    spread += e0 != e1;
  }
  EXPECT_GT(spread, 0u);  // replicates do differ: their own seeds
  for (std::size_t k = 1; k < results.size(); ++k) {
    expect_same_results(c, results[k]);
    expect_same(c.error_replicates, results[k].error_replicates, "error_replicates");
    expect_same(c.error_std, results[k].error_std, "error_std");
    expect_same(c.final_loss, results[k].final_loss, "final_loss");
  }
  auto info = test::run_command(test::peppp_exe() + " info " + dir + "/np2.nc");
  EXPECT_NE(info.output.find("noise: std"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("replicates: pooled over 16 cells"), std::string::npos) << info.output;
}

// An interrupted 2-replicate campaign resumes without training a finished replicate again.
TEST(Measure, ReplicatesResumeWithoutRetrainingAFinishedReplicate) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string slow = " --synthetic.seconds 0.1 --synthetic.diverge_fraction 0.1 --train.replicates 2";
  const std::string ref = dir + "/reference.nc", out = dir + "/campaign.nc";
  auto r = test::run_command(measure_cmd(2, ref, slow));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Background bg(dir, measure_cmd(2, out, slow));
  ASSERT_TRUE(wait_for_records(out, 5)) << bg.log();
  auto ranks = bg.ranks();
  ASSERT_EQ(ranks.size(), 2u) << bg.log();
  for (int pid : ranks) ::kill(pid, SIGTERM);
  EXPECT_EQ(bg.wait(), 3) << bg.log();
  const std::size_t before = journaled(out);
  EXPECT_LT(before, 32u) << "finished before the signal; the test proves nothing";
  const io::Campaign partial = io::read_campaign(out);
  std::size_t kept = 0;
  for (double e : partial.error_replicates) kept += std::isfinite(e);
  EXPECT_GT(kept, 0u);

  r = test::run_command(measure_cmd(2, out, slow + " --resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resuming"), std::string::npos) << r.output;
  const io::Campaign c = io::read_campaign(out);
  EXPECT_EQ(journal_records(out, c), 32u);  // 16 cells x 2 replicates, none trained twice
  const io::Campaign want = io::read_campaign(ref);
  expect_same_results(c, want);
  expect_same(c.error_replicates, want.error_replicates, "error_replicates");
  expect_same(c.error_std, want.error_std, "error_std");
}

// A journal written before journal version 2 (tests/golden/before-replicates/journal) is refused
// naming its version: tests/fault (fault_old_version).
