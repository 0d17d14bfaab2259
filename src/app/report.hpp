#pragma once
// Private to the app layer: everything a command prints besides its help,
// one function per table or summary, from the result a stage returned (the
// stages return data; the app formats it on rank 0). The cmd_<name>.cpp
// files parse options, call their stage and print through here.
#include <string>

#include "peppp/io/campaign.hpp"
#include "peppp/io/selection.hpp"
#include "peppp/stage/info.hpp"
#include "peppp/stage/memory.hpp"
#include "peppp/stage/merge.hpp"
#include "peppp/stage/quantize.hpp"
#include "peppp/stage/tasks.hpp"

namespace peppp::app::report {

/// Help or version text (`peppp --help`, `peppp CMD --help`, `peppp --version`) on stdout, flushed.
void help(const std::string& text);

/// `peppp memory`: the table of the matrix `m` of `job` (per task its model
/// counts, per cell weights / activations / optimizer / total in MiB, then
/// min, median = the cap, max) on stdout.
void memory_table(const stage::MemoryJob& job, const io::Campaign& m);

/// `peppp tasks`: one line per dataset (its files present, or each missing
/// file as a warning), then the catalog's table of tasks.
void tasks_listing(const std::string& catalog, const stage::TasksResult& r);

/// `peppp tasks --load`: each task's counts and hash (debug), then the totals and the time.
void tasks_loaded(const stage::TasksResult& r);

/// `peppp quantize`: the one line of what rounding did (stdout, flushed).
void quantize_summary(const stage::QuantizeResult& r);

/// `peppp merge`: what was written (rows, combined rows, configurations, replicates, inputs).
void merge_summary(const stage::MergeJob& job, const stage::MergeResult& r);

// ---- select

/// Log the estimated Pareto frontier of `s` (memory, predicted error ± std,
/// measured, p_best; the recommendation marked), the recommendation line and,
/// when recorded, the zero-shot pick beside what the measurements bought.
void print_selection(const io::Selection& s);

// ---- info

/// The text `peppp info` prints for `info`: kind, dimensions, variables, a
/// campaign's cells, rows, per-epoch record and noise, a completion's
/// noise, the global attributes; or a journal folder's records.
std::string format_info(const stage::FileInfo& info);

}  // namespace peppp::app::report
