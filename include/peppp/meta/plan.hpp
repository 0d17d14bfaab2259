#pragma once
/// @file plan.hpp
/// @brief The measurement plan of a campaign: tasks × configurations, which
/// cells are measured (full, uniform or memory-weighted non-uniform
/// sampling, METHOD.md F4), their sampling probabilities, the queue order
/// (grouped by task, most expensive first) and the plan fingerprint that
/// ties journals to the plan. Serial maths (core + Eigen): every rank builds
/// the same plan, the measure driver (`par/measure.hpp`) runs it.

#include <cstdint>
#include <string>
#include <vector>

#include "peppp/core/format.hpp"
#include "peppp/core/task.hpp"

namespace peppp::meta {

/// Sampling scheme of the plan. `design`: every uniform configuration for
/// every task plus a level-balanced fraction `ratio` of the per-role ones
/// (`sample_role_design`, role_design.hpp).
enum class Scheme { full, uniform, nonuniform, design };
/// Parse "full", "uniform", "nonuniform", "design". @throws InputError.
Scheme parse_scheme(const std::string& s);
/// "full", "uniform", "nonuniform", "design".
const char* label(Scheme s);

/// Everything a plan is made from.
struct PlanSpec {
  std::vector<TaskRow> tasks;           ///< n tasks (rows), names unique
  std::vector<Configuration> configs;  ///< d configurations (columns), labels unique
  /// n·d row-major memory per cell, MiB (> 0): the weight of non-uniform
  /// sampling and the order of `order` within a task (the measure stage's
  /// default queue order is its own cost estimate: stage::cost_estimate).
  std::vector<double> memory;
  /// Optional n·d breakdowns (MiB); empty when unknown.
  std::vector<double> memory_weights, memory_activations, memory_optimizer;
  /// Where `memory` came from (written to the output), e.g. "nn memory model".
  std::string memory_source;
  Scheme scheme = Scheme::full;
  double ratio = 0.2;   ///< uniform: fraction of cells, in (0, 1]; design: fraction of the per-role configurations per task, in [0, 1]
  double p_min = 0.0;   ///< nonuniform: probability floor
  double p_max = 0.4;   ///< nonuniform: probability of the cheapest cells, in (0, 1]
  std::uint64_t seed = 1;  ///< campaign seed (sampling and per-cell seeds)
  /// Times each planned cell is trained (`train.replicates`, >= 1), each
  /// replicate r with its own seed (`replicate_seed`); replicate 0 is the
  /// cell seed, so a 1-replicate plan is exactly a plan without replicates.
  /// Part of the fingerprint only when > 1 (1-replicate journals stay valid).
  int replicates = 1;
  /// Text that determines the cells' results beyond tasks and configurations
  /// (model, training settings, synthetic marker); part of the fingerprint.
  std::string identity;
  /// Per task (same order as `tasks`, or empty): its full definition as
  /// "key=value" lines (dataset kind, files' sizes and header hashes,
  /// classes, resolution, channels, sizes, subsample seed); part of the
  /// fingerprint, so a changed task never reuses another task's results.
  std::vector<std::string> task_definitions;
};

/// A validated plan (built by `make_plan`).
struct Plan {
  PlanSpec spec;
  std::vector<std::uint8_t> mask;   ///< n·d, 1 where the cell is planned
  std::vector<double> probability;  ///< n·d probability the scheme drew each cell with
  /// Planned cells (flat index t·d + c) in queue order: by task, then
  /// descending memory, then index.
  std::vector<std::uint64_t> order;
  std::uint64_t fingerprint = 0;    ///< FNV-1a hash of `identity_text`
  /// Everything that decides the cells' results, one "key=value" per line
  /// (`plan-version`, training keys, seed, replicates, sampling and its mask,
  /// task.<name>.<key>, config.<j>): written beside the journals so a journal
  /// of another plan is refused naming what differs (`plan_differences`).
  std::string identity_text;

  std::size_t n_tasks() const { return spec.tasks.size(); }
  std::size_t n_configs() const { return spec.configs.size(); }
  /// Seed of one cell: hash of (campaign seed, task name, config label).
  std::uint64_t cell_seed(std::uint64_t cell) const;
  /// Seed of replicate `r` of a cell (`meta::replicate_seed`); r = 0 gives `cell_seed(cell)`.
  std::uint64_t replicate_seed(std::uint64_t cell, int r) const;
  /// Replicates per planned cell (spec.replicates).
  int replicates() const { return spec.replicates; }
  /// Work items of the queue, in queue order: item = cell · R + r for every
  /// cell of `order` and r = 0..R−1, the replicates of a cell adjacent (the
  /// plan's task grouping and cost order kept; R = 1: exactly `order`).
  std::vector<std::uint64_t> work_items() const;
};

/// Build the plan: validate the spec, sample (full / uniform exact count
/// round(ratio·n·d), seeded / nonuniform F4.2 Bernoulli), order, fingerprint.
/// Deterministic: every rank gets the same plan.
/// @throws InputError on an empty task or configuration list, duplicate
///         names, a ratio outside (0, 1], p_max outside (0, 1], p_min > p_max,
///         memory sizes/values that are wrong, replicates < 1, or a plan with no cell.
Plan make_plan(PlanSpec spec);

/// Seed of a cell: `mix64(fnv1a64(task + "\n" + config, mix64(campaign_seed)))`,
/// from the task name and the configuration label "e4m3/e6m7".
std::uint64_t cell_seed(std::uint64_t campaign_seed, const std::string& task, const std::string& config);

/// Seed of replicate `r` of a cell: `cell_seed(...)` for r = 0 (today's
/// seeds, so existing campaigns and journals stay valid), else
/// `mix64(fnv1a64(task + "\n" + config + "\nreplicate=" + r, mix64(campaign_seed)))`.
std::uint64_t replicate_seed(std::uint64_t campaign_seed, const std::string& task, const std::string& config, int r);

}  // namespace peppp::meta
