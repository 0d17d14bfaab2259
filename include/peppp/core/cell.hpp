#pragma once
/// @file cell.hpp
/// @brief Torch-free description of how one cell (task, configuration) is
/// trained and what its training produced, for the par/io/app layers.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "peppp/core/format.hpp"

namespace peppp {

/// Rounding mode of each of the six quantized roles (QUANT.md "Where the
/// formats act"); defaults: stochastic for the weights and the optimizer,
/// nearest for activations and errors.
struct RoundingRoles {
  Rounding weights = Rounding::stochastic;      ///< forward weights onto Format A
  Rounding activations = Rounding::nearest;     ///< layer outputs onto Format A (forward)
  Rounding errors = Rounding::nearest;          ///< back-propagated errors onto Format A
  Rounding gradient = Rounding::stochastic;     ///< gradient handed to the optimizer onto Format B
  Rounding momentum = Rounding::stochastic;     ///< momentum buffer onto Format B
  Rounding accumulator = Rounding::stochastic;  ///< float32 master weights onto Format B
};

/// Training hyper-parameters of a cell (defaults: the paper's setting).
struct TrainSettings {
  int epochs = 10;              ///< passes over the training split
  /// Stop after this many epochs (1..epochs; 0 = train all `epochs`) with
  /// the schedule of the whole `epochs` run: the cell's error is then bit for
  /// bit its error_by_epoch at that epoch in a full run (`select --epoch E`:
  /// early epochs as a cheaper fidelity). Not a training setting of the matrix.
  int stop_after_epoch = 0;
  /// Evaluate the test split after every epoch (CellResult::error_by_epoch).
  /// The evaluations do not change the training (the final error is the
  /// same bit for bit either way); false only saves their time.
  bool record_epochs = true;
  int batch_size = 32;          ///< samples per SGD step (also B of the memory model)
  double learning_rate = 1e-3;  ///< SGD step size
  double momentum = 0.9;        ///< SGD momentum (0 = none)
  double weight_decay = 5e-4;   ///< L2 penalty added to the gradient
  /// Learning-rate schedule over the cell's steps: constant (false) or cosine
  /// annealing to 0 at the last step, lr_t = lr (1 + cos(pi t / T)) / 2,
  /// t = 0 .. T-1 (true): the annealed last iterate varies much less from seed
  /// to seed (docs/reference-matrix.md).
  bool cosine_schedule = false;
  RoundingRoles rounding;       ///< rounding mode per role
  /// The loss is multiplied by this before back-propagation and the gradients
  /// divided by it before the optimizer (static loss scaling): with a mean
  /// loss the errors are ~1/batch and underflow the small Format A exponent
  /// ranges (e3: below 2^-4). 0 (default) = the batch size, i.e. the errors
  /// of a summed loss; 1 = no scaling. The float32 result is the same either
  /// way, up to rounding.
  double loss_scale = 0.0;
  int threads = 1;              ///< torch intra-op threads (>= 1)
  std::string device = "cpu";   ///< "cpu", "cuda" or "cuda:N"
  /// Evaluate the test split in chunks of this many samples (memory bound,
  /// not a training setting; results do not depend on it).
  int eval_batch_size = 256;
  /// Polled once per training step: when it returns true the trainer stops
  /// and throws `peppp::Interrupted` (the cell is abandoned, re-run on
  /// resume). Empty: never stop.
  std::function<bool()> should_stop;
};

/// Outcome of a cell; values match campaign.nc's `status` flag (DESIGN.md §5).
enum class CellStatus : std::uint8_t {
  not_planned = 0,
  planned = 1,
  measured = 2,  ///< trained to the end, error measured
  diverged = 3,  ///< a non-finite loss stopped training early; error still measured
  failed = 4,    ///< an exception stopped the cell; error is NaN
};

/// "measured", "diverged", ...
inline const char* label(CellStatus s) {
  switch (s) {
    case CellStatus::not_planned: return "not_planned";
    case CellStatus::planned: return "planned";
    case CellStatus::measured: return "measured";
    case CellStatus::diverged: return "diverged";
    case CellStatus::failed: return "failed";
  }
  return "unknown";
}

/// What training one cell produced.
struct CellResult {
  double test_error = 0;  ///< misclassification rate on the test split, [0, 1]; NaN if failed
  double final_loss = 0;  ///< mean training loss of the last epoch run (may be inf/NaN if diverged)
  double seconds = 0;     ///< wall time of the cell (training + evaluation), s
  CellStatus status = CellStatus::planned;
  std::string message;    ///< why it failed/diverged (empty when measured)
  /// Test error after each epoch 1..epochs (the last is `test_error`) and
  /// the mean training loss of each epoch; a diverged cell's epochs from the
  /// one that diverged on hold its final values (training stopped there).
  /// Empty when the trainer does not record them (then NaN in campaign.nc).
  std::vector<double> error_by_epoch, loss_by_epoch;
};

}  // namespace peppp
