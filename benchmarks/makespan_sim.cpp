// Makespan of a campaign's dynamic queue on P ranks, simulated (issue 32):
// plan order against the cost order the measure stage uses (longest first by
// its estimate, par::longest_first) and against longest first by the exact
// cell times (an oracle), each as makespan / lower bound, where the lower
// bound is max(total / P, longest cell).
//
// The plan: TASKS tasks x MODELS networks (rows task-major, as campaign.models
// makes them) x CONFIGS configurations x EPOCHS epochs. Tasks are 14 px and
// 28 px tasks in the reference catalog's order (14 px first). Each cell's time
// is drawn from measured times: a reference row of the task's resolution
// (inputs/reference/fashion-small-cnn.nc, small-cnn, 3 epochs, 2 replicates),
// then one of that row's cells (a bootstrap of the row's measured cell
// times, the per-cell noise included), scaled to EPOCHS epochs and one
// replicate, and for another network by its activation count over
// small-cnn's (nn::model_counts). The cost order only knows each row's
// estimate, activations x train images x epochs
// (stage::cost_estimate's formula), not the cell times; the calibrated order
// knows each row's median measured time (stage::calibrate_costs with the
// row measured: run.cost_reference naming it, or a resumed campaign). Every repetition
// draws the rows' reference rows and the cells anew (seed = repetition).
//
//   makespan_sim --reference FILE [--tasks 29] [--models small-cnn,vit-tiny,mlp] [--share28 0.3]
//                [--configs 99] [--epochs 10] [--ranks 256] [--repeats 20] [--json FILE]
//
// Prints one line per repetition and a summary; --json writes every figure.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <queue>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/par/work_queue.hpp"

