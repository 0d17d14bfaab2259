// Fault injection against the real executable (issue #16): every case a
// careful user can produce by hand, each checked for its exit code, its one
// error line, and what is left on disk (no partial output; nothing already
// measured lost; nothing stale reused). Cells are synthetic where what a
// cell computes does not matter (queue, journal, lock, I/O), real training
// where the data path is the point.
#include <gtest/gtest.h>
#include <netcdf.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "fault_util.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/lock.hpp"
#include "test_util.hpp"

using namespace peppp;
using namespace peppp::fault;
namespace fs = std::filesystem;

namespace {

// A ci-sized synthetic campaign: 4 tasks x 9 configurations.
std::string synthetic(const std::string& out, int ranks = 1, const std::string& extra = "",
                      double seconds = 0.002) {
  return mpi_prefix(ranks) + test::peppp_exe() + " measure --config " + test::source_path("inputs/ci.ini") +
         " --output " + out + " --synthetic.seconds " + std::to_string(seconds) + " --run.progress_interval 0 " + extra;
}

}  // namespace

// 1. An output that is an input of the same command is refused, by any name.
TEST(Fault, OutputEqualsInput) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string c = dir + "/c.nc";
  ASSERT_EQ(test::run_command(synthetic(c)).exit_code, 0);
  const std::string before = file_hash(c);
  fs::create_symlink(c, dir + "/link.nc");
  fs::create_hard_link(c, dir + "/hard.nc");
  fs::create_directories(dir + "/sub");
  const std::string exe = test::peppp_exe();
  for (const std::string& cmd :
       {exe + " complete --campaign " + c + " --output " + c, exe + " complete --campaign " + c + " --output " + dir + "/link.nc",
        exe + " complete --campaign " + dir + "/link.nc --output " + dir + "/sub/../c.nc",
        exe + " loocv --campaign " + c + " --output " + dir + "/hard.nc --settings I --methods ed-mf --measurements 3",
        exe + " loocv --merge " + dir + "/a.nc," + c + " --output " + c}) {
    const auto r = test::run_command(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.output;
    EXPECT_EQ(error_lines(r.output), 1u) << r.output;
    EXPECT_NE(r.output.find("is the same file as the input"), std::string::npos) << r.output;
  }
  EXPECT_EQ(file_hash(c), before) << "the campaign was modified";
}

// 2. Out-of-range and inconsistent campaign values are refused on read, naming file, variable, cell and value.
TEST(Fault, CampaignValuesValidatedOnRead) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string c = dir + "/c.nc";
  ASSERT_EQ(test::run_command(synthetic(c)).exit_code, 0);
  struct Case {
    const char* var;
    double value;
    const char* expect;
  };
  for (const Case& k : {Case{"error", -0.5, "variable 'error' at task 'shirt-coat', config 'e3m1/e6m7' holds -0.5"},
                        Case{"error", 7.0, "holds 7; allowed: a misclassification rate in [0, 1]"},
                        Case{"memory", 0.0, "variable 'memory' at task 'shirt-coat', config 'e3m1/e6m7' holds 0"},
                        Case{"memory", NAN, "variable 'memory'"},
                        Case{"error", NAN, "has status 'measured' but error nan"}}) {
    const std::string bad = dir + "/bad.nc";
    fs::copy_file(c, bad, fs::copy_options::overwrite_existing);
    set_double(bad, k.var, 0, k.value);
    const std::string out = dir + "/completed.nc";
    const auto r = test::run_command(test::peppp_exe() + " complete --campaign " + bad + " --output " + out);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(error_lines(r.output), 1u) << r.output;
    EXPECT_NE(r.output.find(k.expect), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(bad), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out));
  }
}

// 3. A corrupt dataset is bad input found before any training: exit 1 on every rank, nothing created.
TEST(Fault, CorruptDatasetRefusedBeforeTraining) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  struct Case {
    const char* name;
    void (*spoil)(const std::string& data_dir);
    const char* expect;
  };
  const Case cases[] = {
      {"truncated-gzip",
       [](const std::string& d) { truncate_file(d + "/t10k-images-idx3-ubyte.gz", 100000); },
       "t10k-images-idx3-ubyte.gz: corrupt or truncated gzip stream"},
      {"wrong-magic",
       [](const std::string& d) {
         fs::copy_file(d + "/train-labels-idx1-ubyte.gz", d + "/train-images-idx3-ubyte.gz",
                       fs::copy_options::overwrite_existing);
       },
       "train-images-idx3-ubyte.gz: wrong IDX magic for images"},
      {"labels-short",
       [](const std::string& d) { write_short_labels(d + "/t10k-labels-idx1-ubyte.gz", 10000, 9000); },
       "t10k-labels-idx1-ubyte.gz: IDX labels size mismatch: header says 10000"},
  };
  for (const Case& k : cases) {
    const std::string data = dir + "/" + k.name;
    const std::string catalog = fashion_copy(data);
    k.spoil(data);
    const std::string out = data + "/campaign.nc";
    const auto r = test::run_command(mpi_prefix(2) + test::peppp_exe() + " measure --config " +
                                     test::source_path("inputs/ci.ini") + " --campaign.tasks " + catalog +
                                     " --output " + out);
    EXPECT_EQ(r.exit_code, 1) << k.name << "\n" << r.output;
    EXPECT_EQ(error_lines(r.output), 1u) << r.output;
    EXPECT_NE(r.output.find(k.expect), std::string::npos) << k.name << "\n" << r.output;
    EXPECT_EQ(r.output.find("cells"), std::string::npos) << "something was trained:\n" << r.output;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(io::journal_dir(out)));
    EXPECT_FALSE(fs::exists(io::lock_path(out)));
  }
}

