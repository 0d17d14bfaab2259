// Feature-based completion (docs/feature-completion.md): alternating ridge
// regressions for U, W and Δ on the observed entries, with the per-row Gram
// matrices of the expanded features precomputed once, so a W step costs
// O(n p² k²) whatever the number of configurations.
#include "peppp/meta/feature_completion.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <Eigen/SVD>

#include "peppp/core/error.hpp"
#include "peppp/meta/configuration_features.hpp"
#include "peppp/meta/sampling.hpp"

namespace peppp::meta {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

constexpr double kFlat = 1e-12;  // a standardised column with smaller spread is constant
constexpr double kCvTolerance = 1e-4;
constexpr int kCvIterations = 25;

// Append the column x standardised, unless it is constant or ± an earlier column.
void append_standardised(const VectorXd& x, std::vector<VectorXd>& cols) {
  const double mean = x.mean();
  const double sd = std::sqrt((x.array() - mean).square().mean());
  if (!(sd > kFlat * std::max(1.0, std::abs(mean)))) return;
  const VectorXd z = (x.array() - mean) / sd;
  for (const VectorXd& c : cols)
    if ((c - z).cwiseAbs().maxCoeff() < 1e-9 || (c + z).cwiseAbs().maxCoeff() < 1e-9) return;
  cols.push_back(z);
}

// The observed entries' weights: w (or 1) where `error` is observed, 0 elsewhere.
MatrixXd observation_weights(const MatrixXd& error, const MatrixXd& weights) {
  const bool given = weights.size() != 0;
  if (given && (weights.rows() != error.rows() || weights.cols() != error.cols()))
    throw InputError("feature completion: weights are " + std::to_string(weights.rows()) + "x" +
                     std::to_string(weights.cols()) + ", the error matrix " + std::to_string(error.rows()) + "x" +
                     std::to_string(error.cols()));
  MatrixXd m = MatrixXd::Zero(error.rows(), error.cols());
  for (Index i = 0; i < error.rows(); ++i)
    for (Index j = 0; j < error.cols(); ++j) {
      if (std::isnan(error(i, j))) continue;
      if (!std::isfinite(error(i, j))) throw InputError("feature completion: an observed error is infinite");
      const double w = given ? weights(i, j) : 1.0;
      if (!(w > 0 && std::isfinite(w)))
        throw InputError("feature completion: weight (" + std::to_string(i) + ", " + std::to_string(j) + ") = " +
                         std::to_string(w) + " on an observed entry; weights must be finite and > 0");
      m(i, j) = w;
    }
  if (m.sum() <= 0) throw InputError("feature completion: the error matrix has no observed entry");
  return m;
}

// One problem: centred targets y (0 where unobserved), weights m, the
// expansion Φ and, per row i, vec(Φᵀ diag(m_i) Φ) as column i of `gram`.
struct Problem {
  MatrixXd y, m, phi, gram;
  double obs_per_row = 1, obs_per_feature = 1, obs_per_column = 1;
};

void set_scales(Problem& p) {
  const double count = (p.m.array() > 0).count();
  p.obs_per_row = count / static_cast<double>(p.m.rows());
  p.obs_per_feature = count / static_cast<double>(p.phi.cols());
  p.obs_per_column = count / static_cast<double>(p.m.cols());
}

Problem make_problem(const MatrixXd& y, const MatrixXd& m, const MatrixXd& phi) {
  Problem p{y, m, phi, MatrixXd(phi.cols() * phi.cols(), y.rows())};
  for (Index i = 0; i < y.rows(); ++i) {
    MatrixXd g = MatrixXd::Zero(phi.cols(), phi.cols());
    const MatrixXd scaled = m.row(i).transpose().cwiseSqrt().asDiagonal() * phi;
    g.selfadjointView<Eigen::Lower>().rankUpdate(scaled.transpose());
    g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
    p.gram.col(i) = Eigen::Map<const VectorXd>(g.data(), g.size());
  }
  set_scales(p);
  return p;
}

// `base` without the entries `drop` (row-major flat indices): weights zeroed,
// Gram matrices downdated by their rank-one terms.
Problem drop_entries(const Problem& base, const std::vector<Index>& drop) {
  Problem p = base;
  const Index d = base.m.cols(), q = base.phi.cols();
  for (Index k : drop) {
    const Index i = k / d, j = k % d;
    const VectorXd f = base.phi.row(j).transpose();
    Eigen::Map<MatrixXd>(p.gram.col(i).data(), q, q).noalias() -= base.m(i, j) * f * f.transpose();
    p.m(i, j) = 0;
    p.y(i, j) = 0;
  }
  set_scales(p);
  return p;
}

struct Factors {
  MatrixXd u, w, delta;  // n×k, p×k, d×k
  int iterations = 0;
  bool converged = false;
  double objective = 0;
  MatrixXd v(const MatrixXd& phi) const { return phi * w + delta; }
};

double objective(const Problem& p, const Factors& f, double lambda, double gamma) {
  const MatrixXd r = p.y - f.u * f.v(p.phi).transpose();
  return (p.m.array() * r.array().square()).sum() +
         lambda * (p.obs_per_row * f.u.squaredNorm() + p.obs_per_feature * f.w.squaredNorm()) +
         gamma * f.delta.squaredNorm();
}

// W given U and Δ: (Σ_i u_i u_iᵀ ⊗ G_i + λ' I) vec W = vec(Φᵀ (M∘(Y − UΔᵀ))ᵀ U).
void solve_w(const Problem& p, Factors& f, double ridge) {
  const Index q = p.phi.cols(), k = f.u.cols();
  const MatrixXd target = p.m.cwiseProduct(p.y - f.u * f.delta.transpose());
  const MatrixXd rhs = p.phi.transpose() * (target.transpose() * f.u);  // q×k
  MatrixXd a(q * k, q * k);
  for (Index c = 0; c < k; ++c)
    for (Index c2 = c; c2 < k; ++c2) {
      const VectorXd block = p.gram * f.u.col(c).cwiseProduct(f.u.col(c2));
      a.block(c * q, c2 * q, q, q) = Eigen::Map<const MatrixXd>(block.data(), q, q);
      if (c2 != c) a.block(c2 * q, c * q, q, q) = a.block(c * q, c2 * q, q, q).transpose();
    }
  a.diagonal().array() += ridge;
  const VectorXd x = a.llt().solve(Eigen::Map<const VectorXd>(rhs.data(), rhs.size()));
  f.w = Eigen::Map<const MatrixXd>(x.data(), q, k);
}

// Rows of `out` (n_out×k) from a ridge regression on the factor matrix `basis`
// (n_basis×k) with weights `m` and targets `t` laid out out-index × basis-index.
// Every row's k×k Gram matrix comes from one product: vec(b bᵀ) per basis row times mᵀ.
void solve_rows(const MatrixXd& m, const MatrixXd& t, const MatrixXd& basis, double ridge, MatrixXd& out) {
  const Index k = basis.cols();
  MatrixXd outer(k * k, basis.rows());
  for (Index b = 0; b < basis.rows(); ++b)
    Eigen::Map<MatrixXd>(outer.col(b).data(), k, k).noalias() = basis.row(b).transpose() * basis.row(b);
  const MatrixXd grams = outer * m.transpose();
  const MatrixXd rhs = m.cwiseProduct(t) * basis;
  for (Index i = 0; i < m.rows(); ++i) {
    MatrixXd a = Eigen::Map<const MatrixXd>(grams.col(i).data(), k, k);
    a.diagonal().array() += ridge;
    out.row(i) = a.llt().solve(rhs.row(i).transpose()).transpose();
  }
}

Factors fit(const Problem& p, int k, double lambda, const FeatureCompletionOptions& o, const MatrixXd& u0) {
  Factors f;
  f.u = u0.leftCols(k);
  f.w = MatrixXd::Zero(p.phi.cols(), k);
  f.delta = MatrixXd::Zero(p.m.cols(), k);
  const double gamma = o.residual_ridge_factor * lambda * p.obs_per_column;
  double previous = std::numeric_limits<double>::infinity();
  for (f.iterations = 1; f.iterations <= o.max_iterations; ++f.iterations) {
    solve_w(p, f, lambda * p.obs_per_feature);
    const MatrixXd base = p.phi * f.w;
    if (o.column_residual)
      solve_rows(p.m.transpose(), (p.y - f.u * base.transpose()).transpose(), f.u, gamma, f.delta);
    solve_rows(p.m, p.y, base + f.delta, lambda * p.obs_per_row, f.u);
    f.objective = objective(p, f, lambda, gamma);
    if (std::isfinite(previous) && previous - f.objective <= o.tolerance * previous) {
      f.converged = true;
      break;
    }
    previous = f.objective;
  }
  f.iterations = std::min(f.iterations, o.max_iterations);
  return f;
}

void validate(const MatrixXd& error, const MatrixXd& features, const FeatureCompletionOptions& o) {
  if (features.rows() != error.cols())
    throw InputError("feature completion: " + std::to_string(features.rows()) + " feature rows for " +
                     std::to_string(error.cols()) + " configurations");
  if (o.rank_grid.empty() || o.ridge_grid.empty())
    throw InputError("feature completion: the rank and ridge grids must not be empty");
  for (int k : o.rank_grid)
    if (k < 1) throw InputError("feature completion: rank " + std::to_string(k) + " must be >= 1");
  for (double l : o.ridge_grid)
    if (!(l > 0 && std::isfinite(l))) throw InputError("feature completion: ridge " + std::to_string(l) + " must be > 0");
  if (o.cv_folds < 2) throw InputError("feature completion: cv_folds must be >= 2");
  if (!(o.residual_ridge_factor > 0)) throw InputError("feature completion: residual_ridge_factor must be > 0");
}

// Deterministic initial task factors: uniform in [-1, 1] from the seed.
MatrixXd initial_factors(Index n, int k, std::uint64_t seed) {
  MatrixXd u(n, k);
  CounterRng rng(seed);
  for (Index c = 0; c < k; ++c)
    for (Index i = 0; i < n; ++i) u(i, c) = 2.0 * rng.next_double() - 1.0;
  return u;
}

struct CvChoice {
  int rank = 1;
  double ridge = 0;
};

// k-fold CV over the observed entries: each fold's Problem is the full one
// downdated; candidates rank-major, each rank's ridges in grid order, each
// warm-started from the previous ridge's task factors.
CvChoice cross_validate(const Problem& full, const std::vector<int>& ranks, const FeatureCompletionOptions& o,
                        FeatureCompletionResult& res) {
  std::vector<Index> observed;
  for (Index i = 0; i < full.m.rows(); ++i)
    for (Index j = 0; j < full.m.cols(); ++j)
      if (full.m(i, j) > 0) observed.push_back(i * full.m.cols() + j);
  const std::size_t candidates = ranks.size() * o.ridge_grid.size();
  std::vector<double> err2(candidates, 0.0);
  double ref2 = 0;
  const std::vector<int> perm = random_permutation(static_cast<int>(observed.size()), o.seed);
  FeatureCompletionOptions ranking = o;  // CV ranks candidates: it needs no tightly converged fits
  ranking.tolerance = std::max(o.tolerance, kCvTolerance);
  ranking.max_iterations = std::min(o.max_iterations, kCvIterations);
  for (int fold = 0; fold < o.cv_folds; ++fold) {
    std::vector<Index> held;
    for (std::size_t q = static_cast<std::size_t>(fold); q < perm.size(); q += static_cast<std::size_t>(o.cv_folds))
      held.push_back(observed[static_cast<std::size_t>(perm[q])]);
    const Problem p = drop_entries(full, held);
    for (Index e : held) ref2 += std::pow(full.y(e / full.m.cols(), e % full.m.cols()), 2);
    std::size_t c = 0;
    for (int k : ranks) {
      MatrixXd u = initial_factors(full.m.rows(), k, o.seed + 1 + static_cast<std::uint64_t>(fold));
      for (double lambda : o.ridge_grid) {
        const Factors f = fit(p, k, lambda, ranking, u);
        u = f.u;
        const MatrixXd v = f.v(p.phi);
        for (Index e : held) {
          const Index i = e / full.m.cols(), j = e % full.m.cols();
          err2[c] += std::pow(f.u.row(i).dot(v.row(j)) - full.y(i, j), 2);
        }
        ++c;
      }
    }
  }
  CvChoice best{ranks.front(), o.ridge_grid.front()};
  double lowest = std::numeric_limits<double>::infinity();
  std::size_t c = 0;
  for (int k : ranks)
    for (double lambda : o.ridge_grid) {
      const double e = std::sqrt(err2[c++] / std::max(ref2, 1e-300));
      res.cv_rank.push_back(k);
      res.cv_ridge.push_back(lambda);
      res.cv_error.push_back(e);
      if (e < lowest) {
        lowest = e;
        best = {k, lambda};
      }
    }
  return best;
}

}  // namespace

