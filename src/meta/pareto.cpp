#include "peppp/meta/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "peppp/core/error.hpp"

namespace peppp::meta {

using Eigen::Index;
using Eigen::VectorXd;

namespace {
void check_same(const VectorXd& a, const VectorXd& b, const char* who) {
  if (a.size() != b.size())
    throw InputError(std::string(who) + ": memory has " + std::to_string(a.size()) + " entries, error " +
                     std::to_string(b.size()) + "; lengths must match");
}
}  // namespace

std::vector<std::uint8_t> pareto_mask(const VectorXd& m, const VectorXd& e) {
  check_same(m, e, "pareto_mask");
  const Index d = m.size();
  std::vector<std::uint8_t> out(static_cast<std::size_t>(d), 1);
  for (Index j = 0; j < d; ++j)
    for (Index q = 0; q < d; ++q) {
      if (m[q] <= m[j] && e[q] <= e[j] && (m[q] < m[j] || e[q] < e[j])) {
        out[static_cast<std::size_t>(j)] = 0;
        break;
      }
    }
  return out;
}

std::vector<std::uint8_t> pareto_mask_sweep(const VectorXd& m, const VectorXd& e) {
  check_same(m, e, "pareto_mask_sweep");
  const Index d = m.size();
  std::vector<Index> order(static_cast<std::size_t>(d));
  std::iota(order.begin(), order.end(), Index{0});
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return m[a] < m[b] || (m[a] == m[b] && e[a] < e[b]); });
  std::vector<std::uint8_t> out(static_cast<std::size_t>(d), 0);
  double best_before = std::numeric_limits<double>::infinity();  // min error at strictly smaller memory
  std::size_t g = 0;
  while (g < order.size()) {
    std::size_t h = g;
    while (h < order.size() && m[order[h]] == m[order[g]]) ++h;
    const double group_min = e[order[g]];
    for (std::size_t i = g; i < h; ++i)
      if (e[order[i]] == group_min && group_min < best_before) out[static_cast<std::size_t>(order[i])] = 1;
    best_before = std::min(best_before, group_min);
    g = h;
  }
  return out;
}

VectorXd normalize_memory(const VectorXd& m) {
  for (Index j = 0; j < m.size(); ++j)
    if (!(std::isfinite(m[j]) && m[j] > 0))
      throw InputError("normalize_memory: memory[" + std::to_string(j) + "] = " + std::to_string(m[j]) +
                       " MiB; memories must be finite and > 0");
  if (m.size() == 0) throw InputError("normalize_memory: no configuration");
  return m / m.maxCoeff();
}

std::vector<Point2> frontier_points(const VectorXd& m, const VectorXd& e, const std::vector<std::uint8_t>& mask) {
  check_same(m, e, "frontier_points");
  std::vector<Point2> p;
  for (Index j = 0; j < m.size(); ++j)
    if (mask[static_cast<std::size_t>(j)]) p.push_back({m[j], e[j]});
  return p;
}

double hypervolume(const std::vector<Point2>& points, Point2 ref) {
  std::vector<Point2> p;
  for (const auto& q : points)
    if (q.memory < ref.memory && q.error < ref.error) p.push_back(q);
  std::sort(p.begin(), p.end(), [](const Point2& a, const Point2& b) {
    return a.memory < b.memory || (a.memory == b.memory && a.error < b.error);
  });
  double area = 0, run_min = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < p.size(); ++i) {
    run_min = std::min(run_min, p[i].error);
    const double next = i + 1 < p.size() ? p[i + 1].memory : ref.memory;
    area += (next - p[i].memory) * (ref.error - run_min);
  }
  return area;
}

double convergence(const std::vector<Point2>& truth, const std::vector<Point2>& est) {
  if (truth.empty() || est.empty()) throw InputError("convergence: both frontiers must be non-empty");
  double sum = 0;
  for (const auto& p : est) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& q : truth) best = std::min(best, std::hypot(p.memory - q.memory, p.error - q.error));
    sum += best;
  }
  return sum / static_cast<double>(est.size());
}

double hyperdiff(const std::vector<Point2>& truth, const std::vector<Point2>& est, Point2 ref) {
  return std::abs(hypervolume(truth, ref) - hypervolume(est, ref));
}

double relative_error(const VectorXd& est, const VectorXd& truth) {
  if (est.size() != truth.size())
    throw InputError("relative_error: lengths " + std::to_string(est.size()) + " and " + std::to_string(truth.size()) +
                     " differ");
  const double n = truth.norm();
  return n > 0 ? (est - truth).norm() / n : (est - truth).norm();
}

FrontierMetrics frontier_metrics(const VectorXd& memory, const VectorXd& truth, const VectorXd& estimate) {
  check_same(memory, truth, "frontier_metrics");
  check_same(memory, estimate, "frontier_metrics");
  const VectorXd mn = normalize_memory(memory);
  FrontierMetrics f;
  f.pareto_true = pareto_mask_sweep(mn, truth);
  f.pareto_estimate = pareto_mask_sweep(mn, estimate);
  const auto pt = frontier_points(mn, truth, f.pareto_true);
  const auto pe = frontier_points(mn, estimate, f.pareto_estimate);
  f.convergence = convergence(pt, pe);
  f.hyperdiff = hyperdiff(pt, pe);
  f.relative_error = relative_error(estimate, truth);
  return f;
}

namespace {
[[noreturn]] void no_feasible(const VectorXd& m, double budget, const char* who) {
  throw InputError(std::string(who) + ": budget " + std::to_string(budget) + " MiB is below every configuration (smallest " +
                   std::to_string(m.size() ? m.minCoeff() : 0.0) + " MiB)");
}
}  // namespace

int select_configuration(const VectorXd& memory, const VectorXd& predicted, double budget) {
  check_same(memory, predicted, "select_configuration");
  int best = -1;
  for (Index j = 0; j < memory.size(); ++j) {
    if (!(memory[j] <= budget)) continue;
    if (best < 0 || predicted[j] < predicted[best] ||
        (predicted[j] == predicted[best] && memory[j] < memory[best]))
      best = static_cast<int>(j);
  }
  if (best < 0) no_feasible(memory, budget, "select_configuration");
  return best;
}

HighMemoryBaseline random_high_memory(const VectorXd& memory, const VectorXd& error, double budget) {
  check_same(memory, error, "random_high_memory");
  HighMemoryBaseline b;
  b.memory = -std::numeric_limits<double>::infinity();
  for (Index j = 0; j < memory.size(); ++j)
    if (memory[j] <= budget) b.memory = std::max(b.memory, memory[j]);
  if (!std::isfinite(b.memory)) no_feasible(memory, budget, "random_high_memory");
  double sum = 0;
  for (Index j = 0; j < memory.size(); ++j)
    if (memory[j] == b.memory) {
      b.ties.push_back(static_cast<int>(j));
      sum += error[j];
    }
  b.expected_error = sum / static_cast<double>(b.ties.size());
  return b;
}

double median(const Eigen::MatrixXd& values) {
  if (values.size() == 0) throw InputError("median: empty matrix");
  std::vector<double> v(values.data(), values.data() + values.size());
  for (double x : v)
    if (std::isnan(x)) throw InputError("median: the matrix holds NaN");
  return finite_median(std::move(v));
}

double finite_median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const std::size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

}  // namespace peppp::meta
