// One meta-LOOCV item (METHOD.md F10 steps 1-3): build the meta-training
// matrix of the setting, embed it, run one method's nested selection on the
// held-out task and score every count, on the meta layer's primitives.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <tuple>

#include "peppp/meta/loocv.hpp"

#include <Eigen/Cholesky>
#include <Eigen/SVD>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/meta/acquisition.hpp"
#include "peppp/meta/architectures.hpp"
#include "peppp/meta/bayes.hpp"
#include "peppp/meta/configuration_features.hpp"
#include "peppp/meta/design.hpp"
#include "peppp/meta/feature_completion.hpp"
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

// `--verbose`: a CV's curve, error ± standard error per candidate (docs/softimpute.md).
// `what`: "fold F" or "block B (folds F..G)".
void log_cv(const char* which, const std::string& what, int repeat, const LambdaCv& cv) {
  std::string curve;
  for (std::size_t i = 0; i < cv.grid.size(); ++i)
    curve += " " + format_g(cv.grid[i]) + ":" + format_g(cv.heldout_error[i]) + "+-" +
             format_g(cv.heldout_se[i]);
  log::debug("loocv: ", what, " repeat ", repeat, " ", which, " cv lambda ", cv.lambda, " curve", curve);
}

// The CV solves' options from a final solve's `base`: a looser certificate
// (kLoocvCvGap) and the preconditioner of --lambda-cv-blocked / --lambda-cv-single.
SoftImputeOptions cv_options(const LoocvSpec& spec, SoftImputeOptions base) {
  base.gap_tolerance = std::max(base.gap_tolerance, kLoocvCvGap);
  base.blocked_preconditioner = spec.lambda_cv_blocked;
  base.single_precision_preconditioner = spec.lambda_cv_single;
  return base;
}

// One of a fold's two λ CVs on its sampled matrix `s`: the paper's, or the
// centered completion's (`centered`). Seeds from `fold` and `repeat` only.
LambdaCv one_cv(const LoocvSpec& spec, const SampledTraining& s, int fold, int repeat, bool centered,
                const std::string& what) {
  if (!centered) {
    const std::uint64_t cv_seed = mix64(1000 * spec.seed + static_cast<std::uint64_t>(fold) + 7919u * repeat);
    LambdaCv paper = cv_lambda(s.observed, s.weights, cv_options(spec, s.opt), {}, kLoocvCvSplits, cv_seed,
                               kLoocvCvPatience, spec.lambda_flat, spec.lambda_warm);
    log_cv("paper", what, repeat, paper);
    return paper;
  }
  const CenteredErrors c = center_errors(s.observed);
  const SoftImputeOptions ccv = cv_options(spec, centered_options(s.opt));
  const std::uint64_t centered_seed = mix64(1000 * spec.seed + static_cast<std::uint64_t>(fold) + 7919u * repeat + 17u);
  LambdaCv cv = cv_lambda(c.residual, s.weights, ccv, kCenteredGrid, kLoocvCvSplits, centered_seed, kLoocvCvPatience,
                          spec.lambda_flat, spec.lambda_warm);
  log_cv("centered", what, repeat, cv);
  return cv;
}

// The λ of a fold's completions and, with `spec.lambda_warm`, the CVs'
// first-split completions at them (warm starts of the final solves).
struct CvChoice {
  LoocvLambdas l;
  Eigen::MatrixXd warm, warm_centered;
};

CvChoice cv_choice(const LoocvSpec& spec, const SampledTraining& s, int fold, int repeat) {
  CvChoice out;
  const std::string what = "fold " + std::to_string(fold);
  LambdaCv paper = one_cv(spec, s, fold, repeat, false, what);
  out.l.lambda = paper.lambda;
  out.warm = std::move(paper.estimate);
  if (wants_centered(spec)) {
    LambdaCv c = one_cv(spec, s, fold, repeat, true, what);
    out.l.centered = c.lambda;
    out.warm_centered = std::move(c.estimate);
  }
  return out;
}

