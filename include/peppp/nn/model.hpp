#pragma once
/// @file model.hpp
/// @brief The quantized model zoo: every layer output (conv, linear, batch
/// norm, layer norm, ReLU, GELU, softmax, attention matmuls, pooling,
/// residual add) and the input pass through a Format A quantizer
/// (`QuantizeFn`: forward rounds the activation, backward rounds the
/// incoming error, straight-through). nn layer: includes torch.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peppp/core/format.hpp"
#include "peppp/nn/memory.hpp"

namespace peppp::nn {

/// Which kind of layer produced an activation (for counting, the list of
/// quantizer points, and tests). `matmul`: a product of two activations
/// (attention scores, attention output; bmm/matmul); `activation`: an
/// elementwise activation function other than ReLU and GELU.
enum class LayerType {
  input, conv, linear, batchnorm, relu, pool, add,
  layernorm, groupnorm, gelu, activation, softmax, matmul, mul, cat
};

/// "input", "conv", "linear", "batchnorm", "relu", "pool", "add", "layernorm",
/// "groupnorm", "gelu", "activation", "softmax", "matmul", "mul", "cat".
const char* label(LayerType t);

/// The autograd function placed after every layer: forward returns `x`
/// rounded onto (e, m) with rounding `fwd_rounding` (stream `fwd_seed`),
/// backward returns the incoming error rounded with `bwd_rounding` (stream
/// `bwd_seed`); the gradient passes straight through the rounding. Integer
/// arguments carry `FloatFormat` bits (a named standard format: e =
/// FloatFormat::code()), `Rounding` values and seeds bit-cast.
struct QuantizeFn : public torch::autograd::Function<QuantizeFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, int64_t e, int64_t m,
                               int64_t fwd_rounding, int64_t bwd_rounding, int64_t fwd_seed, int64_t bwd_seed);
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad);
};

/// Quantization shared by every quantizer point of one model instance.
/// Not thread-safe (one model is trained by one thread of control).
struct ActivationQuantizer {
  FloatFormat format;                               ///< Format A
  Rounding forward_rounding = Rounding::nearest;    ///< activations
  Rounding backward_rounding = Rounding::nearest;   ///< errors
  bool enabled = false;  ///< false: identity (float32 training, also for e8m23)
  std::uint64_t seed = 0;     ///< stochastic streams derive from (seed, call counter)
  std::uint64_t counter = 0;  ///< advanced by one per quantizer call
  /// When set, every per-sample activation count (numel / batch, the batch
  /// being the first dimension of the last `LayerType::input` point) is
  /// added here under the producing layer's label (the memory model's
  /// counting run).
  std::map<std::string, std::int64_t>* counts = nullptr;
  /// When set, every quantizer call appends its point (layer name, kind,
  /// per-sample count as for `counts`), in call order.
  std::vector<QuantizerPoint>* points = nullptr;
  /// When set, called with every activation after its quantization (tests).
  std::function<void(LayerType, const torch::Tensor&)> observer;
  std::int64_t samples = 1;  ///< batch of the last input point (for the per-sample counts)
  /// Format A per role (docs/roles.md), set by `set_formats` for a
  /// configuration whose roles differ: a point quantizes onto its role's
  /// format (a role absent here: `format`; e8m23: the point is left as it
  /// is). Empty (uniform configurations): `format` at every point, no lookup.
  std::map<Role, FloatFormat> role_formats;
  /// Roles of the points the model names itself (its first layer "first",
  /// its head "last", attention scores and softmax "attention"), by point
  /// name; the model's constructor fills it. Other points: `role()`'s rule.
  std::map<std::string, Role> point_roles;

  /// The role of point (`t`, `layer`): `point_roles[layer]` when named
  /// there (`layer` empty: the label of `t`), else by kind: input → first;
  /// batchnorm, layernorm, groupnorm → norm; anything else → body.
  Role role(LayerType t, const std::string& layer) const;
  /// Format A of a point of role `r` (`role_formats`, else `format`).
  const FloatFormat& role_format(Role r) const;
  /// Take Format A of `config`: `format` = the body's, `role_formats` the
  /// per-role formats when the configuration is not uniform (else empty),
  /// `enabled` unless every role's format is e8m23 (float32).
  void set_formats(const Configuration& config);

