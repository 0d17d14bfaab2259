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

}  // namespace peppp::test