// The λ-CV matrix of block `block` (--lambda-cv-folds): the sampled
// meta-training matrix of the block's first fold without the block's other
// rows (their observed entries, weights and rows dropped).
SampledTraining block_training(const LoocvSpec& spec, const LoocvData& data, int setting, int block, int repeat) {
  const int first = lambda_cv_blocks(spec, data).at(static_cast<std::size_t>(block)).front();
  SampledTraining s = sampled_training(spec, data, setting, first, repeat);
  const std::vector<int> out = lambda_cv_block_rows(spec, data, block);
  std::vector<int> keep;  // positions in s.rows of the rows outside the block
  for (std::size_t r = 0; r < s.rows.size(); ++r)
    if (!std::binary_search(out.begin(), out.end(), s.rows[r])) keep.push_back(static_cast<int>(r));
  if (keep.size() == s.rows.size()) return s;  // one fold per block (and no other row of its group)
  auto pick = [&](const Eigen::MatrixXd& x) {
    if (x.size() == 0) return x;
    Eigen::MatrixXd y(static_cast<Eigen::Index>(keep.size()), x.cols());
    for (std::size_t r = 0; r < keep.size(); ++r) y.row(static_cast<Eigen::Index>(r)) = x.row(keep[r]);
    return y;
  };
  SampledTraining b;
  for (int r : keep) b.rows.push_back(s.rows[static_cast<std::size_t>(r)]);
  b.observed = pick(s.observed);
  b.weights = pick(s.weights);
  b.opt = s.opt;
  b.fraction = static_cast<double>((b.observed.array() == b.observed.array()).count()) /
               static_cast<double>(b.observed.size());
  return b;
}

// Whether --lambda-cv-folds chooses (setting)'s λ: λ auto, B > 0, a plain SoftImpute completion.
bool block_lambda_defined(const LoocvSpec& spec, const LoocvData& data, int setting) {
  return uses_lambda_cv_blocks(spec) && completes_meta_training(spec, setting) && !has_per_role_labels(data.config);
}

}  // namespace

std::vector<int> lambda_cv_matrix_rows(const LoocvSpec& spec, const LoocvData& data, int block) {
  const std::vector<int> out = lambda_cv_block_rows(spec, data, block);
  std::vector<int> rows;
  for (int r : training_rows(spec, data, lambda_cv_blocks(spec, data).at(static_cast<std::size_t>(block)).front()))
    if (!std::binary_search(out.begin(), out.end(), r)) rows.push_back(r);
  return rows;
}

namespace {

// The CV of `block_lambda_cv` on the block's λ-CV matrix `b`.
LambdaCv block_cv_on(const LoocvSpec& spec, const LoocvData& data, const SampledTraining& b, int block, int repeat,
                     bool centered) {
  const std::vector<int> folds = lambda_cv_blocks(spec, data).at(static_cast<std::size_t>(block));
  const std::string what = "block " + std::to_string(block) + " (folds " + std::to_string(folds.front()) + ".." +
                           std::to_string(folds.back()) + ")";
  LoocvSpec cv = spec;
  cv.lambda_warm = false;  // a block's start is its own completion (block_start), not a split's: don't keep it
  return one_cv(cv, b, folds.front(), repeat, centered, what);
}

}  // namespace

LambdaCv block_lambda_cv(const LoocvSpec& spec, const LoocvData& data, int setting, int block, int repeat,
                         bool centered) {
  if (!block_lambda_defined(spec, data, setting)) {
    LambdaCv none;
    none.lambda = kNaN;
    return none;
  }
  return block_cv_on(spec, data, block_training(spec, data, setting, block, repeat), block, repeat, centered);
}

double block_lambda(const LoocvSpec& spec, const LoocvData& data, int setting, int block, int repeat, bool centered) {
  return block_lambda_cv(spec, data, setting, block, repeat, centered).lambda;
}

