// One meta-LOOCV item (METHOD.md F10 steps 1-3): build the meta-training
// matrix of the setting, embed it, run one method's nested selection on the
// held-out task and score every count, on the meta layer's primitives.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <tuple>

#include "peppp/meta/loocv.hpp"

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/meta/acquisition.hpp"
#include "peppp/meta/bayes.hpp"
#include "peppp/meta/design.hpp"
#include "peppp/meta/lowrank.hpp"
#include "peppp/meta/pareto.hpp"
#include "peppp/meta/sampling.hpp"
#include "peppp/meta/softimpute.hpp"

namespace peppp::meta {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The rows `rows` of the row-major n×d matrix `m`.
Eigen::MatrixXd rows_of(const std::vector<double>& m, int d, const std::vector<int>& rows) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(rows.size()), d);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (int j = 0; j < d; ++j) out(static_cast<Eigen::Index>(r), j) = m[static_cast<std::size_t>(rows[r]) * d + j];
  return out;
}

// The entries of `full_mask` (n×d) on the rows `rows`, row after row.
std::vector<std::uint8_t> mask_rows(const std::vector<std::uint8_t>& full_mask, int d, const std::vector<int>& rows) {
  std::vector<std::uint8_t> mask;
  mask.reserve(rows.size() * static_cast<std::size_t>(d));
  for (int i : rows)
    mask.insert(mask.end(), full_mask.begin() + static_cast<std::ptrdiff_t>(i) * d,
                full_mask.begin() + static_cast<std::ptrdiff_t>(i + 1) * d);
  return mask;
}

// The CV of meta-LOOCV ranks the candidate lambdas, it needs no
// certificate-grade solves: each stops at a duality gap of kLoocvCvGap·F, and
// a path stops after the first candidate whose pooled held-out error is above
// the lowest so far (docs/softimpute.md, "λ in meta-LOOCV"). The final solve
// at the chosen λ keeps the certificate (SoftImputeOptions::gap_tolerance).
constexpr double kLoocvCvGap = 1e-3;
constexpr int kLoocvCvPatience = 1;
const std::vector<double> kCenteredGrid = {0.01, 0.03, 0.1, 0.3, 1, 3};

// The sampled meta-training matrix of (setting, fold, repeat): observed
// entries (NaN elsewhere), weights (empty = uniform) and solver options.
struct SampledTraining {
  std::vector<int> rows;
  Eigen::MatrixXd observed, weights;
  SoftImputeOptions opt;
  double fraction = 0;
};

SampledTraining sampled_training(const LoocvSpec& spec, const LoocvData& data, int setting, int fold, int repeat) {
  const int d = static_cast<int>(data.d());
  const SettingInfo info = setting_info(spec.settings[setting]);
  SampledTraining s;
  s.rows = training_rows(spec, data, fold);
  const std::vector<std::uint8_t> mask = mask_rows(meta_training_mask(spec, data, setting, fold, repeat), d, s.rows);
  std::size_t observed = 0;
  for (auto x : mask) observed += x;
  s.fraction = static_cast<double>(observed) / static_cast<double>(mask.size());
  s.observed = apply_mask(rows_of(data.error, d, s.rows), mask);
  if (info.training == SettingInfo::Training::nonuniform) {
    s.weights = nonuniform_probabilities(rows_of(data.memory, d, s.rows), spec.p_min, spec.p_max).cwiseInverse();
    s.opt.accelerated = true;  // proximal solver only: inverse-probability weights make the problem badly conditioned (F4.3)
  }
  return s;
}

bool wants_centered(const LoocvSpec& spec) {
  return std::find(spec.methods.begin(), spec.methods.end(), method_name(Method::ei_mf)) != spec.methods.end();
}

SoftImputeOptions centered_options(SoftImputeOptions o) {
  o.gap_absolute = kCenteredGapAbsolute;  // a residual near 0: the relative gap test would ask for round-off
  return o;
}

LoocvLambdas cv_lambdas(const LoocvSpec& spec, const SampledTraining& s, int fold, int repeat) {
  LoocvLambdas l;
  const std::uint64_t cv_seed = mix64(1000 * spec.seed + static_cast<std::uint64_t>(fold) + 7919u * repeat);
  SoftImputeOptions cv_opt = s.opt;
  cv_opt.gap_tolerance = std::max(s.opt.gap_tolerance, kLoocvCvGap);
  l.lambda = cv_lambda(s.observed, s.weights, cv_opt, {}, 5, cv_seed, kLoocvCvPatience).lambda;
  if (wants_centered(spec)) {
    const CenteredErrors centered = center_errors(s.observed);
    SoftImputeOptions ccv = centered_options(s.opt);
    ccv.gap_tolerance = std::max(ccv.gap_tolerance, kLoocvCvGap);
    const std::uint64_t centered_seed = mix64(1000 * spec.seed + static_cast<std::uint64_t>(fold) + 7919u * repeat + 17u);
    l.centered = cv_lambda(centered.residual, s.weights, ccv, kCenteredGrid, 5, centered_seed, kLoocvCvPatience).lambda;
  }
  return l;
}

}  // namespace

