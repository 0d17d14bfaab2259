#include "peppp/io/lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/netcdf.hpp"

namespace fs = std::filesystem;

namespace peppp::io {

namespace {

std::string hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string slurm_job() { return env_or_empty("SLURM_JOB_ID"); }

// Slurm counts the times a job was requeued (0 or unset at its first start).
long slurm_restarts() { return std::atol(env_or_empty("SLURM_RESTART_COUNT").c_str()); }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Is process `pid` of this host a live peppp? A pid that was reused by
// another program counts as dead.
bool alive_here(long pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
  const std::string cmd = read_all("/proc/" + std::to_string(pid) + "/cmdline");
  if (cmd.empty()) return fs::exists("/proc/" + std::to_string(pid)) ? true : false;
  return cmd.find("peppp") != std::string::npos;
}

// Why the lock of holder `h` may be taken over, or empty when it may not: only
// with --break-lock, or when the holder is provably dead: a process of this
// host that is gone (one still exiting gets 5 s), or an earlier start of this
// same Slurm job (a requeued job has a higher SLURM_RESTART_COUNT). A live
// holder that carries the same job id (two steps of one job, a copied
// environment) is never taken over.
std::string takeover_reason(const LockHolder& h, const std::string& host, const std::string& job, bool break_lock) {
  if (break_lock) return "--break-lock given";
  if (h.host == host) {
    for (int k = 0; k < 50 && alive_here(h.pid); ++k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!alive_here(h.pid)) return "its holder is no longer running on this host";
    return {};
  }
  if (!job.empty() && h.slurm_job_id == job && h.slurm_restart_count < slurm_restarts())
    return "it is an earlier start of this Slurm job (requeued: restart " + std::to_string(h.slurm_restart_count) +
           " < " + std::to_string(slurm_restarts()) + ")";
  return {};
}

}  // namespace

std::string LockHolder::describe() const {
  std::string s = "host " + (host.empty() ? std::string("?") : host) + " pid " + std::to_string(pid);
  if (!slurm_job_id.empty()) s += " (Slurm job " + slurm_job_id + ")";
  if (!started.empty()) s += " since " + started;
  return s;
}

std::string lock_path(const std::string& output) { return output + ".lock"; }

LockHolder read_lock(const std::string& path) {
  LockHolder h;
  std::istringstream in(read_all(path));
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "host") h.host = v;
    else if (k == "pid") h.pid = std::atol(v.c_str());
    else if (k == "slurm_job_id") h.slurm_job_id = v;
    else if (k == "started") h.started = v;
    else if (k == "command") h.command = v;
    else if (k == "slurm_restart_count") h.slurm_restart_count = std::atol(v.c_str());
  }
  return h;
}

OutputLock::OutputLock(const std::string& output, const std::string& command, bool break_lock)
    : path_(lock_path(output)) {
  const std::string host = hostname(), job = slurm_job();
  token_ = "host=" + host + "\npid=" + std::to_string(::getpid()) + "\nslurm_job_id=" + job +
           "\nslurm_restart_count=" + std::to_string(slurm_restarts()) + "\nstarted=" + iso8601_now() +
           "\ncommand=" + command + "\n";
  // A unique file, linked onto the lock name: link(2) fails with EEXIST when
  // the lock exists, atomically, also over NFS. Its name is unpredictable and
  // it is created exclusively, so no planted link can redirect the write.
  const std::string mine = path_ + "." + random_suffix();
  write_file_durably(mine, token_.data(), token_.size(), path_);
  struct Remove {
    const std::string& p;
    ~Remove() {
      std::error_code ec;
      fs::remove(p, ec);
    }
  } cleanup{mine};
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (::link(mine.c_str(), path_.c_str()) == 0) {
      held_ = true;
      return;
    }
    if (errno != EEXIST) {
      // Some file systems refuse hard links: exclusive create instead.
      const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd >= 0) {
        const bool ok = ::write(fd, token_.data(), token_.size()) == static_cast<ssize_t>(token_.size());
        ::fsync(fd);
        ::close(fd);
        if (!ok) throw RuntimeError("cannot write lock " + path_ + ": " + std::strerror(errno));
        held_ = true;
        return;
      }
      if (errno != EEXIST) throw RuntimeError("cannot create lock " + path_ + ": " + std::strerror(errno));
    }
    // peppp's locks are regular files: a folder, FIFO, device or link at the name was put
    // there by something else (reading a FIFO would block, a folder fails to read).
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      throw InputError("lock " + path_ + " of output " + output + " exists and is not a regular file (" +
                       (S_ISDIR(st.st_mode)   ? "a folder"
                        : S_ISLNK(st.st_mode) ? "a symbolic link"
                                              : "a FIFO, device or socket") +
                       "), so no peppp made it: remove it, or use another --output");
    const LockHolder h = read_lock(path_);
    if (h.host.empty() && h.pid == 0 && !fs::exists(path_)) continue;  // released meanwhile: try again
    const std::string why = takeover_reason(h, host, job, break_lock);
    if (why.empty())
      throw InputError("output " + output + " is locked by another peppp (" + h.describe() + ", lock " + path_ +
                       "): wait for it to finish, or pass --break-lock if it is dead on another host");
    log::warn("lock ", path_, " of ", h.describe(), " taken over: ", why);
    // Replace it atomically by our own file.
    if (std::rename(mine.c_str(), path_.c_str()) != 0)
      throw RuntimeError("cannot take over lock " + path_ + ": " + std::strerror(errno));
    held_ = true;
    return;
  }
  throw RuntimeError("cannot take lock " + path_ + ": it keeps appearing and disappearing");
}

void OutputLock::release() {
  if (!held_) return;
  held_ = false;
  if (read_all(path_) == token_) {
    std::error_code ec;
    fs::remove(path_, ec);
  }
}

OutputLock::~OutputLock() { release(); }

}  // namespace peppp::io
