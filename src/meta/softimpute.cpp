#include "peppp/meta/softimpute.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

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
  MatrixXd u;  // left singular vectors of z
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
    st.u = std::move(p.u);
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


// ---- Burer–Monteiro factored solve (SoftImputeSolver::factored) ----------
//
// min over U (n×r), V (d×r) of g = ½ Σ_Ω w (u_i·v_j − a_ij)² + λ/2 (‖U‖² + ‖V‖²).
// ½(‖U‖² + ‖V‖²) ≥ ‖UVᵀ‖_* with equality for balanced factors, so g ≥ F_λ(UVᵀ)
// and min g = min F_λ once r ≥ rank Z*. The certificate is F3.4's gap of
// Z = UVᵀ (exact nuclear norm), as for the proximal solver.

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Steps without the gap halving after which solve_factored takes a saddle
// escape step (escape_saddle). A solve that ends within this many steps
// cannot take one and computes exactly what it did before; 300 was measured
// to change solves of the demo campaign that end in 733 and 952 steps (its
// 15 × 15 matrices with 45 entries have no unique Z*), docs/softimpute.md.
constexpr int kStallSteps = 1000;

// g and its gradient at x = [U row-major, V row-major]; `res` = z − a on Ω.
double factored_value(const Observed& o, double lambda, Index r, const VectorXd& x, VectorXd& grad, VectorXd& res) {
  const double* u = x.data();
  const double* v = x.data() + o.n * r;
  grad = lambda * x;
  double* gu = grad.data();
  double* gv = grad.data() + o.n * r;
  res.resize(o.a.size());
  double s2 = 0;
  for (Index k = 0; k < o.a.size(); ++k) {
    const Index i = o.row[static_cast<std::size_t>(k)], j = o.col[static_cast<std::size_t>(k)];
    const double* ui = u + i * r;
    const double* vj = v + j * r;
    double z = 0;
    for (Index q = 0; q < r; ++q) z += ui[q] * vj[q];
    const double e = z - o.a[k];
    res[k] = e;
    const double we = o.w[k] * e;
    s2 += we * e;
    double* gui = gu + i * r;
    double* gvj = gv + j * r;
    for (Index q = 0; q < r; ++q) {
      gui[q] += we * vj[q];
      gvj[q] += we * ui[q];
    }
  }
  return 0.5 * s2 + 0.5 * lambda * x.squaredNorm();
}

// The SVD of UVᵀ through thin QRs of the factors: UVᵀ = Q_u (R_u R_vᵀ) Q_vᵀ.
struct FactorSvd {
  MatrixXd u, v;
  VectorXd s;
};
FactorSvd factor_svd(const Observed& o, Index r, const VectorXd& x, bool vectors) {
  const Eigen::Map<const RowMat> U(x.data(), o.n, r), V(x.data() + o.n * r, o.d, r);
  Eigen::HouseholderQR<MatrixXd> qu(U), qv(V);
  const Index ru = std::min(o.n, r), rv = std::min(o.d, r);
  const MatrixXd core = qu.matrixQR().topRows(ru).triangularView<Eigen::Upper>() *
                        MatrixXd(qv.matrixQR().topRows(rv).triangularView<Eigen::Upper>()).transpose();
  FactorSvd f;
  if (!vectors) {
    f.s = Eigen::JacobiSVD<MatrixXd>(core).singularValues();
    return f;
  }
  Eigen::JacobiSVD<MatrixXd> svd(core, Eigen::ComputeThinU | Eigen::ComputeThinV);
  f.s = svd.singularValues();
  f.u = qu.householderQ() * MatrixXd::Identity(o.n, ru) * svd.matrixU();
  f.v = qv.householderQ() * MatrixXd::Identity(o.d, rv) * svd.matrixV();
  return f;
}

// Re-pack x from rank r to rank r_new (new columns from `fill`, row-major blocks).
VectorXd resize_factors(const Observed& o, Index r, Index r_new, const VectorXd& x, std::uint64_t seed, double scale) {
  VectorXd y(static_cast<Index>((o.n + o.d) * r_new));
  const Index rows = o.n + o.d;
  for (Index i = 0; i < rows; ++i)
    for (Index q = 0; q < r_new; ++q)
      y[i * r_new + q] = q < r ? x[i * r + q]
                               : scale * (CounterRng::uniform_at(seed, static_cast<std::uint64_t>(i * r_new + q)) - 0.5);
  return y;
}

