#include "peppp/par/mpi_session.hpp"

#include <sstream>

#include "peppp/core/log.hpp"

namespace peppp::par {

void check_mpi(int rc, const char* call, const char* file, int line) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  std::ostringstream os;
  os << "MPI call failed: " << call << ": " << std::string(msg, static_cast<std::size_t>(len))
     << " (" << file << ":" << line << ")";
  throw RuntimeError(os.str());
}

MpiSession::MpiSession(int& argc, char**& argv, int required) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) throw RuntimeError("MpiSession: MPI is already initialised (one session per process)");
  MPI_Init_thread(&argc, &argv, required, &provided_);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
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
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
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
  MPI_Comm_free(&local);
  return lr;
}

void broadcast(std::string& s, MPI_Comm comm, int root) {
  unsigned long long n = s.size();
  PEPPP_MPI(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, comm));
  s.resize(static_cast<std::size_t>(n));
  if (n > 0) PEPPP_MPI(MPI_Bcast(s.data(), static_cast<int>(n), MPI_CHAR, root, comm));
}

bool all_true(bool flag, MPI_Comm comm) {
  int in = flag ? 1 : 0, out = 0;
  PEPPP_MPI(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LAND, comm));
  return out != 0;
}

}  // namespace peppp::par
