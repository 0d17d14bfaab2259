#include "peppp/meta/loocv_fold.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/meta/design.hpp"
#include "peppp/meta/lowrank.hpp"
#include "peppp/meta/pareto.hpp"
#include "peppp/meta/sampling.hpp"

namespace peppp::meta {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
enum class Sampling { full, uniform, nonuniform };
Sampling sampling_of(Setting s) {
  switch (s) {
    case Setting::I:
    case Setting::II: return Sampling::full;
    case Setting::III:
    case Setting::IV: return Sampling::uniform;
    default: return Sampling::nonuniform;
  }
}

struct TrainMatrix {
  MatrixXd completed;
  std::vector<std::uint8_t> mask;
  int observed = 0;
  double lambda = 0, gap = 0, objective = 0;
  int iterations = 0;
};

TrainMatrix build_train(Sampling kind, const MatrixXd& e_tr, const MatrixXd& m_tr, const LoocvOptions& o,
                        std::uint64_t seed) {
  TrainMatrix t;
  if (kind == Sampling::full) {
    t.completed = e_tr;
    t.observed = static_cast<int>(e_tr.size());
    return t;
  }
  MatrixXd w;
  if (kind == Sampling::uniform) {
    t.mask = sample_uniform(static_cast<int>(e_tr.rows()), static_cast<int>(e_tr.cols()), o.uniform_ratio, seed);
  } else {
    const MatrixXd p = nonuniform_probabilities(m_tr, o.p_min, o.p_max);
    t.mask = sample_nonuniform(p, seed);
    w = p.cwiseInverse();
  }
  for (auto v : t.mask) t.observed += v;
  const MatrixXd a = apply_mask(e_tr, t.mask);
  SoftImputeOptions so;
  so.gap_tolerance = o.gap_tolerance;
  so.accelerated = kind == Sampling::nonuniform;
  if (o.lambda_auto) {
    SoftImputeOptions cvo = so;
    cvo.gap_tolerance = std::max(so.gap_tolerance, 1e-5);
    so.lambda = cv_lambda(a, w, cvo, o.lambda_grid, o.cv_folds, seed).lambda;
  } else {
    so.lambda = o.lambda;
  }
  const SoftImputeResult r = soft_impute(a, w, so);
  t.completed = r.estimate;
  t.lambda = r.lambda;
  t.gap = r.gap;
  t.objective = r.objective;
  t.iterations = r.iterations;
  return t;
}
}  // namespace

std::string setting_name(Setting s) {
  static const char* names[] = {"I", "II", "III", "IV", "V", "VI"};
  return names[static_cast<int>(s) - 1];
}

std::vector<Setting> all_settings() {
  return {Setting::I, Setting::II, Setting::III, Setting::IV, Setting::V, Setting::VI};
}

Setting parse_setting(const std::string& name) {
  const std::string n = trim(name);
  for (Setting s : all_settings()) {
    std::string a = setting_name(s);
    if (to_lower(a) == to_lower(n)) return s;
  }
  throw InputError("setting '" + name + "' is unknown; allowed: I, II, III, IV, V, VI");
}

bool setting_capped(Setting s) { return s == Setting::II || s == Setting::IV || s == Setting::VI; }

