#pragma once
/// @file lock.hpp
/// @brief One writer per campaign output: an exclusive lock file beside the
/// journal, `<output>.lock`, holding the holder's host, pid, Slurm job id,
/// start time and command. Taken with link(2) of a unique file onto the lock
/// name, which is atomic on local file systems and on NFS and Lustre (unlike
/// flock(2) alone). Not collective: the root rank takes it.

#include <string>

namespace peppp::io {

/// Who holds a lock (parsed from the lock file; empty fields when unknown).
struct LockHolder {
  std::string host;          ///< hostname of the holder
  long pid = 0;              ///< its process id
  std::string slurm_job_id;  ///< SLURM_JOB_ID of the holder, empty outside Slurm
  long slurm_restart_count = 0;  ///< SLURM_RESTART_COUNT of the holder (0: first start or outside Slurm)
  std::string started;       ///< ISO 8601 UTC start time
  std::string command;       ///< what holds it ("peppp measure")
  /// "host H pid P (Slurm job J) since T".
  std::string describe() const;
};

/// Path of the lock of an output: "<output>.lock".
std::string lock_path(const std::string& output);

/// The holder recorded in a lock file; empty fields when it cannot be read.
LockHolder read_lock(const std::string& path);

/// An exclusive lock on an output, released (the file removed, if still
/// ours) by the destructor.
class OutputLock {
 public:
  /// Take the lock of `output` for `command`. A lock whose holder is provably
  /// dead is taken over with a warning: a process of this host that is gone
  /// (one still exiting gets 5 s), or an earlier start of this same Slurm job
  /// on another host (its SLURM_RESTART_COUNT lower than ours: requeued). A
  /// live holder is never taken over, whatever job id it carries;
  /// `break_lock` takes over any lock (warning).
  /// @throws InputError naming the holder when another live writer holds it
  ///         ("another peppp writes OUTPUT: ...; pass --break-lock if it is
  ///         dead"); RuntimeError when the lock file cannot be written.
  OutputLock(const std::string& output, const std::string& command, bool break_lock);
  ~OutputLock();
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  /// Remove the lock now (idempotent).
  void release();
  /// The lock file.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string token_;  ///< this holder's lock file content
  bool held_ = false;
};

}  // namespace peppp::io
