#include "peppp/meta/select.hpp"

#include <Eigen/Dense>
#include <cmath>
#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/meta/design.hpp"
#include "peppp/meta/lowrank.hpp"
#include "peppp/meta/pareto.hpp"
#include "peppp/meta/sampling.hpp"
#include "peppp/meta/bayes.hpp"

namespace peppp::meta {

std::vector<int> choose_configurations(const Eigen::MatrixXd& train, const Eigen::VectorXd& memory, int count,
                                       double cap, int rank) {
  if (train.cols() != memory.size())
    throw InputError("select: the campaign has " + std::to_string(train.cols()) + " configurations, the task's memory " +
                     std::to_string(memory.size()));
  if (count < rank)
    throw InputError("select: --measurements " + std::to_string(count) + " is below the rank " + std::to_string(rank) +
                     "; least squares needs at least rank measurements");
  const std::vector<int> feasible = meta::feasible_set(memory, cap);
  if (static_cast<int>(feasible.size()) < count)
    throw InputError("select: --measurements " + std::to_string(count) + " exceeds the " +
                     std::to_string(feasible.size()) + " configurations under the cap of " + std::to_string(cap) +
                     " MiB");
  const meta::Embedding e = meta::embed(train, rank);
  return meta::greedy_d_optimal(e.y, feasible, count);
}

FiniteMeasurements finite_measurements(const std::vector<int>& chosen, const std::vector<double>& measured) {
  if (chosen.size() != measured.size())
    throw InputError("select: " + std::to_string(chosen.size()) + " configurations but " +
                     std::to_string(measured.size()) + " measurements");
  FiniteMeasurements out;
  std::vector<double> v;
  for (std::size_t q = 0; q < chosen.size(); ++q)
    if (std::isfinite(measured[q])) {
      out.configs.push_back(chosen[q]);
      v.push_back(measured[q]);
    }
  out.errors = Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
  return out;
}

SelectionPrediction predict_selection(const Eigen::MatrixXd& train, const Eigen::VectorXd& memory,
                                      const std::vector<int>& chosen, const std::vector<double>& measured,
                                      double budget, int rank) {
  const int d = static_cast<int>(train.cols());
  const meta::Embedding emb = meta::embed(train, rank);
  const FiniteMeasurements fm = finite_measurements(chosen, measured);
  const std::vector<int>& s = fm.configs;
  if (static_cast<int>(s.size()) < rank)
    throw InputError("select: only " + std::to_string(s.size()) + " of " + std::to_string(chosen.size()) +
                     " measurements are usable; at least the rank " + std::to_string(rank) + " are needed");
  const Eigen::VectorXd estimate = meta::ls_predict(emb.y, s, fm.errors);

  // Var(ê_j) = s² y_jᵀ (Y_S Y_Sᵀ)⁻¹ y_j (F6.4's model).
  Eigen::MatrixXd ys(rank, static_cast<Eigen::Index>(s.size()));
  for (std::size_t q = 0; q < s.size(); ++q) ys.col(static_cast<Eigen::Index>(q)) = emb.y.col(s[q]);
  double s2 = 0;
  const int dof = static_cast<int>(s.size()) - rank;
  if (dof > 0) {
    double rss = 0;
    for (std::size_t q = 0; q < s.size(); ++q) rss += std::pow(estimate(s[q]) - fm.errors(static_cast<Eigen::Index>(q)), 2);
    s2 = rss / dof;
  } else {
    const Eigen::MatrixXd resid = train - emb.x.transpose() * emb.y;
    s2 = resid.squaredNorm() / static_cast<double>(resid.size());
  }
  const Eigen::MatrixXd a_inv = (ys * ys.transpose()).inverse();

  SelectionPrediction out;
  out.predicted_error = estimate.head(d);
  out.predicted_std.resize(d);
  for (int j = 0; j < d; ++j) {
    const Eigen::VectorXd y = emb.y.col(j);
    out.predicted_std(j) = std::sqrt(std::max(0.0, s2 * y.dot(a_inv * y)));
  }
  out.measured.assign(d, 0);
  out.measured_error = Eigen::VectorXd::Constant(d, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t q = 0; q < chosen.size(); ++q) {
    out.measured[chosen[q]] = 1;
    out.measured_error(chosen[q]) = measured[q];
  }
  out.pareto_estimate = meta::pareto_mask(meta::normalize_memory(memory), estimate);
  out.selection_order = chosen;
  out.recommended_index = meta::select_configuration(memory, estimate, budget);
  return out;
}

SelectionPrediction posterior_selection(const EmbeddingPrior& prior, const Eigen::VectorXd& memory,
                                        const std::vector<int>& chosen, const std::vector<double>& measured,
                                        double budget, int samples, std::uint64_t seed) {
  const Eigen::Index d = prior.y.cols();
  if (memory.size() != d || measured.size() != chosen.size())
    throw InputError("select: memory, configurations and measurements sizes differ");
  const FiniteMeasurements fm = finite_measurements(chosen, measured);
  const std::vector<int>& s = fm.configs;
  const EmbeddingPosterior post = embedding_posterior(prior, s, fm.errors);
  SelectionPrediction out;
  out.predicted_error = post.mean;
  out.predicted_std = post.std;
  out.measured.assign(static_cast<std::size_t>(d), 0);
  out.measured_error = Eigen::VectorXd::Constant(d, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t q = 0; q < chosen.size(); ++q) {
    out.measured[static_cast<std::size_t>(chosen[q])] = 1;
    out.measured_error(chosen[q]) = measured[q];
  }
  out.pareto_estimate = pareto_mask(normalize_memory(memory), post.mean);
  out.selection_order = chosen;
  // The belief about the errors one would measure: latent posterior plus
  // noise for the unmeasured configurations, the measurement itself for the measured ones.
  Eigen::MatrixXd cov = prior.y.transpose() * post.x_cov * prior.y;
  cov.diagonal().array() += prior.noise_variance;
  for (int j : s) {
    cov.row(j).setZero();
    cov.col(j).setZero();
  }
  const DecisionRisk risk = decision_risk(post.mean, cov, memory, budget, samples, seed);
  out.recommended_index = risk.recommended_index;
  out.p_best = risk.p_best;
  out.expected_regret = risk.expected_regret;
  return out;
}

DecisionRisk decision_risk(const Eigen::VectorXd& mean, const Eigen::MatrixXd& cov, const Eigen::VectorXd& memory,
                           double budget, int samples, std::uint64_t seed) {
  const Eigen::Index d = mean.size();
  if (cov.rows() != d || cov.cols() != d || memory.size() != d || d == 0)
    throw InputError("decision_risk: mean, covariance and memory sizes differ");
  if (samples < 1) throw InputError("decision_risk: samples must be >= 1");
  std::vector<Eigen::Index> feasible;
  for (Eigen::Index j = 0; j < d; ++j)
    if (memory(j) <= budget) feasible.push_back(j);
  if (feasible.empty()) throw InputError("decision_risk: no configuration fits the budget");
  DecisionRisk r;
  // The recommendation: argmin of the mean among feasible configurations
  // (ties: smaller memory, then lower index; F9.1).
  Eigen::Index rec = feasible.front();
  for (Eigen::Index j : feasible)
    if (mean(j) < mean(rec) || (mean(j) == mean(rec) && memory(j) < memory(rec))) rec = j;
  r.recommended_index = static_cast<int>(rec);
  // cov = V diag(λ) Vᵀ, λ clipped at 0 (a PSD matrix with rounding noise):
  // a draw is mean + V·sqrt(λ)·z.
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (cov + cov.transpose()));
  const Eigen::MatrixXd factor = eig.eigenvectors() * eig.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
  CounterRng rng(seed);
  auto normal = [&rng]() {  // Box–Muller on the counter-based generator
    const double u1 = 1.0 - rng.next_double(), u2 = rng.next_double();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  };
  Eigen::VectorXd z(d), e(d), wins = Eigen::VectorXd::Zero(d);
  double regret = 0;
  for (int s = 0; s < samples; ++s) {
    for (Eigen::Index i = 0; i < d; ++i) z(i) = normal();
    e = (mean + factor * z).cwiseMax(0.0).cwiseMin(1.0);
    Eigen::Index best = feasible.front();
    for (Eigen::Index j : feasible)
      if (e(j) < e(best) || (e(j) == e(best) && memory(j) < memory(best))) best = j;
    wins(best) += 1;
    regret += e(rec) - e(best);
  }
  r.p_best = wins / samples;
  r.expected_regret = regret / samples;
  return r;
}

}  // namespace peppp::meta
