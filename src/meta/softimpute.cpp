#include "peppp/meta/softimpute.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <Eigen/Dense>
#include <Eigen/SVD>
#include <Eigen/SparseCore>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/meta/sampling.hpp"

namespace peppp::meta {

namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using SparseRM = Eigen::SparseMatrix<double, Eigen::RowMajor>;

// Ω, its data and weights in row-major order, plus a sparse pattern whose
// value array lines up with that order (so residuals are written in place).
struct Observed {
  Index n = 0, d = 0;
  std::vector<Index> row, col;
  VectorXd a, w;
  SparseRM pattern;
  bool unit_weights = true;
};

Observed make_observed(const MatrixXd& data, const MatrixXd& weights, const char* who) {
  Observed o;
  o.n = data.rows();
  o.d = data.cols();
  if (o.n == 0 || o.d == 0) throw InputError(std::string(who) + ": the data matrix is empty");
  const bool has_w = weights.size() != 0;
  if (has_w && (weights.rows() != o.n || weights.cols() != o.d))
    throw InputError(std::string(who) + ": weights are " + std::to_string(weights.rows()) + "x" +
                     std::to_string(weights.cols()) + ", data " + std::to_string(o.n) + "x" + std::to_string(o.d) +
                     "; shapes must match");
  std::vector<Eigen::Triplet<double>> trip;
  std::vector<double> a, w;
  for (Index i = 0; i < o.n; ++i)
    for (Index j = 0; j < o.d; ++j) {
      const double v = data(i, j);
      if (std::isnan(v)) continue;
      if (!std::isfinite(v))
        throw InputError(std::string(who) + ": data(" + std::to_string(i) + "," + std::to_string(j) +
                         ") is infinite; observed entries must be finite (NaN = unobserved)");
      double wij = 1.0;
      if (has_w) {
        wij = weights(i, j);
        if (!(std::isfinite(wij) && wij > 0))
          throw InputError(std::string(who) + ": weight(" + std::to_string(i) + "," + std::to_string(j) +
                           ") = " + std::to_string(wij) + " on an observed entry; weights must be finite and > 0");
        if (wij != 1.0) o.unit_weights = false;
      }
      o.row.push_back(i);
      o.col.push_back(j);
      a.push_back(v);
      w.push_back(wij);
      trip.emplace_back(static_cast<int>(i), static_cast<int>(j), 1.0);
    }
  if (a.empty()) throw InputError(std::string(who) + ": no observed entry (every data value is NaN)");
  o.a = Eigen::Map<VectorXd>(a.data(), static_cast<Index>(a.size()));
  o.w = Eigen::Map<VectorXd>(w.data(), static_cast<Index>(w.size()));
  o.pattern.resize(o.n, o.d);
  o.pattern.setFromTriplets(trip.begin(), trip.end());
  o.pattern.makeCompressed();
  return o;
}

// z − a on Ω, in Ω order.
VectorXd residual(const Observed& o, const MatrixXd& z) {
  VectorXd r(o.a.size());
  for (Index k = 0; k < r.size(); ++k) r[k] = z(o.row[static_cast<std::size_t>(k)], o.col[static_cast<std::size_t>(k)]) - o.a[k];
  return r;
}

// Largest singular value of a matrix given by its products with blocks.
template <typename Mul, typename MulT>
double top_singular_value(Index m, Index n, Mul mul, MulT mul_t) {
  // Block subspace iteration with Rayleigh–Ritz: the block of 8 makes the
  // top Ritz value converge at rate (σ_9/σ_1)², fast even when the top few
  // singular values cluster (as they do at the SoftImpute optimum).
  const Index b = std::min<Index>(std::min(m, n), 8);
  MatrixXd v(n, b);
  for (Index j = 0; j < b; ++j)
    for (Index i = 0; i < n; ++i) v(i, j) = CounterRng::uniform_at(0x5eed, static_cast<std::uint64_t>(j * n + i)) - 0.5;
  double prev = -1;
  for (int it = 0; it < 300; ++it) {
    MatrixXd y = mul(v);
    Eigen::HouseholderQR<MatrixXd> qr(y);
    MatrixXd q = qr.householderQ() * MatrixXd::Identity(m, b);
    MatrixXd bt = mul_t(q);
    Eigen::JacobiSVD<MatrixXd> svd(bt, Eigen::ComputeThinU);
    const double s = svd.singularValues()[0];
    v = svd.matrixU();
    if (s == 0) return 0;
    if (it > 1 && std::abs(s - prev) <= 1e-12 * s) return s;
    prev = s;
  }
  return prev;
}

double spectral_norm_sparse(const SparseRM& r) {
  const Index m = r.rows(), n = r.cols();
  if (std::min(m, n) <= 200) {
    MatrixXd g = m >= n ? MatrixXd(MatrixXd(r.transpose()) * r) : MatrixXd(r * MatrixXd(r.transpose()));
    Eigen::SelfAdjointEigenSolver<MatrixXd> es(g, Eigen::EigenvaluesOnly);
    return std::sqrt(std::max(0.0, es.eigenvalues().maxCoeff()));
  }
  return top_singular_value(
      m, n, [&](const MatrixXd& v) { return MatrixXd(r * v); },
      [&](const MatrixXd& u) { return MatrixXd(r.transpose() * u); });
}

MatrixXd random_block(Index n, Index b, std::uint64_t seed) {
  MatrixXd v(n, b);
  for (Index j = 0; j < b; ++j)
    for (Index i = 0; i < n; ++i) v(i, j) = CounterRng::uniform_at(seed, static_cast<std::uint64_t>(j * n + i)) - 0.5;
  return v;
}

ThresholdSvd exact_above(const MatrixXd& x, double tau) {
  Eigen::BDCSVD<MatrixXd> svd(x, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const VectorXd& s = svd.singularValues();
  Index r = 0;
  while (r < s.size() && s[r] > tau) ++r;
  return {svd.matrixU().leftCols(r), svd.matrixV().leftCols(r), s.head(r)};
}

}  // namespace

ThresholdSvd svd_above(const MatrixXd& x, double tau, SvdMethod method, const MatrixXd& warm_v, double accuracy) {
  const Index m = x.rows(), n = x.cols(), k = std::min(m, n);
  if (method == SvdMethod::exact || (method == SvdMethod::automatic && k <= 40)) return exact_above(x, tau);
  const Index r0 = warm_v.cols() <= k ? warm_v.cols() : 0;
  Index b = std::min(k, std::max<Index>(r0 + 8, 12));
  MatrixXd start(n, b);
  if (r0 > 0) start.leftCols(r0) = warm_v;
  start.rightCols(b - r0) = random_block(n, b - r0, static_cast<std::uint64_t>(b));
  for (;;) {
    if (2 * b > k) return exact_above(x, tau);
    MatrixXd vb = start, q, rsv;
    VectorXd s, s_old;
    for (int it = 0; it < 200; ++it) {
      Eigen::HouseholderQR<MatrixXd> qr(x * vb);
      q = qr.householderQ() * MatrixXd::Identity(m, b);
      const MatrixXd bt = x.transpose() * q;  // n×b; X ≈ Q btᵀ
      // Rayleigh–Ritz through the small b×b Gram matrix: much cheaper than an
      // SVD of bt, and σ_i keeps relative accuracy ~ε(σ_1/σ_i)², ample here.
      Eigen::SelfAdjointEigenSolver<MatrixXd> es(bt.transpose() * bt);
      s.resize(b);
      rsv.resize(b, b);
      for (Index i = 0; i < b; ++i) {
        s[i] = std::sqrt(std::max(0.0, es.eigenvalues()[b - 1 - i]));
        rsv.col(i) = es.eigenvectors().col(b - 1 - i);
      }
      vb = bt * rsv;
      for (Index i = 0; i < b; ++i) vb.col(i) *= s[i] > 1e-300 ? 1.0 / s[i] : 0.0;
      if (s_old.size() == s.size()) {
        Index cnt = 0;
        while (cnt < s.size() && s[cnt] > tau) ++cnt;
        const Index upto = std::min(cnt + 1, b);
        const double change = upto > 0 ? (s.head(upto) - s_old.head(upto)).cwiseAbs().maxCoeff() : 0.0;
        if (change <= std::max(accuracy, 1e-13) * std::max(s[0], 1e-300)) break;
      }
      s_old = s;
    }
    Index cnt = 0;
    while (cnt < s.size() && s[cnt] > tau) ++cnt;
    if (cnt + 3 > b) {  // threshold not cleared inside the block: grow it
      const Index nb = std::min(k, 2 * b);
      start.resize(n, nb);
      start.leftCols(b) = vb;
      start.rightCols(nb - b) = random_block(n, nb - b, static_cast<std::uint64_t>(nb));
      b = nb;
      continue;
    }
    return {q * rsv.leftCols(cnt), vb.leftCols(cnt), s.head(cnt)};
  }
}

double spectral_norm(const MatrixXd& x) {
  if (x.size() == 0) return 0;
  if (std::min(x.rows(), x.cols()) <= 200) {
    Eigen::BDCSVD<MatrixXd> svd(x);
    return svd.singularValues()[0];
  }
  return top_singular_value(
      x.rows(), x.cols(), [&](const MatrixXd& v) { return MatrixXd(x * v); },
      [&](const MatrixXd& u) { return MatrixXd(x.transpose() * u); });
}

namespace {

struct GapParts {
  double f = 0, gap = 0;
};

// F and the F3.4 gap from the residual on Ω and the nuclear norm of Z.
GapParts gap_parts(const Observed& o, const VectorXd& r, double nuclear, double lambda, SparseRM& work) {
  const double s2 = (o.w.array() * r.array().square()).sum();
  const double sa = (o.w.array() * r.array() * o.a.array()).sum();
  Eigen::Map<VectorXd>(work.valuePtr(), r.size()) = o.w.cwiseProduct(r);
  const double nr = spectral_norm_sparse(work);
  const double c = nr > lambda ? lambda / nr : 1.0;
  GapParts g;
  g.f = 0.5 * s2 + lambda * nuclear;
  const double dual = -0.5 * c * c * s2 - c * sa;
  g.gap = std::max(0.0, g.f - dual);
  return g;
}

struct SolveState {
  MatrixXd z;
  MatrixXd v;  // right singular vectors of z (warm start)
  VectorXd s;  // singular values of z
  double inv_step = 1.0;  // L of the backtracking
};

// One fixed-λ solve from `st`; returns iterations, sets objective/gap/converged.
int solve_fixed(const Observed& o, double lambda, const SoftImputeOptions& opt, SolveState& st, double& objective,
                double& gap, bool& converged) {
  SparseRM work = o.pattern;
  const Index nobs = o.a.size();
  const int check_every = std::max(1, opt.check_every);
  MatrixXd z_prev = st.z, y;
  double t_mom = 1.0;
  converged = false;
  int it = 0;
  auto check = [&]() {
    const GapParts g = gap_parts(o, residual(o, st.z), st.s.sum(), lambda, work);
    objective = g.f;
    gap = g.gap;
    converged = gap <= std::max(opt.gap_tolerance * objective, opt.gap_absolute);
    return converged;
  };
  if (check()) return 0;
  double stall = 0, last_step = 1.0;
  const double gate = 0.3 * std::sqrt(std::max(opt.gap_tolerance, 1e-16));
  while (it < opt.max_iterations) {
    ++it;
    const bool acc = opt.accelerated && t_mom > 1.0;
    const double t_next = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t_mom * t_mom));
    if (opt.accelerated) {
      y = st.z + ((t_mom - 1.0) / t_next) * (st.z - z_prev);
    }
    const MatrixXd& base = acc ? y : st.z;
    const VectorXd g = o.w.cwiseProduct(residual(o, base));  // ∇f on Ω
    st.inv_step *= 0.9;
    ThresholdSvd p;
    MatrixXd z_new;
    for (int bt = 0; bt < 60; ++bt) {
      const double alpha = 1.0 / st.inv_step;
      MatrixXd x = base;
      for (Index k = 0; k < nobs; ++k)
        x(o.row[static_cast<std::size_t>(k)], o.col[static_cast<std::size_t>(k)]) -= alpha * g[k];
      // Inexact early, exact late: the subspace keeps converging across steps.
      p = svd_above(x, alpha * lambda, opt.svd, st.v, 0.01 * last_step * last_step);
      p.s.array() -= alpha * lambda;
      z_new = p.u * p.s.asDiagonal() * p.v.transpose();
      const double dd = (z_new - base).squaredNorm();
      if (dd == 0) break;
      double num = 0;
      for (Index k = 0; k < nobs; ++k) {
        const double dk = z_new(o.row[static_cast<std::size_t>(k)], o.col[static_cast<std::size_t>(k)]) -
                          base(o.row[static_cast<std::size_t>(k)], o.col[static_cast<std::size_t>(k)]);
        num += o.w[k] * dk * dk;
      }
      const double local_l = num / dd;
      if (local_l <= st.inv_step * (1.0 + 1e-12)) break;
      st.inv_step = std::max(local_l, st.inv_step / 0.5);
    }
    const double step = (z_new - st.z).norm() / std::max(1.0, z_new.norm());
    if (opt.accelerated) {
      // Gradient restart: drop the momentum when it points uphill.
      const double up = acc ? ((y - z_new).cwiseProduct(z_new - st.z)).sum() : -1.0;
      z_prev = st.z;
      t_mom = up > 0 ? 1.0 : t_next;
    }
    st.z = std::move(z_new);
    st.v = std::move(p.v);
    st.s = std::move(p.s);
    last_step = step;
    stall = step < 1e-15 ? stall + 1 : 0;
    // The gap needs a spectral norm; skip it while the iterates still move
    // far more than a converged solve would allow.
    if ((it % check_every == 0 && step <= gate) || stall > 0) {
      if (check()) break;
      if (stall >= 3) break;  // numerically stationary: the gap is as small as it gets
    }
  }
  if (!converged && it % check_every != 0) check();
  return it;
}

}  // namespace

