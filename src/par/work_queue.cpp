#include "peppp/par/work_queue.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdlib>
#include <numeric>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/par/mpi_error.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::par {

namespace {
constexpr int kNext = 0, kFinished = 1, kFailed = 2, kSlots = 3;
// messages: a request is {slot, value}; slot kStop ends the service thread,
// slot kFinishNext reports a finished item (value 1: failed) and takes the
// next one in the same round trip.
constexpr int kStop = -1, kFinishNext = kSlots;
constexpr int kTagRequest = 1, kTagReply = 2;

std::string mpi_error_string(int rc) {
  char buf[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, buf, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(rc);
  return std::string(buf, static_cast<std::size_t>(len));
}

// The first construction of each kind in this process is logged at info
// level (rank 0), later ones (LOOCV builds one queue per phase) at debug.
std::atomic<bool> logged_kind[3] = {false, false, false};

// What a communicator's queues share, cached on it as an MPI attribute (set
// on every rank alike, after the ranks agreed), so that only its first queue
// pays for collectives beyond the loop (LOOCV builds one queue per phase, a
// job may run several campaigns):
// - whether one-sided windows work: a property of the communicator's
//   processes and the network between them; the failing MPI_Win_allocate
//   costs tens of ms at 64 ranks over TCP;
// - the message queue's private duplicate communicator (MPI_Comm_dup is a
//   collective of several rounds: 40 ms at 64 oversubscribed ranks) and a
//   generation number: each queue uses its own pair of tags on it, so a
//   request for the next queue that arrives while rank 0 still stops the
//   last queue's service thread waits for the new thread.
// Every rank builds the communicator's queues in the same order (queue
// construction is collective), so the generations agree without a message.
struct CommCache {
  bool no_window = false;
  std::string reason;
  MPI_Comm service = MPI_COMM_NULL;
  int generation = 0;
  bool in_use = false;  // a live queue holds `service`
};

int cache_keyval() {
  static const int keyval = [] {
    int k = MPI_KEYVAL_INVALID;
    auto del = [](MPI_Comm comm, int, void* value, void*) -> int {
      auto* c = static_cast<CommCache*>(value);
      // MPI_COMM_WORLD's attributes go at MPI_Finalize, which frees every
      // communicator itself; a communicator freed earlier frees its duplicate.
      if (c->service != MPI_COMM_NULL && comm != MPI_COMM_WORLD) MPI_Comm_free(&c->service);
      delete c;
      return MPI_SUCCESS;
    };
    PEPPP_MPI(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, del, &k, nullptr));
    return k;
  }();
  return keyval;
}

CommCache& comm_cache(MPI_Comm comm) {
  void* value = nullptr;
  int found = 0;
  PEPPP_MPI(MPI_Comm_get_attr(comm, cache_keyval(), &value, &found));
  if (found) return *static_cast<CommCache*>(value);
  auto* c = new CommCache;
  PEPPP_MPI(MPI_Comm_set_attr(comm, cache_keyval(), c));
  return *c;
}

// Tags of one generation's requests and replies (kept far below MPI_TAG_UB,
// at least 32767).
constexpr int kGenerations = 8000;
}  // namespace

const char* label(WorkQueue::Kind kind) {
  switch (kind) {
    case WorkQueue::Kind::one_sided: return "one-sided";
    case WorkQueue::Kind::messages: return "messages";
    default: return "auto";
  }
}

WorkQueue::Kind parse_queue_kind(const std::string& value) {
  if (value.empty() || value == "auto") return WorkQueue::Kind::automatic;
  if (value == "one-sided") return WorkQueue::Kind::one_sided;
  if (value == "messages") return WorkQueue::Kind::messages;
  throw InputError("PEPPP_WORK_QUEUE='" + value + "': allowed auto, one-sided, messages", true);
}

