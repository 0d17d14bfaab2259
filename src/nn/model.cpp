// The quantized model zoo and the Format A quantizer placed after every layer.
#include "peppp/nn/model.hpp"

#include <cmath>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/nn/torchscript.hpp"
#include "peppp/quant/quantize.hpp"

namespace peppp::nn {

namespace tnn = torch::nn;
using torch::Tensor;

const char* label(LayerType t) {
  switch (t) {
    case LayerType::input: return "input";
    case LayerType::conv: return "conv";
    case LayerType::linear: return "linear";
    case LayerType::batchnorm: return "batchnorm";
    case LayerType::relu: return "relu";
    case LayerType::pool: return "pool";
    case LayerType::add: return "add";
    case LayerType::layernorm: return "layernorm";
    case LayerType::groupnorm: return "groupnorm";
    case LayerType::gelu: return "gelu";
    case LayerType::activation: return "activation";
    case LayerType::softmax: return "softmax";
    case LayerType::matmul: return "matmul";
    case LayerType::mul: return "mul";
    case LayerType::cat: return "cat";
  }
  return "unknown";
}

namespace {
// QuantizeFn's (e, m) arguments: E and M of an eEmM format, or
// (FloatFormat::code(), M) of a named standard format (codes are >= 1024).
FloatFormat format_argument(int64_t e, int64_t m) {
  return e >= 1024 ? FloatFormat::from_code(e) : FloatFormat(static_cast<int>(e), static_cast<int>(m));
}

// What every quantizer node's backward needs: the format and the error's rounding and stream.
void save_error_rounding(torch::autograd::AutogradContext* ctx, int64_t e, int64_t m, int64_t bwd_rounding,
                         int64_t bwd_seed) {
  ctx->saved_data["e"] = e;
  ctx->saved_data["m"] = m;
  ctx->saved_data["r"] = bwd_rounding;
  ctx->saved_data["s"] = bwd_seed;
}
}  // namespace

Tensor QuantizeFn::forward(torch::autograd::AutogradContext* ctx, Tensor x, int64_t e, int64_t m,
                           int64_t fwd_rounding, int64_t bwd_rounding, int64_t fwd_seed, int64_t bwd_seed) {
  save_error_rounding(ctx, e, m, bwd_rounding, bwd_seed);
  return quantize(x, format_argument(e, m), static_cast<Rounding>(fwd_rounding),
                  static_cast<std::uint64_t>(fwd_seed));
}

torch::autograd::variable_list QuantizeFn::backward(torch::autograd::AutogradContext* ctx,
                                                    torch::autograd::variable_list grad) {
  const FloatFormat f = format_argument(ctx->saved_data["e"].toInt(), ctx->saved_data["m"].toInt());
  Tensor g = quantize(grad[0], f, static_cast<Rounding>(ctx->saved_data["r"].toInt()),
                      static_cast<std::uint64_t>(ctx->saved_data["s"].toInt()));
  return {g, Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
}

namespace {

// QuantizeFn rounding its input in place (same bits, same streams, same
// backward): for an activation nothing else refers to, where a new tensor
// would only be an extra allocation and pass.
struct InPlaceQuantizeFn : public torch::autograd::Function<InPlaceQuantizeFn> {
  static Tensor forward(torch::autograd::AutogradContext* ctx, Tensor x, int64_t e, int64_t m, int64_t fwd_rounding,
                        int64_t bwd_rounding, int64_t fwd_seed, int64_t bwd_seed) {
    save_error_rounding(ctx, e, m, bwd_rounding, bwd_seed);
    quantize_(x, format_argument(e, m), static_cast<Rounding>(fwd_rounding), static_cast<std::uint64_t>(fwd_seed));
    ctx->mark_dirty({x});
    return x;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    return QuantizeFn::backward(ctx, std::move(grad));
  }
};

// relu followed by QuantizeFn as one autograd node, bit for bit the pair
// QuantizeFn(torch::relu(y)): the forward rounds relu(y) in one pass into a
// new tensor (instead of relu's output and then its rounded copy), and y is
// saved for relu's mask (the same memory as relu's saved output). Backward:
// relu's backward on y (threshold_backward: +0 where y <= 0, as on relu(y),
// NaN passes) and then the error rounded in place, which gives the bits of
// rounding first and masking after: the masked elements are +0 either way
// (q(+0) = +0) and element i keeps index i of the error's stream. Its
// graph node is a quantizer like QuantizeFn's (outputs on the grid both
// ways), named as one: "...QuantizeFn".
struct RectifiedQuantizeFn : public torch::autograd::Function<RectifiedQuantizeFn> {
  static Tensor forward(torch::autograd::AutogradContext* ctx, Tensor y, int64_t e, int64_t m, int64_t fwd_rounding,
                        int64_t bwd_rounding, int64_t fwd_seed, int64_t bwd_seed) {
    save_error_rounding(ctx, e, m, bwd_rounding, bwd_seed);
    ctx->save_for_backward({y});
    return quantize_relu(y, format_argument(e, m), static_cast<Rounding>(fwd_rounding),
                         static_cast<std::uint64_t>(fwd_seed));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const Tensor y = ctx->get_saved_variables()[0];
    Tensor g = at::threshold_backward(grad[0], y, 0);
    quantize_(g, format_argument(ctx->saved_data["e"].toInt(), ctx->saved_data["m"].toInt()),
              static_cast<Rounding>(ctx->saved_data["r"].toInt()),
              static_cast<std::uint64_t>(ctx->saved_data["s"].toInt()));
    return {g, Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

// Whether `x` may be rounded in place without anyone seeing it: a dense
// float32 CPU tensor whose handle (the caller's temporary) and storage are
// referenced once, i.e. no other tensor, view or autograd node (an op that
// saved its output for backward, as relu does) holds the data, and not an
// autograd leaf or view. Layer outputs such as conv, batchnorm, add, pool
// and linear are; the input batch, relu outputs and parameters are not.
bool exclusively_owned(const Tensor& x) {
  return x.defined() && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && x.is_contiguous() &&
         x.use_count() == 1 && x.storage().use_count() == 1 && !x.is_view() &&
         !(x.requires_grad() && x.is_leaf());
}

}  // namespace

namespace {

// `temporary`: x is the caller's temporary (an rvalue), so a handle count of
// one means no one else has it. `relu`: quantize torch::relu(x) (t = relu).
// The counting run's bookkeeping: per-sample elements by kind and the point list.
void count_point(ActivationQuantizer& aq, const Tensor& x, LayerType t, const std::string& layer) {
  if (t == LayerType::input) aq.samples = x.dim() > 0 ? std::max<int64_t>(1, x.size(0)) : 1;
  if (!aq.counts && !aq.points) return;
  const int64_t per_sample = x.numel() / aq.samples;
  if (aq.counts) (*aq.counts)[label(t)] += per_sample;
  if (aq.points) {
    const std::string name = layer.empty() ? label(t) : layer;
    aq.points->push_back(QuantizerPoint{name, label(t), per_sample, aq.role(t, name)});
  }
}

Tensor quantize_activation(ActivationQuantizer& aq, const Tensor& x, LayerType t, const std::string& layer,
                           bool temporary, bool relu = false) {
  // Per-role formats (docs/roles.md) only for a configuration whose roles differ.
  const bool by_role = !aq.role_formats.empty();
  const FloatFormat& format = by_role ? aq.role_format(aq.role(t, layer.empty() ? label(t) : layer)) : aq.format;
  const bool enabled = aq.enabled && !(by_role && format == FloatFormat());
  const Rounding forward_rounding = aq.forward_rounding, backward_rounding = aq.backward_rounding;
  count_point(aq, x, t, layer);
  const bool in_place = enabled && !relu && temporary && exclusively_owned(x);  // before y shares the handle
  Tensor y = x;
  if (!enabled && relu) y = torch::relu(x);
  if (enabled) {
    const std::uint64_t base = mix64(aq.seed ^ mix64(++aq.counter));
    if (torch::GradMode::is_enabled() && x.requires_grad()) {
      const int64_t e = format.is_standard() ? format.code() : format.exponent_bits();
      const auto fr = static_cast<int64_t>(forward_rounding), br = static_cast<int64_t>(backward_rounding);
      const auto fs = static_cast<int64_t>(base), bs = static_cast<int64_t>(mix64(base + 1));
      y = relu       ? RectifiedQuantizeFn::apply(y, e, format.mantissa_bits(), fr, br, fs, bs)
          : in_place ? InPlaceQuantizeFn::apply(y, e, format.mantissa_bits(), fr, br, fs, bs)
                     : QuantizeFn::apply(y, e, format.mantissa_bits(), fr, br, fs, bs);
    } else if (relu) {
      y = quantize_relu(x, format, forward_rounding, base);
    } else if (in_place) {
      quantize_(y, format, forward_rounding, base);
    } else {
      y = quantize(x, format, forward_rounding, base);
    }
  }
  if (aq.observer) aq.observer(t, y);
  return y;
}

}  // namespace

Role ActivationQuantizer::role(LayerType t, const std::string& layer) const {
  const auto it = point_roles.find(layer.empty() ? label(t) : layer);
  if (it != point_roles.end()) return it->second;
  switch (t) {
    case LayerType::input: return Role::first;
    case LayerType::batchnorm:
    case LayerType::layernorm:
    case LayerType::groupnorm: return Role::norm;
    default: return Role::body;
  }
}

const FloatFormat& ActivationQuantizer::role_format(Role r) const {
  const auto it = role_formats.find(r);
  return it == role_formats.end() ? format : it->second;
}

void ActivationQuantizer::set_formats(const Configuration& config) {
  format = config.a;
  role_formats.clear();
  if (!config.uniform())
    for (Role r : override_roles()) role_formats[r] = config.format(r);
  enabled = false;
  for (Role r : all_roles()) enabled = enabled || config.format(r) != FloatFormat();
}

std::vector<std::string> Model::parameter_paths() {
  std::vector<std::string> out;
  for (const auto& p : named_parameters(/*recurse=*/true)) out.push_back(p.key());
  return out;
}

void Model::name_roles(const std::string& first_layer, const std::vector<std::string>& attention) {
  q_->point_roles[first_layer] = Role::first;
  q_->point_roles["fc"] = Role::last;
  for (const auto& a : attention) q_->point_roles[a] = Role::attention;
}

std::vector<Role> parameter_roles(Model& net, const std::vector<QuantizerPoint>& points) {
  std::vector<Role> out;
  for (const std::string& path : net.parameter_paths()) {
    const auto dot = path.rfind('.');
    const std::string module = dot == std::string::npos ? path : path.substr(0, dot);
    Role role = Role::body;
    for (const auto& p : points) {
      const bool op_of_module =
          starts_with(p.layer, module + ".") && p.layer.find('.', module.size() + 1) == std::string::npos;
      if (p.layer == module || (!module.empty() && op_of_module)) {
        role = p.role;
        break;
      }
    }
    out.push_back(role);
  }
  return out;
}

Tensor ActivationQuantizer::operator()(const Tensor& x, LayerType t, const std::string& layer) {
  return quantize_activation(*this, x, t, layer, false);
}

Tensor ActivationQuantizer::operator()(Tensor&& x, LayerType t, const std::string& layer) {
  return quantize_activation(*this, x, t, layer, true);
}

Tensor ActivationQuantizer::relu(const Tensor& x, const std::string& layer) {
  return quantize_activation(*this, x, LayerType::relu, layer, false, true);
}

namespace {

using QPtr = std::shared_ptr<ActivationQuantizer>;

// Names of the points every model has: the input, the last pooling, the classifier head.
const std::string kInput = "input", kPool = "pool", kHead = "fc";

tnn::Conv2d conv(int in, int out, int k, int stride, int pad) {
  return tnn::Conv2d(tnn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
}

// conv → Q → BN → Q (→ ReLU → Q): the unit every CNN is made of. Its
// points are named by the parameter prefixes ("layer1_0.1_conv", ..._bn)
// and "..._relu".
struct ConvBn {
  tnn::Conv2d c{nullptr};
  tnn::BatchNorm2d bn{nullptr};
  std::string conv_name, bn_name, relu_name;
  Tensor operator()(ActivationQuantizer& q, const Tensor& x, bool relu) {
    Tensor y = q(bn(q(c(x), LayerType::conv, conv_name)), LayerType::batchnorm, bn_name);
    return relu ? q.relu(y, relu_name) : y;
  }
};

// `prefix`: the owner's own path ("layer1_0." for a block, "" for the model).
ConvBn make_conv_bn(tnn::Module& owner, const std::string& prefix, const std::string& name, int in, int out, int k,
                    int stride, int pad) {
  ConvBn u;
  u.c = owner.register_module(name + "_conv", conv(in, out, k, stride, pad));
  u.bn = owner.register_module(name + "_bn", tnn::BatchNorm2d(out));
  u.conv_name = prefix + name + "_conv";
  u.bn_name = prefix + name + "_bn";
  u.relu_name = prefix + name + "_relu";
  return u;
}

class BasicBlock : public tnn::Module {
 public:
  BasicBlock(const std::string& name, int in, int out, int stride)
      : add_name_(name + ".add"), relu_name_(name + ".relu") {
    a_ = make_conv_bn(*this, name + ".", "1", in, out, 3, stride, 1);
    b_ = make_conv_bn(*this, name + ".", "2", out, out, 3, 1, 1);
    if (stride != 1 || in != out) {
      shortcut_ = make_conv_bn(*this, name + ".", "shortcut", in, out, 1, stride, 0);
      has_shortcut_ = true;
    }
  }
  Tensor forward(ActivationQuantizer& q, const Tensor& x) {
    Tensor y = b_(q, a_(q, x, true), false);
    Tensor s = has_shortcut_ ? shortcut_(q, x, false) : x;
    return q.relu(q(y + s, LayerType::add, add_name_), relu_name_);
  }

 private:
  ConvBn a_, b_, shortcut_;
  bool has_shortcut_ = false;
  std::string add_name_, relu_name_;
};

class ResNet : public Model {
 public:
  ResNet(QPtr q, const std::vector<int>& blocks, const std::vector<int>& widths, int channels, int classes)
      : Model(std::move(q)) {
    stem_ = make_conv_bn(*this, "", "stem", channels, widths[0], 3, 1, 1);
    int in = widths[0];
    for (std::size_t s = 0; s < blocks.size(); ++s) {
      for (int b = 0; b < blocks[s]; ++b) {
        const int stride = (s > 0 && b == 0) ? 2 : 1;
        const std::string name = "layer" + std::to_string(s + 1) + "_" + std::to_string(b);
        blocks_.push_back(register_module(name, std::make_shared<BasicBlock>(name, in, widths[s], stride)));
        in = widths[s];
      }
    }
    fc_ = register_module("fc", tnn::Linear(in, classes));
    name_roles(stem_.conv_name);
  }
  Tensor forward(Tensor x) override {
    auto& q = *q_;
    x = stem_(q, q(x, LayerType::input, kInput), true);
    for (auto& b : blocks_) x = b->forward(q, x);
    x = q(torch::adaptive_avg_pool2d(x, {1, 1}), LayerType::pool, kPool).flatten(1);
    return q(fc_(x), LayerType::linear, kHead);
  }

 private:
  ConvBn stem_;
  std::vector<std::shared_ptr<BasicBlock>> blocks_;
  tnn::Linear fc_{nullptr};
};

// Plain conv stack: numbers are conv widths, 0 is a 2×2 max pool (ceil mode,
// so that any resolution >= 1 survives VGG's five pools).
class ConvNet : public Model {
 public:
  ConvNet(QPtr q, const std::vector<int>& cfg, int channels, int classes, int pooled)
      : Model(std::move(q)), cfg_(cfg), pooled_(pooled) {
    int in = channels;
    for (std::size_t i = 0; i < cfg.size(); ++i) {
      if (cfg[i] == 0) {
        pool_names_.push_back("features" + std::to_string(i) + "_pool");
        continue;
      }
      convs_.push_back(make_conv_bn(*this, "", "features" + std::to_string(i), in, cfg[i], 3, 1, 1));
      in = cfg[i];
    }
    fc_ = register_module("fc", tnn::Linear(in * pooled * pooled, classes));
    name_roles(convs_.empty() ? std::string("fc") : convs_.front().conv_name);
  }
  Tensor forward(Tensor x) override {
    auto& q = *q_;
    x = q(x, LayerType::input, kInput);
    std::size_t c = 0, p = 0;
    for (int w : cfg_) {
      if (w == 0) {
        x = q(torch::max_pool2d(x, {2, 2}, {2, 2}, {0, 0}, {1, 1}, /*ceil_mode=*/true), LayerType::pool,
              pool_names_[p++]);
      } else {
        x = convs_[c++](q, x, true);
      }
    }
    x = q(torch::adaptive_avg_pool2d(x, {pooled_, pooled_}), LayerType::pool, kPool).flatten(1);
    return q(fc_(x), LayerType::linear, kHead);
  }

 private:
  std::vector<int> cfg_;
  int pooled_;
  std::vector<ConvBn> convs_;
  std::vector<std::string> pool_names_;
  tnn::Linear fc_{nullptr};
};

std::vector<int> vgg_config(int depth) {
  switch (depth) {
    case 11: return {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
    case 13: return {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0};
    case 16: return {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
    default: return {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0};
  }
}

// The flattened image through linear → Q → ReLU → Q layers, then a linear head.
class Mlp : public Model {
 public:
  Mlp(QPtr q, const std::vector<int>& widths, int inputs, int classes) : Model(std::move(q)) {
    int in = inputs;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      names_.push_back("hidden" + std::to_string(i));
      relu_names_.push_back(names_.back() + "_relu");
      hidden_.push_back(register_module(names_.back(), tnn::Linear(in, widths[i])));
      in = widths[i];
    }
    fc_ = register_module("fc", tnn::Linear(in, classes));
    name_roles(names_.empty() ? std::string("fc") : names_.front());
  }
  Tensor forward(Tensor x) override {
    auto& q = *q_;
    x = q(x, LayerType::input, kInput).flatten(1);
    for (std::size_t i = 0; i < hidden_.size(); ++i) {
      x = q.relu(q(hidden_[i](x), LayerType::linear, names_[i]), relu_names_[i]);
    }
    return q(fc_(x), LayerType::linear, kHead);
  }

 private:
  std::vector<tnn::Linear> hidden_;
  std::vector<std::string> names_, relu_names_;
  tnn::Linear fc_{nullptr};
};

// A pre-norm transformer encoder block on tokens [N·T, dim] (row n·T + t:
// token t of sample n), every step followed by a quantizer point:
// LN → qkv → scores q·kᵀ/√dh (per head) → softmax → scores·v → proj → add;
// LN → fc1 → GELU → fc2 → add.
class EncoderBlock : public tnn::Module {
 public:
  EncoderBlock(const std::string& name, int dim, int heads, int hidden) : heads_(heads) {
    norm1_ = register_module("norm1", tnn::LayerNorm(tnn::LayerNormOptions({dim})));
    qkv_ = register_module("attn_qkv", tnn::Linear(dim, 3 * dim));
    proj_ = register_module("attn_proj", tnn::Linear(dim, dim));
    norm2_ = register_module("norm2", tnn::LayerNorm(tnn::LayerNormOptions({dim})));
    fc1_ = register_module("mlp_fc1", tnn::Linear(dim, hidden));
    fc2_ = register_module("mlp_fc2", tnn::Linear(hidden, dim));
    for (const char* step : {"norm1", "attn_qkv", "attn_scores", "attn_softmax", "attn_values", "attn_proj",
                             "attn_add", "norm2", "mlp_fc1", "mlp_gelu", "mlp_fc2", "mlp_add"}) {
      names_.push_back(name + "." + step);
    }
  }
  /// The attention points (scores and softmax), for the model's roles.
  std::vector<std::string> attention_points() const { return {names_[2], names_[3]}; }
  Tensor forward(ActivationQuantizer& q, const Tensor& x, int64_t n, int64_t t) {
    const int64_t dim = x.size(1), dh = dim / heads_, nh = n * heads_;
    Tensor qkv = q(qkv_(q(norm1_(x), LayerType::layernorm, names_[0])), LayerType::linear, names_[1]);
    // [N·T, 3·dim] → [3, N·heads, T, dh]: queries, keys, values per (sample, head)
    qkv = qkv.view({n, t, 3, heads_, dh}).permute({2, 0, 3, 1, 4}).reshape({3, nh, t, dh});
    const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
    Tensor scores = torch::baddbmm(torch::empty({nh, t, t}, x.options()), qkv[0], qkv[1].transpose(1, 2),
                                   /*beta=*/0.0, /*alpha=*/scale);
    Tensor attn = q(torch::softmax(q(std::move(scores), LayerType::matmul, names_[2]), -1), LayerType::softmax,
                    names_[3]);
    Tensor ctx = q(torch::bmm(attn, qkv[2]), LayerType::matmul, names_[4]);
    ctx = ctx.view({n, heads_, t, dh}).permute({0, 2, 1, 3}).reshape({n * t, dim});
    Tensor h = q(x + q(proj_(ctx), LayerType::linear, names_[5]), LayerType::add, names_[6]);
    Tensor f = q(fc1_(q(norm2_(h), LayerType::layernorm, names_[7])), LayerType::linear, names_[8]);
    f = q(fc2_(q(torch::gelu(f), LayerType::gelu, names_[9])), LayerType::linear, names_[10]);
    return q(h + f, LayerType::add, names_[11]);
  }

 private:
  int64_t heads_;
  tnn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  tnn::Linear qkv_{nullptr}, proj_{nullptr}, fc1_{nullptr}, fc2_{nullptr};
  std::vector<std::string> names_;
};

// A small vision transformer: patch embedding (conv, kernel = stride =
// patch) + position embedding, pre-norm encoder blocks, final LayerNorm,
// mean over the tokens, linear head.
class VisionTransformer : public Model {
 public:
  VisionTransformer(QPtr q, int channels, int classes, int resolution, int dim, int depth, int heads, int hidden)
      : Model(std::move(q)), dim_(dim) {
    const int patch = resolution < 28 ? 2 : 4;
    if (resolution < patch) {
      throw InputError("model vit-tiny: resolution " + std::to_string(resolution) + " is below its patch size " +
                       std::to_string(patch) + "; allowed: resolution >= 2");
    }
    tokens_ = static_cast<int64_t>(resolution / patch) * (resolution / patch);
    embed_ = register_module("patch_embed", tnn::Conv2d(tnn::Conv2dOptions(channels, dim, patch).stride(patch)));
    pos_ = register_parameter("pos_embed", torch::randn({1, tokens_, static_cast<int64_t>(dim)}) * 0.02);
    for (int d = 0; d < depth; ++d) {
      const std::string name = "blocks" + std::to_string(d);
      blocks_.push_back(register_module(name, std::make_shared<EncoderBlock>(name, dim, heads, hidden)));
    }
    norm_ = register_module("norm", tnn::LayerNorm(tnn::LayerNormOptions({dim})));
    fc_ = register_module("fc", tnn::Linear(dim, classes));
    std::vector<std::string> attention;
    for (const auto& b : blocks_)
      for (const auto& a : b->attention_points()) attention.push_back(a);
    name_roles("patch_embed", attention);
  }
  Tensor forward(Tensor x) override {
    auto& q = *q_;
    const int64_t n = x.size(0);
    x = q(embed_(q(x, LayerType::input, kInput)), LayerType::conv, "patch_embed");  // [N, dim, side, side]
    x = q(x.flatten(2).transpose(1, 2) + pos_, LayerType::add, "pos_embed").reshape({n * tokens_, dim_});
    for (auto& b : blocks_) x = b->forward(q, x, n, tokens_);
    x = q(norm_(x), LayerType::layernorm, "norm");
    x = q(x.view({n, tokens_, dim_}).mean(1), LayerType::pool, kPool);
    return q(fc_(x), LayerType::linear, kHead);
  }

 private:
  int64_t dim_, tokens_ = 0;
  tnn::Conv2d embed_{nullptr};
  Tensor pos_;
  std::vector<std::shared_ptr<EncoderBlock>> blocks_;
  tnn::LayerNorm norm_{nullptr};
  tnn::Linear fc_{nullptr};
};

}  // namespace

std::vector<std::string> model_names() {
  return {"small-cnn", "resnet8", "resnet18", "resnet34", "vgg11", "vgg13", "vgg16", "vgg19", "mlp", "vit-tiny"};
}

std::shared_ptr<Model> make_model(const std::string& name, int classes, int channels, int resolution,
                                  std::shared_ptr<ActivationQuantizer> quantizer) {
  if (classes < 2 || channels < 1 || resolution < 1) {
    throw InputError("model " + name + ": classes = " + std::to_string(classes) + ", channels = " +
                     std::to_string(channels) + ", resolution = " + std::to_string(resolution) +
                     "; allowed: classes >= 2, channels >= 1, resolution >= 1");
  }
  if (!quantizer) quantizer = std::make_shared<ActivationQuantizer>();
  if (is_torchscript(name)) {
    return std::make_shared<ScriptedModel>(name.substr(name.find(':') + 1), classes, channels, resolution, quantizer);
  }
  if (name == "small-cnn") return std::make_shared<ConvNet>(quantizer, std::vector<int>{16, 0, 32, 0}, channels, classes, 7);
  if (name == "resnet8") return std::make_shared<ResNet>(quantizer, std::vector<int>{1, 1, 1}, std::vector<int>{16, 32, 64}, channels, classes);
  if (name == "resnet18") return std::make_shared<ResNet>(quantizer, std::vector<int>{2, 2, 2, 2}, std::vector<int>{64, 128, 256, 512}, channels, classes);
  if (name == "resnet34") return std::make_shared<ResNet>(quantizer, std::vector<int>{3, 4, 6, 3}, std::vector<int>{64, 128, 256, 512}, channels, classes);
  for (int depth : {11, 13, 16, 19}) {
    if (name == "vgg" + std::to_string(depth)) return std::make_shared<ConvNet>(quantizer, vgg_config(depth), channels, classes, 1);
  }
  if (name == "mlp") return std::make_shared<Mlp>(quantizer, std::vector<int>{256, 128, 64}, channels * resolution * resolution, classes);
  if (name == "vit-tiny") return std::make_shared<VisionTransformer>(quantizer, channels, classes, resolution, 32, 2, 2, 64);
  const auto names = model_names();
  const std::string near = nearest(name, names);
  throw InputError("model '" + name + "' is unknown; allowed: " + join(names, ", ") +
                   (near.empty() ? "" : " (did you mean " + near + "?)"));
}

}  // namespace peppp::nn
