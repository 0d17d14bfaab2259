#pragma once
/// @file figures.hpp
/// @brief Drawing a run folder's figures with the Python scripts in
/// `scripts/` (report.py and the plot_*.py it calls), as `peppp run` does at
/// its end. Python is optional: when it or its packages are missing the
/// figures are skipped with a message saying how to get them.

#include <string>
#include <vector>

namespace peppp::app {

/// Where the interpreter and the scripts are; empty fields are looked up.
struct FiguresOptions {
  /// Python interpreter; empty: `$PEPPP_PYTHON`, else `/usr/bin/python3`
  /// when it exists, else `python3` on PATH.
  std::string python;
  /// Folder holding report.py; empty: `$PEPPP_SCRIPTS_DIR`, else the source
  /// tree's `scripts/` when present, else the installed
  /// `<prefix>/share/peppp/scripts`.
  std::string scripts_dir;
  /// Extra arguments passed to report.py (e.g. `--pdf`).
  std::vector<std::string> extra_args;
};

/// What `draw_run_figures` did.
struct FiguresResult {
  bool drawn = false;   ///< report.py ran and succeeded
  std::string report;   ///< path of the Markdown report when drawn
  std::string message;  ///< one line: what was drawn, or why not and how to fix it
};

/// Python command that checks the four packages the scripts need.
std::string figures_package_check(const std::string& python);

/// Run `report.py RUN_DIR` (figures into RUN_DIR/figures, the report into
/// RUN_DIR/report.md). Never throws for a missing Python, missing packages or
/// a failing script: the result says what happened, and the caller logs it
/// (a run's results are complete without figures). Not collective: call it
/// on one rank (the root) only. Blocks while Python runs (seconds).
///
/// The end of `peppp run`, on the root:
/// `auto f = draw_run_figures(dir); f.drawn ? log::info(f.message) : log::warn(f.message);`
FiguresResult draw_run_figures(const std::string& run_dir, const FiguresOptions& options = {});

}  // namespace peppp::app