BlockStart block_start(const LoocvSpec& spec, const LoocvData& data, int setting, int block, int repeat,
                       bool centered) {
  BlockStart out;
  if (!block_lambda_defined(spec, data, setting)) return out;
  const SampledTraining b = block_training(spec, data, setting, block, repeat);
  out.lambda = block_cv_on(spec, data, b, block, repeat, centered).lambda;
  if (!spec.lambda_warm) return out;
  SoftImputeOptions opt = centered ? centered_options(b.opt) : b.opt;
  opt.lambda = out.lambda;
  const Eigen::MatrixXd z =
      soft_impute(centered ? center_errors(b.observed).residual : b.observed, b.weights, opt).estimate;
  out.start.resize(static_cast<std::size_t>(z.size()));
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(out.start.data(), z.rows(),
                                                                                      z.cols()) = z;
  return out;
}

Eigen::MatrixXd fold_start(const std::vector<double>& start, const std::vector<int>& start_rows,
                           const Eigen::MatrixXd& observed, const Eigen::MatrixXd& weights, const std::vector<int>& rows,
                           double lambda) {
  const Eigen::Index d = observed.cols(), m = static_cast<Eigen::Index>(start_rows.size());
  if (static_cast<Eigen::Index>(start.size()) != m * d || static_cast<Eigen::Index>(rows.size()) != observed.rows() ||
      (weights.size() != 0 && (weights.rows() != observed.rows() || weights.cols() != d)))
    throw InputError("fold_start: the start has " + std::to_string(start.size()) + " entries for " +
                     std::to_string(m) + " rows x " + std::to_string(d) + " configurations");
  const Eigen::MatrixXd zb =
      Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(start.data(), m, d);
  Eigen::BDCSVD<Eigen::MatrixXd> svd(zb, Eigen::ComputeThinV);
  const Eigen::VectorXd& sv = svd.singularValues();
  Eigen::Index k = 0;
  while (k < sv.size() && sv[k] > 1e-8 * sv[0]) ++k;
  const Eigen::MatrixXd factors = svd.matrixV().leftCols(k) * sv.head(k).cwiseSqrt().asDiagonal();  // d×k: B
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(observed.rows(), d);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto i = static_cast<Eigen::Index>(r);
    const auto at = std::lower_bound(start_rows.begin(), start_rows.end(), rows[r]);
    if (at != start_rows.end() && *at == rows[r]) {
      out.row(i) = zb.row(at - start_rows.begin());
      continue;
    }
    if (k == 0) continue;
    Eigen::MatrixXd gram = lambda * Eigen::MatrixXd::Identity(k, k);
    Eigen::VectorXd rhs = Eigen::VectorXd::Zero(k);
    for (Eigen::Index j = 0; j < d; ++j) {
      const double a = observed(i, j);
      if (!std::isfinite(a)) continue;
      const double w = weights.size() != 0 ? weights(i, j) : 1.0;
      gram.selfadjointView<Eigen::Lower>().rankUpdate(factors.row(j).transpose(), w);
      rhs += w * a * factors.row(j).transpose();
    }
    out.row(i) = (factors * gram.selfadjointView<Eigen::Lower>().ldlt().solve(rhs)).transpose();
  }
  // One proximal step (F3.2, step 1/w_max) from there, its thresholded
  // singular values cut to the start's rank k plus max(4, k/4) (the factored
  // solver's spare and growth columns): the fold's matrix has more rows than
  // the block's and a higher rank at the same λ; from the block's rank alone
  // the solver finds the missing directions one stall (1,000 steps) at a
  // time, and from the whole step it works at several times the rank.
  double wmax = 1;
  if (weights.size() != 0) {
    wmax = 0;
    for (Eigen::Index i = 0; i < observed.rows(); ++i)
      for (Eigen::Index j = 0; j < d; ++j)
        if (std::isfinite(observed(i, j))) wmax = std::max(wmax, weights(i, j));
  }
  for (Eigen::Index i = 0; i < observed.rows(); ++i)
    for (Eigen::Index j = 0; j < d; ++j)
      if (std::isfinite(observed(i, j)))
        out(i, j) += (weights.size() != 0 ? weights(i, j) : 1.0) * (observed(i, j) - out(i, j)) / wmax;
  Eigen::BDCSVD<Eigen::MatrixXd> step(out, Eigen::ComputeThinU | Eigen::ComputeThinV);
  Eigen::VectorXd shrunk = (step.singularValues().array() - lambda / wmax).max(0.0).matrix();
  const Eigen::Index keep = std::min<Eigen::Index>(shrunk.size(), k + std::max<Eigen::Index>(4, k / 4));
  shrunk.tail(shrunk.size() - keep).setZero();
  return step.matrixU() * shrunk.asDiagonal() * step.matrixV().transpose();
}