// Block-Jacobi preconditioner of g's Gauss–Newton Hessian: for row i of U
// the r×r block Σ_j∈Ω_i w_ij v_j v_jᵀ + λI (and likewise for V), i.e. the
// systems one ALS sweep solves. H0 = its inverse in the L-BFGS recursion.
// `blocked` (SoftImputeOptions::blocked_preconditioner): each block from one
// gathered rank-k update (a BLAS-3 product instead of |Ω_i| rank-one updates
// scattered over all blocks): the same preconditioner up to round-off. (Kept
// as Cholesky factors instead of inverses, the two triangular solves per
// block made each step slower than the cheaper rebuilds saved.)
struct BlockJacobi {
  Index r = 0;
  bool blocked = false;
  std::vector<MatrixXd> blocks;  // the blocks' inverses (a product applies faster than two triangular solves)
  bool single = false;             // blocked only: the inverses in single precision (half the memory traffic)
  std::vector<Eigen::MatrixXf> blocks_f;
  std::vector<Index> by_col;     // blocked: Ω's indices column after column
  std::vector<Index> col_start;  // blocked: by_col's range of column j is [col_start[j], col_start[j + 1])
  void build(const Observed& o, double lambda, Index rank, const VectorXd& x) {
    r = rank;
    if (blocked) return build_blocked(o, lambda, x);
    const double* u = x.data();
    const double* v = x.data() + o.n * r;
    std::vector<MatrixXd> g(static_cast<std::size_t>(o.n + o.d), lambda * MatrixXd::Identity(r, r));
    for (Index k = 0; k < o.a.size(); ++k) {
      const Index i = o.row[static_cast<std::size_t>(k)], j = o.col[static_cast<std::size_t>(k)];
      const Eigen::Map<const VectorXd> ui(u + i * r, r), vj(v + j * r, r);
      g[static_cast<std::size_t>(i)].selfadjointView<Eigen::Lower>().rankUpdate(vj, o.w[k]);
      g[static_cast<std::size_t>(o.n + j)].selfadjointView<Eigen::Lower>().rankUpdate(ui, o.w[k]);
    }
    blocks.resize(g.size());
    const MatrixXd id = MatrixXd::Identity(r, r);
    for (std::size_t b = 0; b < g.size(); ++b) blocks[b] = g[b].llt().solve(id);
  }
  // Block `b` from the factor rows `other` (row-major, rank r) of the entries
  // `ks` of Ω (`other_index`: their row or column there), as a Cholesky factor.
  void factor_block(const Observed& o, double lambda, const double* other, const std::vector<Index>& other_index,
                    const Index* ks, Index m, MatrixXd& gather, std::size_t b) {
    gather.resize(m, r);
    for (Index q = 0; q < m; ++q) {
      const Index k = ks[q];
      const double sw = std::sqrt(o.w[k]);
      gather.row(q) = sw * Eigen::Map<const Eigen::RowVectorXd>(other + other_index[static_cast<std::size_t>(k)] * r, r);
    }
    MatrixXd g = lambda * MatrixXd::Identity(r, r);
    g.selfadjointView<Eigen::Lower>().rankUpdate(gather.transpose());
    if (single)
      blocks_f[b] = g.llt().solve(MatrixXd::Identity(r, r)).cast<float>();
    else
      blocks[b] = g.llt().solve(MatrixXd::Identity(r, r));
  }
  void build_blocked(const Observed& o, double lambda, const VectorXd& x) {
    const Index nobs = o.a.size();
    if (col_start.empty()) {  // Ω is row-major; index it column after column once
      col_start.assign(static_cast<std::size_t>(o.d + 1), 0);
      for (Index k = 0; k < nobs; ++k) ++col_start[static_cast<std::size_t>(o.col[static_cast<std::size_t>(k)] + 1)];
      for (Index j = 0; j < o.d; ++j) col_start[static_cast<std::size_t>(j + 1)] += col_start[static_cast<std::size_t>(j)];
      by_col.resize(static_cast<std::size_t>(nobs));
      std::vector<Index> next(col_start.begin(), col_start.end() - 1);
      for (Index k = 0; k < nobs; ++k) by_col[static_cast<std::size_t>(next[static_cast<std::size_t>(o.col[static_cast<std::size_t>(k)])]++)] = k;
    }
    if (single)
      blocks_f.resize(static_cast<std::size_t>(o.n + o.d));
    else
      blocks.resize(static_cast<std::size_t>(o.n + o.d));
    MatrixXd gather;
    std::vector<Index> rows(static_cast<std::size_t>(nobs));  // Ω in row-major order: row i is a contiguous run
    for (Index k = 0; k < nobs; ++k) rows[static_cast<std::size_t>(k)] = k;
    Index k0 = 0;
    for (Index i = 0; i < o.n; ++i) {
      Index k1 = k0;
      while (k1 < nobs && o.row[static_cast<std::size_t>(k1)] == i) ++k1;
      factor_block(o, lambda, x.data() + o.n * r, o.col, rows.data() + k0, k1 - k0, gather, static_cast<std::size_t>(i));
      k0 = k1;
    }
    for (Index j = 0; j < o.d; ++j) {
      const Index b0 = col_start[static_cast<std::size_t>(j)], b1 = col_start[static_cast<std::size_t>(j + 1)];
      factor_block(o, lambda, x.data(), o.row, by_col.data() + b0, b1 - b0, gather, static_cast<std::size_t>(o.n + j));
    }
  }
  void apply(VectorXd& q) const {
    VectorXd t(r);
    if (blocked && single) {
      Eigen::VectorXf sf(r), tf(r);
      for (std::size_t b = 0; b < blocks_f.size(); ++b) {
        Eigen::Map<VectorXd> seg(q.data() + static_cast<Index>(b) * r, r);
        sf = seg.cast<float>();
        tf.noalias() = blocks_f[b] * sf;
        seg = tf.cast<double>();
      }
      return;
    }
    for (std::size_t b = 0; b < blocks.size(); ++b) {
      Eigen::Map<VectorXd> seg(q.data() + static_cast<Index>(b) * r, r);
      t.noalias() = blocks[b] * seg;  // a general product: faster than selfadjointView at these sizes
      seg = t;
    }
  }
};

