#pragma once
// Helpers of the fault-injection tests: damaged files, file systems that
// fill up or turn read-only (tmpfs mounts, root only), background runs and
// killing their ranks, journal inspection.
#include <gtest/gtest.h>
#include <netcdf.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "test_util.hpp"

namespace peppp::fault {

namespace fs = std::filesystem;

/// One rank: the executable alone (MPI's singleton start); more: test::mpi_launch.
inline std::string mpi_prefix(int ranks) { return ranks <= 1 ? std::string() : test::mpi_launch(ranks); }

inline std::string read_text(const std::string& path) {
  // /proc/<pid>/... of a process that exits while it is read fails with ESRCH, which
  // libstdc++'s filebuf reports by throwing: such a process is simply gone.
  try {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  } catch (const std::exception&) {
    return {};
  }
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

/// Lines of peppp's own error messages ("error: ...").
inline std::size_t error_lines(const std::string& output) {
  std::istringstream in(output);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.rfind("error: ", 0) == 0 ? 1 : 0;
  return n;
}

inline std::string file_hash(const std::string& path) { return std::to_string(fnv1a64(read_text(path))); }

/// Overwrite element `index` of a double variable of a NetCDF file.
inline void set_double(const std::string& path, const std::string& var, std::size_t index, double value) {
  int id = -1, v = -1;
  ASSERT_EQ(nc_open(path.c_str(), NC_WRITE, &id), NC_NOERR) << path;
  int rc = nc_inq_varid(id, var.c_str(), &v);
  int ndims = 0, dims[NC_MAX_VAR_DIMS] = {0};
  if (rc == NC_NOERR) rc = nc_inq_varndims(id, v, &ndims);
  if (rc == NC_NOERR) rc = nc_inq_vardimid(id, v, dims);
  std::vector<std::size_t> start(static_cast<std::size_t>(ndims), 0);
  std::size_t rest = index;
  for (int k = ndims - 1; k >= 0 && rc == NC_NOERR; --k) {  // flat row-major index -> coordinates
    std::size_t len = 0;
    rc = nc_inq_dimlen(id, dims[k], &len);
    start[static_cast<std::size_t>(k)] = rest % len;
    rest /= len;
  }
  if (rc == NC_NOERR) rc = nc_put_var1_double(id, v, start.data(), &value);
  const int closed = nc_close(id);
  ASSERT_EQ(rc, NC_NOERR) << path << " " << var << ": " << nc_strerror(rc);
  ASSERT_EQ(closed, NC_NOERR) << path;
}

inline void truncate_file(const std::string& path, std::size_t bytes) { fs::resize_file(path, bytes); }

/// A gzip IDX label file whose header says `header_count` labels but holding `count`.
inline void write_short_labels(const std::string& path, std::uint32_t header_count, std::uint32_t count) {
  std::vector<unsigned char> b = {0, 0, 8, 1};
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(header_count >> s));
  for (std::uint32_t i = 0; i < count; ++i) b.push_back(static_cast<unsigned char>(i % 10));
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
  gzclose(f);
}

/// Copy Fashion-MNIST into `dir` and write a copy of the ci catalog reading it; returns the catalog.
inline std::string fashion_copy(const std::string& dir) {
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator("/usr/share/datasets/fashion-mnist"))
    fs::copy_file(e.path(), dir + "/" + e.path().filename().string(), fs::copy_options::overwrite_existing);
  std::string cat = read_text(test::source_path("inputs/tasks/fashion-ci.ini"));
  const std::string from = "/usr/share/datasets/fashion-mnist";
  cat.replace(cat.find(from), from.size(), dir);
  const std::string path = dir + "/catalog.ini";
  write_text(path, cat);
  return path;
}

inline void corrupt_bytes(const std::string& path, std::size_t offset, std::size_t n) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  for (std::size_t i = 0; i < n; ++i) {
    f.seekg(static_cast<std::streamoff>(offset + i));
    const int c = f.get();
    f.seekp(static_cast<std::streamoff>(offset + i));
    f.put(static_cast<char>(c ^ 0x5a));
  }
}

inline void insert_bytes(const std::string& path, std::size_t offset, std::size_t n) {
  std::string s = read_text(path);
  s.insert(offset, std::string(n, '\x17'));
  write_text(path, s);
}

/// The plan fingerprint in a journal folder's rank-0 header.
inline std::uint64_t journal_fingerprint(const std::string& out) {
  const std::string h = read_text(io::journal_path(io::journal_dir(out), 0));
  std::uint64_t fp = 0;
  if (h.size() >= 24) std::memcpy(&fp, h.data() + 16, 8);
  return fp;
}

/// Whole journal records on disk (every rank file), without checking the plan.
inline std::size_t journaled(const std::string& out) {
  return io::count_journal_records(io::journal_dir(out));
}

