#pragma once
/// @file torchscript.hpp
/// @brief A user's network saved as TorchScript (`campaign.model =
/// torchscript:PATH`), quantized like the zoo: its forward graph is inlined
/// and a Format A quantizer point (the operator `peppp::quantize`, which
/// calls the model's `ActivationQuantizer`: the same autograd function,
/// streams and counters as the zoo) is inserted after the input and after
/// every node of `quantized_ops()`. nn layer: includes torch.
///
/// The module takes images [N, C, H, W] (float32) and returns logits
/// [N, K] with K >= the task's classes: a head of exactly `classes` is used
/// as it is; a larger one (one file for the tasks of a catalog whose class
/// counts differ: export it with the largest) through its first `classes`
/// logits (task class i is logit i; the others get no loss and no vote).
/// A smaller one is refused. Only the functional form of an op gets a point: in-place
/// variants (`relu_`, `add_`, `x += y`) and ops whose output is not a
/// tensor are left as they are; views and reshapes (`flatten`, `view`,
/// `transpose`, ...) move data and get none, as in the zoo.

#include <torch/script.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "peppp/nn/model.hpp"

namespace peppp::nn {

/// The aten operators followed by a quantizer point and the kind each point
/// gets (`label(LayerType)`): conv1d/2d/3d, conv_transpose1d/2d/3d,
/// convolution, _convolution → conv; linear, addmm → linear; matmul, mm,
/// bmm, baddbmm, einsum → matmul; batch_norm → batchnorm; layer_norm →
/// layernorm; group_norm, instance_norm → groupnorm; relu → relu; gelu →
/// gelu; sigmoid, tanh, silu, hardswish, hardsigmoid, hardtanh, relu6,
/// leaky_relu, elu, selu, celu, softplus, mish, prelu → activation;
/// softmax, log_softmax → softmax; max_pool1d/2d/3d, avg_pool1d/2d/3d,
/// adaptive_avg_pool1d/2d/3d, mean → pool; add, sub → add; mul, div → mul;
/// cat, stack → cat.
const std::vector<std::pair<std::string, LayerType>>& quantized_ops();

/// A TorchScript network as a zoo model. Its parameters (all of the
/// module's, in the module's order) are this Model's parameters (the same
/// tensors), so the low-precision SGD trains them; buffers (batch-norm
/// statistics) stay in the module.
class ScriptedModel : public Model {
 public:
  /// Load `path` and rewrite its forward graph. Before returning, runs the
  /// network once (eval mode, no quantization, counters untouched) on
  /// zeros [1, channels, resolution, resolution] and checks the output.
  /// @throws InputError (one line naming the file and the sizes) if the
  ///         file cannot be read, is not TorchScript, has no forward, or does
  ///         not map the task's input shape to [N, K] with K >= classes.
  ScriptedModel(const std::string& path, int classes, int channels, int resolution,
                std::shared_ptr<ActivationQuantizer> quantizer);
  ~ScriptedModel() override;
  ScriptedModel(const ScriptedModel&) = delete;
  ScriptedModel& operator=(const ScriptedModel&) = delete;

  /// Logits [N, classes] of images [N, channels, resolution, resolution]
  /// (the module's first `classes` logits when its head is larger).
  torch::Tensor forward(torch::Tensor x) override;
  /// Also sets the module's (and its submodules') training flag.
  void train(bool on = true) override;
  using Model::to;
  /// Moves the module (parameters and buffers).
  void to(torch::Device device, bool non_blocking = false) override;
  /// The rewritten (inlined, quantized) forward graph.
  std::shared_ptr<torch::jit::Graph> graph() const { return graph_; }
  /// The loaded module (tests: copying weights in).
  torch::jit::Module& module() { return module_; }
  /// The parameters' names in the loaded module ("conv1.weight").
  std::vector<std::string> parameter_paths() override { return parameter_paths_; }

 private:
  void unregister();
  void probe(int classes, int channels, int resolution);
  std::string what_;  ///< "model torchscript:PATH: ", the start of every error message
  int classes_ = 0;   ///< the task's classes: forward returns the first classes_ logits
  torch::jit::Module module_;
  std::shared_ptr<torch::jit::Graph> graph_;
  std::unique_ptr<torch::jit::GraphFunction> forward_;
  std::int64_t handle_ = 0;
  std::vector<std::string> parameter_paths_;
};

}  // namespace peppp::nn
