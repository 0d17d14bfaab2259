// The F2 memory model: counts from one real forward pass, then arithmetic.
#include "peppp/nn/memory.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <tuple>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/nn/model.hpp"

namespace peppp::nn {

namespace {
constexpr const char* kTorchScript = "torchscript:";
}  // namespace

bool is_torchscript(const std::string& model) { return starts_with(model, kTorchScript); }

std::string model_file_hash(const std::string& model) {
  if (!is_torchscript(model)) return "";
  const std::string path = model.substr(std::strlen(kTorchScript));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("model " + model + ": the file cannot be read");
  return hex64(fnv1a64(in));
}

std::string model_fingerprint(const std::string& model, int classes, int channels, int resolution) {
  if (!is_torchscript(model)) return model;
  const ModelCounts c = model_counts(model, classes, channels, resolution);
  std::string s = model + "#fnv1a64=" + model_file_hash(model) + "#points=";
  for (std::size_t i = 0; i < c.points.size(); ++i) {
    s += (i ? "," : "") + c.points[i].layer + ":" + c.points[i].kind + ":" + std::to_string(c.points[i].activations);
  }
  return s;
}

ModelCounts model_counts(const std::string& model, int classes, int channels, int resolution) {
  static std::mutex mutex;
  static std::map<std::tuple<std::string, int, int, int>, ModelCounts> cache;
  // A TorchScript file is counted again when its content changes.
  const auto key = std::make_tuple(model + "#" + model_file_hash(model), classes, channels, resolution);
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  ModelCounts c;
  auto q = std::make_shared<ActivationQuantizer>();
  q->counts = &c.activations_by_type;
  q->points = &c.points;
  auto net = make_model(model, classes, channels, resolution, q);
  for (const auto& p : net->parameters()) c.parameters += p.numel();
  try {
    torch::NoGradGuard no_grad;
    net->eval();
    net->forward(torch::zeros({1, channels, resolution, resolution}));
  } catch (const c10::Error& e) {
    throw InputError("model " + model + " cannot take " + std::to_string(channels) + "x" +
                     std::to_string(resolution) + "x" + std::to_string(resolution) + " images (" +
                     e.what_without_backtrace() + ")");
  }
  q->counts = nullptr;
  q->points = nullptr;
  for (const auto& kv : c.activations_by_type) c.activations += kv.second;
  // Per role (docs/roles.md): the points' own roles; a parameter has its layer's.
  c.parameter_roles = parameter_roles(*net, c.points);
  const auto params = net->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) c.parameters_by_role[c.parameter_roles[i]] += params[i].numel();
  for (const auto& p : c.points) c.activations_by_role[p.role] += p.activations;
  for (Role r : all_roles()) {
    if (c.parameters_by_role.count(r) || c.activations_by_role.count(r)) {
      c.parameters_by_role[r] += 0;
      c.activations_by_role[r] += 0;
    }
  }
  std::lock_guard<std::mutex> lock(mutex);
  cache.emplace(key, c);
  return c;
}

MemoryBreakdown memory_from_counts(const ModelCounts& counts, int batch, const Configuration& config) {
  if (batch < 1) throw InputError("memory model: batch size " + std::to_string(batch) + " is not allowed; allowed: >= 1");
  constexpr double kBitsPerMiB = 8.0 * 1024.0 * 1024.0;
  // Bits per element with a block scale's share (QUANT.md "Standard formats":
  // mxfp8 8.25, mxfp6 6.25, mxfp4 4.25, nvfp4 4.5; eEmM: 1 + E + M).
  const double a = config.a.bits_per_element(), b = config.b.bits_per_element();
  const double nw = static_cast<double>(counts.parameters), nact = static_cast<double>(counts.activations);
  MemoryBreakdown m;
  m.weights = a * nw / kBitsPerMiB;
  m.activations = a * batch * nact / kBitsPerMiB;
  m.optimizer = b * 3.0 * nw / kBitsPerMiB;
  for (const auto& [role, parameters] : counts.parameters_by_role) {
    RoleMemory& r = m.by_role[role];
    r.format = config.format(role);
    r.parameters = parameters;
    r.activations = counts.activations_by_role.count(role) ? counts.activations_by_role.at(role) : 0;
    const double ar = r.format.bits_per_element();
    r.weights = ar * static_cast<double>(r.parameters) / kBitsPerMiB;
    r.activation_memory = ar * batch * static_cast<double>(r.activations) / kBitsPerMiB;
    r.optimizer = b * 3.0 * static_cast<double>(r.parameters) / kBitsPerMiB;
    r.total = r.weights + r.activation_memory + r.optimizer;
  }
  if (!config.uniform()) {
    // Each role's Format A on its own counts; a uniform configuration keeps the formula above
    // (the same numbers: every term is exact in binary).
    m.weights = m.activations = 0;
    for (const auto& kv : m.by_role) {
      m.weights += kv.second.weights;
      m.activations += kv.second.activation_memory;
    }
  }
  m.total = m.weights + m.activations + m.optimizer;
  m.counts = counts;
  return m;
}

std::vector<Role> roles_of(const ModelCounts& counts) {
  std::vector<Role> out;
  for (Role r : all_roles())
    if (counts.parameters_by_role.count(r) || counts.activations_by_role.count(r)) out.push_back(r);
  return out;
}

MemoryBreakdown cell_memory(const std::string& model, int classes, int channels, int resolution, int batch,
                            const Configuration& config) {
  if (batch < 1) throw InputError("memory model: batch size " + std::to_string(batch) + " is not allowed; allowed: >= 1");
  return memory_from_counts(model_counts(model, classes, channels, resolution), batch, config);
}

}  // namespace peppp::nn