inline bool wait_for_records(const std::string& out, std::size_t n, double timeout_s = 60) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    if (journaled(out) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

/// A command started in the background; its exit code lands in `<dir>/rc-<k>`.
struct Background {
  std::string dir, rc, logf;
  Background(const std::string& d, const std::string& command) : dir(d) {
    static int counter = 0;
    const std::string k = std::to_string(::getpid()) + "-" + std::to_string(counter++);
    rc = dir + "/rc-" + k;
    logf = dir + "/log-" + k;
    test::run_command("(" + command + " > " + logf + " 2>&1; echo $? > " + rc + ") > /dev/null 2>&1 &");
  }
  int wait(double timeout_s = 60) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < end) {
      std::ifstream in(rc);
      int code = -1;
      if (in >> code) return code;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
  std::string log() const { return read_text(logf); }
};

/// Calls `f(pid, argv0, command line)` for every process, the command
/// line's arguments separated by spaces and followed by one.
template <class F>
void for_each_process(F f) {
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = read_text(e.path().string() + "/cmdline");
    const std::string argv0 = cmd.substr(0, cmd.find('\0'));
    for (auto& c : cmd)
      if (c == '\0') c = ' ';
    f(std::stoi(name), argv0, cmd + ' ');
  }
}

/// Signal the peppp ranks of `command` whose command line holds `marker` (every
/// one, or the one of MPI rank `which`); returns how many were signalled.
inline int kill_command(const std::string& command, const std::string& marker, int sig, int which = -1) {
  int n = 0;
  for_each_process([&](int pid, const std::string& argv0, const std::string& cmd) {
    // Only the peppp processes themselves: argv[0] is the executable (not mpirun, not a shell).
    if (argv0.size() < 5 || argv0.compare(argv0.size() - 5, 5, "peppp") != 0) return;
    if (cmd.find(" " + command + " ") == std::string::npos || cmd.find(marker) == std::string::npos) return;
    if (which >= 0) {
      std::string env = read_text("/proc/" + std::to_string(pid) + "/environ");
      for (auto& c : env)
        if (c == '\0') c = '\n';
      if (env.find("\nOMPI_COMM_WORLD_RANK=" + std::to_string(which) + "\n") == std::string::npos &&
          env.rfind("OMPI_COMM_WORLD_RANK=" + std::to_string(which) + "\n", 0) != 0)
        return;
    }
    if (::kill(pid, sig) == 0) ++n;
  });
  return n;
}

/// SIGKILL every launcher (mpiexec, mpirun) and peppp process whose command
/// line holds `marker`: a round whose launcher hangs after a rank was killed
/// (Open MPI's runtime, seen once under load) must not leave it running.
/// Returns how many were signalled.
inline int kill_leftovers(const std::string& marker) {
  int n = 0;
  for_each_process([&](int pid, const std::string& argv0, const std::string& cmd) {
    const std::string base = argv0.substr(argv0.rfind('/') == std::string::npos ? 0 : argv0.rfind('/') + 1);
    if (base != "mpiexec" && base != "mpirun" && base != "peppp") return;
    if (cmd.find(marker) != std::string::npos && ::kill(pid, SIGKILL) == 0) ++n;
  });
  return n;
}

/// Signal the peppp measure ranks writing `out` (every one, or the one of MPI rank `which`).
inline int kill_ranks(const std::string& out, int sig, int which = -1) {
  return kill_command("measure", " " + out + " ", sig, which);
}

/// Wait until `n` peppp ranks writing `out` run.
inline bool wait_for_ranks(const std::string& out, int n, double timeout_s = 60) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    if (kill_ranks(out, 0) >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

/// A tmpfs mounted at `path` for one test (root only), unmounted at the end.
struct TmpfsMount {
  std::string path, why;
  bool ok = false;
  TmpfsMount(const std::string& p, const std::string& options) : path(p) {
    fs::create_directories(path);
    if (::mount("tmpfs", path.c_str(), "tmpfs", options.find("ro") == 0 || options.find(",ro") != std::string::npos ? MS_RDONLY : 0,
                options.c_str()) != 0) {
      why = std::strerror(errno);
      return;
    }
    ok = true;
  }
  bool remount(const std::string& mode) {
    const unsigned long flags = MS_REMOUNT | (mode == "ro" ? MS_RDONLY : 0);
    if (::mount("tmpfs", path.c_str(), "tmpfs", flags, nullptr) != 0) {
      why = std::strerror(errno);
      return false;
    }
    return true;
  }
  ~TmpfsMount() {
    if (ok) ::umount2(path.c_str(), MNT_DETACH);
  }
};

/// Same statuses and errors, bit for bit.
inline void expect_same_matrix(const io::Campaign& a, const io::Campaign& b) {
  ASSERT_EQ(a.status, b.status);
  ASSERT_EQ(a.error.size(), b.error.size());
  for (std::size_t i = 0; i < a.error.size(); ++i) {
    if (std::isnan(b.error[i]))
      EXPECT_TRUE(std::isnan(a.error[i])) << i;
    else
      EXPECT_EQ(a.error[i], b.error[i]) << i;
  }
}

}  // namespace peppp::fault
