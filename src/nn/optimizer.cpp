// Low-precision SGD: Format B optimizer state, Format A forward weights.
#include "peppp/nn/optimizer.hpp"

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/quant/quantize.hpp"

namespace peppp::nn {

namespace {
enum StreamRole : std::uint64_t { kGradient = 1, kMomentum = 2, kAccumulator = 3, kWeights = 4 };
const FloatFormat kFloat32{};
}  // namespace

LowPrecisionSgd::LowPrecisionSgd(std::vector<torch::Tensor> params, const Configuration& config,
                                 const TrainSettings& settings, std::uint64_t seed, const std::vector<Role>& roles)
    : params_(std::move(params)), config_(config), settings_(settings), seed_(seed), enabled_(config.b != kFloat32) {
  torch::NoGradGuard no_grad;
  if (!roles.empty() && roles.size() != params_.size())
    throw InputError("low-precision SGD: " + std::to_string(roles.size()) + " parameter roles for " +
                     std::to_string(params_.size()) + " parameters");
  for (std::size_t i = 0; i < params_.size(); ++i) {
    weight_format_.push_back(config.format(roles.empty() ? Role::body : roles[i]));
    enabled_ = enabled_ || weight_format_.back() != kFloat32;
  }
  acc_.resize(params_.size());
  buf_.resize(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!enabled_) {  // float32: the parameters are their own accumulators
      acc_[i] = params_[i].detach();
      continue;
    }
    acc_[i] = params_[i].detach().clone();
    round(acc_[i], config_.b, settings_.rounding.accumulator, kAccumulator, i);
    if (weight_format_[i] == kFloat32) params_[i].copy_(acc_[i]);
    else round_weights(i);
  }
}

std::uint64_t LowPrecisionSgd::stream(std::uint64_t role, std::size_t i) const {
  // One independent stream per (seed, step, role, parameter).
  return mix64(seed_ ^ mix64(step_ * 8 + role) ^ mix64(0x9e3779b97f4a7c15ULL * (i + 1)));
}

void LowPrecisionSgd::round(torch::Tensor& t, FloatFormat f, Rounding r, std::uint64_t role, std::size_t i) {
  if (!enabled_ || f == kFloat32) return;
  quantize_(t, f, r, stream(role, i));
}

void LowPrecisionSgd::round_weights(std::size_t i) {
  torch::Tensor& p = params_[i];
  quantize_into(acc_[i], p, weight_format_[i], settings_.rounding.weights, stream(kWeights, i));
  p.unsafeGetTensorImpl()->bump_version();  // as the copy_ it replaces: a written parameter
}

void LowPrecisionSgd::zero_grad() {
  for (auto& p : params_) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

void LowPrecisionSgd::step(double grad_divisor) {
  torch::NoGradGuard no_grad;
  ++step_;
  const double lr = settings_.learning_rate, mom = settings_.momentum, wd = settings_.weight_decay;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    if (!p.grad().defined()) continue;
    torch::Tensor d = p.mutable_grad();  // rounded in place: zero_grad clears it before the next use
    if (grad_divisor != 1.0) d.div_(grad_divisor);
    round(d, config_.b, settings_.rounding.gradient, kGradient, i);
    if (wd != 0) d = d.add(acc_[i], wd);
    if (mom != 0) {
      if (!buf_[i].defined()) {
        buf_[i] = d.clone();
      } else {
        buf_[i].mul_(mom).add_(d);
      }
      round(buf_[i], config_.b, settings_.rounding.momentum, kMomentum, i);
      d = buf_[i];
    }
    acc_[i].add_(d, -lr);
    round(acc_[i], config_.b, settings_.rounding.accumulator, kAccumulator, i);
    if (enabled_ && weight_format_[i] != kFloat32) {
      round_weights(i);
    } else if (enabled_) {
      p.copy_(acc_[i]);
    }
  }
}

}  // namespace peppp::nn
