// Files peppp creates cannot be hijacked (issue 28): temporaries and lock
// tokens get unpredictable names and are created exclusively, never through a
// planted link; an output naming a device or FIFO is refused; a live lock is
// never taken over because it carries the same Slurm job id; a journal under
// a wrong kind of file is refused with one line.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "peppp/core/error.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/lock.hpp"
#include "peppp/io/netcdf.hpp"
#include "test_util.hpp"

using namespace peppp;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void put(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string host() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// A file another user wants overwritten, and links to it planted under
// `names` (what an attacker can predict).
struct Plant {
  std::string victim;
  explicit Plant(const std::string& dir, const std::vector<std::string>& names) : victim(dir + "/victim.txt") {
    put(victim, "precious");
    for (const auto& n : names) fs::create_symlink(victim, n);
  }
  bool intact() const { return slurp(victim) == "precious"; }
};

// Write a tiny NetCDF file through AtomicPath, as every io writer does.
void write_atomically(const std::string& path) {
  io::AtomicPath out(path);
  io::NcFile f = io::NcFile::create(out.temp(), path);
  f.def_dim("x", 1);
  f.end_def();
  f.close();
  out.commit();
}

// Set an environment variable for the scope.
struct Env {
  std::string name;
  Env(const char* n, const std::string& v) : name(n) { ::setenv(n, v.c_str(), 1); }
  ~Env() { ::unsetenv(name.c_str()); }
};

}  // namespace

TEST(IoIntegrity, TemporaryNamesAreUnpredictableAndCarryThePid) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i) {
    io::AtomicPath p(dir + "/out.nc");
    const std::string name = fs::path(p.temp()).filename().string();
    const std::string prefix = "out.nc.tmp-" + host() + "-" + std::to_string(::getpid()) + "-";
    ASSERT_EQ(name.rfind(prefix, 0), 0u) << name;
    EXPECT_EQ(name.size(), prefix.size() + 12) << name;
    seen.insert(name);
  }
  EXPECT_EQ(seen.size(), 8u) << "the random part must differ between temporaries";
}

TEST(IoIntegrity, PlantedLinksAtPredictableNamesRedirectNoWrite) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string out = dir + "/campaign.nc";
  const std::string pid = std::to_string(::getpid());
  // Every name the earlier peppp used: the temporary and the lock's token.
  Plant plant(dir, {out + ".tmp-" + host() + "-" + pid, out + ".lock." + host() + "." + pid});
  write_atomically(out);
  { io::OutputLock lock(out, "peppp test", false); }
  EXPECT_TRUE(plant.intact());
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(out)));
}

TEST(IoIntegrity, ExclusiveCreationRefusesAnExistingLinkOrFile) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  Plant plant(dir, {dir + "/link"});
  EXPECT_THROW(io::write_file_durably(dir + "/link", "x", 1), RuntimeError);
  EXPECT_THROW(io::NcFile::create(dir + "/link"), RuntimeError);
  put(dir + "/plain", "old");
  EXPECT_THROW(io::write_file_durably(dir + "/plain", "x", 1), RuntimeError);
  EXPECT_TRUE(plant.intact());
  EXPECT_EQ(slurp(dir + "/plain"), "old");
}

TEST(IoIntegrity, CommitRefusesATemporaryReplacedByALink) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  Plant plant(dir, {});
  io::AtomicPath out(dir + "/out.nc");
  io::NcFile f = io::NcFile::create(out.temp(), out.path());
  f.end_def();
  f.close();
  fs::remove(out.temp());
  fs::create_symlink(plant.victim, out.temp());
  EXPECT_THROW(out.commit(), RuntimeError);
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir + "/out.nc")));
  EXPECT_TRUE(plant.intact());
}