std::vector<std::uint64_t> longest_first(const std::vector<std::uint64_t>& items, const std::vector<double>& cost) {
  if (cost.size() != items.size())
    throw InputError("longest_first: " + std::to_string(cost.size()) + " costs for " + std::to_string(items.size()) +
                     " items");
  std::vector<std::size_t> pos(items.size());
  std::iota(pos.begin(), pos.end(), std::size_t{0});
  // NaN compares false both ways: mapped to -inf so that the order stays strict weak.
  auto key = [&](std::size_t k) { return std::isnan(cost[k]) ? -HUGE_VAL : cost[k]; };
  std::stable_sort(pos.begin(), pos.end(), [&](std::size_t a, std::size_t b) { return key(a) > key(b); });
  std::vector<std::uint64_t> out;
  out.reserve(items.size());
  for (std::size_t k : pos) out.push_back(items[k]);
  return out;
}

bool WorkQueue::try_window(MPI_Comm comm) {
  const bool root = rank(comm) == 0;
  const MPI_Aint bytes = root ? static_cast<MPI_Aint>(kSlots * sizeof(std::int64_t)) : 0;
  // Window creation reports failure through the communicator's error handler
  // (MPI_ERRORS_RETURN, inherited from MPI_COMM_WORLD): no exception here,
  // every rank learns whether all ranks got their window.
  const int rc = MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, comm, &base_, &win_);
  int ok = rc == MPI_SUCCESS ? 1 : 0, all = 0;
  PEPPP_MPI(MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, comm));
  if (all) {
    PEPPP_MPI(MPI_Win_set_errhandler(win_, MPI_ERRORS_RETURN));
    if (root) std::fill(base_, base_ + kSlots, std::int64_t{0});
    // Zeroed before anyone can touch it.
    PEPPP_MPI(MPI_Barrier(comm));
    PEPPP_MPI(MPI_Win_lock_all(MPI_MODE_NOCHECK, win_));
    return true;
  }
  // The lowest failing rank's MPI error says why (for the log).
  int candidate = ok ? size(comm) : rank(comm), first = 0;
  PEPPP_MPI(MPI_Allreduce(&candidate, &first, 1, MPI_INT, MPI_MIN, comm));
  std::string why = ok ? std::string() : mpi_error_string(rc);
  int len = static_cast<int>(why.size());
  PEPPP_MPI(MPI_Bcast(&len, 1, MPI_INT, first, comm));
  why.resize(static_cast<std::size_t>(len));
  PEPPP_MPI(MPI_Bcast(why.data(), len, MPI_CHAR, first, comm));
  reason_ = "MPI_Win_allocate failed: " + why;
  // A window some ranks did get is left alone: freeing it is collective over
  // ranks that have none. (Open MPI fails on every rank alike.)
  win_ = MPI_WIN_NULL;
  base_ = nullptr;
  return false;
}

WorkQueue::WorkQueue(MPI_Comm comm, std::int64_t total, Kind kind) : comm_(comm), total_(total) {
  if (kind == Kind::automatic) {
    const char* env = std::getenv("PEPPP_WORK_QUEUE");
    kind = parse_queue_kind(env ? env : "");
  }
  if (kind == Kind::one_sided) {
    if (!try_window(comm)) throw RuntimeError("work queue: one-sided requested (PEPPP_WORK_QUEUE) but " + reason_, true);
    kind_ = Kind::one_sided;
  } else if (kind == Kind::automatic && !comm_cache(comm).no_window && try_window(comm)) {
    kind_ = Kind::one_sided;
  } else {
    if (kind == Kind::automatic) {
      CommCache& cache = comm_cache(comm);
      if (cache.no_window) {
        reason_ = cache.reason;
      } else {
        cache.no_window = true;
        cache.reason = reason_;
      }
    }
    start_service();
    kind_ = Kind::messages;
  }
  const std::string what = kind_ == Kind::one_sided
                               ? std::string("work queue: one-sided (MPI_Fetch_and_op on a window on rank 0)")
                               : "work queue: messages to a service thread on rank 0 (" +
                                     (reason_.empty() ? std::string("PEPPP_WORK_QUEUE=messages") : reason_) + ")";
  if (!logged_kind[static_cast<int>(kind_)].exchange(true))
    log::info(what);
  else
    log::debug(what);
}

