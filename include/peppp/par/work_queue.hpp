#pragma once
/// @file work_queue.hpp
/// @brief The shared work queue (DESIGN.md §3): a counter in an MPI window
/// on rank 0; every rank, root included, takes the next item with an atomic
/// `MPI_Fetch_and_op`. No coordinator thread. Also counts finished and
/// failed items, so rank 0 can report progress without messages.

#include <mpi.h>

#include <cstdint>

namespace peppp::par {

/// Items 0..total-1 handed out once each, in order, to whichever rank asks.
class WorkQueue {
 public:
  /// Collective on `comm`: allocates the window and opens a passive-target
  /// epoch on every rank.
  WorkQueue(MPI_Comm comm, std::int64_t total);
  /// Collective: closes the epoch and frees the window.
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  /// The next item, or -1 when none is left. Not collective (one atomic).
  std::int64_t next();
  /// Stop handing out items, for every rank (after a stop signal): later
  /// `next()` calls on any rank return -1. Not collective.
  void drain();
  /// Report one finished item (`failed` when it failed). Not collective.
  void finished(bool failed);

  /// Snapshot of the shared counters.
  struct Counts {
    std::int64_t taken;     ///< items handed out (capped at total)
    std::int64_t finished;  ///< items reported finished
    std::int64_t failed;    ///< of which failed
  };
  /// Read the counters (one atomic read each). Not collective.
  Counts counts();
  /// Number of items.
  std::int64_t total() const { return total_; }
  /// The communicator the queue spans.
  MPI_Comm comm() const { return comm_; }

 private:
  std::int64_t fetch_add(int slot, std::int64_t value);
  MPI_Comm comm_;
  MPI_Win win_ = MPI_WIN_NULL;
  std::int64_t* base_ = nullptr;
  std::int64_t total_;
};

}  // namespace peppp::par
