// TorchScript networks: the inlined forward graph with a quantizer point
// after the input and after every op of quantized_ops().
#include "peppp/nn/torchscript.hpp"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/library.h>

#include <fstream>
#include <map>
#include <mutex>
#include <set>

#include "peppp/core/error.hpp"

namespace peppp::nn {

namespace jit = torch::jit;
using torch::Tensor;

const std::vector<std::pair<std::string, LayerType>>& quantized_ops() {
  static const std::vector<std::pair<std::string, LayerType>> ops = [] {
    std::vector<std::pair<std::string, LayerType>> v;
    auto add = [&v](LayerType t, std::initializer_list<const char*> names) {
      for (const char* n : names) v.emplace_back(std::string("aten::") + n, t);
    };
    add(LayerType::conv, {"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                          "convolution", "_convolution"});
    add(LayerType::linear, {"linear", "addmm"});
    add(LayerType::matmul, {"matmul", "mm", "bmm", "baddbmm", "einsum"});
    add(LayerType::batchnorm, {"batch_norm"});
    add(LayerType::layernorm, {"layer_norm"});
    add(LayerType::groupnorm, {"group_norm", "instance_norm"});
    add(LayerType::relu, {"relu"});
    add(LayerType::gelu, {"gelu"});
    add(LayerType::activation, {"sigmoid", "tanh", "silu", "hardswish", "hardsigmoid", "hardtanh", "relu6",
                                "leaky_relu", "elu", "selu", "celu", "softplus", "mish", "prelu"});
    add(LayerType::softmax, {"softmax", "log_softmax"});
    add(LayerType::pool, {"max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
                          "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "mean"});
    add(LayerType::add, {"add", "sub"});
    add(LayerType::mul, {"mul", "div"});
    add(LayerType::cat, {"cat", "stack"});
    return v;
  }();
  return ops;
}

namespace {

// What the operator peppp::quantize needs to reach a model's quantizer: the
// graph carries (handle, point index) as constants.
struct Points {
  ActivationQuantizer* quantizer = nullptr;
  std::vector<LayerType> kinds;
  std::vector<std::string> names;
  std::map<std::string, Role> roles;  ///< the points named first, last, attention (docs/roles.md)
};

struct Registry {
  std::mutex mutex;
  std::map<std::int64_t, Points> models;
  std::int64_t next = 1;
};

Registry& registry() {
  static Registry r;
  return r;
}

Tensor quantize_point(const Tensor& x, std::int64_t handle, std::int64_t point) {
  ActivationQuantizer* q = nullptr;
  const Points* p = nullptr;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.models.find(handle);
    TORCH_CHECK(it != r.models.end(), "peppp::quantize: no model with handle ", handle);
    p = &it->second;
    q = p->quantizer;
  }
  const auto i = static_cast<std::size_t>(point);
  return (*q)(x, p->kinds.at(i), p->names.at(i));
}

}  // namespace

// The catch-all kernel runs under autograd: QuantizeFn records its own node.
TORCH_LIBRARY(peppp, m) { m.def("quantize(Tensor x, int handle, int point) -> Tensor", &quantize_point); }

namespace {

const std::map<std::string, LayerType>& op_kinds() {
  static const std::map<std::string, LayerType> m(quantized_ops().begin(), quantized_ops().end());
  return m;
}

// The module path of an inlined node ("features0_conv"), from its call stack.
std::string module_path(const jit::Node* n) {
  std::string path;
  if (auto cs = n->callstack()) {
    for (const auto& frame : (*cs)->vec()) {
      const auto& info = std::get<2>(frame);
      if (!info || info->instance_name() == "SELF") continue;  // a method called on the same module
      if (!path.empty()) path += '.';
      path += info->instance_name();
    }
  }
  return path;
}

void collect(jit::Block* b, std::vector<jit::Node*>& out) {
  for (jit::Node* n : b->nodes()) {
    for (jit::Block* sub : n->blocks()) collect(sub, out);
    if (n->outputs().size() != 1 || !n->output()->type()->cast<c10::TensorType>()) continue;
    if (op_kinds().count(n->kind().toQualString())) out.push_back(n);
  }
}

// Route every use of `v` through peppp::quantize(v, handle, index), inserted before `before`.
void quantize_value(jit::Graph& g, jit::Value* v, jit::Node* before, std::int64_t handle, std::int64_t index) {
  jit::WithInsertPoint guard(before);
  jit::Value* q = g.insert(c10::Symbol::fromQualString("peppp::quantize"),
                           {v, g.insertConstant(handle), g.insertConstant(index)});
  v->replaceAllUsesWith(q);
  q->node()->replaceInput(0, v);
}

// The attention points ending at softmax node `n`: the softmax, and the
// matmul-kind point its input comes from through scale and mask points
// (mul/div, add/sub) and other single-input steps (view, masked_fill, ...);
// empty when no matmul is found within a few steps.
std::vector<const jit::Node*> attention_chain(const jit::Node* n, const std::map<const jit::Node*, LayerType>& kinds) {
  std::vector<const jit::Node*> chain{n};
  const jit::Value* v = n->inputs().at(0);
  for (int step = 0; step < 8; ++step) {
    const jit::Node* producer = v->node();
    const auto it = kinds.find(producer);
    if (it != kinds.end() && it->second == LayerType::matmul) {
      chain.push_back(producer);
      return chain;
    }
    if (it != kinds.end() && it->second != LayerType::mul && it->second != LayerType::add) break;
    if (it != kinds.end()) chain.push_back(producer);
    if (producer->inputs().empty() || !producer->inputs()[0]->type()->cast<c10::TensorType>()) break;
    v = producer->inputs()[0];
  }
  return {};
}

// The roles of the points whose kind does not tell (docs/roles.md): the first
// conv/linear → first, the last linear → last, softmax chains (attention_chain) → attention.
std::map<const jit::Node*, Role> named_roles(const std::vector<jit::Node*>& nodes) {
  std::map<const jit::Node*, LayerType> kinds;
  for (const jit::Node* n : nodes) kinds[n] = op_kinds().at(n->kind().toQualString());
  std::map<const jit::Node*, Role> roles;
  for (const jit::Node* n : nodes) {
    if (kinds[n] != LayerType::softmax || std::string(n->kind().toUnqualString()) != "softmax") continue;
    for (const jit::Node* a : attention_chain(n, kinds)) roles[a] = Role::attention;
  }
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    if (kinds[*it] != LayerType::linear) continue;
    roles[*it] = Role::last;
    break;
  }
  for (const jit::Node* n : nodes) {
    if (kinds[n] != LayerType::conv && kinds[n] != LayerType::linear) continue;
    roles[n] = Role::first;  // a one-layer network: its layer is the first one
    break;
  }
  return roles;
}

// Inline the forward graph and insert the points; fills p's kinds, names and roles.
std::shared_ptr<jit::Graph> quantized_graph(const jit::Module& module, std::int64_t handle, Points& p) {
  auto g = module.get_method("forward").graph()->copy();
  jit::Inline(*g);
  jit::ConstantPropagation(g);
  jit::EliminateDeadCode(g);
  if (g->inputs().size() != 2) {
    throw InputError("forward takes " + std::to_string(g->inputs().size() - 1) + " arguments; allowed: one "
                     "(images [N, C, H, W])");
  }
  std::vector<jit::Node*> nodes;
  collect(g->block(), nodes);
  std::map<std::string, int> seen;
  auto name = [&seen](const std::string& base) {
    const int k = ++seen[base];
    return k == 1 ? base : base + "_" + std::to_string(k);
  };
  p.kinds.push_back(LayerType::input);
  p.names.push_back(name("input"));
  quantize_value(*g, g->inputs()[1], g->block()->nodes().front(), handle, 0);
  const auto roles = named_roles(nodes);
  for (jit::Node* n : nodes) {
    const std::string op = n->kind().toUnqualString();
    const std::string path = module_path(n);
    p.kinds.push_back(op_kinds().at(n->kind().toQualString()));
    p.names.push_back(name(path.empty() ? op : path + "." + op));
    if (roles.count(n)) p.roles[p.names.back()] = roles.at(n);
    quantize_value(*g, n->output(), n->next(), handle, static_cast<std::int64_t>(p.kinds.size() - 1));
  }
  return g;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

jit::Module load_module(const std::string& path) {
  if (!std::ifstream(path)) throw InputError("cannot be read");
  try {
    return jit::load(path);
  } catch (const c10::Error& e) {
    throw InputError("not a TorchScript file (" + first_line(e.what_without_backtrace()) + ")");
  }
}

std::string shape(const Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

}  // namespace

ScriptedModel::ScriptedModel(const std::string& path, int classes, int channels, int resolution,
                             std::shared_ptr<ActivationQuantizer> quantizer)
    : Model(std::move(quantizer)), what_("model torchscript:" + path + ": "), classes_(classes) {
  Points points;
  points.quantizer = q_.get();
  try {
    module_ = load_module(path);
    if (!module_.find_method("forward")) throw InputError("has no forward method");
    {
      Registry& r = registry();
      std::lock_guard<std::mutex> lock(r.mutex);
      handle_ = r.next++;
    }
    graph_ = quantized_graph(module_, handle_, points);
    q_->point_roles = points.roles;
  } catch (const InputError& e) {
    throw InputError(what_ + e.what());
  } catch (const c10::Error& e) {
    throw InputError(what_ + first_line(e.what_without_backtrace()));
  }
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.models[handle_] = std::move(points);
  }
  forward_ = std::make_unique<jit::GraphFunction>(c10::QualifiedName("peppp_quantized_forward"), graph_, nullptr);
  int k = 0;
  for (const auto& p : module_.named_parameters(/*recurse=*/true)) {
    std::string n = p.name;
    for (char& c : n) c = c == '.' ? '_' : c;
    register_parameter(std::to_string(k++) + "_" + n, p.value, p.value.requires_grad());
    parameter_paths_.push_back(p.name);
  }
  try {
    probe(classes, channels, resolution);
  } catch (...) {
    unregister();
    throw;
  }
}

// The task's input shape in, [1, classes] out: eval mode, no quantization,
// the quantizer's state (counter, counts, points, observer) untouched.
void ScriptedModel::probe(int classes, int channels, int resolution) {
  ActivationQuantizer& q = *q_;
  const ActivationQuantizer saved = q;
  q.enabled = false;
  q.counts = nullptr;
  q.points = nullptr;
  q.observer = nullptr;
  const bool training = is_training();
  const std::string input = "[1, " + std::to_string(channels) + ", " + std::to_string(resolution) + ", " +
                            std::to_string(resolution) + "]";
  Tensor out;
  std::string failure;
  try {
    torch::NoGradGuard no_grad;
    train(false);
    out = forward(torch::zeros({1, channels, resolution, resolution}));
  } catch (const c10::Error& e) {
    failure = first_line(e.what_without_backtrace());
  } catch (const std::exception& e) {
    failure = first_line(e.what());
  }
  q = saved;
  train(training);
  if (!failure.empty()) throw InputError(what_ + "fails on input " + input + " (" + failure + ")");
  const std::string c = std::to_string(classes);
  if (out.dim() != 2 || out.size(0) != 1) {
    throw InputError(what_ + "returns " + shape(out) + " for input " + input + "; expected [1, K] logits, K >= " + c);
  }
  if (out.size(1) < classes) {
    throw InputError(what_ + "returns " + shape(out) + " for input " + input + ": " + std::to_string(out.size(1)) +
                     " logits for " + c + " classes; expected [1, K], K >= " + c +
                     " (a head larger than the task's classes is used through its first " + c + " logits)");
  }
}

void ScriptedModel::unregister() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.models.erase(handle_);
}

ScriptedModel::~ScriptedModel() { unregister(); }

Tensor ScriptedModel::forward(Tensor x) {
  // The graph as written: no fusion or other rewriting by the executor (the
  // kernels and their order are the script's, as in the zoo's C++ forward).
  jit::GraphOptimizerEnabledGuard plain(false);
  jit::Stack stack{module_._ivalue(), std::move(x)};
  forward_->run(stack);
  const c10::IValue& out = stack.at(0);
  if (!out.isTensor()) throw InputError(what_ + "forward returns " + out.tagKind() + "; expected a tensor [N, classes]");
  Tensor logits = out.toTensor();
  // A head for more classes than the task's (one file for tasks of several class
  // counts): the first `classes_` logits, a view, so the loss and the argmax see only those.
  if (classes_ > 0 && logits.dim() == 2 && logits.size(1) > classes_) logits = logits.narrow(1, 0, classes_);
  return logits;
}

void ScriptedModel::train(bool on) {
  Model::train(on);
  module_.train(on);
}

void ScriptedModel::to(torch::Device device, bool non_blocking) { module_.to(device, non_blocking); }

}  // namespace peppp::nn
