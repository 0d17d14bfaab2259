#pragma once
/// @file error.hpp
/// @brief peppp's exception types and the process exit codes they map to.
///
/// The library reports every failure by throwing one of these; only the
/// executable's `main` catches them and turns them into an exit code
/// (DESIGN.md §4). Messages are one line and name the file, key and value
/// at fault and what is allowed.

#include <stdexcept>
#include <string>

namespace peppp {

/// Process exit codes of the `peppp` executable (DESIGN.md §4).
enum class ExitCode : int {
  ok = 0,          ///< done
  bad_input = 1,   ///< bad input: the message names the file, key and value
  runtime = 2,     ///< runtime failure (I/O, numerics, MPI, ...)
  incomplete = 3,  ///< interrupted (signal, time limit); resumable
};

/// Base of all peppp exceptions.
///
/// `all_ranks()` says whether every MPI rank raises the same error at the
/// same point (e.g. all ranks validated the same configuration). When it is
/// false and more than one rank runs, `main` must call `MPI_Abort`, since the
/// other ranks may be waiting in a collective.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message, bool all_ranks)
      : std::runtime_error(message), code_(code), all_ranks_(all_ranks) {}
  /// The exit code this error maps to.
  ExitCode code() const noexcept { return code_; }
  /// True if every rank raises this error consistently (no abort needed).
  bool all_ranks() const noexcept { return all_ranks_; }

 private:
  ExitCode code_;
  bool all_ranks_;
};

/// Bad user input (configuration, command line, input files): exit code 1.
/// By default assumed to be detected identically on every rank.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message, bool all_ranks = true)
      : Error(ExitCode::bad_input, message, all_ranks) {}
};

/// A failure while running (I/O, numerics, MPI): exit code 2.
/// By default assumed to happen on one rank only.
class RuntimeError : public Error {
 public:
  explicit RuntimeError(const std::string& message, bool all_ranks = false)
      : Error(ExitCode::runtime, message, all_ranks) {}
};

/// Work stopped early on request (SIGTERM/SIGUSR1); what was done is saved
/// and the run can be resumed: exit code 3. Raised on every rank.
class Interrupted : public Error {
 public:
  explicit Interrupted(const std::string& message)
      : Error(ExitCode::incomplete, message, true) {}
};

}  // namespace peppp
