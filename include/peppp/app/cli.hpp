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

/// The `peppp --help` text.
std::string main_help();

}  // namespace peppp::app