// 4. Resume is explicit; failed cells are retried on the spot, then by --resume; exit 2 while any fails.
TEST(Fault, ExplicitResumeAndFailedCellsRetried) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string ref = dir + "/ref.nc", out = dir + "/c.nc";
  ASSERT_EQ(test::run_command(synthetic(ref, 2)).exit_code, 0);
  auto r = test::run_command(synthetic(out, 2, "--synthetic.fail_fraction 0.25"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("planned cells failed, also on their retry"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("retrying it once"), std::string::npos) << r.output;
  const io::Campaign failed = io::read_campaign(out);
  std::size_t nfailed = 0;
  for (auto s : failed.status) nfailed += s == static_cast<std::uint8_t>(CellStatus::failed) ? 1 : 0;
  ASSERT_GT(nfailed, 0u);
  // Without --resume: refused, naming both ways forward.
  r = test::run_command(synthetic(out, 2));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(error_lines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("pass --resume to continue it, or --restart"), std::string::npos) << r.output;
  // The cause repaired: --resume trains exactly the failed cells and ends equal to a clean run.
  r = test::run_command(synthetic(out, 2, "--resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(std::to_string(nfailed) + " trained now"), std::string::npos) << r.output;
  expect_same_matrix(io::read_campaign(out), io::read_campaign(ref));
  // --restart moves the journal aside (never deleted) and trains everything.
  r = test::run_command(synthetic(out, 2, "--restart"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("36 trained now"), std::string::npos) << r.output;
  std::size_t moved = 0;
  for (const auto& e : fs::directory_iterator(dir))
    moved += e.path().filename().string().rfind("c.nc.journal.moved-", 0) == 0 ? 1 : 0;
  EXPECT_EQ(moved, 1u);
}

// 5. The fingerprint covers what a task is: a changed catalog task or dataset file is refused, naming it.
TEST(Fault, ChangedTaskDefinitionNotReused) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string catalog = fashion_copy(dir + "/data");
  const std::string out = dir + "/c.nc";
  const std::string base = " --campaign.tasks " + catalog;
  ASSERT_EQ(test::run_command(synthetic(out, 1, base)).exit_code, 0);
  struct Change {
    std::string what, from, to, expect;
  };
  for (const Change& k : {Change{"classes", "classes = shirt, coat", "classes = shirt, pullover",
                                 "task 'shirt-coat' definition (classes: 6,4 -> 6,2)"},
                          Change{"resolution", "resolution = 14", "resolution = 12", "definition (resolution: 14 -> 12)"},
                          Change{"seed", "seed = 7", "seed = 8", "definition (subsample_seed: 7 -> 8)"},
                          Change{"size", "test_size = 100", "test_size = 90", "definition (test_size: 100 -> 90)"}}) {
    const std::string text = read_text(catalog);
    std::string changed = text;
    changed.replace(changed.find(k.from), k.from.size(), k.to);
    write_text(catalog, changed);
    const auto r = test::run_command(synthetic(out, 1, base + " --resume"));
    write_text(catalog, text);
    EXPECT_EQ(r.exit_code, 1) << k.what << "\n" << r.output;
    EXPECT_EQ(error_lines(r.output), 1u) << r.output;
    EXPECT_NE(r.output.find(k.expect), std::string::npos) << k.what << "\n" << r.output;
  }
  // A dataset file replaced by another of the same name.
  const std::string f = dir + "/data/t10k-labels-idx1-ubyte.gz";
  write_short_labels(f, 10000, 10000);  // valid, but not the same bytes
  const auto r = test::run_command(synthetic(out, 1, base + " --resume"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("definition (file.t10k-labels-idx1-ubyte.gz:"), std::string::npos) << r.output;
  // Unchanged: resumes, nothing trained.
  fs::copy_file("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz", f, fs::copy_options::overwrite_existing);
  const auto ok = test::run_command(synthetic(out, 1, base + " --resume"));
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("0 trained now"), std::string::npos) << ok.output;
}

// 6. A full file system: one error line, exit 2, no temporary left, the journal and the old output intact.
TEST(Fault, FullFileSystem) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  TmpfsMount fs24(dir + "/full", "size=24k");
  if (!fs24.ok) GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << fs24.why;
  const std::string out = fs24.path + "/c.nc";
  const auto r = test::run_command(synthetic(out));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(error_lines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Segmentation"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));
  for (const auto& e : fs::directory_iterator(fs24.path))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  // Every cell is in the journal: a resume where there is room trains nothing.
  const auto jc = io::read_journals(io::journal_dir(out), journal_fingerprint(out));
  EXPECT_EQ(jc.records.size(), 36u);
}

// 6b. The disk fills up mid-run (another job's output): exit 2 with one line, journals intact,
// and once there is room again --resume trains nothing and writes the file.
TEST(Fault, FileSystemFillsUpMidRun) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  TmpfsMount m(dir + "/fill", "size=1m");
  if (!m.ok) GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << m.why;
  const std::string out = m.path + "/c.nc";
  Background run(dir, synthetic(out, 2, "", 0.05));
  ASSERT_TRUE(wait_for_records(out, 4)) << run.log();
  // Fill every free byte.
  {
    std::ofstream filler(m.path + "/filler", std::ios::binary);
    const std::string block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  const int rc = run.wait(120);
  EXPECT_EQ(rc, 2) << run.log();
  EXPECT_EQ(error_lines(run.log()), 1u) << run.log();
  EXPECT_NE(run.log().find("No space left on device"), std::string::npos) << run.log();
  EXPECT_FALSE(fs::exists(out));
  const std::size_t kept = journaled(out);
  EXPECT_EQ(kept, 36u);  // every finished cell is journaled (journal pages were allocated early)
  fs::remove(m.path + "/filler");
  const auto r = test::run_command(synthetic(out, 2, "--resume", 0.05));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(std::to_string(36 - kept) + " trained now"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(out));
}

// A read-only output folder is bad input: refused at start, nothing trained.
TEST(Fault, ReadOnlyOutputFolder) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  TmpfsMount m(dir + "/ro", "size=1m,ro");
  if (!m.ok) GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << m.why;
  const auto r = test::run_command(synthetic(m.path + "/c.nc", 2));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(error_lines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("is not writable"), std::string::npos) << r.output;
}

// 7. One writer per output: a second job is refused naming the holder; a dead holder's lock is taken over.
TEST(Fault, SecondWriterLockedOut) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string out = dir + "/c.nc";
  Background first(dir, synthetic(out, 2, "", 0.8));
  ASSERT_TRUE(wait_for_records(out, 2)) << first.log();
  auto r = test::run_command(synthetic(out, 2, "--resume", 0.8));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(error_lines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("is locked by another peppp (host "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" pid "), std::string::npos) << r.output;
  // The first job killed (every rank): its lock stays, and is taken over with a warning.
  kill_ranks(out, SIGKILL);
  first.wait(30);
  ASSERT_TRUE(fs::exists(io::lock_path(out)));
  r = test::run_command(synthetic(out, 2, "--resume", 0.8));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("taken over: its holder is no longer running on this host"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(io::lock_path(out)));
  // A lock of a live holder on another host: refused; --break-lock takes it.
  write_text(io::lock_path(out), "host=some-other-node\npid=1\nslurm_job_id=4242\nstarted=2026-12-01T00:00:00Z\n");
  r = test::run_command(synthetic(out, 1, "--resume", 0.8));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("host some-other-node pid 1 (Slurm job 4242)"), std::string::npos) << r.output;
  r = test::run_command(synthetic(out, 1, "--resume --break-lock", 0.8));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("--break-lock given"), std::string::npos) << r.output;
}