SoftImputeResult soft_impute(const MatrixXd& data, const MatrixXd& weights, const SoftImputeOptions& opt,
                             const MatrixXd& warm_start) {
  if (!(opt.lambda > 0) || !std::isfinite(opt.lambda))
    throw InputError("soft_impute: lambda = " + std::to_string(opt.lambda) + "; lambda must be finite and > 0");
  if (!(opt.gap_tolerance >= 0)) throw InputError("soft_impute: gap_tolerance must be >= 0");
  const Observed o = make_observed(data, weights, "soft_impute");
  SolveState st;
  if (warm_start.size() != 0) {
    if (warm_start.rows() != o.n || warm_start.cols() != o.d)
      throw InputError("soft_impute: warm start shape does not match the data");
    Eigen::BDCSVD<MatrixXd> svd(warm_start, Eigen::ComputeThinU | Eigen::ComputeThinV);
    Index r = 0;
    const VectorXd& s = svd.singularValues();
    while (r < s.size() && s[r] > 1e-12 * std::max(1.0, s[0])) ++r;
    st.s = s.head(r);
    st.v = svd.matrixV().leftCols(r);
    st.z = svd.matrixU().leftCols(r) * st.s.asDiagonal() * st.v.transpose();
  } else {
    st.z = MatrixXd::Zero(o.n, o.d);
    st.s = VectorXd();
    st.v = MatrixXd(o.d, 0);
  }
  SoftImputeResult res;
  res.lambda = opt.lambda;
  double objective = 0, gap = 0;
  bool conv = false;
  std::vector<double> path;
  for (double l : opt.path)
    if (l > opt.lambda) path.push_back(l);
  if (opt.path.empty() && opt.auto_path && warm_start.size() == 0) {
    if (!(opt.path_factor > 0 && opt.path_factor < 1))
      throw InputError("soft_impute: path_factor = " + std::to_string(opt.path_factor) + "; must be in (0, 1)");
    SparseRM pw = o.pattern;
    Eigen::Map<VectorXd>(pw.valuePtr(), o.a.size()) = o.w.cwiseProduct(o.a);
    const double lambda_max = spectral_norm_sparse(pw);
    for (double l = lambda_max * opt.path_factor; l > opt.lambda / opt.path_factor; l *= opt.path_factor) path.push_back(l);
  }
  std::sort(path.begin(), path.end(), std::greater<double>());
  SoftImputeOptions path_opt = opt;
  path_opt.gap_tolerance = std::max(opt.gap_tolerance, opt.path_gap_tolerance);
  for (double l : path) res.total_iterations += solve_fixed(o, l, path_opt, st, objective, gap, conv);
  res.iterations = solve_fixed(o, opt.lambda, opt, st, objective, gap, conv);
  res.total_iterations += res.iterations;
  res.estimate = std::move(st.z);
  res.singular_values = st.s;
  res.rank = static_cast<int>(st.s.size());
  res.objective = objective;
  res.gap = gap;
  res.converged = conv;
  if (!conv)
    log::warn("soft_impute: stopped after ", res.iterations, " iterations with duality gap ", gap, " > ",
              opt.gap_tolerance, " x objective ", objective);
  return res;
}

