#include "peppp/par/mpi_session.hpp"

#include <algorithm>
#include <sstream>

#include "peppp/core/log.hpp"

namespace peppp::par {

MpiSession::MpiSession(int& argc, char**& argv, int required) {
  int initialized = 0;
  PEPPP_MPI(MPI_Initialized(&initialized));
  if (initialized) throw RuntimeError("MpiSession: MPI is already initialised (one session per process)");
  // Ask for MPI_THREAD_MULTIPLE, need only `required`: the work queue's
  // message fallback (no one-sided atomics, e.g. Open MPI over TCP) runs a
  // service thread on rank 0 and uses it only when MPI provides it.
  PEPPP_MPI(MPI_Init_thread(&argc, &argv, std::max(required, static_cast<int>(MPI_THREAD_MULTIPLE)), &provided_));
  // From here on, failing MPI calls return codes that PEPPP_MPI turns into exceptions.
  PEPPP_MPI(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  PEPPP_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  PEPPP_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  log::set_rank(rank_, size_);
  if (provided_ < required) {
    std::ostringstream os;
    os << "MPI provides thread level " << provided_ << ", peppp needs at least " << required
       << " (MPI_THREAD_FUNNELED)";
    throw RuntimeError(os.str(), true);
  }
}

MpiSession::~MpiSession() {
  int finalized = 0;
  PEPPP_MPI_NOEXCEPT(MPI_Finalized(&finalized));
  if (!finalized) PEPPP_MPI_NOEXCEPT(MPI_Finalize());
}

int rank(MPI_Comm comm) {
  int r = 0;
  PEPPP_MPI(MPI_Comm_rank(comm, &r));
  return r;
}

int size(MPI_Comm comm) {
  int s = 1;
  PEPPP_MPI(MPI_Comm_size(comm, &s));
  return s;
}

LocalRank local_rank(MPI_Comm comm) {
  MPI_Comm local;
  PEPPP_MPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank(comm), MPI_INFO_NULL, &local));
  LocalRank lr{rank(local), size(local)};
  PEPPP_MPI(MPI_Comm_free(&local));
  return lr;
}

}  // namespace peppp::par