LoocvLambdas block_lambdas(const LoocvSpec& spec, const LoocvData& data, int setting, int block, int repeat) {
  LoocvLambdas l;
  if (!block_lambda_defined(spec, data, setting)) return l;
  BlockStart paper = block_start(spec, data, setting, block, repeat, false);
  l.lambda = paper.lambda;
  l.start = std::move(paper.start);
  if (wants_centered(spec)) {
    BlockStart c = block_start(spec, data, setting, block, repeat, true);
    l.centered = c.lambda;
    l.centered_start = std::move(c.start);
  }
  return l;
}

const LoocvLambdas* BlockLambdas::find(const LoocvSpec& spec, const LoocvData& data, int setting, int fold,
                                       int repeat) {
  if (!block_lambda_defined(spec, data, setting)) return nullptr;
  const int block = lambda_cv_block_of(spec, data, fold);
  const std::tuple<int, int, int> key{static_cast<int>(setting_info(spec.settings[setting]).training), block, repeat};
  auto at = by_block_.find(key);
  if (at == by_block_.end()) at = by_block_.emplace(key, block_lambdas(spec, data, setting, block, repeat)).first;
  return &at->second;
}

LoocvLambdas loocv_lambdas(const LoocvSpec& spec, const LoocvData& data, int setting, int fold, int repeat) {
  if (!completes_meta_training(spec, setting)) return {};
  if (has_per_role_labels(data.config)) return {};  // the feature completion chooses its own ridge
  return cv_choice(spec, sampled_training(spec, data, setting, fold, repeat), fold, repeat).l;
}

LoocvLambdas once_lambdas(const LoocvSpec& spec, const LoocvData& data, int setting, int repeat) {
  if (spec.lambda > 0 || !spec.lambda_once) return {};
  return loocv_lambdas(spec, data, setting, data.folds().front(), repeat);
}

const LoocvLambdas* OnceLambdas::find(const LoocvSpec& spec, const LoocvData& data, int setting, int repeat) {
  const auto kind = setting_info(spec.settings[setting]).training;
  if (!spec.lambda_once || spec.lambda > 0 || !completes_meta_training(spec, setting)) return nullptr;
  const std::pair<int, int> key{static_cast<int>(kind), repeat};
  auto at = by_scheme_.find(key);
  if (at == by_scheme_.end()) at = by_scheme_.emplace(key, once_lambdas(spec, data, setting, repeat)).first;
  return &at->second;
}