// The factors x = [U; V] (row-major, rank r) that solve_factored starts
// from: the warm start's columns above round-off (Z = 0: the first proximal
// step), four spare columns, more when all are in use.
VectorXd initial_factors(const Observed& o, double lambda, const SolveState& st, Index k, Index& r) {
  ThresholdSvd start{st.u, st.v, st.s};
  if (st.s.size() == 0) {
    // From Z = 0 (a saddle of g): the first proximal step, SVT(P_Ω(w⊙A)/w_max, λ/w_max).
    const double wmax = o.w.maxCoeff();
    MatrixXd x0 = MatrixXd::Zero(o.n, o.d);
    for (Index q = 0; q < o.a.size(); ++q)
      x0(o.row[static_cast<std::size_t>(q)], o.col[static_cast<std::size_t>(q)]) = o.w[q] * o.a[q] / wmax;
    start = exact_above(x0, lambda / wmax);
    start.s.array() -= lambda / wmax;
  }
  Index r0 = 0;  // the warm start's columns above round-off; the rest restart small
  while (r0 < start.s.size() && start.s[r0] > 1e-8 * start.s[0]) ++r0;
  r = std::min(k, std::max<Index>(r0 + 4, 8));  // four spare columns; more are added when all are in use
  const double scale0 = 1e-3 * std::sqrt(std::max(r0 > 0 ? start.s[0] : 0.0, lambda));
  VectorXd packed(static_cast<Index>((o.n + o.d) * r0));
  for (Index q = 0; q < r0; ++q) {
    const double sq = std::sqrt(std::max(start.s[q], 0.0));
    for (Index i = 0; i < o.n; ++i) packed[i * r0 + q] = start.u(i, q) * sq;
    for (Index j = 0; j < o.d; ++j) packed[(o.n + j) * r0 + q] = start.v(j, q) * sq;
  }
  return resize_factors(o, r0, r, packed, 0xfac7 + static_cast<std::uint64_t>(r), scale0);
}