LoocvLambdas loocv_lambdas(const LoocvSpec& spec, const LoocvData& data, int setting, int fold, int repeat) {
  if (setting_info(spec.settings[setting]).training == SettingInfo::Training::full) return {};
  return cv_lambdas(spec, sampled_training(spec, data, setting, fold, repeat), fold, repeat);
}

LoocvLambdas once_lambdas(const LoocvSpec& spec, const LoocvData& data, int setting, int repeat) {
  if (spec.lambda > 0 || !spec.lambda_once) return {};
  return loocv_lambdas(spec, data, setting, data.folds().front(), repeat);
}

const LoocvLambdas* OnceLambdas::find(const LoocvSpec& spec, const LoocvData& data, int setting, int repeat) {
  const auto kind = setting_info(spec.settings[setting]).training;
  if (!spec.lambda_once || spec.lambda > 0 || kind == SettingInfo::Training::full) return nullptr;
  const std::pair<int, int> key{static_cast<int>(kind), repeat};
  auto at = by_scheme_.find(key);
  if (at == by_scheme_.end()) at = by_scheme_.emplace(key, once_lambdas(spec, data, setting, repeat)).first;
  return &at->second;
}

MetaTraining build_meta_training(const LoocvSpec& spec, const LoocvData& data, int setting, int fold, int repeat,
                                 const LoocvLambdas* given) {
  const int d = static_cast<int>(data.d());
  const SettingInfo info = setting_info(spec.settings[setting]);
  MetaTraining t;
  auto flat = [&](const Eigen::MatrixXd& x, std::vector<double>& out) {
    const auto m = static_cast<int>(x.rows());
    out.resize(static_cast<std::size_t>(m) * d);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < d; ++j) out[static_cast<std::size_t>(i) * d + j] = x(i, j);
  };
  if (info.training == SettingInfo::Training::full) {
    flat(rows_of(data.error, d, training_rows(spec, data, fold)), t.estimate);
    t.fraction = 1.0;
    return t;
  }
  const SampledTraining s = sampled_training(spec, data, setting, fold, repeat);
  t.fraction = s.fraction;
  LoocvLambdas l;
  if (spec.lambda > 0) {
    l.lambda = l.centered = spec.lambda;
  } else if (given && !std::isnan(given->lambda)) {
    l = *given;
  } else if (spec.lambda_once) {
    l = once_lambdas(spec, data, setting, repeat);
  } else {
    l = cv_lambdas(spec, s, fold, repeat);
  }
  SoftImputeOptions opt = s.opt;
  opt.lambda = l.lambda;
  t.lambda = opt.lambda;
  flat(soft_impute(s.observed, s.weights, opt).estimate, t.estimate);
  if (wants_centered(spec)) {
    const CenteredErrors centered = center_errors(s.observed);
    SoftImputeOptions copt = centered_options(opt);
    copt.lambda = l.centered;
    t.centered_lambda = copt.lambda;
    flat(uncenter_errors(soft_impute(centered.residual, s.weights, copt).estimate, centered), t.centered);
  }
  return t;
}