MetaTraining build_meta_training(const LoocvSpec& spec, const LoocvData& data, int setting, int fold, int repeat,
                                 const LoocvLambdas* given) {
  const int d = static_cast<int>(data.d());
  MetaTraining t;
  auto flat = [&](const Eigen::MatrixXd& x, std::vector<double>& out) {
    const auto m = static_cast<int>(x.rows());
    out.resize(static_cast<std::size_t>(m) * d);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < d; ++j) out[static_cast<std::size_t>(i) * d + j] = x(i, j);
  };
  if (!completes_meta_training(spec, setting)) {
    flat(rows_of(data.error, d, training_rows(spec, data, fold)), t.estimate);
    t.fraction = 1.0;
    return t;
  }
  const SampledTraining s = sampled_training(spec, data, setting, fold, repeat);
  t.fraction = s.fraction;
  if (has_per_role_labels(data.config)) {  // per-role campaign: docs/feature-completion.md
    const std::uint64_t seed = mix64(1000 * spec.seed + static_cast<std::uint64_t>(fold) + 7919u * repeat);
    const FeatureSolve f = feature_solve(s.observed, s.weights, data.config, seed);
    flat(f.result.estimate, t.estimate);
    t.lambda = f.result.lambda;  // the chosen ridge
    if (wants_centered(spec)) {
      t.centered = t.estimate;
      t.centered_lambda = t.lambda;
    }
    return t;
  }
  CvChoice c;  // warm starts only from this fold's own CV (--lambda-warm)
  LoocvLambdas& l = c.l;
  if (spec.lambda > 0) {
    l.lambda = l.centered = spec.lambda;
  } else if (given && !std::isnan(given->lambda)) {
    l = *given;
  } else if (spec.lambda_once) {
    l = once_lambdas(spec, data, setting, repeat);
  } else if (uses_lambda_cv_blocks(spec)) {
    l = block_lambdas(spec, data, setting, lambda_cv_block_of(spec, data, fold), repeat);
  } else {
    c = cv_choice(spec, s, fold, repeat);
  }
  std::vector<int> start_rows;  // --lambda-warm with blocks: the block's completion starts the solves
  if ((!l.start.empty() || !l.centered_start.empty()) && uses_lambda_cv_blocks(spec))
    start_rows = lambda_cv_matrix_rows(spec, data, lambda_cv_block_of(spec, data, fold));
  SoftImputeOptions opt = s.opt;
  opt.lambda = l.lambda;
  t.lambda = opt.lambda;
  if (!l.start.empty() && !start_rows.empty())
    c.warm = fold_start(l.start, start_rows, s.observed, s.weights, s.rows, l.lambda);
  flat(soft_impute(s.observed, s.weights, opt, c.warm).estimate, t.estimate);
  if (wants_centered(spec)) {
    const CenteredErrors centered = center_errors(s.observed);
    SoftImputeOptions copt = centered_options(opt);
    copt.lambda = l.centered;
    t.centered_lambda = copt.lambda;
    if (!l.centered_start.empty() && !start_rows.empty())
      c.warm_centered = fold_start(l.centered_start, start_rows, centered.residual, s.weights, s.rows, l.centered);
    flat(uncenter_errors(soft_impute(centered.residual, s.weights, copt, c.warm_centered).estimate, centered),
         t.centered);
  }
  return t;
}

