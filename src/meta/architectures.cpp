// Priors of a new row from rows of several architectures, and how differently they rank
// the configurations (docs/ei-mf.md §5).
#include "peppp/meta/architectures.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/meta/lowrank.hpp"
#include "peppp/meta/noise.hpp"
#include "peppp/meta/pareto.hpp"

namespace peppp::meta {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

// The k×n embeddings of the rows of `train`, checked against `all` and `group`.
MatrixXd row_embeddings(const EmbeddingPrior& all, const MatrixXd& train, int k, const std::vector<int>& group,
                        const char* who) {
  if (group.size() != static_cast<std::size_t>(train.rows()))
    throw InputError(std::string(who) + ": " + std::to_string(group.size()) + " architecture indices for " +
                     std::to_string(train.rows()) + " rows");
  if (all.y.cols() != train.cols() || all.mean.size() < k || all.cov.rows() != all.mean.size())
    throw InputError(std::string(who) + ": the prior does not match the rank-" + std::to_string(k) + " embedding");
  return embed(train, k).x;  // the embedding fit_embedding_prior used (deterministic)
}

// Sample mean (column) and covariance (divisor m − 1; zero for one column) of the columns `cols` of `x`.
std::pair<VectorXd, MatrixXd> column_moments(const MatrixXd& x, const std::vector<Index>& cols) {
  const Index k = x.rows(), m = static_cast<Index>(cols.size());
  MatrixXd sub(k, m);
  for (Index q = 0; q < m; ++q) sub.col(q) = x.col(cols[static_cast<std::size_t>(q)]);
  const VectorXd mean = sub.rowwise().mean();
  const MatrixXd centered = sub.colwise() - mean;
  MatrixXd cov = MatrixXd::Zero(k, k);
  if (m > 1) cov = centered * centered.transpose() / static_cast<double>(m - 1);
  return {mean, cov};
}

// The rows of each architecture 0..groups−1.
std::vector<std::vector<Index>> rows_by_group(const std::vector<int>& group, int groups) {
  std::vector<std::vector<Index>> out(static_cast<std::size_t>(std::max(groups, 0)));
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (group[i] < 0 || group[i] >= groups)
      throw InputError("architecture index " + std::to_string(group[i]) + " of row " + std::to_string(i) +
                       " outside 0.." + std::to_string(groups - 1));
    out[static_cast<std::size_t>(group[i])].push_back(static_cast<Index>(i));
  }
  return out;
}

int group_count(const std::vector<int>& group) {
  return group.empty() ? 0 : *std::max_element(group.begin(), group.end()) + 1;
}

