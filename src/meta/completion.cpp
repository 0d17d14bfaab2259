#include "peppp/meta/completion.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/meta/configuration_features.hpp"
#include "peppp/meta/feature_completion.hpp"
#include "peppp/meta/pareto.hpp"
#include "peppp/meta/sampling.hpp"

namespace peppp::meta {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string cell(Index i, Index j) { return "(task " + std::to_string(i) + ", config " + std::to_string(j) + ")"; }

void validate_memory(const MatrixXd& error, const MatrixXd& memory) {
  if (error.rows() != memory.rows() || error.cols() != memory.cols())
    throw InputError("complete: error is " + std::to_string(error.rows()) + "x" + std::to_string(error.cols()) +
                     " but memory is " + std::to_string(memory.rows()) + "x" + std::to_string(memory.cols()) +
                     "; shapes must match");
  if (error.size() == 0) throw InputError("complete: the error matrix is empty");
  for (Index i = 0; i < memory.rows(); ++i)
    for (Index j = 0; j < memory.cols(); ++j)
      if (!(std::isfinite(memory(i, j)) && memory(i, j) > 0))
        throw InputError("complete: memory " + cell(i, j) + " = " + std::to_string(memory(i, j)) +
                         " MiB; memory must be finite and > 0");
}

struct Solve {
  SoftImputeResult r;
  LambdaCv cv;
};

Solve solve(const MatrixXd& a, const MatrixXd& w, const CompletionOptions& o, bool weighted, std::uint64_t seed) {
  if (has_per_role_labels(o.configuration_labels)) {  // per-role campaign: docs/feature-completion.md
    FeatureSolve f = feature_solve(a, w, o.configuration_labels, seed);
    return {std::move(f.result), std::move(f.cv)};
  }
  SoftImputeOptions so;
  so.gap_tolerance = o.gap_tolerance;
  if (o.center) so.gap_absolute = kCenteredGapAbsolute;  // the residual's objective is near 0
  so.max_iterations = o.max_iterations;
  so.accelerated = o.accelerated.value_or(weighted);
  Solve s;
  if (o.lambda_auto) {
    SoftImputeOptions cvo = so;
    cvo.gap_tolerance = std::max(so.gap_tolerance, 1e-5);  // CV ranks λ; it needs no certificate-grade solves
    s.cv = cv_lambda(a, w, cvo, o.lambda_grid, o.cv_folds, seed);
    so.lambda = s.cv.lambda;
  } else {
    so.lambda = o.lambda;
  }
  s.r = soft_impute(a, w, so);
  return s;
}
// The residual A − B of a centered completion is an order of magnitude smaller
// than A: one more small λ candidate keeps the grid's low end useful.
CompletionOptions centered_grid(CompletionOptions o) {
  if (o.lambda_auto && std::find(o.lambda_grid.begin(), o.lambda_grid.end(), 0.01) == o.lambda_grid.end())
    o.lambda_grid.insert(o.lambda_grid.begin(), 0.01);
  return o;
}
}  // namespace

MatrixXd measured_errors(const MatrixXd& error, const std::vector<std::uint8_t>& status) {
  const Index n = error.rows(), d = error.cols();
  if (static_cast<Index>(status.size()) != n * d)
    throw InputError("status has " + std::to_string(status.size()) + " cells, error " + std::to_string(n) + "x" +
                     std::to_string(d) + " needs " + std::to_string(n * d));
  MatrixXd out(n, d);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j) {
      const bool measured = status[static_cast<std::size_t>(i * d + j)] == static_cast<std::uint8_t>(CellStatus::measured);
      if (measured && !std::isfinite(error(i, j)))
        throw InputError("error " + cell(i, j) + " is " + std::to_string(error(i, j)) +
                         " but status says measured (2); a measured cell needs a finite error");
      out(i, j) = measured ? error(i, j) : kNaN;
    }
  return out;
}

