#pragma once
/// @file optimizer.hpp
/// @brief Low-precision SGD (QUANT.md, as QPyTorch's OptimLP around SGD):
/// the gradient is rounded onto Format B, the momentum buffer and the float32
/// master weights (accumulator) are kept on Format B, and the weights the
/// forward pass uses are Format A of the accumulator. nn layer: includes torch.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "peppp/core/cell.hpp"
#include "peppp/core/format.hpp"

namespace peppp::nn {

/// SGD with momentum and L2 weight decay on quantized state. Per step, for
/// every parameter p with gradient g:
///   g ← Q_B(g);  d ← g + wd·acc;  buf ← Q_B(momentum·buf + d) (buf ← Q_B(d) on the first step);
///   acc ← Q_B(acc − lr·buf);  p ← Q_A(acc).
/// Stochastic roundings draw from streams derived from (seed, role, step),
/// so a run is reproducible. With `quantize == false` (float32 baseline, or
/// both formats e8m23) every Q is skipped.
class LowPrecisionSgd {
 public:
  /// Takes over `params` (their current values become the accumulators,
  /// rounded onto Format B, and the parameters Format A of those). `roles`:
  /// the role of every parameter (docs/roles.md), whose Format A
  /// (`config.format(role)`) its forward weights get; empty: every
  /// parameter is body (Format `config.a`). Format B is every parameter's.
  LowPrecisionSgd(std::vector<torch::Tensor> params, const Configuration& config, const TrainSettings& settings,
                  std::uint64_t seed, const std::vector<Role>& roles = {});
  /// Zero every parameter's gradient.
  void zero_grad();
  /// One update from the current gradients divided by `grad_divisor` (undoes
  /// a loss scale); parameters without a gradient are skipped.
  void step(double grad_divisor = 1.0);
  /// Step size of the following steps (a schedule sets it before each step).
  void set_learning_rate(double lr) { settings_.learning_rate = lr; }
  /// Accumulator (master weights, Format B) of parameter i.
  const torch::Tensor& accumulator(std::size_t i) const { return acc_[i]; }
  /// Momentum buffer (Format B) of parameter i; undefined before the first step.
  const torch::Tensor& momentum_buffer(std::size_t i) const { return buf_[i]; }
  /// The parameters being optimized.
  const std::vector<torch::Tensor>& parameters() const { return params_; }
  /// Whether quantization is applied at all.
  bool quantizes() const { return enabled_; }

 private:
  void round(torch::Tensor& t, FloatFormat f, Rounding r, std::uint64_t role, std::size_t i);
  /// The weights: parameter i ← Q_A(acc_[i]) written straight into the
  /// parameter (same stream and bits as rounding a copy, without the copy).
  void round_weights(std::size_t i);
  std::uint64_t stream(std::uint64_t role, std::size_t i) const;

  std::vector<torch::Tensor> params_, acc_, buf_;
  std::vector<FloatFormat> weight_format_;  ///< Format A of each parameter's forward weights
  Configuration config_;
  TrainSettings settings_;
  std::uint64_t seed_;
  std::uint64_t step_ = 0;
  bool enabled_;
};

}  // namespace peppp::nn