double sample_sd(const std::vector<double>& v) {
  if (v.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  double mean = 0, ss = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// Kendall tau-b of two rows over the columns finite in both.
double finite_tau(const VectorXd& a, const VectorXd& b) {
  std::vector<double> fa, fb;
  for (Index j = 0; j < a.size(); ++j)
    if (std::isfinite(a[j]) && std::isfinite(b[j])) {
      fa.push_back(a[j]);
      fb.push_back(b[j]);
    }
  if (fa.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  return kendall_tau_b(Eigen::Map<const VectorXd>(fa.data(), static_cast<Index>(fa.size())),
                       Eigen::Map<const VectorXd>(fb.data(), static_cast<Index>(fb.size())));
}

}  // namespace

EmbeddingPrior model_rows_prior(const EmbeddingPrior& all, const MatrixXd& train, int k, const std::vector<int>& group,
                                int model) {
  const MatrixXd x = row_embeddings(all, train, k, group, "model_rows_prior");
  const auto rows = rows_by_group(group, std::max(group_count(group), model + 1));
  if (model < 0 || rows[static_cast<std::size_t>(model)].empty())
    throw InputError("model_rows_prior: architecture " + std::to_string(model) + " has no row");
  const std::vector<Index>& own = rows[static_cast<std::size_t>(model)];
  const auto [mean, cov] = column_moments(x, own);
  const double n_m = static_cast<double>(own.size());
  const double w = (n_m - 1) / (n_m - 1 + k);
  EmbeddingPrior p = all;
  p.mean.head(k) = mean;
  MatrixXd all_cov = all.cov.topLeftCorner(k, k);
  all_cov.diagonal().array() -= all.ridge;
  p.cov.topLeftCorner(k, k) = w * cov + (1 - w) * all_cov;
  p.cov.topLeftCorner(k, k).diagonal().array() += all.ridge;
  return p;
}

EmbeddingPrior widened_prior(const EmbeddingPrior& all, const MatrixXd& train, int k, const std::vector<int>& group) {
  const MatrixXd x = row_embeddings(all, train, k, group, "widened_prior");
  const auto rows = rows_by_group(group, group_count(group));
  std::vector<VectorXd> means;
  for (const auto& r : rows)
    if (!r.empty()) means.push_back(column_moments(x, r).first);
  if (means.size() < 2)
    throw InputError("widened_prior: " + std::to_string(means.size()) + " architecture(s) with rows; allowed: >= 2");
  MatrixXd m(k, static_cast<Index>(means.size()));
  for (std::size_t g = 0; g < means.size(); ++g) m.col(static_cast<Index>(g)) = means[g];
  std::vector<Index> cols(means.size());
  for (std::size_t g = 0; g < cols.size(); ++g) cols[g] = static_cast<Index>(g);
  EmbeddingPrior p = all;
  p.cov.topLeftCorner(k, k) += column_moments(m, cols).second;
  return p;
}

ArchitectureRankings architecture_rankings(const MatrixXd& errors, const std::vector<int>& group, int groups,
                                           const MatrixXd& replicates) {
  const Index n = errors.rows(), d = errors.cols();
  if (group.size() != static_cast<std::size_t>(n))
    throw InputError("architecture_rankings: " + std::to_string(group.size()) + " architecture indices for " +
                     std::to_string(n) + " rows");
  if (replicates.size() > 0 && replicates.rows() != n * d)
    throw InputError("architecture_rankings: " + std::to_string(replicates.rows()) + " replicate rows for " +
                     std::to_string(n * d) + " cells");
  const auto rows = rows_by_group(group, groups);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ArchitectureRankings out;
  out.mean_error = MatrixXd::Constant(groups, d, nan);
  out.median_effect = out.noise = out.median_ratio = VectorXd::Constant(groups, nan);
  for (int g = 0; g < groups; ++g) {
    const auto& own = rows[static_cast<std::size_t>(g)];
    for (Index j = 0; j < d; ++j) {
      double sum = 0;
      int count = 0;
      for (Index i : own)
        if (std::isfinite(errors(i, j))) sum += errors(i, j), ++count;
      if (count > 0) out.mean_error(g, j) = sum / count;
    }
    if (replicates.size() > 0 && !own.empty()) {
      MatrixXd cells(static_cast<Index>(own.size()) * d, replicates.cols());
      for (std::size_t q = 0; q < own.size(); ++q)
        cells.middleRows(static_cast<Index>(q) * d, d) = replicates.middleRows(own[q] * d, d);
      const NoiseEstimate e = replicate_noise(cells);
      if (e.cells > 0) out.noise(g) = e.std;
    }
    std::vector<double> effects, ratios;
    for (Index i : own) {
      std::vector<double> row;
      for (Index j = 0; j < d; ++j)
        if (std::isfinite(errors(i, j))) row.push_back(errors(i, j));
      effects.push_back(sample_sd(row));
      ratios.push_back(effects.back() / out.noise(g));
    }
    out.median_effect(g) = finite_median(effects);
    out.median_ratio(g) = finite_median(ratios);
  }
  out.tau = MatrixXd::Constant(groups, groups, nan);
  for (int a = 0; a < groups; ++a)
    for (int b = a; b < groups; ++b)
      out.tau(a, b) = out.tau(b, a) = finite_tau(out.mean_error.row(a).transpose(), out.mean_error.row(b).transpose());
  return out;
}

}  // namespace peppp::meta