namespace {

// The number of observed (non-NaN) entries; every row needs one.
int count_observed(const MatrixXd& error) {
  const Index n = error.rows(), d = error.cols();
  int observed = 0;
  for (Index i = 0; i < n; ++i) {
    int row = 0;
    for (Index j = 0; j < d; ++j) {
      if (std::isinf(error(i, j))) throw InputError("complete: error " + cell(i, j) + " is infinite");
      row += std::isnan(error(i, j)) ? 0 : 1;
    }
    if (row == 0)
      throw InputError("complete: task row " + std::to_string(i) +
                       " has no observed entry; measure at least one of its configurations or drop the task");
    observed += row;
  }
  return observed;
}

// Inverse-probability weights 1/p on the measured cells (F4.3), 1 elsewhere.
MatrixXd inverse_probability_weights(const MatrixXd& error, const MatrixXd& p) {
  const Index n = error.rows(), d = error.cols();
  if (p.rows() != n || p.cols() != d)
    throw InputError("complete: sampling probabilities are " + std::to_string(p.rows()) + "x" +
                     std::to_string(p.cols()) + ", the error matrix " + std::to_string(n) + "x" + std::to_string(d));
  MatrixXd w = MatrixXd::Ones(n, d);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j) {
      if (std::isnan(error(i, j))) continue;
      if (!(p(i, j) > 0 && p(i, j) <= 1))
        throw InputError("complete: sampling probability " + cell(i, j) + " = " + std::to_string(p(i, j)) +
                         " on a measured cell; must be in (0, 1]");
      w(i, j) = 1.0 / p(i, j);
    }
  return w;
}

// The fit on the observed entries and each row's estimated (and, fully
// observed, true) Pareto frontier with its metrics.
void frontier_results(const MatrixXd& error, const MatrixXd& memory, CompletionResult& res) {
  const Index n = error.rows(), d = error.cols();
  double fit2 = 0, obs2 = 0;
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j)
      if (!std::isnan(error(i, j))) {
        fit2 += std::pow(res.estimate(i, j) - error(i, j), 2);
        obs2 += error(i, j) * error(i, j);
      }
  res.relative_error_observed = obs2 > 0 ? std::sqrt(fit2 / obs2) : std::sqrt(fit2);
  res.pareto_estimate.resize(n, d);
  res.convergence = VectorXd::Constant(n, kNaN);
  res.hyperdiff = VectorXd::Constant(n, kNaN);
  res.relative_error = VectorXd::Constant(n, kNaN);
  res.relative_error_all = kNaN;
  if (res.fully_observed) res.pareto_true.resize(n, d);
  for (Index i = 0; i < n; ++i) {
    const VectorXd m = memory.row(i).transpose(), est = res.estimate.row(i).transpose();
    if (res.fully_observed) {
      const VectorXd truth = error.row(i).transpose();
      const FrontierMetrics f = frontier_metrics(m, truth, est);
      for (Index j = 0; j < d; ++j) {
        res.pareto_estimate(i, j) = f.pareto_estimate[static_cast<std::size_t>(j)];
        res.pareto_true(i, j) = f.pareto_true[static_cast<std::size_t>(j)];
      }
      res.convergence[i] = f.convergence;
      res.hyperdiff[i] = f.hyperdiff;
      res.relative_error[i] = f.relative_error;
    } else {
      const auto pe = pareto_mask_sweep(normalize_memory(m), est);
      for (Index j = 0; j < d; ++j) res.pareto_estimate(i, j) = pe[static_cast<std::size_t>(j)];
    }
  }
  if (res.fully_observed)
    res.relative_error_all = relative_error(Eigen::Map<const VectorXd>(res.estimate.data(), n * d),
                                            Eigen::Map<const VectorXd>(error.data(), n * d));
}

