#pragma once
/// @file synthetic.hpp
/// @brief Synthetic cells for tests and scaling runs: a cell that sleeps
/// (or spins) a known, deterministic time and returns a deterministic fake
/// error from a hash of its seed. Outputs made with it are marked
/// `synthetic = 1`; they are not measurements.

#include <string>
#include <vector>

#include "peppp/core/task.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/par/measure.hpp"

namespace peppp::par {

/// Parameters of synthetic cells.
struct SyntheticSpec {
  double seconds = 0.2;         ///< mean time per cell, s
  double spread = 0.5;          ///< time = seconds·(1 + spread·(2u − 1)), u uniform per cell; in [0, 1)
  double fail_fraction = 0;     ///< fraction of cells that throw (recorded failed)
  double diverge_fraction = 0;  ///< fraction of cells reported diverged
  bool spin = false;            ///< busy-wait instead of sleeping
  /// Epochs of the fake per-epoch record (0: none): the error after epoch e
  /// falls from about 0.9 towards the cell's final error with
  /// hash-scattered steps, the last epoch the final error (fidelity tests).
  int epochs = 0;
  /// Mixed-cost rows (a plan mixing 14 and 28 px tasks, or networks of
  /// different cost): row t's cells take `row_scale[t mod size]` times
  /// longer (> 0); empty: every row alike.
  std::vector<double> row_scale{};
};

/// Time one synthetic cell takes, s (deterministic in the cell seed), row scale 1.
double synthetic_seconds(const SyntheticSpec& spec, std::uint64_t cell_seed);
/// Time one synthetic cell of row `task` takes, s: `synthetic_seconds` times
/// the row's `row_scale`.
double synthetic_seconds(const SyntheticSpec& spec, std::uint64_t cell_seed, int task);
/// The mean time of row `task`'s cells, s: `seconds · row_scale` (what a cost
/// estimate that knows each row but not each cell predicts).
double synthetic_row_seconds(const SyntheticSpec& spec, int task);

/// The synthetic trainer. Sleeps in slices of at most 50 ms, polling
/// `should_stop` (then throws `Interrupted`). Error in [0.05, 0.95);
/// status measured or diverged (NaN loss), or a throw (failed).
CellTrainer synthetic_trainer(SyntheticSpec spec);

/// Synthetic tasks "synthetic-<name>" (dataset "synthetic"): plain names for
/// tests and scaling runs when no catalog is used.
std::vector<TaskRow> synthetic_tasks(const std::vector<std::string>& names);

/// Deterministic stand-in memory per cell, MiB, proportional to the bits of
/// the formats (weights and activations in Format A, optimizer state in
/// Format B); NOT the nn memory model. Fills the plan's memory and breakdown.
void synthetic_memory(meta::PlanSpec& spec);

}  // namespace peppp::par