namespace {

struct Options {
  std::string reference, json;
  int tasks = 29, configs = 99, epochs = 10, ranks = 256, repeats = 20;
  double share28 = 0.3;  // fraction of the tasks at 28 px (the rest 14 px)
  std::vector<std::string> models = {"small-cnn", "vit-tiny", "mlp"};
};

// Per resolution: the reference rows' measured cell times, s per epoch and replicate, and their images.
struct Measured {
  std::map<int, std::vector<std::vector<double>>> rows;  // resolution -> rows -> cell times
  std::map<int, double> images;                          // resolution -> training images of its rows
  int reference_epochs = 0, reference_replicates = 0;
};

Measured read_reference(const std::string& path) {
  const peppp::io::Campaign c = peppp::io::read_campaign(path);
  Measured m;
  const auto n = c.number_attributes.find("epochs");
  const auto t = c.text_attributes.find("epochs");
  m.reference_epochs = n != c.number_attributes.end() ? static_cast<int>(n->second)
                       : t != c.text_attributes.end() ? std::stoi(t->second) : 1;
  m.reference_replicates = static_cast<int>(c.replicate.size());
  const std::size_t d = c.config.size();
  for (std::size_t t = 0; t < c.task.size(); ++t) {
    std::vector<double> row;
    for (std::size_t j = 0; j < d; ++j) {
      const double s = c.train_seconds[t * d + j];
      if (std::isfinite(s) && s > 0) row.push_back(s / (m.reference_epochs * m.reference_replicates));
    }
    const int res = c.task_resolution[t];
    m.rows[res].push_back(row);
    m.images[res] = c.task_train_size[t];
  }
  return m;
}

// The dynamic queue: every rank takes the next cell when it is free.
double makespan(const std::vector<double>& time, const std::vector<std::uint64_t>& order, int ranks) {
  std::priority_queue<double, std::vector<double>, std::greater<double>> free_at;
  for (int r = 0; r < ranks; ++r) free_at.push(0.0);
  double end = 0;
  for (std::uint64_t cell : order) {
    const double start = free_at.top();
    free_at.pop();
    const double finish = start + time[cell];
    end = std::max(end, finish);
    free_at.push(finish);
  }
  return end;
}

struct Repetition {
  double bound = 0, plan = 0, cost = 0, calibrated = 0, exact = 0, total = 0, longest = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

Repetition simulate(const Options& o, const Measured& m, const std::map<std::string, std::map<int, double>>& act,
                    std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int n28 = static_cast<int>(std::lround(o.share28 * o.tasks));
  const std::size_t d = static_cast<std::size_t>(o.configs);
  std::vector<double> time, estimate, calibrated;
  for (int t = 0; t < o.tasks; ++t) {
    const int res = t < o.tasks - n28 ? 14 : 28;  // the catalog's order: 14 px tasks first
    const auto& rows = m.rows.at(res);
    const auto& ref = rows[std::uniform_int_distribution<std::size_t>(0, rows.size() - 1)(rng)];
    const double row_median = median(ref);
    for (const std::string& model : o.models) {
      const double scale = act.at(model).at(res) / act.at("small-cnn").at(res);
      const double est = act.at(model).at(res) * m.images.at(res) * o.epochs;
      for (std::size_t c = 0; c < d; ++c) {
        time.push_back(ref[std::uniform_int_distribution<std::size_t>(0, ref.size() - 1)(rng)] * o.epochs * scale);
        estimate.push_back(est);
        calibrated.push_back(row_median * o.epochs * scale);
      }
    }
  }
  std::vector<std::uint64_t> plan(time.size());
  for (std::size_t i = 0; i < plan.size(); ++i) plan[i] = i;
  Repetition r;
  for (double t : time) r.total += t, r.longest = std::max(r.longest, t);
  r.bound = std::max(r.total / o.ranks, r.longest);
  r.plan = makespan(time, plan, o.ranks) / r.bound;
  r.cost = makespan(time, peppp::par::longest_first(plan, estimate), o.ranks) / r.bound;
  r.calibrated = makespan(time, peppp::par::longest_first(plan, calibrated), o.ranks) / r.bound;
  r.exact = makespan(time, peppp::par::longest_first(plan, time), o.ranks) / r.bound;
  return r;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) throw peppp::InputError("makespan_sim: " + k + " needs a value");
    const std::string v = argv[++i];
    if (k == "--reference") o.reference = v;
    else if (k == "--json") o.json = v;
    else if (k == "--tasks") o.tasks = std::stoi(v);
    else if (k == "--configs") o.configs = std::stoi(v);
    else if (k == "--epochs") o.epochs = std::stoi(v);
    else if (k == "--ranks") o.ranks = std::stoi(v);
    else if (k == "--repeats") o.repeats = std::stoi(v);
    else if (k == "--share28") o.share28 = std::stod(v);
    else if (k == "--models") o.models = peppp::split(v, ',');
    else throw peppp::InputError("makespan_sim: unknown option " + k);
  }
  if (o.reference.empty()) throw peppp::InputError("makespan_sim: --reference FILE is required");
  if (o.tasks < 1 || o.configs < 1 || o.epochs < 1 || o.ranks < 1 || o.repeats < 1 || o.models.empty())
    throw peppp::InputError("makespan_sim: sizes must be >= 1");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    const Measured m = read_reference(o.reference);
    std::map<std::string, std::map<int, double>> act;  // model -> resolution -> activations per sample
    std::vector<std::string> networks = o.models;
    networks.push_back("small-cnn");
    for (const std::string& model : networks)
      for (int res : {14, 28}) act[model][res] = static_cast<double>(peppp::nn::model_counts(model, 10, 1, res).activations);
    std::vector<double> plan, cost, calibrated, exact;
    std::printf("makespan_sim: %d tasks x %zu networks x %d configurations = %zu cells, %d epochs, %d ranks\n",
                o.tasks, o.models.size(), o.configs, static_cast<std::size_t>(o.tasks) * o.models.size() * o.configs,
                o.epochs, o.ranks);
    for (const auto& model : o.models)
      std::printf("  %s: activations per sample %.0f (14 px), %.0f (28 px): %.2fx, %.2fx small-cnn\n", model.c_str(),
                  act[model][14], act[model][28], act[model][14] / act["small-cnn"][14],
                  act[model][28] / act["small-cnn"][28]);
    std::string rows;
    for (int rep = 0; rep < o.repeats; ++rep) {
      const Repetition r = simulate(o, m, act, static_cast<std::uint64_t>(rep) + 1);
      std::printf("  repetition %2d: bound %.0f s (total / P %.0f s, longest cell %.0f s); makespan / bound: plan "
                  "%.4f, cost %.4f, calibrated %.4f, exact %.4f\n",
                  rep + 1, r.bound, r.total / o.ranks, r.longest, r.plan, r.cost, r.calibrated, r.exact);
      plan.push_back(r.plan);
      cost.push_back(r.cost);
      calibrated.push_back(r.calibrated);
      exact.push_back(r.exact);
      std::ostringstream row;
      row << (rows.empty() ? "" : ", ") << "{\"bound_s\": " << r.bound << ", \"longest_s\": " << r.longest
          << ", \"total_s\": " << r.total << ", \"plan\": " << r.plan << ", \"cost\": " << r.cost << ", \"calibrated\": " << r.calibrated
          << ", \"exact\": " << r.exact << "}";
      rows += row.str();
    }
    auto summary = [](const char* name, const std::vector<double>& v) {
      std::printf("  %-10s makespan / bound: median %.4f, min %.4f, max %.4f\n", name, median(v),
                  *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
    };
    summary("plan", plan);
    summary("cost", cost);
    summary("calibrated", calibrated);
    summary("exact", exact);
    if (!o.json.empty()) {
      std::ofstream f(o.json);
      f << "{\"tasks\": " << o.tasks << ", \"networks\": \"" << peppp::join(o.models, ",") << "\", \"configs\": "
        << o.configs << ", \"epochs\": " << o.epochs << ", \"ranks\": " << o.ranks << ", \"share28\": " << o.share28
        << ", \"cells\": " << static_cast<std::size_t>(o.tasks) * o.models.size() * o.configs
        << ", \"repetitions\": [" << rows << "]}\n";
      if (!f) throw peppp::RuntimeError("makespan_sim: cannot write " + o.json);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