LoocvItemResult evaluate_loocv_item(const LoocvSpec& spec, const LoocvData& data, const LoocvItem& it,
                                    const MetaTraining& training) {
  const int d = static_cast<int>(data.d());
  const std::size_t L = spec.measurements.size();
  const SettingInfo info = setting_info(spec.settings[it.setting]);
  Eigen::VectorXd truth(d), mem(d);
  for (int j = 0; j < d; ++j) {
    truth(j) = data.error[static_cast<std::size_t>(it.fold) * d + j];
    mem(j) = data.memory[static_cast<std::size_t>(it.fold) * d + j];
  }
  const double budget = task_cap(spec, data, static_cast<std::size_t>(it.fold));
  double best = std::numeric_limits<double>::infinity();
  for (int j = 0; j < d; ++j)
    if (mem(j) <= budget) best = std::min(best, truth(j));

  LoocvItemResult r;
  r.relative_error.assign(L, kNaN);
  r.convergence.assign(L, kNaN);
  r.hyperdiff.assign(L, kNaN);
  r.selected_error.assign(L, kNaN);
  r.best_feasible_error.assign(L, best);
  r.regret.assign(L, kNaN);
  r.measured_memory.assign(L, 0.0);
  r.selected_config.assign(L, -1);
  r.lambda = training.lambda;
  r.sampled_fraction = training.fraction;
  // ei-mf's prior comes from the centered completion (docs/ei-mf.md); the
  // paper's methods keep the paper's SoftImpute completion.
  const bool centered = it.method < static_cast<int>(spec.methods.size()) &&
                        spec.methods[it.method] == method_name(Method::ei_mf) && !training.centered.empty();
  const Eigen::MatrixXd train = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      (centered ? training.centered : training.estimate).data(),
      static_cast<Eigen::Index>(training.estimate.size() / static_cast<std::size_t>(d)), d);

  if (it.method >= static_cast<int>(spec.methods.size())) {  // F9.2 baseline: no measurements, no estimate
    const auto base = random_high_memory(mem, truth, budget);
    r.selected_error.assign(L, base.expected_error);
    r.regret.assign(L, base.expected_error - best);
    return r;
  }

  // The residual noise is taken on the measured meta-training entries only
  // (a completion fits its own imputations); full settings observe all.
  std::vector<std::uint8_t> observed;
  if (info.training != SettingInfo::Training::full) {
    observed = mask_rows(meta_training_mask(spec, data, it.setting, it.fold, it.repeat), d,
                         training_rows(spec, data, it.fold));
  }
  AcquisitionContext ctx;
  ctx.prior = fit_embedding_prior(train, spec.rank, {}, observed);
  ctx.y = ctx.prior.y.topRows(spec.rank);  // the designs use the embedding, not the level offset
  ctx.train_errors = train;
  ctx.feasible = feasible_set(mem, info.capped ? budget : std::numeric_limits<double>::infinity());
  ctx.decision = feasible_set(mem, budget);
  ctx.seed = mix64(fnv1a64("random-mf", spec.seed) ^ mix64(static_cast<std::uint64_t>(it.fold) * 1000003u +
                                                           static_cast<std::uint64_t>(it.repeat)));
  const auto strategy = make_strategy(parse_method(spec.methods[it.method]));
  const int lmax = spec.measurements.back();
  r.order = strategy->select(ctx, lmax, [&](int j) { return truth(j); });
  r.predicted_error.assign(L * static_cast<std::size_t>(d), kNaN);
  r.predicted_std.assign(L * static_cast<std::size_t>(d), kNaN);
  for (std::size_t c = 0; c < L; ++c) {
    const int l = std::min<int>(spec.measurements[c], static_cast<int>(r.order.size()));
    std::vector<int> s(r.order.begin(), r.order.begin() + l);
    Eigen::VectorXd measured(l);
    double used = 0;
    for (int q = 0; q < l; ++q) {
      measured(q) = truth(s[q]);
      used += mem(s[q]);
    }
    const Prediction pred = strategy->predict(ctx, s, measured);
    const Eigen::VectorXd& estimate = pred.mean;
    for (int j = 0; j < d; ++j) {
      r.predicted_error[c * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)] = pred.mean[j];
      r.predicted_std[c * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)] = pred.std[j];
    }
    const FrontierMetrics fm = frontier_metrics(mem, truth, estimate);
    const int pick = select_configuration(mem, estimate, budget);
    r.relative_error[c] = fm.relative_error;
    r.convergence[c] = fm.convergence;
    r.hyperdiff[c] = fm.hyperdiff;
    r.selected_config[c] = pick;
    r.selected_error[c] = truth(pick);
    r.regret[c] = truth(pick) - best;
    r.measured_memory[c] = used;
  }
  return r;
}

LoocvEvaluator loocv_evaluator(const LoocvSpec& spec, const LoocvData& data, TrainingLookup lookup) {
  struct Cache {
    int kind = -1, fold = -1, repeat = -1;
    MetaTraining training;
    OnceLambdas once;  // --lambda once
  };
  auto cache = std::make_shared<Cache>();
  return [spec, &data, cache, lookup](const LoocvItem& it) -> LoocvItemResult {
    // Every method of one (scheme, fold, repeat) shares the meta-training matrix.
    const MetaTraining* training = lookup ? lookup(it.setting, it.fold, it.repeat) : nullptr;
    if (!training) {
      const int kind = static_cast<int>(setting_info(spec.settings[it.setting]).training);
      if (cache->kind != kind || cache->fold != it.fold || cache->repeat != it.repeat) {
        cache->training = build_meta_training(spec, data, it.setting, it.fold, it.repeat,
                                              cache->once.find(spec, data, it.setting, it.repeat));
        cache->kind = kind;
        cache->fold = it.fold;
        cache->repeat = it.repeat;
      }
      training = &cache->training;
    }
    return evaluate_loocv_item(spec, data, it, *training);
  };
}

}  // namespace peppp::meta