TEST(IoIntegrity, OutputNamingADeviceOrFifoIsRefused) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  ASSERT_EQ(::mkfifo((dir + "/fifo").c_str(), 0600), 0);
  const std::string fifo = io::check_writable(dir + "/fifo");
  EXPECT_NE(fifo.find("not a regular file"), std::string::npos) << fifo;
  EXPECT_THROW(io::AtomicPath(dir + "/fifo"), InputError);
  if (::access("/dev", W_OK) == 0) {  // as root: /dev/null must never be replaced
    const std::string null = io::check_writable("/dev/null");
    EXPECT_NE(null.find("not a regular file"), std::string::npos) << null;
  }
  fs::create_symlink(dir + "/fifo", dir + "/to-fifo");
  EXPECT_NE(io::check_writable(dir + "/to-fifo"), "");
  EXPECT_EQ(io::check_writable(dir + "/new.nc"), "");
  EXPECT_TRUE(fs::is_fifo(dir + "/fifo"));
}

TEST(IoIntegrity, TooLongOutputNameIsOneClearLine) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string why = io::check_writable(dir + "/" + std::string(240, 'a') + ".nc");
  EXPECT_NE(why.find("too long"), std::string::npos) << why;
}

TEST(IoIntegrity, LiveLockWithTheSameSlurmJobIsNotTakenOver) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string out = dir + "/campaign.nc";
  // A live "peppp" on this host (its command line names peppp) holds the lock.
  const pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    ::execl("/bin/sh", "sh", "-c", "exec -a peppp-holder sleep 30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int k = 0; k < 100 && slurp("/proc/" + std::to_string(holder) + "/cmdline").find("peppp") == std::string::npos; ++k)
    ::usleep(20000);
  put(io::lock_path(out), "host=" + host() + "\npid=" + std::to_string(holder) +
                              "\nslurm_job_id=4242\nslurm_restart_count=0\nstarted=x\ncommand=peppp measure\n");
  {
    Env job("SLURM_JOB_ID", "4242");
    Env restarts("SLURM_RESTART_COUNT", "0");
    try {
      io::OutputLock lock(out, "peppp measure", false);
      ADD_FAILURE() << "a live holder of the same Slurm job was taken over";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("locked by another peppp"), std::string::npos) << e.what();
    }
  }
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  // Now provably dead on this host: taken over.
  { io::OutputLock lock(out, "peppp measure", false); }
  EXPECT_FALSE(fs::exists(io::lock_path(out)));
}

TEST(IoIntegrity, RequeuedJobTakesOverOnlyAnEarlierStart) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string out = dir + "/campaign.nc";
  const std::string other = "host=node-elsewhere\npid=1\nslurm_job_id=77\nstarted=x\ncommand=peppp measure\n";
  put(io::lock_path(out), other + "slurm_restart_count=0\n");
  Env job("SLURM_JOB_ID", "77");
  {
    Env restarts("SLURM_RESTART_COUNT", "0");  // the same start on another host: alive for all we know
    EXPECT_THROW(io::OutputLock(out, "peppp measure", false), InputError);
  }
  Env restarts("SLURM_RESTART_COUNT", "1");  // requeued: the earlier start is over
  io::OutputLock lock(out, "peppp measure", false);
  EXPECT_NE(slurp(io::lock_path(out)).find("slurm_restart_count=1"), std::string::npos);
}

TEST(IoIntegrity, JournalUnderAWrongKindOfFileIsOneLine) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string journal = dir + "/c.nc.journal";
  fs::create_directories(io::journal_path(journal, 0));  // rank-0.bin is a folder
  try {
    io::read_journals(journal, 42);
    ADD_FAILURE() << "a folder named like a journal was read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(io::JournalWriter(journal, 0, 42), InputError);

  const std::string elsewhere = dir + "/elsewhere";
  fs::create_directories(elsewhere);
  fs::create_directory_symlink(elsewhere, dir + "/d.nc.journal");
  EXPECT_THROW(io::JournalWriter(dir + "/d.nc.journal", 0, 42), InputError);
  EXPECT_TRUE(fs::is_empty(elsewhere));
}