// The L-BFGS memory of solve_factored: the last `capacity` (s, y) pairs.
struct LbfgsMemory {
  std::size_t capacity = 4;
  std::vector<VectorXd> ss, ys;
  std::vector<double> rho;
  bool empty() const { return ss.empty(); }
  void clear() { ss.clear(), ys.clear(), rho.clear(); }
  // Two-loop recursion: dir = −H ∇g, with the block-Jacobi preconditioner as H₀.
  void direction(const VectorXd& grad, const BlockJacobi& pre, VectorXd& dir) const {
    dir = -grad;
    const std::size_t m = ss.size();
    std::vector<double> alpha(m);
    for (std::size_t q = m; q-- > 0;) {
      alpha[q] = rho[q] * ss[q].dot(dir);
      dir -= alpha[q] * ys[q];
    }
    pre.apply(dir);
    for (std::size_t q = 0; q < m; ++q) dir += (alpha[q] - rho[q] * ys[q].dot(dir)) * ss[q];
  }
  // Keep the pair of a step when its curvature is positive.
  void push(VectorXd sv, VectorXd yv) {
    const double sy = sv.dot(yv);
    if (!(sy > 1e-300 && sy > 1e-12 * sv.norm() * yv.norm())) return;
    if (ss.size() == capacity) ss.erase(ss.begin()), ys.erase(ys.begin()), rho.erase(rho.begin());
    ss.push_back(std::move(sv));
    ys.push_back(std::move(yv));
    rho.push_back(1.0 / sy);
  }
};

// Backtracking (Armijo) along `dir` from x (value f, gradient grad, slope
// grad·dir); on success xn, fnew, gn, resn hold the accepted point.
bool line_search(const Observed& o, double lambda, Index r, const VectorXd& x, const VectorXd& dir, double f,
                 double slope, const VectorXd& grad, VectorXd& xn, double& fnew, VectorXd& gn, VectorXd& resn) {
  double step = 1.0;
  fnew = f;
  for (int bt = 0; bt < 40; ++bt) {
    xn = x + step * dir;
    fnew = factored_value(o, lambda, r, xn, gn, resn);
    // Armijo; at round-off level of g, accept any step that lowers the gradient.
    if (fnew <= f + 1e-4 * step * slope ||
        (fnew <= f + 1e-14 * std::abs(f) && gn.squaredNorm() < grad.squaredNorm()))
      return true;
    step *= 0.5;
  }
  return false;
}

// The spare columns end near 0, not at 0 as after a thresholding step: drop
// singular values below 1e-8·σ_1 when the certificate still holds without
// them (Z* low rank, and exact zeros where nothing is observed).
void drop_spare_columns(const Observed& o, double lambda, const SoftImputeOptions& opt, SparseRM& work, FactorSvd& fs,
                        SolveState& st, double& objective, double& gap) {
  Index keep = 0;
  while (keep < fs.s.size() && fs.s[keep] > 1e-8 * fs.s[0]) ++keep;
  if (keep >= fs.s.size()) return;
  MatrixXd zt = fs.u.leftCols(keep) * fs.s.head(keep).asDiagonal() * fs.v.leftCols(keep).transpose();
  const GapParts g = gap_parts(o, residual(o, zt), fs.s.head(keep).sum(), lambda, work);
  if (g.gap <= std::max(opt.gap_tolerance * g.f, opt.gap_absolute)) {
    st.z = std::move(zt);
    fs.u.conservativeResize(Eigen::NoChange, keep);
    fs.v.conservativeResize(Eigen::NoChange, keep);
    fs.s.conservativeResize(keep);
    objective = g.f;
    gap = g.gap;
  }
}

