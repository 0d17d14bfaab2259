#pragma once
// Private to the app layer: everything a command prints besides its help,
// one function per table or summary, from the result a stage returned. The
// cmd_<name>.cpp files parse options, call their stage and print through here.
#include "peppp/io/campaign.hpp"
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

}  // namespace peppp::app::report