double softimpute_objective(const MatrixXd& z, const MatrixXd& data, const MatrixXd& weights, double lambda) {
  const Observed o = make_observed(data, weights, "softimpute_objective");
  const VectorXd r = residual(o, z);
  Eigen::BDCSVD<MatrixXd> svd(z);
  return 0.5 * (o.w.array() * r.array().square()).sum() + lambda * svd.singularValues().sum();
}

double softimpute_duality_gap(const MatrixXd& z, const MatrixXd& data, const MatrixXd& weights, double lambda) {
  const Observed o = make_observed(data, weights, "softimpute_duality_gap");
  Eigen::BDCSVD<MatrixXd> svd(z);
  SparseRM work = o.pattern;
  return gap_parts(o, residual(o, z), svd.singularValues().sum(), lambda, work).gap;
}

SubgradientCheck softimpute_subgradient(const MatrixXd& z, const MatrixXd& data, const MatrixXd& weights,
                                        double lambda, double rank_tolerance) {
  const Observed o = make_observed(data, weights, "softimpute_subgradient");
  const VectorXd r = residual(o, z);
  MatrixXd g = MatrixXd::Zero(o.n, o.d);
  for (Index k = 0; k < r.size(); ++k)
    g(o.row[static_cast<std::size_t>(k)], o.col[static_cast<std::size_t>(k)]) = -o.w[k] * r[k] / lambda;
  Eigen::BDCSVD<MatrixXd> svd(z, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const VectorXd& s = svd.singularValues();
  Index rk = 0;
  while (rk < s.size() && s[rk] > rank_tolerance * std::max(s[0], 1e-300)) ++rk;
  const MatrixXd u = svd.matrixU().leftCols(rk), v = svd.matrixV().leftCols(rk);
  const MatrixXd pu = u * u.transpose(), pv = v * v.transpose();
  const MatrixXd pt = pu * g + g * pv - pu * g * pv;
  const MatrixXd perp = g - pt;
  SubgradientCheck c;
  c.rank = static_cast<int>(rk);
  c.tangent_residual = (pt - u * v.transpose()).norm();
  c.perp_norm = spectral_norm(perp);
  return c;
}

MatrixXd two_way_baseline(const MatrixXd& data, double pseudo_count) {
  if (!(pseudo_count >= 0)) throw InputError("two_way_baseline: pseudo count " + std::to_string(pseudo_count) + " < 0");
  const Index n = data.rows(), d = data.cols();
  double sum = 0;
  Index count = 0;
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < d; ++j)
      if (!std::isnan(data(i, j))) {
        sum += data(i, j);
        ++count;
      }
  if (count == 0) throw InputError("two_way_baseline: no observed entry");
  const double g = sum / static_cast<double>(count);
  Eigen::VectorXd col = Eigen::VectorXd::Zero(d), row = Eigen::VectorXd::Zero(n);
  for (Index j = 0; j < d; ++j) {
    double s = 0, c = 0;
    for (Index i = 0; i < n; ++i)
      if (!std::isnan(data(i, j))) {
        s += data(i, j) - g;
        c += 1;
      }
    col(j) = c + pseudo_count > 0 ? s / (c + pseudo_count) : 0.0;
  }
  for (Index i = 0; i < n; ++i) {
    double s = 0, c = 0;
    for (Index j = 0; j < d; ++j)
      if (!std::isnan(data(i, j))) {
        s += data(i, j) - g - col(j);
        c += 1;
      }
    row(i) = c + pseudo_count > 0 ? s / (c + pseudo_count) : 0.0;
  }
  return (MatrixXd::Constant(n, d, g).rowwise() + col.transpose()).colwise() + row;
}

