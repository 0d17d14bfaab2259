#pragma once
/// @file memory.hpp
/// @brief The theoretical training memory of a cell (METHOD.md F2), without
/// torch in the interface so that par/app can call it.
///
///   memory = bA · (N_w + B · N_act) + bB · 3 · N_w   bits, reported in MiB (2^20 bytes)
///
/// and, for a configuration with a Format A per role (docs/roles.md), the
/// sum over the roles r of bA,r · (N_w,r + B · N_act,r), plus bB · 3 · N_w;
/// with bA, bB the bits per element of Format A and B (FloatFormat::
/// bits_per_element: 1 + E + M, plus a block format's scale share, e.g.
/// mxfp8-e4m3 8.25, nvfp4 4.5), B the batch size, N_w the
/// trainable parameters and N_act the per-sample activation count.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "peppp/core/format.hpp"

namespace peppp::nn {

/// One Format A quantizer point of a network, in forward order.
struct QuantizerPoint {
  std::string layer;              ///< producing layer: its parameter prefix ("layer1_0.1_conv",
                                  ///< "blocks0.attn_qkv"), or a step of it ("blocks0.attn_scores")
  std::string kind;               ///< layer kind (`nn::label`): "input", "conv", "linear", ...
  std::int64_t activations = 0;   ///< elements per sample
  Role role = Role::body;         ///< its role (docs/roles.md)
};

/// Parameter and per-sample activation counts of one model instance.
struct ModelCounts {
  std::int64_t parameters = 0;   ///< trainable parameters N_w
  std::int64_t activations = 0;  ///< per-sample activation elements N_act (input, every conv,
                                 ///< linear, norm, activation function, softmax, attention
                                 ///< matmul, pooling, residual-add output)
  /// N_act split by producing layer type: "input", "conv", "linear", "batchnorm",
  /// "relu", "pool", "add", "layernorm", "gelu", "softmax", "matmul", ...
  std::map<std::string, std::int64_t> activations_by_type;
  /// Every quantizer point of the counting run, in forward order (their
  /// activations add up to `activations`).
  std::vector<QuantizerPoint> points;
  /// The role of every trainable parameter tensor, in the model's
  /// `parameters()` order (nn::parameter_roles).
  std::vector<Role> parameter_roles;
  /// N_w and N_act split by role (docs/roles.md); only the roles the network
  /// has (a role with points or parameters) are keys. They add up to
  /// `parameters` and `activations`.
  std::map<Role, std::int64_t> parameters_by_role, activations_by_role;
};

/// The roles the network of `counts` has, in the order body, first, last,
/// attention, norm (a role with at least one point or parameter).
std::vector<Role> roles_of(const ModelCounts& counts);

/// Memory of one role of a cell, MiB, with its counts.
struct RoleMemory {
  FloatFormat format;             ///< the role's Format A
  std::int64_t parameters = 0;    ///< N_w,r
  std::int64_t activations = 0;   ///< N_act,r (per sample)
  double weights = 0;             ///< bA,r · N_w,r
  double activation_memory = 0;   ///< bA,r · B · N_act,r
  double optimizer = 0;           ///< bB · 3 · N_w,r
  double total = 0;               ///< sum of the three
};

/// Memory of one cell, MiB (2^20 bytes), with its F2 breakdown.
struct MemoryBreakdown {
  double weights = 0;      ///< bA · N_w
  double activations = 0;  ///< bA · B · N_act
  double optimizer = 0;    ///< bB · 3 · N_w (gradient, momentum, accumulator)
  double total = 0;        ///< sum of the three
  ModelCounts counts;      ///< the counts it was computed from
  /// The same per role (the roles the network has): their weights,
  /// activations, optimizer and totals add up to the fields above.
  std::map<Role, RoleMemory> by_role;
};

/// Names accepted by `model_counts` / `cell_memory` / `nn::make_model`:
/// small-cnn, resnet8, resnet18, resnet34, vgg11, vgg13, vgg16, vgg19, mlp, vit-tiny.
std::vector<std::string> model_names();

/// Whether `model` names a TorchScript file: "torchscript:PATH" (nn/torchscript.hpp).
bool is_torchscript(const std::string& model);

/// The content hash of a TorchScript model's file: FNV-1a 64 of its bytes,
/// 16 hex digits; "" for a zoo name.
/// @throws InputError if the file cannot be read.
std::string model_file_hash(const std::string& model);

/// What identifies the network of a campaign for its fingerprint: a zoo
/// name as it is; for "torchscript:PATH", the name, the file's content hash
/// and its quantizer points (layer:kind:activations, in forward order) for
/// images [channels, resolution, resolution] and `classes` classes:
/// "torchscript:PATH#fnv1a64=HASH#points=input:input:784,fc.linear:linear:10".
/// @throws InputError as `model_counts`.
std::string model_fingerprint(const std::string& model, int classes, int channels, int resolution);

/// Count parameters and per-sample activations by building the real model and
/// running it once on one input of shape [1, channels, resolution, resolution]
/// (no training, no quantization). Cached per (model, classes, channels,
/// resolution; a TorchScript file's content hash). Not collective; thread-safe.
/// @throws InputError on an unknown model or non-positive sizes, or a resolution the
///         model cannot take (e.g. too small for VGG's five poolings).
ModelCounts model_counts(const std::string& model, int classes, int channels, int resolution);

/// F2 from given counts (pure arithmetic, affine in the two bit widths).
MemoryBreakdown memory_from_counts(const ModelCounts& counts, int batch, const Configuration& config);

/// F2 memory of training `model` on images [channels, resolution, resolution]
/// with `classes` classes, batch `batch`, configuration `config`.
/// @throws InputError as `model_counts`, or if batch < 1.
MemoryBreakdown cell_memory(const std::string& model, int classes, int channels, int resolution, int batch,
                            const Configuration& config);

}  // namespace peppp::nn
