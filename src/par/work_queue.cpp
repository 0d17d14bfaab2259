#include "peppp/par/work_queue.hpp"

#include <algorithm>

#include "peppp/par/mpi_error.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::par {

namespace {
constexpr int kNext = 0, kFinished = 1, kFailed = 2, kSlots = 3;
}

WorkQueue::WorkQueue(MPI_Comm comm, std::int64_t total) : comm_(comm), total_(total) {
  const bool root = rank(comm) == 0;
  const MPI_Aint bytes = root ? static_cast<MPI_Aint>(kSlots * sizeof(std::int64_t)) : 0;
  PEPPP_MPI(MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, comm, &base_, &win_));
  PEPPP_MPI(MPI_Win_set_errhandler(win_, MPI_ERRORS_RETURN));
  if (root) std::fill(base_, base_ + kSlots, std::int64_t{0});
  // Zeroed before anyone can touch it.
  PEPPP_MPI(MPI_Barrier(comm));
  PEPPP_MPI(MPI_Win_lock_all(MPI_MODE_NOCHECK, win_));
}

WorkQueue::~WorkQueue() {
  if (win_ == MPI_WIN_NULL) return;
  PEPPP_MPI_NOEXCEPT(MPI_Win_unlock_all(win_));
  PEPPP_MPI_NOEXCEPT(MPI_Win_free(&win_));
}

std::int64_t WorkQueue::fetch_add(int slot, std::int64_t value) {
  std::int64_t old = 0;
  PEPPP_MPI(MPI_Fetch_and_op(&value, &old, MPI_INT64_T, 0, slot, value == 0 ? MPI_NO_OP : MPI_SUM, win_));
  PEPPP_MPI(MPI_Win_flush(0, win_));
  return old;
}

std::int64_t WorkQueue::next() {
  const std::int64_t i = fetch_add(kNext, 1);
  return i < total_ ? i : -1;
}

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
