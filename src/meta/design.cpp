#include "peppp/meta/design.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include <Eigen/Dense>

#include "peppp/core/error.hpp"

namespace peppp::meta {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

std::vector<int> pivoted_qr_order(const MatrixXd& a, int count) {
  const Index m = a.rows(), c = a.cols();
  if (count < 0 || count > c)
    throw InputError("pivoted_qr_order: count = " + std::to_string(count) + " for " + std::to_string(c) +
                     " columns; need 0 <= count <= columns");
  MatrixXd r = a;  // residual columns
  std::vector<int> order;
  std::vector<char> used(static_cast<std::size_t>(c), 0);
  for (int step = 0; step < count; ++step) {
    int best = -1;
    double best_norm = -1;
    for (Index j = 0; j < c; ++j) {
      if (used[static_cast<std::size_t>(j)]) continue;
      const double nj = r.col(j).squaredNorm();
      if (nj > best_norm) {
        best_norm = nj;
        best = static_cast<int>(j);
      }
    }
    order.push_back(best);
    used[static_cast<std::size_t>(best)] = 1;
    if (step + 1 < m && best_norm > 0) {
      // Project the chosen direction out of every remaining column (twice, for orthogonality).
      const VectorXd q = r.col(best) / std::sqrt(best_norm);
      for (int pass = 0; pass < 2; ++pass) r -= q * (q.transpose() * r);
    } else if (step + 1 >= m) {
      r.setZero();
    }
  }
  return order;
}

std::vector<int> feasible_set(const VectorXd& memory, double cap) {
  std::vector<int> t;
  for (Index j = 0; j < memory.size(); ++j)
    if (memory[j] <= cap) t.push_back(static_cast<int>(j));
  return t;
}

double design_log_det(const MatrixXd& y, const std::vector<int>& s) {
  MatrixXd a = MatrixXd::Zero(y.rows(), y.rows());
  for (int j : s) a += y.col(j) * y.col(j).transpose();
  Eigen::LLT<MatrixXd> llt(a);
  if (llt.info() != Eigen::Success) return -std::numeric_limits<double>::infinity();
  return 2.0 * llt.matrixLLT().diagonal().array().log().sum();
}

namespace {
void check_candidates(const MatrixXd& y, const std::vector<int>& t, const char* who) {
  if (t.empty())
    throw InputError(std::string(who) + ": no configuration is feasible (the memory cap is below every configuration)");
  for (int j : t)
    if (j < 0 || j >= y.cols())
      throw InputError(std::string(who) + ": candidate " + std::to_string(j) + " outside [0, " +
                       std::to_string(y.cols()) + ")");
}

MatrixXd columns(const MatrixXd& y, const std::vector<int>& idx) {
  MatrixXd out(y.rows(), static_cast<Index>(idx.size()));
  for (std::size_t i = 0; i < idx.size(); ++i) out.col(static_cast<Index>(i)) = y.col(idx[i]);
  return out;
}
}  // namespace

std::vector<int> greedy_d_optimal(const MatrixXd& y, const std::vector<int>& t, int l) {
  check_candidates(y, t, "greedy_d_optimal");
  if (l < 1) throw InputError("greedy_d_optimal: l = " + std::to_string(l) + " must be >= 1");
  const int k = static_cast<int>(y.rows());
  const int tn = static_cast<int>(t.size());
  const int target = std::min(l, tn);
  const auto piv = pivoted_qr_order(columns(y, t), std::min(k, tn));
  std::vector<int> s;
  for (int p : piv) s.push_back(t[static_cast<std::size_t>(p)]);
  if (target <= static_cast<int>(s.size())) {
    s.resize(static_cast<std::size_t>(target));
    return s;
  }
  MatrixXd a = MatrixXd::Zero(k, k);
  for (int j : s) a += y.col(j) * y.col(j).transpose();
  Eigen::LDLT<MatrixXd> ldlt(a);
  MatrixXd ainv = ldlt.solve(MatrixXd::Identity(k, k));
  if (!ainv.allFinite() || ldlt.rcond() < 1e-14) {
    // Y_{:T} has rank < k: regularize so the greedy can still rank candidates.
    a += 1e-10 * std::max(1.0, a.trace()) * MatrixXd::Identity(k, k);
    ainv = a.ldlt().solve(MatrixXd::Identity(k, k));
  }
  std::vector<char> in(static_cast<std::size_t>(y.cols()), 0);
  for (int j : s) in[static_cast<std::size_t>(j)] = 1;
  while (static_cast<int>(s.size()) < target) {
    int best = -1;
    double best_gain = -std::numeric_limits<double>::infinity();
    for (int j : t) {  // t is scanned in ascending order: ties go to the lowest index
      if (in[static_cast<std::size_t>(j)]) continue;
      const double g = y.col(j).dot(ainv * y.col(j));
      if (g > best_gain || (g == best_gain && j < best)) {
        best_gain = g;
        best = j;
      }
    }
    s.push_back(best);
    in[static_cast<std::size_t>(best)] = 1;
    const VectorXd u = ainv * y.col(best);
    ainv -= (u * u.transpose()) / (1.0 + best_gain);
  }
  return s;
}

namespace {
// Euclidean projection onto {0 ≤ v ≤ 1, Σ v ≤ l} (restricted to the candidates).
VectorXd project_capped(const VectorXd& z, double l) {
  VectorXd v = z.cwiseMax(0.0).cwiseMin(1.0);
  if (v.sum() <= l) return v;
  double lo = z.minCoeff() - 1.0, hi = z.maxCoeff();  // shift μ: Σ clip(z − μ) = l
  for (int it = 0; it < 200; ++it) {
    const double mu = 0.5 * (lo + hi);
    const double s = (z.array() - mu).cwiseMax(0.0).cwiseMin(1.0).sum();
    (s > l ? lo : hi) = mu;
  }
  return (z.array() - hi).cwiseMax(0.0).cwiseMin(1.0);
}

double neg_log_det(const MatrixXd& yt, const VectorXd& v, MatrixXd* ainv) {
  const MatrixXd a = yt * v.asDiagonal() * yt.transpose();
  Eigen::LLT<MatrixXd> llt(a);
  if (llt.info() != Eigen::Success) return std::numeric_limits<double>::infinity();
  if (ainv) *ainv = llt.solve(MatrixXd::Identity(a.rows(), a.cols()));
  return -2.0 * llt.matrixLLT().diagonal().array().log().sum();
}
}  // namespace

RelaxedDesign relaxed_d_optimal(const MatrixXd& y, const std::vector<int>& t, int l, int max_iterations,
                                double tolerance) {
  check_candidates(y, t, "relaxed_d_optimal");
  const int k = static_cast<int>(y.rows());
  const int tn = static_cast<int>(t.size());
  if (tn < k || l < k)
    throw InputError("relaxed_d_optimal: need |T| >= k and l >= k; got |T| = " + std::to_string(tn) + ", l = " +
                     std::to_string(l) + ", k = " + std::to_string(k));
  const double lc = std::min<double>(l, tn);
  const MatrixXd yt = columns(y, t);
  VectorXd v = VectorXd::Constant(tn, lc / tn);
  MatrixXd ainv;
  double f = neg_log_det(yt, v, &ainv);
  double step = 1.0;
  RelaxedDesign out;
  int it = 0;
  VectorXd g(tn);
  for (; it < max_iterations; ++it) {
    for (int j = 0; j < tn; ++j) g[j] = -yt.col(j).dot(ainv * yt.col(j));
    bool accepted = false;
    VectorXd vn;
    double fn = f;
    for (int bt = 0; bt < 60; ++bt) {
      vn = project_capped(v - step * g, lc);
      fn = neg_log_det(yt, vn, nullptr);
      if (fn <= f + g.dot(vn - v) + (vn - v).squaredNorm() / (2 * step)) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const double change = f - fn;
    v = vn;
    f = neg_log_det(yt, v, &ainv);
    step *= 2.0;
    if (change <= tolerance * std::max(1.0, std::abs(f))) break;
  }
  for (int j = 0; j < tn; ++j) g[j] = -yt.col(j).dot(ainv * yt.col(j));
  // KKT with multiplier μ of Σv ≤ l, in terms of h = −g = y_jᵀA⁻¹y_j:
  // h_j = μ on fractional v_j, ≤ μ at 0, ≥ μ at 1; and Σ v_j h_j = k.
  double mu = 0;
  int frac = 0;
  for (int j = 0; j < tn; ++j)
    if (v[j] > 1e-6 && v[j] < 1 - 1e-6) {
      mu += -g[j];
      ++frac;
    }
  if (frac > 0) mu /= frac;
  double viol = std::abs(v.dot(-g) - k) / k;
  if (frac > 0)
    for (int j = 0; j < tn; ++j) {
      const double h = -g[j];
      if (v[j] > 1e-6 && v[j] < 1 - 1e-6) viol = std::max(viol, std::abs(h - mu) / k);
      else if (v[j] <= 1e-6) viol = std::max(viol, (h - mu) / k);
      else viol = std::max(viol, (mu - h) / k);
    }
  out.v = VectorXd::Zero(y.cols());
  for (int j = 0; j < tn; ++j) out.v[t[static_cast<std::size_t>(j)]] = v[j];
  std::vector<int> order(static_cast<std::size_t>(tn));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return v[a] > v[b]; });
  for (int i = 0; i < static_cast<int>(lc); ++i) out.selection.push_back(t[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])]);
  out.objective = f;
  out.kkt_residual = std::max(0.0, viol);
  out.iterations = it;
  return out;
}

