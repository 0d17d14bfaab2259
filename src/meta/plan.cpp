#include "peppp/meta/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include <Eigen/Core>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/meta/role_design.hpp"
#include "peppp/meta/sampling.hpp"

namespace peppp::meta {

Scheme parse_scheme(const std::string& s) {
  if (s == "full") return Scheme::full;
  if (s == "uniform") return Scheme::uniform;
  if (s == "nonuniform") return Scheme::nonuniform;
  if (s == "design") return Scheme::design;
  throw InputError("sampling.scheme = '" + s + "'; allowed: full, uniform, nonuniform, design");
}

const char* label(Scheme s) {
  switch (s) {
    case Scheme::full: return "full";
    case Scheme::uniform: return "uniform";
    case Scheme::nonuniform: return "nonuniform";
    case Scheme::design: return "design";
  }
  return "?";
}

std::uint64_t cell_seed(std::uint64_t campaign_seed, const std::string& task, const std::string& config) {
  return mix64(fnv1a64(task + "\n" + config, mix64(campaign_seed)));
}

std::uint64_t replicate_seed(std::uint64_t campaign_seed, const std::string& task, const std::string& config, int r) {
  if (r == 0) return cell_seed(campaign_seed, task, config);
  return mix64(fnv1a64(task + "\n" + config + "\nreplicate=" + std::to_string(r), mix64(campaign_seed)));
}

std::uint64_t Plan::cell_seed(std::uint64_t cell) const {
  const std::size_t d = n_configs();
  return meta::cell_seed(spec.seed, spec.tasks[cell / d].task_name(), spec.configs[cell % d].label());
}

std::uint64_t Plan::replicate_seed(std::uint64_t cell, int r) const {
  const std::size_t d = n_configs();
  return meta::replicate_seed(spec.seed, spec.tasks[cell / d].task_name(), spec.configs[cell % d].label(), r);
}

std::vector<std::uint64_t> Plan::work_items() const {
  const auto R = static_cast<std::uint64_t>(spec.replicates);
  std::vector<std::uint64_t> items;
  items.reserve(order.size() * R);
  for (std::uint64_t cell : order)
    for (std::uint64_t r = 0; r < R; ++r) items.push_back(cell * R + r);
  return items;
}

namespace {
// The sparse design of a per-role campaign; `probability` gets each cell's
// share: 1 for the uniform configurations, the measured fraction of the per-role ones.
std::vector<std::uint8_t> design_mask(const PlanSpec& spec, std::vector<double>& probability) {
  std::vector<std::string> labels;
  for (const auto& c : spec.configs) labels.push_back(c.label());
  const auto n = spec.tasks.size(), d = labels.size();
  std::vector<std::uint8_t> mask = sample_role_design(labels, static_cast<int>(n), spec.ratio, spec.seed);
  std::vector<std::size_t> mixed;
  std::size_t taken = 0;
  for (std::size_t j = 0; j < d; ++j)
    if (labels[j].find('[') != std::string::npos) {
      mixed.push_back(j);
      for (std::size_t t = 0; t < n; ++t) taken += mask[t * d + j];
    }
  const double share = mixed.empty() ? 1.0 : static_cast<double>(taken) / static_cast<double>(mixed.size() * n);
  for (std::size_t j : mixed)
    for (std::size_t t = 0; t < n; ++t) probability[t * d + j] = share;
  return mask;
}
}  // namespace

Plan make_plan(PlanSpec spec) {
  const std::size_t n = spec.tasks.size(), d = spec.configs.size(), nd = n * d;
  if (n == 0) throw InputError("campaign.tasks: the task list is empty; a campaign needs at least one task");
  if (d == 0) throw InputError("campaign.formats_a/formats_b: the configuration list is empty");
  std::set<std::string> seen;
  for (const auto& t : spec.tasks)
    if (!seen.insert(t.name).second) throw InputError("campaign.tasks: task '" + t.name + "' is listed twice");
  seen.clear();
  for (const auto& c : spec.configs)
    if (!seen.insert(c.label()).second)
      throw InputError("campaign.formats_a/formats_b: configuration '" + c.label() + "' is listed twice");
  if (spec.memory.size() != nd)
    throw InputError("plan: memory has " + std::to_string(spec.memory.size()) + " values, expected " +
                     std::to_string(nd) + " (tasks x configurations)");
  for (double m : spec.memory)
    if (!(std::isfinite(m) && m > 0)) throw InputError("plan: memory values must be finite and > 0 MiB");
  for (auto* v : {&spec.memory_weights, &spec.memory_activations, &spec.memory_optimizer})
    if (!v->empty() && v->size() != nd) throw InputError("plan: a memory breakdown has the wrong size");
  if (spec.replicates < 1 || spec.replicates > 65535)
    throw InputError("train.replicates = " + std::to_string(spec.replicates) + "; allowed: 1..65535");

  Plan p;
  p.probability.assign(nd, 1.0);
  switch (spec.scheme) {
    case Scheme::full:
      p.mask.assign(nd, 1);
      break;
    case Scheme::uniform:
      if (!(spec.ratio > 0 && spec.ratio <= 1))
        throw InputError("sampling.ratio = " + std::to_string(spec.ratio) + "; allowed: (0, 1]");
      p.mask = meta::sample_uniform(static_cast<int>(n), static_cast<int>(d), spec.ratio, spec.seed);
      p.probability.assign(nd, spec.ratio);
      break;
    case Scheme::nonuniform: {
      if (!(spec.p_max > 0 && spec.p_max <= 1))
        throw InputError("sampling.p_max = " + std::to_string(spec.p_max) + "; allowed: (0, 1]");
      if (!(spec.p_min >= 0 && spec.p_min <= spec.p_max))
        throw InputError("sampling.p_min = " + std::to_string(spec.p_min) + "; allowed: [0, sampling.p_max]");
      Eigen::MatrixXd m(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
      for (std::size_t t = 0; t < n; ++t)
        for (std::size_t c = 0; c < d; ++c)
          m(static_cast<Eigen::Index>(t), static_cast<Eigen::Index>(c)) = spec.memory[t * d + c];
      Eigen::MatrixXd prob = meta::nonuniform_probabilities(m, spec.p_min, spec.p_max);
      for (std::size_t t = 0; t < n; ++t)
        for (std::size_t c = 0; c < d; ++c)
          p.probability[t * d + c] = prob(static_cast<Eigen::Index>(t), static_cast<Eigen::Index>(c));
      p.mask = meta::sample_nonuniform(prob, spec.seed);
      break;
    }
    case Scheme::design:
      p.mask = design_mask(spec, p.probability);
      break;
  }
  for (std::size_t i = 0; i < nd; ++i)
    if (p.mask[i]) p.order.push_back(i);
  if (p.order.empty())
    throw InputError(std::string("sampling.scheme = ") + label(spec.scheme) +
                     " selected no cell; raise sampling.ratio / sampling.p_max or add tasks");
  const auto& mem = spec.memory;
  std::stable_sort(p.order.begin(), p.order.end(), [&](std::uint64_t a, std::uint64_t b) {
    const std::uint64_t ta = a / d, tb = b / d;
    if (ta != tb) return ta < tb;
    return mem[a] > mem[b];
  });

  // The identity text: one "key=value" per line, so two plans can be compared key by key.
  std::string id = "plan-version=2\n";
  {
    std::istringstream lines(spec.identity);
    for (std::string line; std::getline(lines, line);)
      if (!line.empty()) id += line + "\n";
  }
  id += "seed=" + std::to_string(spec.seed) + "\n";
  id += "replicates=" + std::to_string(spec.replicates) + "\n";
  id += std::string("sampling.scheme=") + label(spec.scheme) + "\n";
  if (spec.scheme == Scheme::uniform || spec.scheme == Scheme::design) id += "sampling.ratio=" + std::to_string(spec.ratio) + "\n";
  if (spec.scheme == Scheme::nonuniform)
    id += "sampling.p_min=" + std::to_string(spec.p_min) + "\nsampling.p_max=" + std::to_string(spec.p_max) + "\n";
  id += "sampling.mask=" + hex64(fnv1a64(std::string_view(reinterpret_cast<const char*>(p.mask.data()), p.mask.size()))) +
        " (" + std::to_string(p.order.size()) + " cells)\n";
  for (std::size_t t = 0; t < spec.tasks.size(); ++t) {
    const std::string& name = spec.tasks[t].name;
    id += "task." + std::to_string(t) + "=" + name + "\n";
    if (spec.tasks[t].expanded()) {
      char lr[40];
      std::snprintf(lr, sizeof lr, "%.17g", spec.tasks[t].learning_rate);
      id += "task." + name + ".row=" + spec.tasks[t].task + " model=" + spec.tasks[t].model + " learning_rate=" + lr +
            "\n";
    }
    if (t < spec.task_definitions.size()) {
      std::istringstream lines(spec.task_definitions[t]);
      for (std::string line; std::getline(lines, line);)
        if (!line.empty()) id += "task." + name + "." + line + "\n";
    }
  }
  for (std::size_t j = 0; j < spec.configs.size(); ++j)
    id += "config." + std::to_string(j) + "=" + spec.configs[j].label() + "\n";
  p.fingerprint = fnv1a64(id);
  p.identity_text = std::move(id);
  p.spec = std::move(spec);
  return p;
}

}  // namespace peppp::meta