namespace {

// The held-out row's truth and memory, its budget and the best error under it
// (over every configuration, whatever --candidates allows). `pick_mem` is the
// memory the methods measure and pick by: NaN (never feasible) for the columns
// that --candidates measured keeps them from, else `mem`. `hidden`: 1 per
// hidden column (--hide-columns; empty without).
struct HeldOut {
  Eigen::VectorXd truth, mem, pick_mem;
  double budget = 0, best = std::numeric_limits<double>::infinity();
  std::vector<char> hidden;
};

HeldOut held_out(const LoocvSpec& spec, const LoocvData& data, int fold) {
  const int d = static_cast<int>(data.d());
  HeldOut h;
  h.truth.resize(d);
  h.mem.resize(d);
  for (int j = 0; j < d; ++j) {
    h.truth(j) = data.error[static_cast<std::size_t>(fold) * d + j];
    h.mem(j) = data.memory[static_cast<std::size_t>(fold) * d + j];
  }
  h.budget = task_cap(spec, data, static_cast<std::size_t>(fold));
  for (int j = 0; j < d; ++j)
    if (h.mem(j) <= h.budget) h.best = std::min(h.best, h.truth(j));
  h.pick_mem = h.mem;
  if (!spec.hidden.empty()) h.hidden.assign(static_cast<std::size_t>(d), 0);
  for (int j : spec.hidden) {
    h.hidden[static_cast<std::size_t>(j)] = 1;
    if (spec.candidates == Candidates::measured) h.pick_mem(j) = kNaN;
  }
  return h;
}

// The columns 0..d−1 not in `measured`, ascending; with `hidden` non-empty
// only those whose flag there is `flag` (1 hidden, 0 not).
std::vector<int> unmeasured_columns(Eigen::Index d, const std::vector<int>& measured,
                                    const std::vector<char>& hidden = {}, char flag = 0) {
  std::vector<char> skip(static_cast<std::size_t>(d), 0);
  for (int j : measured) skip[static_cast<std::size_t>(j)] = 1;
  std::vector<int> out;
  for (Eigen::Index j = 0; j < d; ++j)
    if (!skip[static_cast<std::size_t>(j)] && (hidden.empty() || hidden[static_cast<std::size_t>(j)] == flag))
      out.push_back(static_cast<int>(j));
  return out;
}

// The fraction of the configurations not in `measured` whose true error lies
// within ±2 predicted std (NaN when every configuration was measured).
double coverage_of(const Eigen::VectorXd& truth, const Eigen::VectorXd& mean, const Eigen::VectorXd& std,
                   const std::vector<int>& measured) {
  const std::vector<int> columns = unmeasured_columns(truth.size(), measured);
  int inside = 0;
  for (int j : columns) inside += std::abs(truth(j) - mean(j)) <= 2.0 * std(j);
  return columns.empty() ? kNaN : static_cast<double>(inside) / static_cast<double>(columns.size());
}

// The relative error (F8.5, `relative_error`) of `mean` over the columns not
// in `measured` whose hidden flag is `flag` (NaN when there are none).
double split_relative_error(const Eigen::VectorXd& truth, const Eigen::VectorXd& mean, const std::vector<int>& measured,
                            const std::vector<char>& hidden, char flag) {
  const std::vector<int> columns = unmeasured_columns(truth.size(), measured, hidden, flag);
  if (columns.empty()) return kNaN;
  Eigen::VectorXd t(static_cast<Eigen::Index>(columns.size())), m(t.size());
  for (std::size_t k = 0; k < columns.size(); ++k) {
    t(static_cast<Eigen::Index>(k)) = truth(columns[k]);
    m(static_cast<Eigen::Index>(k)) = mean(columns[k]);
  }
  return relative_error(m, t);
}

// Rows of several architectures (LoocvData::model): the architecture of each meta-training row of
// fold `fold`, in the order of its meta-training matrix; empty when they are all of one.
std::vector<int> training_models(const LoocvSpec& spec, const LoocvData& data, int fold) {
  if (data.model.empty()) return {};
  std::vector<int> out;
  for (int t : training_rows(spec, data, fold)) out.push_back(data.model[static_cast<std::size_t>(t)]);
  if (std::adjacent_find(out.begin(), out.end(), std::not_equal_to<>()) == out.end()) return {};
  return out;
}

// The prior of the *-MF methods on `train`: σ² from the residual on the
// measured meta-training entries only (a completion fits its own
// imputations); full settings observe all.
EmbeddingPrior item_prior(const LoocvSpec& spec, const LoocvData& data, const LoocvItem& it,
                          const Eigen::MatrixXd& train) {
  std::vector<std::uint8_t> observed;
  PriorOptions options;
  Eigen::MatrixXd measured;
  if (completes_meta_training(spec, it.setting)) {
    const int d = static_cast<int>(data.d());
    const std::vector<int> rows = training_rows(spec, data, it.fold);
    observed = mask_rows(meta_training_mask(spec, data, it.setting, it.fold, it.repeat), d, rows);
    if (has_per_role_labels(data.config)) {  // the feature completion returns its model at measured entries
      measured = rows_of(data.error, d, rows);
      options.measured = &measured;
      options.free_columns = static_cast<int>(feature_expansion(configuration_features(data.config)).cols());
    }
  }
  const EmbeddingPrior all = fit_embedding_prior(train, spec.rank, options, observed);
  const std::vector<int> models = training_models(spec, data, it.fold);
  if (models.empty()) return all;
  const int own = data.model[static_cast<std::size_t>(it.fold)];
  if (std::find(models.begin(), models.end(), own) != models.end())
    return model_rows_prior(all, train, spec.rank, models, own);
  return widened_prior(all, train, spec.rank, models);
}

// F9.3: the argmin under the budget of the meta-training column means (NaN
// entries left out; ties to the lower memory, then the lower index), and the
// prior predictive of every configuration with no measurement.
void zero_shot(const LoocvSpec& spec, const LoocvData& data, const LoocvItem& it, const Eigen::MatrixXd& train,
               const HeldOut& h, LoocvItemResult& r) {
  const Eigen::Index d = train.cols();
  // Rows of several architectures: the means over the rows of the fold's own, when some meta-train.
  const std::vector<int> models = training_models(spec, data, it.fold);
  const int own = models.empty() ? -1 : data.model[static_cast<std::size_t>(it.fold)];
  const bool own_rows = std::find(models.begin(), models.end(), own) != models.end();
  Eigen::VectorXd column_mean(d);
  for (Eigen::Index j = 0; j < d; ++j) {
    double sum = 0;
    int k = 0;
    for (Eigen::Index i = 0; i < train.rows(); ++i)
      if (std::isfinite(train(i, j)) && (!own_rows || models[static_cast<std::size_t>(i)] == own)) {
        sum += train(i, j);
        ++k;
      }
    column_mean(j) = k > 0 ? sum / k : std::numeric_limits<double>::infinity();
  }
  const int pick = select_configuration(h.pick_mem, column_mean, h.budget);
  r.zero_shot_config = pick;
  r.zero_shot_selected_error = h.truth(pick);
  r.zero_shot_regret = h.truth(pick) - h.best;
  const EmbeddingPosterior prior = embedding_posterior(item_prior(spec, data, it, train), {}, Eigen::VectorXd());
  const FrontierMetrics fm = frontier_metrics(h.mem, h.truth, prior.mean);
  r.zero_shot_relative_error = fm.relative_error;
  r.zero_shot_convergence = fm.convergence;
  r.zero_shot_hyperdiff = fm.hyperdiff;
  r.zero_shot_coverage = coverage_of(h.truth, prior.mean, prior.std, {});
  r.zero_shot_predicted_error.assign(prior.mean.data(), prior.mean.data() + d);
  r.zero_shot_predicted_std.assign(prior.std.data(), prior.std.data() + d);
}

// Score count c of a method's nested selection `order` (its first l picks).
void score_count(const LoocvSpec& spec, const AcquisitionStrategy& strategy, const AcquisitionContext& ctx,
                 const HeldOut& h, std::size_t c, LoocvItemResult& r) {
  const auto d = static_cast<std::size_t>(h.truth.size());
  const int l = std::min<int>(spec.measurements[c], static_cast<int>(r.order.size()));
  const std::vector<int> s(r.order.begin(), r.order.begin() + l);
  Eigen::VectorXd measured(l);
  double used = 0;
  for (int q = 0; q < l; ++q) {
    measured(q) = h.truth(s[q]);
    used += h.mem(s[q]);
  }
  const Prediction pred = strategy.predict(ctx, s, measured);
  std::copy_n(pred.mean.data(), d, r.predicted_error.begin() + static_cast<std::ptrdiff_t>(c * d));
  std::copy_n(pred.std.data(), d, r.predicted_std.begin() + static_cast<std::ptrdiff_t>(c * d));
  const FrontierMetrics fm = frontier_metrics(h.mem, h.truth, pred.mean);
  const int pick = select_configuration(h.pick_mem, pred.mean, h.budget);
  r.relative_error[c] = fm.relative_error;
  if (!h.hidden.empty()) {
    r.relative_error_hidden[c] = split_relative_error(h.truth, pred.mean, s, h.hidden, 1);
    r.relative_error_measured[c] = split_relative_error(h.truth, pred.mean, s, h.hidden, 0);
  }
  r.convergence[c] = fm.convergence;
  r.hyperdiff[c] = fm.hyperdiff;
  r.coverage[c] = coverage_of(h.truth, pred.mean, pred.std, s);
  r.selected_config[c] = pick;
  r.selected_error[c] = h.truth(pick);
  r.regret[c] = h.truth(pick) - h.best;
  r.measured_memory[c] = used;
}

}  // namespace

