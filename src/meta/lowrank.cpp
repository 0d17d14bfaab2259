#include "peppp/meta/lowrank.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include <Eigen/SVD>

#include "peppp/core/error.hpp"

namespace peppp::meta {

Embedding embed(const Eigen::MatrixXd& e, int k) {
  const auto n = e.rows(), d = e.cols();
  if (k < 1 || k > std::min(n, d))
    throw InputError("embed: rank k = " + std::to_string(k) + " for a " + std::to_string(n) + "x" +
                     std::to_string(d) + " matrix; need 1 <= k <= " + std::to_string(std::min(n, d)));
  if (!e.allFinite()) throw InputError("embed: the matrix holds NaN or infinite values; complete it first");
  Eigen::BDCSVD<Eigen::MatrixXd> svd(e, Eigen::ComputeThinU | Eigen::ComputeThinV);
  Embedding out;
  out.singular_values = svd.singularValues();
  out.y = svd.matrixV().leftCols(k).transpose();
  out.x = out.singular_values.head(k).asDiagonal() * svd.matrixU().leftCols(k).transpose();
  return out;
}

double explained_variance(const Eigen::VectorXd& s, int k) {
  const double total = s.squaredNorm();
  if (total == 0) return 0;
  k = std::clamp(k, 0, static_cast<int>(s.size()));
  return s.head(k).squaredNorm() / total;
}

double kendall_tau_b(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  if (a.size() != b.size())
    throw InputError("kendall_tau_b: vectors of length " + std::to_string(a.size()) + " and " +
                     std::to_string(b.size()) + "; lengths must match");
  double concordant = 0, discordant = 0, tie_a = 0, tie_b = 0;
  for (Eigen::Index i = 0; i < a.size(); ++i)
    for (Eigen::Index j = i + 1; j < a.size(); ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;  // tied in both: counts in neither denominator term
      if (da == 0) {
        tie_a += 1;
      } else if (db == 0) {
        tie_b += 1;
      } else if ((da > 0) == (db > 0)) {
        concordant += 1;
      } else {
        discordant += 1;
      }
    }
  const double denom = std::sqrt((concordant + discordant + tie_a) * (concordant + discordant + tie_b));
  if (denom == 0) return std::numeric_limits<double>::quiet_NaN();
  return (concordant - discordant) / denom;
}

Eigen::MatrixXd kendall_tau_matrix(const Eigen::MatrixXd& e) {
  const auto n = e.rows();
  Eigen::MatrixXd t(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    t(i, i) = 1.0;
    for (Eigen::Index j = i + 1; j < n; ++j) t(i, j) = t(j, i) = kendall_tau_b(e.row(i).transpose(), e.row(j).transpose());
  }
  return t;
}

}  // namespace peppp::meta