// 8. One corrupt record in the middle of a journal costs only that record's cell.
TEST(Fault, CorruptMiddleRecordResynchronizes) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string out = dir + "/c.nc";
  ASSERT_EQ(test::run_command(synthetic(out, 2)).exit_code, 0);
  const io::Campaign want = io::read_campaign(out);
  const std::string rank0 = io::journal_path(io::journal_dir(out), 0);
  const auto size = fs::file_size(rank0);
  const std::size_t records = (size - io::kJournalHeaderBytes) / io::kJournalRecordBytes;
  ASSERT_GE(records, 6u);
  // Flip bytes inside record 3 (its checksum no longer matches) ...
  corrupt_bytes(rank0, io::kJournalHeaderBytes + 3 * io::kJournalRecordBytes + 20, 4);
  auto r = test::run_command(synthetic(out, 2, "--resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 corrupt journal record(s) skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 trained now"), std::string::npos) << r.output;
  expect_same_matrix(io::read_campaign(out), want);
  // ... and a stretch of garbage that shifts the alignment (a partial write) in the other rank's file.
  const std::string rank1 = io::journal_path(io::journal_dir(out), 1);
  insert_bytes(rank1, io::kJournalHeaderBytes + 2 * io::kJournalRecordBytes + 10, 17);
  r = test::run_command(synthetic(out, 2, "--resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 trained now"), std::string::npos) << r.output;
  expect_same_matrix(io::read_campaign(out), want);
}