MatrixXd feature_expansion(const MatrixXd& features) {
  if (!features.allFinite()) throw InputError("feature completion: a configuration feature is not finite");
  std::vector<VectorXd> raw;
  for (Index c = 0; c < features.cols(); ++c) append_standardised(features.col(c), raw);
  std::vector<VectorXd> cols = raw;
  for (std::size_t a = 0; a < raw.size(); ++a)
    for (std::size_t b = a; b < raw.size(); ++b) append_standardised(raw[a].cwiseProduct(raw[b]), cols);
  MatrixXd phi(features.rows(), static_cast<Index>(cols.size()) + 1);
  phi.col(0).setOnes();
  for (std::size_t c = 0; c < cols.size(); ++c) phi.col(static_cast<Index>(c) + 1) = cols[c];
  return phi;
}

FeatureCompletionResult feature_complete(const MatrixXd& error, const MatrixXd& weights, const MatrixXd& features,
                                         const FeatureCompletionOptions& o) {
  validate(error, features, o);
  const MatrixXd m = observation_weights(error, weights);
  FeatureCompletionResult res;
  res.mean = (m.array() * error.array().isNaN().select(0.0, error.array())).sum() / m.sum();
  const MatrixXd y = (m.array() > 0).select(error.array() - res.mean, 0.0).matrix();
  const MatrixXd phi = feature_expansion(features);
  res.expanded_features = static_cast<int>(phi.cols());
  const Problem full = make_problem(y, m, phi);
  std::vector<int> ranks;
  for (int k : o.rank_grid)
    if (k <= std::min<Index>(error.rows(), phi.cols()) && std::find(ranks.begin(), ranks.end(), k) == ranks.end())
      ranks.push_back(k);
  if (ranks.empty()) ranks.push_back(1);
  CvChoice choice{ranks.front(), o.ridge_grid[o.ridge_grid.size() / 2]};
  if ((m.array() > 0).count() >= 2 * 2 * o.cv_folds && (ranks.size() > 1 || o.ridge_grid.size() > 1))
    choice = cross_validate(full, ranks, o, res);
  const Factors f = fit(full, choice.rank, choice.ridge, o, initial_factors(error.rows(), choice.rank, o.seed));
  std::tie(res.rank, res.ridge) = std::tie(choice.rank, choice.ridge);
  std::tie(res.iterations, res.converged, res.objective) = std::tie(f.iterations, f.converged, f.objective);
  res.task_factors = f.u;
  res.configuration_factors = f.v(phi);
  res.estimate = (res.task_factors * res.configuration_factors.transpose()).array() + res.mean;
  return res;
}