// A solve that stalls sits near a saddle of g: the certificate fails because
// ‖W⊙R‖₂ = σ₁ > λ, while the columns that would carry the missing direction
// stay near 0 and L-BFGS leaves them at a rate ~σ₁ − λ only (the 50,000-step
// solves of issue 32). One step along the top singular pair (u₁, v₁) of
// ∇f = W⊙R in a new column, Z += t·(−u₁v₁ᵀ) with U, V getting −√t u₁, √t v₁,
// lowers g by t(σ₁ − λ)/2 at the t = (σ₁ − λ)/Σ_Ω w (u₁ᵢ v₁ⱼ)² that minimizes
// g along it (the rank-one escape step of Journée et al. 2010). Every other
// pair with σᵢ > λ is a missing direction too: they all get a column, each
// with its own t, in one escape (a solve short of several ranks otherwise
// waits kStallSteps per column), halving all t while g would rise, down to
// the top pair alone. False (x unchanged) when no step exists.
bool escape_saddle(const Observed& o, double lambda, Index k, const VectorXd& res, VectorXd& x, Index& r) {
  if (r >= k) return false;
  MatrixXd grad = MatrixXd::Zero(o.n, o.d);
  for (Index q = 0; q < o.a.size(); ++q)
    grad(o.row[static_cast<std::size_t>(q)], o.col[static_cast<std::size_t>(q)]) = o.w[q] * res[q];
  Eigen::BDCSVD<MatrixXd> svd(grad, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const VectorXd& sigma = svd.singularValues();
  Index m = 0;  // the pairs above λ, as many as free columns allow
  while (m < std::min<Index>(sigma.size(), k - r) && sigma[m] > lambda) ++m;
  if (m == 0) return false;
  VectorXd root_t(m);
  Index usable = 0;
  for (Index p = 0; p < m; ++p) {
    double curvature = 0;
    for (Index q = 0; q < o.a.size(); ++q) {
      const double uv = svd.matrixU()(o.row[static_cast<std::size_t>(q)], p) *
                        svd.matrixV()(o.col[static_cast<std::size_t>(q)], p);
      curvature += o.w[q] * uv * uv;
    }
    if (!(curvature > 0)) break;
    root_t[p] = std::sqrt((sigma[p] - lambda) / curvature);
    usable = p + 1;
  }
  if (usable == 0) return false;
  auto with_columns = [&](Index count, double shrink) {
    const Index r_new = r + count;
    VectorXd y = resize_factors(o, r, r_new, x, 0, 0.0);
    for (Index p = 0; p < count; ++p) {
      const double t = shrink * root_t[p];
      for (Index i = 0; i < o.n; ++i) y[i * r_new + r + p] = -t * svd.matrixU()(i, p);
      for (Index j = 0; j < o.d; ++j) y[(o.n + j) * r_new + r + p] = t * svd.matrixV()(j, p);
    }
    return y;
  };
  if (usable > 1) {
    VectorXd scratch_grad, scratch_res;
    const double before = factored_value(o, lambda, r, x, scratch_grad, scratch_res);
    double shrink = 1;
    for (int tries = 0; tries < 8; ++tries, shrink *= std::sqrt(0.5)) {
      VectorXd y = with_columns(usable, shrink);
      if (factored_value(o, lambda, r + usable, y, scratch_grad, scratch_res) < before) {
        x = std::move(y);
        r += usable;
        return true;
      }
    }
  }
  x = with_columns(1, 1.0);  // the top pair's step alone lowers g (to second order)
  r += 1;
  return true;
}

int solve_factored(const Observed& o, double lambda, const SoftImputeOptions& opt, SolveState& st, double& objective,
                   double& gap, bool& converged) {
  SparseRM work = o.pattern;
  converged = false;
  {  // the warm start may already be certified (e.g. λ ≥ λ_max from Z = 0)
    const GapParts g0 = gap_parts(o, residual(o, st.z), st.s.sum(), lambda, work);
    objective = g0.f;
    gap = g0.gap;
    if (gap <= std::max(opt.gap_tolerance * objective, opt.gap_absolute)) {
      converged = true;
      return 0;
    }
  }
  const Index k = std::min(o.n, o.d);
  Index r = 0;
  VectorXd x = initial_factors(o, lambda, st, k, r);
  // L-BFGS pairs kept, and steps between rebuilds of the preconditioner
  // (r³ per block): tuned on the 39×99 setting-IV folds of BENCHMARKS.md.
  const int rebuild_every = 40;
  LbfgsMemory mem;
  VectorXd grad, res, xn, gn, resn, dir;
  double f = factored_value(o, lambda, r, x, grad, res);
  double g_at_check = std::numeric_limits<double>::infinity();
  int since_check = 0, it = 0, fails = 0, since_precond = 0, mark_it = 0;
  double gap_mark = std::numeric_limits<double>::infinity();  // the gap when it last halved, at step mark_it
  FactorSvd fs;
  BlockJacobi pre;
  pre.blocked = opt.blocked_preconditioner;
  pre.single = opt.blocked_preconditioner && opt.single_precision_preconditioner;
  auto certify = [&]() {
    fs = factor_svd(o, r, x, false);
    const GapParts g = gap_parts(o, res, fs.s.sum(), lambda, work);
    objective = g.f;
    gap = g.gap;
    converged = gap <= std::max(opt.gap_tolerance * objective, opt.gap_absolute);
    return converged;
  };
  while (it < opt.max_iterations) {
    ++it;
    if (since_precond >= rebuild_every || pre.r != r) {
      pre.build(o, lambda, r, x);
      since_precond = 0;
    }
    ++since_precond;
    mem.direction(grad, pre, dir);
    double slope = grad.dot(dir);
    if (!(slope < 0)) {
      mem.clear();
      dir = -grad;
      pre.apply(dir);
      slope = grad.dot(dir);
    }
    double fnew = f;
    if (!line_search(o, lambda, r, x, dir, f, slope, grad, xn, fnew, gn, resn)) {
      if (!mem.empty() && fails == 0) {  // retry along the gradient
        mem.clear();
        ++fails;
        continue;
      }
      certify();
      break;  // numerically stationary: the gap is as small as it gets
    }
    fails = 0;
    mem.push(xn - x, gn - grad);
    x.swap(xn);
    grad.swap(gn);
    res.swap(resn);
    f = fnew;
    ++since_check;
    // The gap needs a spectral norm and an SVD: test it when the gradient
    // has halved since the last test, or every 50 steps.
    const double gnorm = grad.norm();
    if (since_check >= 50 || (since_check >= std::max(1, opt.check_every) && gnorm <= 0.5 * g_at_check)) {
      since_check = 0;
      g_at_check = gnorm;
      if (certify()) break;
      // Every column in use: the rank may be too small for Z*; add columns.
      // A gap that has not halved in kStallSteps steps: escape the saddle.
      const bool grow = r < k && fs.s.size() == r && fs.s[r - 1] > 1e-4 * fs.s[0];
      if (!grow && gap <= 0.5 * gap_mark) gap_mark = gap, mark_it = it;
      if (grow) {
        const Index r_new = std::min(k, r + std::max<Index>(2, r / 4));
        x = resize_factors(o, r, r_new, x, 0xfac7 + static_cast<std::uint64_t>(r_new), 1e-3 * std::sqrt(std::max(fs.s[0], lambda)));
        r = r_new;
      } else if (const Index r_old = r; it - mark_it < kStallSteps || !escape_saddle(o, lambda, k, res, x, r)) {
        continue;
      } else {
        log::debug("soft_impute: step ", it, ": gap ", gap, " not halved in ", it - mark_it, " steps, escape along ",
                   r - r_old, " gradient direction(s) to rank ", r);
      }
      mem.clear();
      f = factored_value(o, lambda, r, x, grad, res);
      g_at_check = std::numeric_limits<double>::infinity();
      gap_mark = std::numeric_limits<double>::infinity();
      mark_it = it;
    }
  }
  if (!converged && it >= opt.max_iterations) certify();
  fs = factor_svd(o, r, x, true);
  const Eigen::Map<const RowMat> U(x.data(), o.n, r), V(x.data() + o.n * r, o.d, r);
  st.z = U * V.transpose();
  if (converged) drop_spare_columns(o, lambda, opt, work, fs, st, objective, gap);
  st.u = std::move(fs.u);
  st.v = std::move(fs.v);
  st.s = std::move(fs.s);
  return it;
}

}  // namespace

