#pragma once
/// @file mpi_error.hpp
/// @brief Every MPI call checked: a non-success return code becomes a
/// `peppp::RuntimeError` naming the call, file:line and MPI's error string.
/// Needs `MPI_ERRORS_RETURN` on the communicator or window (the session sets
/// it on `MPI_COMM_WORLD`, which communicators split from it inherit; the
/// work queue sets it on its window). Not collective.

#include <mpi.h>

namespace peppp::par {

/// Throw `RuntimeError` (this rank only: `all_ranks()` false) naming `call`,
/// `file`:`line` and `MPI_Error_string(rc)` when `rc` is not `MPI_SUCCESS`.
void check_mpi(int rc, const char* call, const char* file, int line);

/// The same check for destructors and cleanup paths, which must not throw:
/// the failure is logged on this rank (stderr) instead. Returns rc == MPI_SUCCESS.
bool check_mpi_noexcept(int rc, const char* call, const char* file, int line) noexcept;

}  // namespace peppp::par

/// Wrap an MPI call: `PEPPP_MPI(MPI_Barrier(comm));` throws on failure.
#define PEPPP_MPI(call) ::peppp::par::check_mpi((call), #call, __FILE__, __LINE__)
/// Wrap an MPI call in a destructor: logs instead of throwing.
#define PEPPP_MPI_NOEXCEPT(call) ::peppp::par::check_mpi_noexcept((call), #call, __FILE__, __LINE__)