// Point k of the sampling-ratio sweep of a fully measured matrix (the
// paper's Figure 10): complete a uniform sample, score it on everything.
SweepPoint sweep_point(const MatrixXd& error, const MatrixXd& memory, const CompletionOptions& o, std::size_t k,
                       double full_lambda) {
  const Index n = error.rows(), d = error.cols();
  CompletionOptions so = o;
  so.sampling_probabilities.resize(0, 0);
  const double ratio = o.sweep_ratios[k];
  SweepPoint sp;
  sp.ratio = ratio;
  sp.mask = sample_uniform(static_cast<int>(n), static_cast<int>(d), ratio, o.seed * 1000 + k);
  const MatrixXd a = apply_mask(error, sp.mask);
  for (auto v : sp.mask) sp.observed += v;
  if (sp.observed == 0) throw InputError("complete: sweep ratio " + std::to_string(ratio) + " samples no entry");
  // Cross-validation needs at least two entries per fold; a small ratio of a
  // small matrix has fewer, and then reuses the full completion's λ.
  if (so.lambda_auto && sp.observed < 2 * std::max(2, o.cv_folds)) {
    so.lambda_auto = false;
    so.lambda = full_lambda;
  }
  const Solve ss = solve(a, MatrixXd(), so, false, o.seed * 1000 + k);
  sp.lambda = ss.r.lambda;
  sp.iterations = ss.r.iterations;
  sp.objective = ss.r.objective;
  sp.gap = ss.r.gap;
  const MatrixXd& z = ss.r.estimate;
  sp.relative_error = (z - error).norm() / error.norm();
  double un2 = 0, ref2 = 0;
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j)
      if (!sp.mask[static_cast<std::size_t>(i * d + j)]) {
        un2 += std::pow(z(i, j) - error(i, j), 2);
        ref2 += error(i, j) * error(i, j);
      }
  sp.relative_error_unobserved = ref2 > 0 ? std::sqrt(un2 / ref2) : std::sqrt(un2);
  sp.convergence.resize(n);
  sp.hyperdiff.resize(n);
  sp.task_relative_error.resize(n);
  for (Index i = 0; i < n; ++i) {
    const FrontierMetrics f = frontier_metrics(memory.row(i).transpose(), error.row(i).transpose(), z.row(i).transpose());
    sp.convergence[i] = f.convergence;
    sp.hyperdiff[i] = f.hyperdiff;
    sp.task_relative_error[i] = f.relative_error;
  }
  sp.mean_convergence = sp.convergence.mean();
  sp.mean_hyperdiff = sp.hyperdiff.mean();
  log::debug("complete: sweep ratio ", ratio, " lambda ", sp.lambda, " relative error ", sp.relative_error);
  return sp;
}

}  // namespace

CompletionResult complete_campaign(const MatrixXd& error, const MatrixXd& memory, const CompletionOptions& o) {
  validate_memory(error, memory);
  const Index n = error.rows(), d = error.cols();
  if (!o.lambda_auto && !(o.lambda > 0 && std::isfinite(o.lambda)))
    throw InputError("complete: lambda = " + std::to_string(o.lambda) + "; lambda must be > 0 (or auto)");
  const int observed = count_observed(error);
  const bool weighted = o.sampling_probabilities.size() != 0;
  const MatrixXd w = weighted ? inverse_probability_weights(error, o.sampling_probabilities) : MatrixXd();
  CompletionResult res;
  res.weighted = weighted;
  res.observed = observed;
  res.fully_observed = observed == n * d;
  res.lambda_auto = o.lambda_auto;
  const bool center = o.center && !has_per_role_labels(o.configuration_labels);
  const CenteredErrors centered = center ? center_errors(error) : CenteredErrors{};
  const Solve s = center ? solve(centered.residual, w, centered_grid(o), weighted, o.seed)
                           : solve(error, w, o, weighted, o.seed);
  res.estimate = center ? uncenter_errors(s.r.estimate, centered) : s.r.estimate;
  res.lambda = s.r.lambda;
  res.cv_grid = s.cv.grid;
  res.cv_error = s.cv.heldout_error;
  res.rank = s.r.rank;
  res.iterations = s.r.iterations;
  res.objective = s.r.objective;
  res.gap = s.r.gap;
  res.converged = s.r.converged;
  res.singular_values = s.r.singular_values;
  res.free_columns = s.r.free_columns;
  frontier_results(error, memory, res);
  if (!res.fully_observed || !o.sweep) return res;
  for (std::size_t k = 0; k < o.sweep_ratios.size(); ++k) res.sweep.push_back(sweep_point(error, memory, o, k, res.lambda));
  return res;
}

}  // namespace peppp::meta
