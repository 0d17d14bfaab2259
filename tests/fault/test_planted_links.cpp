// A folder another user can write to (issue #28): symbolic links planted at
// every name peppp will create there — outputs, locks, journals, moved-aside
// names, select's round and measured files, run's files and figures — never
// redirect a write. Per writing command (measure, measure --restart,
// complete, loocv, loocv --part, select, run, merge, quantize, memory; info
// and tasks write nothing): the links' targets (a file and a folder of the
// "victim") are untouched, and the command either fails with one error line
// or succeeds with a regular file at its output name (the link itself
// replaced by the final rename).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "fault_util.hpp"
#include "test_util.hpp"

using namespace peppp;
using namespace peppp::fault;
namespace fs = std::filesystem;

namespace {

struct Victim {
  std::string dir, file;
  explicit Victim(const std::string& base) : dir(base + "/victim"), file(base + "/victim/secret.txt") {
    fs::create_directories(dir);
    write_text(file, "the victim's own data\n");
  }
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

void plant(const std::string& name, const std::string& target) {
  std::error_code ec;
  fs::remove_all(name, ec);
  fs::create_symlink(target, name);
}

// `<path>.moved-STAMP` for the next `seconds` seconds (the names move_aside tries first).
std::vector<std::string> moved_aside_names(const std::string& path, int seconds) {
  std::vector<std::string> out;
  const std::time_t now = std::time(nullptr);
  for (int s = 0; s <= seconds; ++s) {
    const std::time_t t = now + s;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    out.push_back(path + ".moved-" + buf);
  }
  return out;
}

struct Planted {
  std::vector<std::string> files;    ///< names linked to the victim's file
  std::vector<std::string> folders;  ///< names linked to the victim's folder
};

// Plant, run, check: the victim untouched; exit 0 with regular files at `outputs`, or exit 1 with one line.
void expect_no_redirect(const Victim& v, const Planted& p, const std::string& command,
                        const std::vector<std::string>& outputs, bool must_succeed = false) {
  SCOPED_TRACE(command);
  for (const auto& n : p.files) plant(n, v.file);
  for (const auto& n : p.folders) plant(n, v.dir);
  const std::vector<std::string> before = v.listing();
  const auto r = test::run_command(command);
  EXPECT_EQ(read_text(v.file), "the victim's own data\n") << r.output;
  EXPECT_EQ(v.listing(), before) << r.output;
  EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
  if (must_succeed) EXPECT_EQ(r.exit_code, 0) << r.output;
  if (r.exit_code == 0) {
    for (const auto& o : outputs) {
      struct stat st {};
      ASSERT_EQ(::lstat(o.c_str(), &st), 0) << o << "\n" << r.output;
      EXPECT_TRUE(S_ISREG(st.st_mode)) << o << " is not a regular file\n" << r.output;
    }
  } else {
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(error_lines(r.output), 1u) << r.output;
  }
}

// run has no synthetic cells: 4 tasks x 3 configurations of real (tiny) training, a short LOOCV.
const std::string kSmallRun =
    " --campaign.formats_a e3m1,e4m2,e5m2 --campaign.formats_b e6m7 --loocv.methods ed-mf,random-mf"
    " --loocv.settings I --run.progress_interval 0 --quiet";

struct Scene {
  std::string dir = test::scratch_dir(MPI_COMM_SELF);
  Victim victim{dir};
  std::string exe = test::peppp_exe();
  std::string ci = test::source_path("inputs/ci.ini");
  std::string measure(const std::string& out, const std::string& extra = "") const {
    return mpi_prefix(2) + exe + " measure --config " + ci + " --output " + out +
           " --synthetic.seconds 0.001 --run.progress_interval 0 " + extra;
  }
  std::string campaign(const std::string& name) const {
    const std::string out = dir + "/" + name;
    EXPECT_EQ(test::run_command(measure(out)).exit_code, 0);
    return out;
  }
};

}  // namespace

TEST(PlantedLinks, Measure) {
  Scene s;
  const std::string out = s.dir + "/m.nc";
  // At the output: the rename replaces the link itself.
  expect_no_redirect(s.victim, {{out}, {}}, s.measure(out), {out}, true);
  // At the lock: never written through (it is linked, not opened, onto the name).
  const std::string out2 = s.dir + "/m2.nc";
  expect_no_redirect(s.victim, {{out2, out2 + ".lock"}, {}}, s.measure(out2), {out2});
  // At the journal folder: refused (a link is no folder to journal into).
  const std::string out3 = s.dir + "/m3.nc";
  expect_no_redirect(s.victim, {{}, {out3 + ".journal"}}, s.measure(out3), {out3});
  // A finished output rerun with --restart: its journal and the file move aside, never onto a planted name.
  Planted aside;
  for (const auto& n : moved_aside_names(out + ".journal", 20)) aside.files.push_back(n);
  for (const auto& n : moved_aside_names(out, 20)) aside.folders.push_back(n);
  expect_no_redirect(s.victim, aside, s.measure(out, "--restart"), {out}, true);
  fs::remove_all(out + ".journal");  // a finished output without its journal: --restart moves it aside
  expect_no_redirect(s.victim, aside, s.measure(out, "--restart"), {out}, true);
}

TEST(PlantedLinks, CompleteLoocvMergeMemory) {
  Scene s;
  const std::string a = s.campaign("a.nc");
  const std::string b = s.dir + "/b.nc";
  ASSERT_EQ(test::run_command(s.measure(b, "--campaign.seed 2")).exit_code, 0);
  const std::string c = s.dir + "/c.nc";
  expect_no_redirect(s.victim, {{c, c + ".lock"}, {}}, s.exe + " complete --campaign " + a + " --output " + c, {c},
                     true);
  const std::string l = s.dir + "/l.nc";
  const std::string loocv = " --settings I --methods ed-mf --measurements 3 --summary false";
  expect_no_redirect(s.victim, {{l, l + ".lock"}, {}}, s.exe + " loocv --campaign " + a + " --output " + l + loocv,
                     {l}, true);
  const std::string p = s.dir + "/part-1.nc";
  expect_no_redirect(s.victim, {{p}, {}},
                     mpi_prefix(2) + s.exe + " loocv --campaign " + a + " --output " + p + " --part 1/2" + loocv, {p},
                     true);
  const std::string lm = s.dir + "/lm.nc";
  ASSERT_EQ(test::run_command(s.exe + " loocv --campaign " + a + " --output " + s.dir + "/part-2.nc --part 2/2" +
                              loocv)
                .exit_code,
            0);
  expect_no_redirect(s.victim, {{lm}, {}},
                     s.exe + " loocv --merge " + p + "," + s.dir + "/part-2.nc --output " + lm + " --summary false",
                     {lm}, true);
  const std::string m = s.dir + "/m.nc";
  expect_no_redirect(s.victim, {{m, m + ".lock"}, {}}, s.exe + " merge " + a + " " + b + " --output " + m, {m}, true);
  const std::string mem = s.dir + "/memory.nc";
  expect_no_redirect(s.victim, {{mem}, {}}, s.exe + " memory --config " + s.ci + " --output " + mem, {mem}, true);
}

TEST(PlantedLinks, Quantize) {
  Scene s;
  const std::string in = s.dir + "/in.f32", out = s.dir + "/out.f32";
  const float values[4] = {0.1f, -2.5f, 3.14159f, 100.0f};
  write_text(in, std::string(reinterpret_cast<const char*>(values), sizeof values));
  expect_no_redirect(s.victim, {{out}, {}},
                     s.exe + " quantize --format e4m3 --input " + in + " --output " + out, {out}, true);
  EXPECT_EQ(fs::file_size(out), sizeof values);
}

TEST(PlantedLinks, Select) {
  Scene s;
  const std::string camp = s.campaign("c.nc");
  const std::string catalog = s.dir + "/catalog.ini";
  write_text(catalog, read_text(test::source_path("inputs/tasks/fashion-ci.ini")) +
                          "\n[task tshirt-dress]\nclasses = t-shirt, dress\n");
  auto cmd = [&](const std::string& out) {
    return mpi_prefix(2) + s.exe + " select --campaign " + camp + " --task " + catalog + ":tshirt-dress --output " +
           out + " --acquisition ed-mf --budget 1e9 --measurements 2 --run.progress_interval 0";
  };
  const std::string out = s.dir + "/sel.nc";
  Planted p;
  for (const std::string n : {"", ".measured.nc", ".measured.nc.lock", ".round-1.nc", ".round-2.nc", ".lock"})
    p.files.push_back(out + n);
  expect_no_redirect(s.victim, p, cmd(out), {out});
  const std::string out2 = s.dir + "/sel2.nc";
  expect_no_redirect(s.victim, {{out2}, {out2 + ".measured.nc.journal", out2 + ".round-1.nc.journal"}}, cmd(out2),
                     {out2});
}

TEST(PlantedLinks, Run) {
  Scene s;
  const std::string run = s.dir + "/run";
  fs::create_directories(run);
  Planted p;
  for (const std::string n : {"campaign.nc", "campaign.nc.lock", "completed.nc", "loocv.nc", "report.md"})
    p.files.push_back(run + "/" + n);
  p.folders.push_back(run + "/figures");
  expect_no_redirect(s.victim, p,
                     mpi_prefix(2) + s.exe + " run --config " + s.ci + " --output-dir " + run +
                         kSmallRun,
                     {run + "/campaign.nc"});
  // Figures into a real folder, links at their names: each replaced, not written through.
  const std::string run2 = s.dir + "/run2";
  fs::create_directories(run2 + "/figures");
  Planted q;
  for (const std::string n : {"figures/pareto_counts.png", "figures/pareto_counts.csv", "figures/tasks_kendall.png",
                              "report.md"})
    q.files.push_back(run2 + "/" + n);
  expect_no_redirect(s.victim, q,
                     mpi_prefix(2) + s.exe + " run --config " + s.ci + " --output-dir " + run2 +
                         kSmallRun,
                     {run2 + "/campaign.nc"});
}