LoocvItemResult evaluate_loocv_item(const LoocvSpec& spec, const LoocvData& data, const LoocvItem& it,
                                    const MetaTraining& training) {
  const int d = static_cast<int>(data.d());
  const std::size_t L = spec.measurements.size();
  const SettingInfo info = setting_info(spec.settings[it.setting]);
  const HeldOut h = held_out(spec, data, it.fold);

  LoocvItemResult r;
  r.relative_error.assign(L, kNaN);
  r.convergence.assign(L, kNaN);
  r.hyperdiff.assign(L, kNaN);
  r.selected_error.assign(L, kNaN);
  r.best_feasible_error.assign(L, h.best);
  r.regret.assign(L, kNaN);
  r.measured_memory.assign(L, 0.0);
  r.coverage.assign(L, kNaN);
  r.relative_error_hidden.assign(L, kNaN);
  r.relative_error_measured.assign(L, kNaN);
  r.selected_config.assign(L, -1);
  r.lambda = training.lambda;
  r.sampled_fraction = training.fraction;
  // ei-mf's prior comes from the centered completion (docs/ei-mf.md); the
  // paper's methods and the zero-shot default keep the paper's SoftImpute completion.
  const bool centered = it.method < static_cast<int>(spec.methods.size()) &&
                        spec.methods[it.method] == method_name(Method::ei_mf) && !training.centered.empty();
  const Eigen::MatrixXd train = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      (centered ? training.centered : training.estimate).data(),
      static_cast<Eigen::Index>(training.estimate.size() / static_cast<std::size_t>(d)), d);

  if (it.method >= static_cast<int>(spec.methods.size())) {  // F9.2 baseline: no measurements, no estimate
    const auto base = random_high_memory(h.pick_mem, h.truth, h.budget);
    r.selected_error.assign(L, base.expected_error);
    r.regret.assign(L, base.expected_error - h.best);
    zero_shot(spec, data, it, train, h, r);  // F9.3, once per (setting, fold, repeat)
    return r;
  }

  AcquisitionContext ctx;
  ctx.prior = item_prior(spec, data, it, train);
  ctx.y = ctx.prior.y.topRows(spec.rank);  // the designs use the embedding, not the level offset
  ctx.train_errors = train;
  ctx.feasible = feasible_set(h.pick_mem, info.capped ? h.budget : std::numeric_limits<double>::infinity());
  ctx.decision = feasible_set(h.pick_mem, h.budget);
  ctx.prediction = spec.prediction;
  ctx.seed = mix64(fnv1a64("random-mf", spec.seed) ^ mix64(static_cast<std::uint64_t>(it.fold) * 1000003u +
                                                           static_cast<std::uint64_t>(it.repeat)));
  const auto strategy = make_strategy(parse_method(spec.methods[it.method]));
  r.order = strategy->select(ctx, spec.measurements.back(), [&](int j) { return h.truth(j); });
  r.predicted_error.assign(L * static_cast<std::size_t>(d), kNaN);
  r.predicted_std.assign(L * static_cast<std::size_t>(d), kNaN);
  for (std::size_t c = 0; c < L; ++c) score_count(spec, *strategy, ctx, h, c, r);
  return r;
}

LoocvEvaluator loocv_evaluator(const LoocvSpec& spec, const LoocvData& data, TrainingLookup lookup) {
  struct Cache {
    int kind = -1, fold = -1, repeat = -1;
    MetaTraining training;
    OnceLambdas once;    // --lambda once
    BlockLambdas block;  // --lambda-cv-folds
  };
  auto cache = std::make_shared<Cache>();
  return [spec, &data, cache, lookup](const LoocvItem& it) -> LoocvItemResult {
    // Every method of one (scheme, fold, repeat) shares the meta-training matrix.
    const MetaTraining* training = lookup ? lookup(it.setting, it.fold, it.repeat) : nullptr;
    if (!training) {
      const int kind = static_cast<int>(setting_info(spec.settings[it.setting]).training);
      if (cache->kind != kind || cache->fold != it.fold || cache->repeat != it.repeat) {
        const LoocvLambdas* given = uses_lambda_cv_blocks(spec)
                                        ? cache->block.find(spec, data, it.setting, it.fold, it.repeat)
                                        : cache->once.find(spec, data, it.setting, it.repeat);
        cache->training = build_meta_training(spec, data, it.setting, it.fold, it.repeat, given);
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