SoftImputeResult soft_impute(const MatrixXd& data, const MatrixXd& weights, const SoftImputeOptions& opt,
                             const MatrixXd& warm_start) {
  if (!(opt.lambda > 0) || !std::isfinite(opt.lambda))
    throw InputError("soft_impute: lambda = " + std::to_string(opt.lambda) + "; lambda must be finite and > 0");
  if (!(opt.gap_tolerance >= 0)) throw InputError("soft_impute: gap_tolerance must be >= 0");
  const auto t_start = std::chrono::steady_clock::now();
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
    st.u = svd.matrixU().leftCols(r);
    st.v = svd.matrixV().leftCols(r);
    st.z = svd.matrixU().leftCols(r) * st.s.asDiagonal() * st.v.transpose();
  } else {
    st.z = MatrixXd::Zero(o.n, o.d);
    st.s = VectorXd();
    st.u = MatrixXd(o.n, 0);
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
  const auto solve = opt.solver == SoftImputeSolver::factored ? solve_factored : solve_fixed;
  for (double l : path) res.total_iterations += solve(o, l, path_opt, st, objective, gap, conv);
  res.iterations = solve(o, opt.lambda, opt, st, objective, gap, conv);
  res.total_iterations += res.iterations;
  res.estimate = std::move(st.z);
  // The factored solver leaves the unused columns at ~1e-12 instead of
  // exactly 0: count what is above round-off of σ_1.
  Index rank = 0;
  while (rank < st.s.size() && st.s[rank] > 1e-10 * st.s[0]) ++rank;
  res.singular_values = st.s.head(rank);
  res.rank = static_cast<int>(rank);
  res.objective = objective;
  res.gap = gap;
  res.converged = conv;
  log::debug("soft_impute: ", o.n, "x", o.d, " |Omega| ", o.a.size(), " lambda ", opt.lambda, " warm ", warm_start.size() != 0,
             " path ", path.size(), " iterations ", res.iterations, "/", res.total_iterations, " rank ", rank, " ",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(), " s");
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

namespace {

// The k CV splits of Ω: each split's training matrix (its held-out entries
// NaN), which split holds out each entry, and Σ a² of each split's held-out entries.
struct CvSplits {
  std::vector<int> fold_of;
  std::vector<MatrixXd> train;
  std::vector<double> ref2;
  double ref2_total = 0;  // Σ ref2, summed entry by entry, split after split
};

CvSplits cv_splits(const MatrixXd& data, const Observed& o, int folds, std::uint64_t seed) {
  const Index nobs = o.a.size();
  const std::vector<int> perm = random_permutation(static_cast<int>(nobs), seed);
  CvSplits c;
  c.fold_of.resize(static_cast<std::size_t>(nobs));
  for (Index k = 0; k < nobs; ++k)
    c.fold_of[static_cast<std::size_t>(perm[static_cast<std::size_t>(k)])] = static_cast<int>(k % folds);
  c.train.assign(static_cast<std::size_t>(folds), data);
  c.ref2.assign(static_cast<std::size_t>(folds), 0.0);
  for (int f = 0; f < folds; ++f)
    for (Index k = 0; k < nobs; ++k)
      if (c.fold_of[static_cast<std::size_t>(k)] == f) {
        c.train[static_cast<std::size_t>(f)](o.row[static_cast<std::size_t>(k)], o.col[static_cast<std::size_t>(k)]) =
            std::numeric_limits<double>::quiet_NaN();
        c.ref2[static_cast<std::size_t>(f)] += o.a[k] * o.a[k];
        c.ref2_total += o.a[k] * o.a[k];
      }
  return c;
}

// The standard error of the pooled CV error: the sample sd over the k
// folds of each fold's relative error √(e2_f / ref2_f), / √k.
double pooled_se(const std::vector<double>& e2, const std::vector<double>& ref2) {
  const std::size_t k = e2.size();
  std::vector<double> per(k);
  double mean = 0;
  for (std::size_t f = 0; f < k; ++f) {
    per[f] = std::sqrt(e2[f] / std::max(ref2[f], 1e-300));
    mean += per[f] / static_cast<double>(k);
  }
  double var = 0;
  for (double x : per) var += (x - mean) * (x - mean) / static_cast<double>(k - 1);
  return std::sqrt(var / static_cast<double>(k));
}

}  // namespace

LambdaCv cv_lambda(const MatrixXd& data, const MatrixXd& weights, const SoftImputeOptions& options,
                   std::vector<double> grid, int folds, std::uint64_t seed, int patience, double flat_se,
                   bool keep_estimate) {
  if (grid.empty()) grid = {0.03, 0.1, 0.3, 1, 3, 10};
  for (double l : grid)
    if (!(l > 0) || !std::isfinite(l))
      throw InputError("cv_lambda: lambda candidate " + std::to_string(l) + " must be finite and > 0");
  if (patience < 0) throw InputError("cv_lambda: patience = " + std::to_string(patience) + "; must be >= 0");
  if (!(flat_se >= 0) || !std::isfinite(flat_se))
    throw InputError("cv_lambda: flat_se = " + std::to_string(flat_se) + "; must be finite and >= 0");
  const Observed o = make_observed(data, weights, "cv_lambda");
  const Index nobs = o.a.size();
  if (folds < 2 || folds > nobs)
    throw InputError("cv_lambda: folds = " + std::to_string(folds) + "; need 2 <= folds <= " +
                     std::to_string(nobs) + " (the number of observed entries)");
  CvSplits sp = cv_splits(data, o, folds, seed);
  // Solve from the largest λ down so each fold's solves warm-start each other:
  // candidate after candidate, every fold keeping its own training matrix and
  // its previous solution (the same solves, in the same order per fold, as
  // fold after fold), so the pooled error is known after each candidate.
  std::vector<std::size_t> order(grid.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return grid[a] > grid[b]; });
  std::vector<MatrixXd> warm(static_cast<std::size_t>(folds));
  std::vector<MatrixXd> first_split(keep_estimate ? grid.size() : 0);  // split 0's completion per candidate
  LambdaCv cv;
  cv.grid = grid;
  cv.heldout_error.assign(grid.size(), std::numeric_limits<double>::quiet_NaN());
  cv.heldout_se.assign(grid.size(), std::numeric_limits<double>::quiet_NaN());
  double best_error = std::numeric_limits<double>::infinity();
  double previous = std::numeric_limits<double>::quiet_NaN();  // the pooled error of the candidate before
  bool descended = false;  // flat_se: a step has gained at least flat_se standard errors
  int rises = 0;
  for (std::size_t gi : order) {
    std::vector<double> e2(static_cast<std::size_t>(folds), 0.0);
    double err2 = 0;  // summed entry by entry, split after split
    for (int f = 0; f < folds; ++f) {
      SoftImputeOptions so = options;
      so.lambda = grid[gi];
      so.path.clear();
      const SoftImputeResult r = soft_impute(sp.train[static_cast<std::size_t>(f)], weights, so, warm[static_cast<std::size_t>(f)]);
      for (Index k = 0; k < nobs; ++k)
        if (sp.fold_of[static_cast<std::size_t>(k)] == f) {
          const double e = r.estimate(o.row[static_cast<std::size_t>(k)], o.col[static_cast<std::size_t>(k)]) - o.a[k];
          e2[static_cast<std::size_t>(f)] += e * e;
          err2 += e * e;
        }
      warm[static_cast<std::size_t>(f)] = r.estimate;
      if (keep_estimate && f == 0) first_split[gi] = r.estimate;
    }
    const double e = std::sqrt(err2 / std::max(sp.ref2_total, 1e-300));
    cv.heldout_error[gi] = e;
    cv.heldout_se[gi] = pooled_se(e2, sp.ref2);
    // Early stop: `patience` candidates in a row worse than the best so far
    // (beyond the tie tolerance) end the path; the rest stay NaN.
    if (e < best_error) best_error = e;
    rises = e > best_error * (1 + kCvTie) ? rises + 1 : 0;
    if (patience > 0 && rises >= patience) break;
    // Flat: after a step down the grid that gained at least flat_se standard
    // errors (the path has left the plateau of λ near λ_max), one that gains less.
    if (flat_se > 0 && !std::isnan(previous)) {
      const bool gained = previous - e >= flat_se * cv.heldout_se[gi];
      if (!gained && descended) break;
      descended = descended || (gained && previous > e);
    }
    previous = e;
  }
  std::size_t best = grid.size();
  for (std::size_t i = 0; i < grid.size(); ++i)
    if (!std::isnan(cv.heldout_error[i]) && (best == grid.size() || cv.heldout_error[i] < cv.heldout_error[best])) best = i;
  // Errors within kCvTie (relative) of the lowest are ties, resolved to the
  // first in the grid: the CV solves stop at a gap of ~1e-5·F, so smaller
  // differences are solver round-off, not a preference (e.g. every candidate
  // predicting 0 for entries alone in their row and column).
  for (std::size_t i = 0; i < best; ++i)
    if (!std::isnan(cv.heldout_error[i]) && cv.heldout_error[i] <= cv.heldout_error[best] * (1 + kCvTie)) {
      best = i;
      break;
    }
  cv.lambda = grid[best];
  if (keep_estimate) cv.estimate = std::move(first_split[best]);
  return cv;
}

}  // namespace peppp::meta
