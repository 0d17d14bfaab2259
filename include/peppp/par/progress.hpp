#pragma once
/// @file progress.hpp
/// @brief Progress of long work on rank 0 (STYLE.md rule 7): cells
/// done/total, cells/hour, ETA, failures; rewritten in place on a terminal,
/// one line per update otherwise. Not collective.

#include <chrono>
#include <cstdint>
#include <string>

namespace peppp::par {

/// Rate and ETA of `total` items of which `already` were done before start.
class Progress {
 public:
  /// @param interval_s minimum seconds between printed updates (the last
  ///        item always prints)
  Progress(std::string what, std::int64_t total, std::int64_t already, bool terminal, double interval_s);
  /// The status line for `done` items (including `already`) and `failed`
  /// after `elapsed_s` seconds, e.g.
  /// "measure: 12/40 cells (30.0%), 845 cells/hour, ETA 2m05s, 1 failed".
  std::string line(std::int64_t done, std::int64_t failed, double elapsed_s) const;
  /// Print an update if the interval passed or everything is done; call on
  /// rank 0 only (the logger prints on rank 0 anyway).
  void update(std::int64_t done, std::int64_t failed);
  /// Finish a terminal line (newline) if one is open.
  void finish();

 private:
  std::string what_;
  std::int64_t total_, already_;
  bool terminal_;
  double interval_s_;
  std::chrono::steady_clock::time_point start_;
  double last_print_ = -1e300;
  bool open_line_ = false;
};

/// "1h02m", "2m05s", "7s".
std::string format_duration(double seconds);

}  // namespace peppp::par
