// kill -9 and SIGTERM at random points of measure, select, run, merge and
// loocv --part (issue #28): 10 rounds each, alternating every rank and one
// rank (and SIGKILL / SIGTERM every two rounds), the moments drawn from a
// seeded generator (reproducible). After every round: no file reads as
// complete but is not (an output is absent, or reads and holds what an
// uninterrupted run writes, or a campaign's `complete` agrees with its
// cells), and no measured cell is lost (the journal's cells and a campaign's
// measured cells only grow); at the end the resumed run equals the
// uninterrupted one. Campaigns are synthetic and tiny (seconds per run);
// select trains three real cells of a ci-sized task, run twelve (`run` has
// no synthetic cells: its test is also labelled `slow`).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "fault_util.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/io/selection.hpp"
#include "test_util.hpp"

using namespace peppp;
using namespace peppp::fault;
namespace fs = std::filesystem;

namespace {

constexpr int kRounds = 10;

std::string exe() { return test::peppp_exe(); }
std::string ci() { return test::source_path("inputs/ci.ini"); }

std::string synthetic_campaign(const std::string& out, const std::string& extra, double seconds = 0.001) {
  return exe() + " measure --config " + ci() + " --output " + out + " --synthetic.seconds " +
         std::to_string(seconds) + " --run.progress_interval 0 " + extra;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// One command killed `kRounds` times: `command(k)` starts round k (in the
/// background, on 2 ranks), it is signalled `[0, max_delay_s)` after its
/// ranks are up (SIGKILL in rounds 0,1,4,5,8,9, SIGTERM in the others; every
/// rank in even rounds, one drawn rank in odd ones), and `check(k)` looks at
/// what it left. Returns the number of rounds whose signal reached a rank.
int kill_rounds(const std::string& dir, const std::string& word, const std::string& marker,
                const std::function<std::string(int)>& command, double max_delay_s, std::uint32_t seed,
                const std::function<void(int)>& check) {
  std::mt19937 rng(seed);
  int hit = 0;
  for (int k = 0; k < kRounds; ++k) {
    SCOPED_TRACE("round " + std::to_string(k));
    const int sig = (k / 2) % 2 == 0 ? SIGKILL : SIGTERM;
    const int which = k % 2 == 0 ? -1 : static_cast<int>(rng() % 2);
    const auto delay = std::chrono::microseconds(rng() % static_cast<std::uint32_t>(max_delay_s * 1e6 + 1));
    Background run(dir, command(k));
    // Wait for the ranks (a short command may be done before both are seen).
    const auto t0 = std::chrono::steady_clock::now();
    while (kill_command(word, marker, 0) < 2 && seconds_since(t0) < 30) {
      std::ifstream done(run.rc);
      if (done.good()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(delay);
    hit += kill_command(word, marker, sig, which) > 0 ? 1 : 0;
    const int rc = run.wait(120);
    EXPECT_NE(rc, -1) << "round " << k << " did not end: " << run.log();
    if (rc == -1) {  // leave nothing running, and let the round's shell write its status
      kill_leftovers(marker);
      run.wait(30);
    }
    check(k);
  }
  return hit;
}

// A campaign file that exists reads, and says complete only when no planned cell is left.
std::size_t check_campaign_file(const std::string& path) {
  if (!fs::exists(path)) return 0;
  io::Campaign c;
  EXPECT_NO_THROW(c = io::read_campaign(path)) << path;
  std::size_t planned = 0, results = 0;
  for (auto s : c.status) {
    planned += s == static_cast<std::uint8_t>(CellStatus::planned) ? 1 : 0;
    results += s == static_cast<std::uint8_t>(CellStatus::measured) || s == static_cast<std::uint8_t>(CellStatus::diverged) ||
                       s == static_cast<std::uint8_t>(CellStatus::failed)
                   ? 1
                   : 0;
  }
  const auto it = c.text_attributes.find("complete");
  if (it != c.text_attributes.end() && (it->second == "1")) EXPECT_EQ(planned, 0u) << path << " says complete";
  return results;
}

// The cells of every whole record in the journal folder of `output`.
std::set<std::uint64_t> journal_cells(const std::string& output) {
  std::set<std::uint64_t> cells;
  for (const auto& r : io::scan_journals(io::journal_dir(output)).records) cells.insert(r.cell);
  return cells;
}

// Cells never lost: the journal's cells and the campaign's results only grow.
struct Monotonic {
  std::set<std::uint64_t> cells;
  std::size_t results = 0;
  void check(const std::string& output) {
    const std::set<std::uint64_t> now = journal_cells(output);
    for (auto c : cells) EXPECT_TRUE(now.count(c)) << "journal of " << output << " lost cell " << c;
    cells = now;
    const std::size_t r = check_campaign_file(output);
    if (fs::exists(output)) {
      EXPECT_GE(r, results) << output << " holds fewer results than before";
      results = r;
    }
  }
};

// Equal values, NaN equal to NaN.
bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

void expect_no_temporaries(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

}  // namespace

TEST(KillRounds, Measure) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string ref = dir + "/ref.nc", out = dir + "/c.nc";
  auto cmd = [&](const std::string& o, const std::string& extra) {
    return mpi_prefix(2) + synthetic_campaign(o, extra, 0.05);
  };
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(test::run_command(cmd(ref, "")).exit_code, 0);
  const double full = seconds_since(t0);
  Monotonic seen;
  const int hit = kill_rounds(dir, "measure", " " + out + " ", [&](int) { return cmd(out, "--resume"); }, full,
                              2801, [&](int) { seen.check(out); });
  EXPECT_GE(hit, 5);
  const auto r = test::run_command(cmd(out, "--resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  seen.check(out);
  expect_same_matrix(io::read_campaign(out), io::read_campaign(ref));
  expect_no_temporaries(dir);
}

TEST(KillRounds, Run) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string ref = dir + "/ref", out = dir + "/out";
  auto cmd = [&](const std::string& d, const std::string& extra) {
    return mpi_prefix(2) + exe() + " run --config " + ci() + " --output-dir " + d +
           " --campaign.formats_a e3m1,e4m2,e5m2 --campaign.formats_b e6m7 --loocv.methods ed-mf,random-mf"
           " --loocv.settings I --run.progress_interval 0 --figures false --quiet " +
           extra;
  };
  const auto t0 = std::chrono::steady_clock::now();
  const auto first = test::run_command(cmd(ref, ""));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const double full = seconds_since(t0);
  fs::create_directories(out);
  Monotonic seen;
  const io::Loocv ref_loocv = io::read_loocv(ref + "/loocv.nc");
  // Moments within the first 60 % of an uninterrupted run: a resumed run skips what is done and gets
  // shorter round by round, so later moments would mostly find it finished (one clean-clone run hit 4 of 10).
  const int hit = kill_rounds(dir, "run", " " + out + " ", [&](int) { return cmd(out, "--resume"); }, 0.6 * full, 2802,
                              [&](int) {
                                seen.check(out + "/campaign.nc");
                                // The later stages' files are whole when they are there.
                                if (fs::exists(out + "/loocv.nc")) {
                                  io::Loocv l;
                                  EXPECT_NO_THROW(l = io::read_loocv(out + "/loocv.nc"));
                                  EXPECT_EQ(l.task, ref_loocv.task);
                                }
                                if (fs::exists(out + "/completed.nc"))
                                  EXPECT_NO_THROW(io::read_completion(out + "/completed.nc"));
                              });
  EXPECT_GE(hit, 4);
  const auto r = test::run_command(cmd(out, "--resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_matrix(io::read_campaign(out + "/campaign.nc"), io::read_campaign(ref + "/campaign.nc"));
  EXPECT_TRUE(same_values(io::read_loocv(out + "/loocv.nc").regret, ref_loocv.regret));
  expect_no_temporaries(out);
}

TEST(KillRounds, Merge) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string a = dir + "/a.nc", b = dir + "/b.nc", ref = dir + "/ref.nc", out = dir + "/m.nc";
  ASSERT_EQ(test::run_command(synthetic_campaign(a, "--campaign.seed 1")).exit_code, 0);
  ASSERT_EQ(test::run_command(synthetic_campaign(b, "--campaign.seed 2")).exit_code, 0);
  auto cmd = [&](const std::string& o) { return mpi_prefix(2) + exe() + " merge " + a + " " + b + " --output " + o; };
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(test::run_command(cmd(ref)).exit_code, 0);
  const double full = seconds_since(t0);
  const io::Campaign want = io::read_campaign(ref);
  const int hit = kill_rounds(
      dir, "merge", " " + out + " ",
      [&](int k) {
        if (k % 3 == 0) fs::remove(out);  // sometimes a first write, sometimes a replacement
        return cmd(out);
      },
      full, 2803,
      [&](int) {
        if (fs::exists(out)) expect_same_matrix(io::read_campaign(out), want);
      });
  EXPECT_GE(hit, 5);
  ASSERT_EQ(test::run_command(cmd(out)).exit_code, 0);
  expect_same_matrix(io::read_campaign(out), want);
  expect_no_temporaries(dir);
}

TEST(KillRounds, LoocvPart) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string camp = dir + "/c.nc", ref = dir + "/ref-1.nc", out = dir + "/part-1.nc";
  ASSERT_EQ(test::run_command(synthetic_campaign(camp, "")).exit_code, 0);
  auto cmd = [&](const std::string& o, const std::string& part) {
    return mpi_prefix(2) + exe() + " loocv --campaign " + camp + " --output " + o + " --part " + part +
           " --settings I --methods ed-mf,random-mf --measurements 3 --summary false";
  };
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(test::run_command(cmd(ref, "1/2")).exit_code, 0);
  const double full = seconds_since(t0);
  const io::Loocv want = io::read_loocv(ref);
  const int hit = kill_rounds(
      dir, "loocv", " " + out + " ",
      [&](int k) {
        if (k % 3 == 0) fs::remove(out);
        return cmd(out, "1/2");
      },
      full, 2804,
      [&](int) {
        if (!fs::exists(out)) return;
        io::Loocv l;
        ASSERT_NO_THROW(l = io::read_loocv(out));
        EXPECT_EQ(l.fold, want.fold);
        EXPECT_TRUE(same_values(l.regret, want.regret));
      });
  EXPECT_GE(hit, 5);
  ASSERT_EQ(test::run_command(cmd(out, "1/2")).exit_code, 0);
  ASSERT_EQ(test::run_command(cmd(dir + "/part-2.nc", "2/2")).exit_code, 0);
  const auto m = test::run_command(exe() + " loocv --merge " + out + "," + dir + "/part-2.nc --output " + dir +
                                   "/all.nc --summary false");
  EXPECT_EQ(m.exit_code, 0) << m.output;
  expect_no_temporaries(dir);
}

TEST(KillRounds, Select) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string camp = dir + "/c.nc";
  ASSERT_EQ(test::run_command(synthetic_campaign(camp, "")).exit_code, 0);
  const std::string catalog = dir + "/catalog.ini";
  write_text(catalog, read_text(test::source_path("inputs/tasks/fashion-ci.ini")) +
                          "\n[task tshirt-dress]\nclasses = t-shirt, dress\n");
  auto cmd = [&](const std::string& o, const std::string& extra) {
    return mpi_prefix(2) + exe() + " select --campaign " + camp + " --task " + catalog + ":tshirt-dress --output " +
           o + " --acquisition ed-mf --budget 1e9 --measurements 3 --run.progress_interval 0 " + extra;
  };
  const std::string ref = dir + "/ref.nc", out = dir + "/sel.nc";
  const auto t0 = std::chrono::steady_clock::now();
  const auto first = test::run_command(cmd(ref, ""));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const double full = seconds_since(t0);
  const io::Selection want = io::read_selection(ref);
  Monotonic seen;
  const int hit = kill_rounds(dir, "select", " " + out + " ", [&](int) { return cmd(out, "--resume"); }, full, 2805,
                              [&](int) {
                                seen.check(out + ".measured.nc");
                                if (!fs::exists(out)) return;
                                io::Selection s;
                                ASSERT_NO_THROW(s = io::read_selection(out));
                                EXPECT_EQ(s.recommended_config, want.recommended_config);
                              });
  EXPECT_GE(hit, 5);
  const auto r = test::run_command(cmd(out, "--resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Selection s = io::read_selection(out);
  EXPECT_EQ(s.recommended_config, want.recommended_config);
  EXPECT_EQ(s.measured, want.measured);
  for (std::size_t j = 0; j < s.config.size(); ++j)
    if (want.measured[j]) EXPECT_EQ(s.measured_error[j], want.measured_error[j]) << s.config[j];
  expect_no_temporaries(dir);
}