void WorkQueue::start_service() {
  int level = MPI_THREAD_SINGLE;
  PEPPP_MPI(MPI_Query_thread(&level));
  if (level < MPI_THREAD_MULTIPLE)
    throw RuntimeError(std::string("work queue: MPI one-sided atomics are unavailable") +
                           (reason_.empty() ? "" : " (" + reason_ + ")") +
                           " and the message queue needs MPI_THREAD_MULTIPLE, which this MPI does not provide",
                       true);
  for (auto& v : local_) v.store(0);
  CommCache& cache = comm_cache(comm_);
  if (cache.in_use) {  // another live queue on this communicator: a duplicate of its own
    PEPPP_MPI(MPI_Comm_dup(comm_, &service_comm_));
    own_service_comm_ = true;
  } else {
    if (cache.service == MPI_COMM_NULL) PEPPP_MPI(MPI_Comm_dup(comm_, &cache.service));
    service_comm_ = cache.service;
    cache.in_use = true;
    tag_request_ = kTagRequest + 2 * (cache.generation % kGenerations);
    tag_reply_ = tag_request_ + 1;
    ++cache.generation;
  }
  if (rank(comm_) == 0) service_ = std::thread([this] { serve(); });
}

// Rank 0's service thread: answers {slot, value} requests with the counter's
// old value until a stop request (from rank 0 itself, in the destructor).
// Polls with MPI_Test and sleeps when idle: a blocking receive would
// busy-poll a core away from the ranks that train.
void WorkQueue::serve() {
  using namespace std::chrono;
  // Stop signals go to the main thread, as without the service thread.
  sigset_t block;
  sigemptyset(&block);
  for (int sig : {SIGTERM, SIGUSR1, SIGINT}) sigaddset(&block, sig);
  pthread_sigmask(SIG_BLOCK, &block, nullptr);
  auto idle = microseconds(0);
  for (;;) {
    std::int64_t req[2] = {0, 0};
    MPI_Request r;
    MPI_Status st;
    if (MPI_Irecv(req, 2, MPI_INT64_T, MPI_ANY_SOURCE, tag_request_, service_comm_, &r) != MPI_SUCCESS) {
      log::error_all("work queue: the service thread cannot receive; stopping it");
      return;
    }
    for (int flag = 0;;) {
      if (MPI_Test(&r, &flag, &st) != MPI_SUCCESS) {
        log::error_all("work queue: the service thread failed to receive; stopping it");
        return;
      }
      if (flag) break;
      if (idle > microseconds(0)) std::this_thread::sleep_for(idle);
      // Back off to at most 200 µs between polls: a take waits that long at
      // worst, and an idle rank 0 wakes 5000 times a second (a few % of a core).
      idle = std::min(microseconds(200), idle + microseconds(10));
    }
    idle = microseconds(0);
    if (req[0] == kStop) return;
    const int slot = static_cast<int>(req[0]);
    std::int64_t old = 0;
    if (slot == kFinishNext) {
      old = finish_and_take(req[1] != 0);
    } else if (slot >= 0 && slot < kSlots) {
      old = local_[static_cast<std::size_t>(slot)].fetch_add(req[1]);
    }
    if (MPI_Send(&old, 1, MPI_INT64_T, st.MPI_SOURCE, tag_reply_, service_comm_) != MPI_SUCCESS) {
      log::error_all("work queue: the service thread cannot reply; stopping it");
      return;
    }
  }
}

