#pragma once
// Helpers shared by the tests: scratch folders, running the peppp executable.
#include <mpi.h>

#include <string>

namespace peppp::test {

/// A fresh empty folder under the build tree's tests/tmp/, named after the
/// current test; identical on every rank (rank 0 creates it, then a barrier).
/// Collective on `comm`.
std::string scratch_dir(MPI_Comm comm = MPI_COMM_WORLD);

/// Result of running a command.
struct Run {
  int exit_code;       ///< exit status (128+signal if killed)
  std::string output;  ///< stdout and stderr together
};

/// Run a shell command, capturing stdout+stderr. Not collective.
Run run_command(const std::string& command);

/// Path of the `peppp` executable in the build tree.
std::string peppp_exe();

/// Path of a file in the source tree.
std::string source_path(const std::string& relative);

/// A Python interpreter that imports torch, "" if none: $PEPPP_PYTHON,
/// python3, /usr/bin/python3 (the first that works; looked up once).
const std::string& torch_python();

/// The number of ranks this test was registered with (PEPPP_TEST_RANKS).
int registered_ranks();

/// The command-line prefix that starts a program on `ranks` MPI ranks, ending
/// with a space: the launcher CMake's FindMPI found, as peppp_add_test hands it
/// on (PEPPP_MPIEXEC, PEPPP_MPIEXEC_NUMPROC_FLAG, PEPPP_MPIEXEC_PREFLAGS).
/// Oversubscription and the rest of the MPI settings come from the environment
/// the helper sets, which the run inherits (run_command). A test registered
/// with SPAWNS n may start runs of at most n ranks: a larger count, or a test
/// registered without SPAWNS, throws std::logic_error. Not collective.
std::string mpi_launch(int ranks);

}  // namespace peppp::test
