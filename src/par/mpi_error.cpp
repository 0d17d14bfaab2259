#include "peppp/par/mpi_error.hpp"

#include <sstream>
#include <string>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"

namespace peppp::par {

namespace {
std::string describe(int rc, const char* call, const char* file, int line) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
  std::ostringstream os;
  os << "MPI call failed: " << call << ": "
     << (len > 0 ? std::string(msg, static_cast<std::size_t>(len)) : "error " + std::to_string(rc)) << " (" << file
     << ":" << line << ")";
  return os.str();
}
}  // namespace

void check_mpi(int rc, const char* call, const char* file, int line) {
  if (rc == MPI_SUCCESS) return;
  throw RuntimeError(describe(rc, call, file, line));
}

bool check_mpi_noexcept(int rc, const char* call, const char* file, int line) noexcept {
  if (rc == MPI_SUCCESS) return true;
  try {
    log::error_all(describe(rc, call, file, line));
  } catch (...) {
  }
  return false;
}

}  // namespace peppp::par
