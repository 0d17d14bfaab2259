#pragma once
/// @file work_queue.hpp
/// @brief The shared work queue (DESIGN.md §3): three counters on rank 0
/// (next item, finished, failed); every rank, root included, takes the next
/// item with one atomic fetch-and-add, so rank 0 can also report progress
/// without messages.
///
/// Two implementations with the same semantics, chosen at construction:
/// - `one_sided`: the counters live in an MPI window on rank 0 and are
///   updated with `MPI_Fetch_and_op` (no thread, no target involvement).
///   Needs an MPI one-sided component that works for the communicator:
///   Open MPI 4.1's `osc sm` on one node, `osc rdma`/`ucx` on RDMA networks.
/// - `messages`: when no window can be created (Open MPI 4.1 over TCP only:
///   `MPI_Win_allocate` fails with MPI_ERR_WIN on every rank), rank 0 keeps
///   the counters in std::atomic and a service thread answers the other ranks'
///   fetch-and-add requests (two-sided messages on a private duplicate of the
///   communicator). Rank 0's own takes are local atomics. Needs
///   `MPI_THREAD_MULTIPLE` (MpiSession asks for it).
/// What the communicator's queues share is cached on it (an MPI attribute):
/// whether windows failed (later queues do not try again) and the
/// duplicate, with one pair of tags per queue, so only a communicator's
/// first queue pays for those collectives.
/// `automatic` (the default) tries `one_sided` and falls back to `messages`,
/// agreed by every rank; the environment variable PEPPP_WORK_QUEUE
/// (auto | one-sided | messages) overrides the default for a whole run.

#include <mpi.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace peppp::par {

/// Items 0..total-1 handed out once each, in order, to whichever rank asks.
class WorkQueue {
 public:
  enum class Kind { automatic, one_sided, messages };

  /// Collective on `comm`: sets the queue up on every rank (a window and a
  /// passive-target epoch, or a duplicate communicator and rank 0's service
  /// thread). `automatic` reads PEPPP_WORK_QUEUE, else tries one-sided first.
  /// @throws RuntimeError when the chosen kind cannot work (one_sided: no
  ///   window; messages: MPI below MPI_THREAD_MULTIPLE), InputError for a bad
  ///   PEPPP_WORK_QUEUE value. Every rank throws alike.
  WorkQueue(MPI_Comm comm, std::int64_t total, Kind kind = Kind::automatic);
  /// Collective: closes the epoch and frees the window, or stops the service
  /// thread and frees the duplicate communicator.
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
  /// `finished(failed)` then `next()`, in one round trip to rank 0 (one
  /// message, or one flush of the window's accumulates). Not collective.
  std::int64_t finished_and_next(bool failed);

  /// Promise that every rank has made its last call on this queue and then
  /// passed a barrier (as `for_each_item`'s final wait does): the destructor
  /// then skips its own barrier. Call it on every rank or on none.
  void all_done();

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
  /// The implementation in use (never `automatic`).
  Kind kind() const { return kind_; }
  /// Why `automatic` fell back to `messages` (MPI's error; cached on the
  /// communicator, so a later queue on it does not try the window again),
  /// else empty.
  const std::string& fallback_reason() const { return reason_; }

 private:
  std::int64_t fetch_add(int slot, std::int64_t value);
  std::int64_t finish_and_take(bool failed);
  std::int64_t ask_root(std::int64_t slot, std::int64_t value);
  bool try_window(MPI_Comm comm);
  void start_service();
  void serve();
  MPI_Comm comm_;
  std::int64_t total_;
  Kind kind_ = Kind::one_sided;
  std::string reason_;
  // one_sided
  MPI_Win win_ = MPI_WIN_NULL;
  std::int64_t* base_ = nullptr;
  // messages
  MPI_Comm service_comm_ = MPI_COMM_NULL;  // the communicator's cached duplicate, or our own
  bool own_service_comm_ = false;
  int tag_request_ = 1, tag_reply_ = 2;    // this queue's generation on the duplicate
  bool all_done_ = false;
  std::array<std::atomic<std::int64_t>, 3> local_{};
  std::thread service_;
};

/// Longest processing time first (LPT): `items` reordered by descending
/// `cost[k]` (the cost of `items[k]`, any unit), equal costs kept in their
/// given order (a stable sort: the plan's order breaks ties), NaN costs last.
/// The queue then hands out the most expensive items left first, which keeps
/// a dynamic queue's tail short: its makespan is at most 4/3 of the optimum
/// for exact costs (Graham 1969). Deterministic; not collective.
/// @throws InputError when `cost` and `items` differ in size.
std::vector<std::uint64_t> longest_first(const std::vector<std::uint64_t>& items, const std::vector<double>& cost);

/// "one-sided", "messages" or "auto".
const char* label(WorkQueue::Kind kind);
/// Parse PEPPP_WORK_QUEUE's value ("auto", "one-sided", "messages").
/// @throws InputError naming the value and what is allowed.
WorkQueue::Kind parse_queue_kind(const std::string& value);

}  // namespace peppp::par