FoldResult loocv_fold(const MatrixXd& error, const MatrixXd& memory, int fold, const LoocvOptions& o) {
  const Index n = error.rows(), d = error.cols();
  if (memory.rows() != n || memory.cols() != d)
    throw InputError("loocv: error is " + std::to_string(n) + "x" + std::to_string(d) + ", memory " +
                     std::to_string(memory.rows()) + "x" + std::to_string(memory.cols()) + "; shapes must match");
  if (n < 2) throw InputError("loocv: needs at least 2 tasks, got " + std::to_string(n));
  if (fold < 0 || fold >= n)
    throw InputError("loocv: fold " + std::to_string(fold) + " outside [0, " + std::to_string(n) + ")");
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j) {
      if (!std::isfinite(error(i, j)))
        throw InputError("loocv: error (task " + std::to_string(i) + ", config " + std::to_string(j) +
                         ") is not finite; meta-LOOCV needs a fully measured campaign");
      if (!(std::isfinite(memory(i, j)) && memory(i, j) > 0))
        throw InputError("loocv: memory (task " + std::to_string(i) + ", config " + std::to_string(j) + ") = " +
                         std::to_string(memory(i, j)) + " MiB; must be finite and > 0");
    }
  if (o.rank < 1 || o.rank > std::min<Index>(n - 1, d))
    throw InputError("loocv: rank " + std::to_string(o.rank) + " must be in [1, " +
                     std::to_string(std::min<Index>(n - 1, d)) + "] for " + std::to_string(n - 1) +
                     " meta-training tasks and " + std::to_string(d) + " configurations");
  if (o.measurements.empty()) throw InputError("loocv: no measurement count given");
  for (int l : o.measurements)
    if (l < 1) throw InputError("loocv: measurement count " + std::to_string(l) + " must be >= 1");
  const int l_max = *std::max_element(o.measurements.begin(), o.measurements.end());

  FoldResult res;
  res.fold = fold;
  res.cap = std::isnan(o.cap) ? median(memory) : o.cap;
  res.budget = std::isnan(o.budget) ? res.cap : o.budget;
  MatrixXd e_tr(n - 1, d), m_tr(n - 1, d);
  e_tr << error.topRows(fold), error.bottomRows(n - 1 - fold);
  m_tr << memory.topRows(fold), memory.bottomRows(n - 1 - fold);
  const VectorXd e_new = error.row(fold).transpose(), m_new = memory.row(fold).transpose();
  const std::uint64_t seed = o.seed * 1000 + static_cast<std::uint64_t>(fold);

  const bool any_fit = (m_new.array() <= res.budget).any();
  HighMemoryBaseline base;
  if (any_fit) base = random_high_memory(m_new, e_new, res.budget);
  res.best_feasible_error = kNaN;
  for (Index j = 0; j < d; ++j)
    if (m_new[j] <= res.budget) res.best_feasible_error = std::isnan(res.best_feasible_error) ? e_new[j] : std::min(res.best_feasible_error, e_new[j]);

  std::map<Sampling, TrainMatrix> trains;  // III/IV and V/VI share one sample and completion
  for (Setting s : o.settings) {
    const Sampling kind = sampling_of(s);
    auto it = trains.find(kind);
    if (it == trains.end()) it = trains.emplace(kind, build_train(kind, e_tr, m_tr, o, seed)).first;
    const TrainMatrix& tm = it->second;
    SettingResult sr;
    sr.setting = s;
    sr.capped = setting_capped(s);
    sr.observed = tm.observed;
    sr.mask = tm.mask;
    sr.lambda = tm.lambda;
    sr.softimpute_iterations = tm.iterations;
    sr.softimpute_gap = tm.gap;
    sr.softimpute_objective = tm.objective;
    sr.feasible = sr.capped ? feasible_set(m_new, res.cap) : feasible_set(m_new, std::numeric_limits<double>::infinity());
    sr.baseline_error = any_fit ? base.expected_error : kNaN;
    sr.baseline_regret = any_fit ? base.expected_error - res.best_feasible_error : kNaN;
    sr.baseline_memory = any_fit ? base.memory : kNaN;
    sr.no_feasible = sr.feasible.empty();

    AcquisitionContext ctx;
    ctx.y = embed(tm.completed, o.rank).y;
    ctx.train_errors = tm.completed;
    ctx.feasible = sr.feasible;
    ctx.seed = seed ^ 0x52616e646f6d4d46ULL;  // Random-MF stream, distinct from the mask stream
    ctx.bo = o.bo;
    for (Method m : o.methods) {
      MethodCurve c;
      c.method = m;
      const std::size_t nl = o.measurements.size();
      c.measured_count.assign(nl, 0);
      for (auto* v : {&c.relative_error, &c.convergence, &c.hyperdiff, &c.measured_memory, &c.selected_error,
                      &c.best_feasible_error, &c.regret})
        v->assign(nl, kNaN);
      c.selected_config.assign(nl, -1);
      if (!sr.no_feasible) {
        const auto strat = make_strategy(m);
        c.sequence = strat->select(ctx, l_max, [&](int j) { return e_new[j]; });
        for (std::size_t li = 0; li < nl; ++li) {
          const std::size_t len = std::min<std::size_t>(static_cast<std::size_t>(o.measurements[li]), c.sequence.size());
          const std::vector<int> s_l(c.sequence.begin(), c.sequence.begin() + static_cast<std::ptrdiff_t>(len));
          VectorXd vals(static_cast<Index>(len));
          double mem = 0;
          for (std::size_t q = 0; q < len; ++q) {
            vals[static_cast<Index>(q)] = e_new[s_l[q]];
            mem += m_new[s_l[q]];
          }
          const VectorXd pred = strat->predict(ctx, s_l, vals);
          const FrontierMetrics f = frontier_metrics(m_new, e_new, pred);
          c.measured_count[li] = static_cast<int>(len);
          c.relative_error[li] = f.relative_error;
          c.convergence[li] = f.convergence;
          c.hyperdiff[li] = f.hyperdiff;
          c.measured_memory[li] = mem;
          if (any_fit) {
            const int pick = select_configuration(m_new, pred, res.budget);
            c.selected_config[li] = pick;
            c.selected_error[li] = e_new[pick];
            c.best_feasible_error[li] = res.best_feasible_error;
            c.regret[li] = e_new[pick] - res.best_feasible_error;
          }
        }
      }
      sr.methods.push_back(std::move(c));
    }
    res.settings.push_back(std::move(sr));
  }
  return res;
}

}  // namespace peppp::meta