VectorXd ls_predict(const MatrixXd& y, const std::vector<int>& s, const VectorXd& measured) {
  if (static_cast<Index>(s.size()) != measured.size())
    throw InputError("ls_predict: " + std::to_string(s.size()) + " configurations but " +
                     std::to_string(measured.size()) + " measured values");
  if (s.empty()) throw InputError("ls_predict: no measured configuration");
  const MatrixXd ys = columns(y, s);
  Eigen::CompleteOrthogonalDecomposition<MatrixXd> cod(ys.transpose());
  const VectorXd x = cod.solve(measured);
  return y.transpose() * x;
}

VectorXd ls_predict_std(const MatrixXd& y, const std::vector<int>& s, double noise_variance) {
  if (s.empty()) throw InputError("ls_predict_std: no measured configuration");
  if (!(noise_variance >= 0)) throw InputError("ls_predict_std: noise variance " + std::to_string(noise_variance) + " < 0");
  for (int j : s)
    if (j < 0 || j >= y.cols()) throw InputError("ls_predict_std: configuration " + std::to_string(j) + " out of range");
  const MatrixXd ys = columns(y, s);
  // (Y_S Y_Sᵀ)⁺ from the complete orthogonal decomposition of the k×k Gram matrix.
  const MatrixXd gram = ys * ys.transpose();
  const MatrixXd pinv = Eigen::CompleteOrthogonalDecomposition<MatrixXd>(gram).pseudoInverse();
  const VectorXd lever = (y.transpose() * pinv).cwiseProduct(y.transpose()).rowwise().sum();
  return (noise_variance * (1.0 + lever.array().max(0.0))).sqrt().matrix();
}

}  // namespace peppp::meta
