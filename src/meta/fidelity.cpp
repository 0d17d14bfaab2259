// Early-epoch fidelity (docs/fidelity.md): Kendall tau-b and regret of
// ranking configurations by their errors after epoch E instead of the final ones.
#include "peppp/meta/fidelity.hpp"

#include <algorithm>
#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/meta/pareto.hpp"

namespace peppp::meta {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int sign(double v) { return (v > 0) - (v < 0); }

}  // namespace

double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw InputError("kendall_tau_b: " + std::to_string(x.size()) + " and " + std::to_string(y.size()) + " values");
  const std::size_t m = x.size();
  if (m < 2) return kNaN;
  double concordant = 0, discordant = 0, ties_x = 0, ties_y = 0;
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = i + 1; j < m; ++j) {
      const int sx = sign(x[j] - x[i]), sy = sign(y[j] - y[i]);
      if (sx == 0) ++ties_x;
      if (sy == 0) ++ties_y;
      if (sx == 0 || sy == 0) continue;
      (sx == sy ? concordant : discordant) += 1;
    }
  const double pairs = static_cast<double>(m) * static_cast<double>(m - 1) / 2;
  const double denominator = std::sqrt((pairs - ties_x) * (pairs - ties_y));
  return denominator > 0 ? (concordant - discordant) / denominator : kNaN;
}

double ranking_regret(const std::vector<double>& early, const std::vector<double>& final_error,
                      const std::vector<bool>& allowed) {
  if (early.size() != final_error.size() || (!allowed.empty() && allowed.size() != early.size()))
    throw InputError("ranking_regret: the early, final and allowed vectors differ in size");
  std::size_t pick = early.size();
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t c = 0; c < early.size(); ++c) {
    if ((!allowed.empty() && !allowed[c]) || !std::isfinite(early[c]) || !std::isfinite(final_error[c])) continue;
    if (pick == early.size() || early[c] < early[pick]) pick = c;
    best = std::min(best, final_error[c]);
  }
  return pick == early.size() ? kNaN : final_error[pick] - best;
}

MeanSe mean_se(const std::vector<double>& v) {
  MeanSe r;
  double sum = 0;
  for (double x : v)
    if (std::isfinite(x)) {
      sum += x;
      ++r.count;
    }
  if (r.count == 0) return r;
  r.mean = sum / static_cast<double>(r.count);
  double sq = 0;
  for (double x : v)
    if (std::isfinite(x)) sq += (x - r.mean) * (x - r.mean);
  r.se = r.count > 1 ? std::sqrt(sq / static_cast<double>(r.count - 1) / static_cast<double>(r.count)) : 0.0;
  return r;
}

FidelityResult fidelity(const FidelityData& data, const FidelityOptions& opt) {
  const std::size_t n = data.n(), d = data.d, E = data.epoch.size();
  if (E == 0) throw InputError("fidelity: the campaign has no per-epoch errors (variable 'error_by_epoch')");
  if (data.error_by_epoch.size() != n * d * E || data.final_error.size() != n * d || data.memory.size() != n * d)
    throw InputError("fidelity: the per-epoch, final and memory matrices do not fit " + std::to_string(n) + " rows x " +
                     std::to_string(d) + " configurations x " + std::to_string(E) + " epochs");
  std::vector<std::size_t> index;  // positions in data.epoch of the reported epochs
  if (opt.epochs.empty()) {
    for (std::size_t e = 0; e < E; ++e) index.push_back(e);
  } else {
    for (int want : opt.epochs) {
      const auto it = std::find(data.epoch.begin(), data.epoch.end(), want);
      if (it == data.epoch.end())
        throw InputError("--epoch " + std::to_string(want) + ": the campaign records the errors after epochs " +
                         std::to_string(data.epoch.front()) + ".." + std::to_string(data.epoch.back()) +
                         "; allowed: one of them");
      index.push_back(static_cast<std::size_t>(it - data.epoch.begin()));
    }
  }
  FidelityResult r;
  const std::size_t K = index.size();
  for (std::size_t e : index) r.epoch.push_back(data.epoch[e]);
  std::vector<double> finite_memory;
  for (double m : data.memory)
    if (std::isfinite(m)) finite_memory.push_back(m);
  const double global_cap = std::isnan(opt.cap) ? finite_median(finite_memory) : opt.cap;
  r.kendall_tau.assign(n * K, kNaN);
  r.regret.assign(n * K, kNaN);
  r.regret_capped.assign(n * K, kNaN);
  r.configs_compared.assign(n * K, 0);
  for (std::size_t t = 0; t < n; ++t) {
    double cap = global_cap;
    if (opt.cap_per_task) {
      std::vector<double> row;
      for (std::size_t c = 0; c < d; ++c)
        if (std::isfinite(data.memory[t * d + c])) row.push_back(data.memory[t * d + c]);
      cap = finite_median(row);
    }
    r.cap.push_back(cap);
    std::vector<bool> under(d);
    for (std::size_t c = 0; c < d; ++c) under[c] = data.memory[t * d + c] <= cap;
    const std::vector<double> final_row(data.final_error.begin() + static_cast<std::ptrdiff_t>(t * d),
                                        data.final_error.begin() + static_cast<std::ptrdiff_t>((t + 1) * d));
    for (std::size_t k = 0; k < K; ++k) {
      std::vector<double> early(d), x, y;
      for (std::size_t c = 0; c < d; ++c) {
        early[c] = data.error_by_epoch[(t * d + c) * E + index[k]];
        if (std::isfinite(early[c]) && std::isfinite(final_row[c])) {
          x.push_back(early[c]);
          y.push_back(final_row[c]);
        }
      }
      r.configs_compared[t * K + k] = static_cast<int>(x.size());
      r.kendall_tau[t * K + k] = kendall_tau_b(x, y);
      r.regret[t * K + k] = ranking_regret(early, final_row);
      r.regret_capped[t * K + k] = ranking_regret(early, final_row, under);
    }
  }
  auto column = [&](const std::vector<double>& v, std::size_t k) {
    std::vector<double> c(n);
    for (std::size_t t = 0; t < n; ++t) c[t] = v[t * K + k];
    return mean_se(c);
  };
  for (std::size_t k = 0; k < K; ++k) {
    r.kendall_tau_stats.push_back(column(r.kendall_tau, k));
    r.regret_stats.push_back(column(r.regret, k));
    r.regret_capped_stats.push_back(column(r.regret_capped, k));
  }
  return r;
}

}  // namespace peppp::meta
