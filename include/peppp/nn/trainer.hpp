#pragma once
/// @file trainer.hpp
/// @brief Train one cell (task, configuration) and measure its test error.
/// nn layer: includes torch.

#include <cstdint>
#include <string>

#include "peppp/core/cell.hpp"
#include "peppp/core/format.hpp"
#include "peppp/data/task_data.hpp"

namespace peppp::nn {

/// Train `model` (a name of `model_names()`) on `task` with `config`
/// (Format A on weights, activations and errors; Format B on the optimizer
/// state) and `settings`, then measure the test misclassification rate (with
/// the Format A activations still applied; non-finite logits count as
/// misclassified). A non-finite training loss stops training early with
/// status `diverged`. Any other failure gives status `failed` with the
/// message (error NaN): this function does not throw for a failing cell.
/// Deterministic for a given (seed, settings.threads). Sets torch's global
/// seed and intra-op thread count. Not collective.
/// @throws InputError on an unknown model or device (bad configuration, not a cell failure).
CellResult train_cell(const data::TaskData& task, const Configuration& config, const TrainSettings& settings,
                      std::uint64_t seed, const std::string& model);

}  // namespace peppp::nn