WorkQueue::~WorkQueue() {
  if (win_ != MPI_WIN_NULL) {
    PEPPP_MPI_NOEXCEPT(MPI_Win_unlock_all(win_));
    PEPPP_MPI_NOEXCEPT(MPI_Win_free(&win_));
  }
  if (service_comm_ != MPI_COMM_NULL) {
    // Every rank's requests are answered before it enters the barrier; after
    // all_done() they were answered before the barrier that promised it.
    if (!all_done_) PEPPP_MPI_NOEXCEPT(MPI_Barrier(service_comm_));
    if (service_.joinable()) {
      std::int64_t stop[2] = {kStop, 0};
      PEPPP_MPI_NOEXCEPT(MPI_Send(stop, 2, MPI_INT64_T, 0, tag_request_, service_comm_));
      service_.join();
    }
    if (own_service_comm_) {
      PEPPP_MPI_NOEXCEPT(MPI_Comm_free(&service_comm_));
    } else {
      comm_cache(comm_).in_use = false;
    }
  }
}

std::int64_t WorkQueue::fetch_add(int slot, std::int64_t value) {
  std::int64_t old = 0;
  if (kind_ == Kind::messages) {
    if (service_.joinable()) return local_[static_cast<std::size_t>(slot)].fetch_add(value);
    return ask_root(slot, value);
  }
  PEPPP_MPI(MPI_Fetch_and_op(&value, &old, MPI_INT64_T, 0, slot, value == 0 ? MPI_NO_OP : MPI_SUM, win_));
  PEPPP_MPI(MPI_Win_flush(0, win_));
  return old;
}

std::int64_t WorkQueue::next() {
  const std::int64_t i = fetch_add(kNext, 1);
  return i < total_ ? i : -1;
}

// A request to rank 0's service thread and its answer (messages queue, ranks but 0).
std::int64_t WorkQueue::ask_root(std::int64_t slot, std::int64_t value) {
  std::int64_t req[2] = {slot, value}, answer = 0;
  PEPPP_MPI(MPI_Send(req, 2, MPI_INT64_T, 0, tag_request_, service_comm_));
  PEPPP_MPI(MPI_Recv(&answer, 1, MPI_INT64_T, 0, tag_reply_, service_comm_, MPI_STATUS_IGNORE));
  return answer;
}

// Rank 0's counters, for its own calls and its service thread: finished
// before the take, as finished() then next() would.
std::int64_t WorkQueue::finish_and_take(bool failed) {
  local_[kFinished].fetch_add(1);
  if (failed) local_[kFailed].fetch_add(1);
  return local_[kNext].fetch_add(1);
}

std::int64_t WorkQueue::finished_and_next(bool failed) {
  std::int64_t i = 0;
  if (kind_ == Kind::messages) {
    i = service_.joinable() ? finish_and_take(failed) : ask_root(kFinishNext, failed ? 1 : 0);
  } else {
    // Two accumulates and the fetch, completed by one flush: one round trip.
    // Accumulate operations on one location are atomic with each other.
    const std::int64_t one = 1;
    PEPPP_MPI(MPI_Accumulate(&one, 1, MPI_INT64_T, 0, kFinished, 1, MPI_INT64_T, MPI_SUM, win_));
    if (failed) PEPPP_MPI(MPI_Accumulate(&one, 1, MPI_INT64_T, 0, kFailed, 1, MPI_INT64_T, MPI_SUM, win_));
    PEPPP_MPI(MPI_Fetch_and_op(&one, &i, MPI_INT64_T, 0, kNext, MPI_SUM, win_));
    PEPPP_MPI(MPI_Win_flush(0, win_));
  }
  return i < total_ ? i : -1;
}

void WorkQueue::all_done() { all_done_ = true; }

void WorkQueue::drain() { fetch_add(kNext, total_); }

void WorkQueue::finished(bool failed) {
  fetch_add(kFinished, 1);
  if (failed) fetch_add(kFailed, 1);
}

WorkQueue::Counts WorkQueue::counts() {
  Counts c;
  c.taken = std::min(fetch_add(kNext, 0), total_);
  c.finished = fetch_add(kFinished, 0);
  c.failed = fetch_add(kFailed, 0);
  return c;
}

}  // namespace peppp::par