MatrixXd log_error_scale(const MatrixXd& errors, double offset) {
  MatrixXd out = errors;
  for (Index q = 0; q < out.size(); ++q)
    if (!std::isnan(out.data()[q])) out.data()[q] = std::log(std::max(out.data()[q], 0.0) + offset);
  return out;
}

MatrixXd error_scale(const MatrixXd& logs, double offset) {
  return (logs.array().exp() - offset).max(0.0).min(1.0).matrix();
}

CenteredErrors center_errors(const MatrixXd& errors) {
  CenteredErrors c;
  const MatrixXd scaled = log_error_scale(errors);
  c.base = two_way_baseline(scaled);
  c.residual = scaled - c.base;  // NaN stays NaN
  return c;
}

MatrixXd uncenter_errors(const MatrixXd& completed_residual, const CenteredErrors& centered) {
  return error_scale(completed_residual + centered.base);
}

LambdaCv cv_lambda(const MatrixXd& data, const MatrixXd& weights, const SoftImputeOptions& options,
                   std::vector<double> grid, int folds, std::uint64_t seed) {
  if (grid.empty()) grid = {0.03, 0.1, 0.3, 1, 3, 10};
  for (double l : grid)
    if (!(l > 0) || !std::isfinite(l))
      throw InputError("cv_lambda: lambda candidate " + std::to_string(l) + " must be finite and > 0");
  const Observed o = make_observed(data, weights, "cv_lambda");
  const Index nobs = o.a.size();
  if (folds < 2 || folds > nobs)
    throw InputError("cv_lambda: folds = " + std::to_string(folds) + "; need 2 <= folds <= " +
                     std::to_string(nobs) + " (the number of observed entries)");
  const std::vector<int> perm = random_permutation(static_cast<int>(nobs), seed);
  std::vector<int> fold_of(static_cast<std::size_t>(nobs));
  for (Index k = 0; k < nobs; ++k) fold_of[static_cast<std::size_t>(perm[static_cast<std::size_t>(k)])] = static_cast<int>(k % folds);
  // Solve from the largest λ down so each fold's solves warm-start each other.
  std::vector<std::size_t> order(grid.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return grid[a] > grid[b]; });
  std::vector<double> err2(grid.size(), 0.0);
  double ref2 = 0;
  for (int f = 0; f < folds; ++f) {
    MatrixXd train = data;
    for (Index k = 0; k < nobs; ++k)
      if (fold_of[static_cast<std::size_t>(k)] == f) {
        train(o.row[static_cast<std::size_t>(k)], o.col[static_cast<std::size_t>(k)]) = std::numeric_limits<double>::quiet_NaN();
        ref2 += o.a[k] * o.a[k];
      }
    MatrixXd warm;
    for (std::size_t gi : order) {
      SoftImputeOptions so = options;
      so.lambda = grid[gi];
      so.path.clear();
      const SoftImputeResult r = soft_impute(train, weights, so, warm);
      for (Index k = 0; k < nobs; ++k)
        if (fold_of[static_cast<std::size_t>(k)] == f) {
          const double e = r.estimate(o.row[static_cast<std::size_t>(k)], o.col[static_cast<std::size_t>(k)]) - o.a[k];
          err2[gi] += e * e;
        }
      warm = r.estimate;
    }
  }
  LambdaCv cv;
  cv.grid = grid;
  cv.heldout_error.resize(grid.size());
  std::size_t best = 0;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    cv.heldout_error[i] = std::sqrt(err2[i] / std::max(ref2, 1e-300));
    if (cv.heldout_error[i] < cv.heldout_error[best]) best = i;
  }
  cv.lambda = grid[best];
  return cv;
}

}  // namespace peppp::meta
