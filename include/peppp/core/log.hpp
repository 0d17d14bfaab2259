#pragma once
/// @file log.hpp
/// @brief peppp's one logger: root-only by default, rank-prefixed when every
/// rank prints.
///
/// Messages are written by rank 0 only (AMReX's `Print()` habit). Per-rank
/// output is opt-in: `set_all_ranks(true)` (the `--log-ranks all` option), or
/// the explicit `*_all` calls for a message every rank must print. Info and
/// debug go to stdout, warnings and errors to stderr. The logger knows the
/// rank through `set_rank()`, called once by the MPI session; the core layer
/// itself never includes MPI.

#include <sstream>
#include <string>
#include <utility>

namespace peppp::log {

/// Verbosity threshold; a message prints if its level <= the current level.
enum class Level : int { quiet = 0, error = 1, warn = 2, info = 3, debug = 4 };

/// Set the verbosity (default `info`; `--quiet` sets `warn`, `--verbose` `debug`).
void set_level(Level level);
/// Current verbosity.
Level level();
/// Tell the logger this process's rank and the communicator size.
void set_rank(int rank, int size);
/// Rank this process logs as (0 before `set_rank`).
int rank();
/// When true every rank prints, each line prefixed with `[rank r]`.
void set_all_ranks(bool all);

/// Write one message at `level` (rank 0 only unless all ranks were enabled).
void write(Level level, const std::string& message);
/// Write one message from this rank, whatever the rank, prefixed with it.
void write_all(Level level, const std::string& message);

namespace detail {
template <typename... Args>
std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}
}  // namespace detail

/// Error message (stderr), rank 0.
template <typename... Args> void error(Args&&... a) { write(Level::error, detail::concat(std::forward<Args>(a)...)); }
/// Warning (stderr), rank 0.
template <typename... Args> void warn(Args&&... a) { write(Level::warn, detail::concat(std::forward<Args>(a)...)); }
/// Information (stdout), rank 0.
template <typename... Args> void info(Args&&... a) { write(Level::info, detail::concat(std::forward<Args>(a)...)); }
/// Debug detail (stdout), rank 0, only with `--verbose`.
template <typename... Args> void debug(Args&&... a) { write(Level::debug, detail::concat(std::forward<Args>(a)...)); }
/// Information printed by every rank, rank-prefixed.
template <typename... Args> void info_all(Args&&... a) { write_all(Level::info, detail::concat(std::forward<Args>(a)...)); }
/// Error printed by this rank whatever it is, rank-prefixed.
template <typename... Args> void error_all(Args&&... a) { write_all(Level::error, detail::concat(std::forward<Args>(a)...)); }

}  // namespace peppp::log