FeatureSolve feature_solve(const MatrixXd& error, const MatrixXd& weights, const std::vector<std::string>& labels,
                           std::uint64_t seed) {
  FeatureCompletionOptions o;
  o.seed = seed;
  const FeatureCompletionResult r = feature_complete(error, weights, configuration_features(labels), o);
  FeatureSolve s;
  s.result.estimate = r.estimate;
  s.result.rank = r.rank;
  s.result.iterations = s.result.total_iterations = r.iterations;
  s.result.objective = r.objective;
  s.result.gap = 0;
  s.result.lambda = r.ridge;
  s.result.converged = r.converged;
  s.result.free_columns = r.expanded_features;
  // σ(U Vᵀ) = σ(R_U R_Vᵀ) with U = Q_U R_U, V = Q_V R_V: a k×k SVD.
  const MatrixXd ru = r.task_factors.householderQr().matrixQR().topRows(r.rank).triangularView<Eigen::Upper>();
  const MatrixXd rv = r.configuration_factors.householderQr().matrixQR().topRows(r.rank).triangularView<Eigen::Upper>();
  s.result.singular_values = Eigen::JacobiSVD<MatrixXd>(ru * rv.transpose()).singularValues();
  s.cv.lambda = r.ridge;
  s.cv.grid = r.cv_ridge;
  s.cv.heldout_error = r.cv_error;
  return s;
}

}  // namespace peppp::meta
