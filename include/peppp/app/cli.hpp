#pragma once
/// @file cli.hpp
/// @brief The `peppp` command line: subcommand dispatch. `main` calls
/// `run_cli` and maps the exceptions it throws to exit codes.

#include <mpi.h>

#include <string>
#include <vector>

#include "peppp/app/options.hpp"

namespace peppp::app {

/// One subcommand: its options and what it runs.
struct Command {
  std::string name;                                  ///< "measure"
  OptionSet (*options)();                            ///< its declared options
  int (*run)(const Options& options, MPI_Comm comm);  ///< collective on `comm`; returns the exit code
};

/// Every subcommand, in `peppp --help` order.
const std::vector<Command>& commands();

/// Parse `argv` and run the subcommand it names. Collective on `comm`.
/// @returns the exit code (0 done, 3 incomplete).
/// @throws peppp::Error (InputError for bad input) on failure.
int run_cli(int argc, char** argv, MPI_Comm comm);

/// Refuse an output that is one of the command's inputs: `--output` (or
/// the files of `--output-dir`) against `--config` and every other path
/// option (each element of a path list), after resolving links (symlinks,
/// hard links, `..`). Not collective (every rank decides alike).
/// @throws InputError naming both options and paths.
void check_output_paths(const OptionSet& set, const Options& options);

/// The `peppp --help` text.
std::string main_help();

}  // namespace peppp::app