  /// Quantize the output `x` of a layer of type `t` (autograd-aware); `x`
  /// itself is left as it is. `layer` names the point (the producing
  /// module's parameter prefix, e.g. "layer1_0.1_conv"; empty: the label of `t`).
  torch::Tensor operator()(const torch::Tensor& x, LayerType t, const std::string& layer = {});
  /// The same for a temporary `x` (a layer's output passed on directly): it
  /// is rounded in place, without a new tensor, when nothing else refers to
  /// its data (no other handle, view, or autograd node that saved it, as
  /// relu saves its output; not a leaf). Same bits, streams and backward.
  torch::Tensor operator()(torch::Tensor&& x, LayerType t, const std::string& layer = {});
  /// `(*this)(torch::relu(x), LayerType::relu)`, bit for bit (activation,
  /// error, streams, counts, observer), with relu and the rounding fused
  /// into one pass and one autograd node (`quantize_relu`); `x` is left as
  /// it is. Disabled: `torch::relu(x)`.
  torch::Tensor relu(const torch::Tensor& x, const std::string& layer = {});
};

/// A network of the zoo: images [N, channels, resolution, resolution]
/// (float32) → logits [N, classes].
class Model : public torch::nn::Module {
 public:
  /// Logits for a batch, every activation quantized by `quantizer()`.
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  /// The model's quantizer (shared by all its layers).
  ActivationQuantizer& quantizer() { return *q_; }
  /// The module path of every parameter, in `parameters()` order: the
  /// registered name (TorchScript networks: the name in the loaded module,
  /// "conv1.weight"), which `parameter_roles` matches with the point names.
  virtual std::vector<std::string> parameter_paths();

 protected:
  explicit Model(std::shared_ptr<ActivationQuantizer> q) : q_(std::move(q)) {}
  /// Name the roles of the points whose kind does not tell (docs/roles.md):
  /// `first_layer` → first, the head "fc" → last, `attention` → attention.
  void name_roles(const std::string& first_layer, const std::vector<std::string>& attention = {});
  std::shared_ptr<ActivationQuantizer> q_;
};

/// The role of every parameter of `net`, in `parameters()` order
/// (docs/roles.md: weights follow the role of their layer): the role of the
/// first point of `points` whose layer is the parameter's module path (its
/// path without the last ".name"; a parameter of the model itself, such as
/// vit-tiny's "pos_embed": its name) or, for TorchScript networks, that
/// path followed by ".op" (a point "conv1.conv2d" for "conv1.weight");
/// body when no point matches.
std::vector<Role> parameter_roles(Model& net, const std::vector<QuantizerPoint>& points);

/// Build a model of the zoo (see `model_names()` in memory.hpp):
/// - small-cnn: conv16-BN-ReLU-pool, conv32-BN-ReLU-pool, adaptive avg pool to 7×7, linear;
/// - resnet8: CIFAR-style narrow ResNet, one BasicBlock per stage, widths 16/32/64;
/// - resnet18, resnet34: CIFAR-style (3×3 stem, no max pool), BasicBlocks
///   [2,2,2,2] / [3,4,6,3], widths 64..512, adaptive avg pool, linear;
/// - vgg11/13/16/19: with batch norm, 2×2 max pools (ceil mode), adaptive avg pool, linear(512);
/// - mlp: the flattened image through linear-ReLU layers of widths 256, 128, 64, then linear;
/// - vit-tiny: patch embedding (a patch × patch convolution, patch 2 below 28 px, 4 from 28 px
///   on), a learned position embedding (add), 2 pre-norm encoder blocks of width 32 (2 heads of
///   16: LayerNorm, QKV linear, scores q·kᵀ/4, softmax, scores·v, projection linear, residual add;
///   LayerNorm, linear 64, GELU, linear 32, residual add), a final LayerNorm, the mean over the
///   tokens (pool) and a linear head. Quantizer points after every one of those steps. (Small
///   on purpose: a cell costs about as much as small-cnn's multiply-adds, 1.1 M per 28 px image.)
/// - torchscript:PATH: a user's network saved with torch.jit.save (nn/torchscript.hpp: the
///   ops that get quantizer points, the checks on its input and output).
/// Parameters are initialised from torch's global generator (seed it first).
/// @throws InputError on an unknown name or non-positive sizes.
std::shared_ptr<Model> make_model(const std::string& name, int classes, int channels, int resolution,
                                  std::shared_ptr<ActivationQuantizer> quantizer);

}  // namespace peppp::nn