// A journal of another peppp version is refused, naming the version; nothing is deleted.
TEST(Fault, JournalOfAnotherVersion) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string out = dir + "/c.nc";
  fs::create_directories(io::journal_dir(out));
  for (const char* f : {"rank-0.bin", "rank-1.bin"})
    fs::copy_file(test::source_path(std::string("tests/golden/before-replicates/journal/") + f),
                  io::journal_dir(out) + "/" + f);
  auto r = test::run_command(synthetic(out, 1, "--resume"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(error_lines(r.output), 1u) << r.output;
  EXPECT_NE(r.output.find("journal version 1; this peppp reads version 2"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(io::journal_dir(out) + "/rank-0.bin"));
  r = test::run_command(synthetic(out, 1, "--restart"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// SIGKILL of every rank during the final write: the previous campaign.nc survives, readable.
TEST(Fault, KillDuringFinalWriteKeepsPreviousFile) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string out = dir + "/c.nc";
  ASSERT_EQ(test::run_command(synthetic(out, 2)).exit_code, 0);
  const std::string before = file_hash(out);
  std::mt19937 rng(16);
  for (int k = 0; k < 6; ++k) {
    // Everything is journaled: the rerun only gathers and rewrites campaign.nc; kill it at a random point.
    Background run(dir, synthetic(out, 2, "--resume"));
    ASSERT_TRUE(wait_for_ranks(out, 2)) << run.log();
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    kill_ranks(out, SIGKILL);
    run.wait(30);
    ASSERT_TRUE(fs::exists(out));
    const io::Campaign c = io::read_campaign(out);  // readable, complete
    EXPECT_EQ(c.text_attributes.at("complete"), "1");
  }
  // The next write removes the temporaries the killed runs left behind.
  const auto r = test::run_command(synthetic(out, 2, "--resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find("c.nc.tmp-"), std::string::npos) << e.path();
  (void)before;
}

// kill -9 of one rank and of all ranks at random points, 10 times in a row, then --resume:
// the matrix equals an uninterrupted run bit for bit, and no finished cell was trained twice.
TEST(Fault, KillTenTimesThenResume) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const bool real = std::getenv("PEPPP_FAULT_REAL") != nullptr;
  const double seconds = real ? 0 : 0.3;
  auto cmd = [&](const std::string& out, const std::string& extra) {
    if (real)
      return mpi_prefix(2) + test::peppp_exe() + " measure --config " + test::source_path("inputs/ci.ini") +
             " --output " + out + " --run.progress_interval 0 --train.epochs 12 " + extra;  // cells of about 1 s
    return synthetic(out, 2, extra, seconds);
  };
  const std::string ref = dir + "/ref.nc", out = dir + "/c.nc";
  ASSERT_EQ(test::run_command(cmd(ref, "")).exit_code, 0);
  std::mt19937 rng(1601);
  int kills = 0;
  for (int k = 0; k < 10; ++k) {
    const std::size_t before = journaled(out);
    if (before >= 36) break;
    Background run(dir, cmd(out, "--resume"));
    ASSERT_TRUE(wait_for_ranks(out, 2)) << run.log();
    // Wait for at least one new finished cell, then a random moment.
    if (!wait_for_records(out, before + 1, 120)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 300));
    const bool all = k % 2 == 1;
    kill_ranks(out, SIGKILL, all ? -1 : static_cast<int>(rng() % 2));
    run.wait(60);
    ++kills;
  }
  EXPECT_GE(kills, 5);
  const auto r = test::run_command(cmd(out, "--resume"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same_matrix(io::read_campaign(out), io::read_campaign(ref));
  // Every journal record is a distinct cell: a cell finished before a kill was never trained again
  // (only the cells in flight at a kill, which left no record, were).
  const auto jc = io::read_journals(io::journal_dir(out), journal_fingerprint(out));
  std::set<std::uint64_t> cells;
  for (const auto& rec : jc.records) EXPECT_TRUE(cells.insert(rec.cell).second) << "cell " << rec.cell << " twice";
  EXPECT_EQ(cells.size(), 36u);
}
