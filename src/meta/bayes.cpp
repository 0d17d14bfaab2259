// Gaussian posterior on the low-rank embedding of a new task (docs/ei-mf.md).
#include "peppp/meta/bayes.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <Eigen/Dense>

#include "peppp/core/error.hpp"
#include "peppp/meta/lowrank.hpp"

namespace peppp::meta {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

EmbeddingPrior fit_embedding_prior(const MatrixXd& train, int k, const PriorOptions& options,
                                   const std::vector<std::uint8_t>& observed) {
  const Index n = train.rows(), d = train.cols();
  if (!observed.empty() && observed.size() != static_cast<std::size_t>(n * d))
    throw InputError("fit_embedding_prior: the mask has " + std::to_string(observed.size()) + " entries, the matrix " +
                     std::to_string(n * d));
  if (!(options.ridge_fraction >= 0) || !(options.noise_floor >= 0))
    throw InputError("fit_embedding_prior: ridge fraction and noise floor must be >= 0");
  if (options.measured && (options.measured->rows() != n || options.measured->cols() != d))
    throw InputError("fit_embedding_prior: the measured values are " + std::to_string(options.measured->rows()) + "x" +
                     std::to_string(options.measured->cols()) + ", the matrix " + std::to_string(n) + "x" +
                     std::to_string(d));
  const Embedding emb = embed(train, k);  // validates k and finiteness
  EmbeddingPrior p;
  p.y = emb.y;
  const MatrixXd& x = emb.x;  // k×n
  p.mean = x.rowwise().mean();
  const MatrixXd centered = x.colwise() - p.mean;
  p.cov = n > 1 ? MatrixXd(centered * centered.transpose() / static_cast<double>(n - 1)) : MatrixXd::Zero(k, k);
  const double avg = p.cov.trace() / k;
  // Relative ridge, with an absolute floor so that a single (or constant)
  // meta-training task still gives an SPD prior on the embedding's scale.
  const double scale = std::max(avg, 1e-6 * std::max(1e-12, p.mean.squaredNorm() / k));
  p.ridge = options.ridge_fraction * scale + 1e-12;
  p.cov.diagonal().array() += p.ridge;

  if (std::isfinite(options.noise_variance)) {
    if (options.noise_variance < 0)
      throw InputError("fit_embedding_prior: noise variance " + std::to_string(options.noise_variance) + " < 0");
    p.noise_variance = std::max(options.noise_variance, 1e-12);
    p.noise_estimated = false;
  } else {
    // σ² from the residual of the rank-r fit on the observed entries:
    //  r = k with at least one residual degree of freedom: RSS/dof;
    //  else (more parameters than observations, e.g. a 20 % sample) the mean
    //  squared residual RSS/N_obs when it is above the floor (the shrinkage
    //  of the completion leaves one);
    //  else (an exact fit, e.g. k = n_train on a full matrix) the largest
    //  r < k with a degree of freedom left: the coarser fit's residual
    //  (noise plus model error) is the conservative estimate, not the floor.
    Index count = 0;
    for (Index i = 0; i < n * d; ++i) count += observed.empty() || observed[static_cast<std::size_t>(i)];
    const Index free = options.free_columns > 0 ? std::min<Index>(options.free_columns, d) : d;
    auto dof = [&](Index r) { return static_cast<double>(count) - static_cast<double>(r * (n + free - r)); };
    auto rss = [&](const MatrixXd& fit) {
      double sum = 0;
      for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < d; ++j) {
          if (!observed.empty() && !observed[static_cast<std::size_t>(i * d + j)]) continue;
          const double res = (options.measured ? (*options.measured)(i, j) : train(i, j)) - fit(i, j);
          sum += res * res;
        }
      return sum;
    };
    const double rss_k = rss(x.transpose() * p.y);
    double s2 = 0;
    if (dof(k) >= 1) {
      s2 = rss_k / dof(k);
    } else if (rss_k / static_cast<double>(std::max<Index>(count, 1)) > options.noise_floor) {
      s2 = rss_k / static_cast<double>(count);
    } else {
      Index r = k;
      while (r > 1 && dof(r) < 1) --r;
      const Embedding coarse = embed(train, static_cast<int>(r));
      s2 = rss(coarse.x.transpose() * coarse.y) / std::max(1.0, dof(r));
    }
    p.noise_variance = std::max(options.noise_floor, s2);
    p.noise_estimated = true;
  }
  // An exactly low-rank meta-training matrix (σ² at the floor) is explained by
  // its embedding: the offset would only add an unidentified parameter.
  if (options.level_offset && n > 1 && p.noise_variance > 1e3 * std::max(options.noise_floor, 1e-12)) {
    const Eigen::VectorXd level = train.rowwise().mean();
    const double tau2 = (level.array() - level.mean()).square().sum() / static_cast<double>(n - 1);
    const Index k1 = k + 1;
    p.y.conservativeResize(k1, d);
    p.y.row(k).setOnes();
    p.mean.conservativeResize(k1);
    p.mean(k) = 0;
    Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(k1, k1);
    cov.topLeftCorner(k, k) = p.cov;
    cov(k, k) = std::max(tau2, 1e-12);
    p.cov = cov;
  }
  return p;
}

EmbeddingPosterior embedding_posterior(const EmbeddingPrior& prior, const std::vector<int>& s,
                                       const VectorXd& measured) {
  const Index k = prior.y.rows(), d = prior.y.cols();
  if (static_cast<Index>(s.size()) != measured.size())
    throw InputError("embedding_posterior: " + std::to_string(s.size()) + " configurations but " +
                     std::to_string(measured.size()) + " measurements");
  if (prior.mean.size() != k || prior.cov.rows() != k || prior.cov.cols() != k)
    throw InputError("embedding_posterior: the prior does not match the rank-" + std::to_string(k) + " embedding");
  const double s2 = prior.noise_variance;
  Eigen::LLT<MatrixXd> prior_llt(prior.cov);
  MatrixXd precision = prior_llt.solve(MatrixXd::Identity(k, k));
  VectorXd rhs = prior_llt.solve(prior.mean);
  for (std::size_t q = 0; q < s.size(); ++q) {
    const int j = s[q];
    if (j < 0 || j >= d) throw InputError("embedding_posterior: configuration " + std::to_string(j) + " out of range");
    const VectorXd yj = prior.y.col(j);
    precision.noalias() += yj * yj.transpose() / s2;
    rhs += yj * (measured[static_cast<Index>(q)] / s2);
  }
  precision = 0.5 * (precision + precision.transpose());
  Eigen::LLT<MatrixXd> llt(precision);
  EmbeddingPosterior out;
  out.x_cov = llt.solve(MatrixXd::Identity(k, k));
  out.x_mean = llt.solve(rhs);
  out.model_mean = prior.y.transpose() * out.x_mean;
  const MatrixXd cy = out.x_cov * prior.y;  // k×d
  out.model_std = ((prior.y.array() * cy.array()).colwise().sum().transpose().max(0.0) + s2).sqrt();
  out.mean = out.model_mean.cwiseMax(0.0).cwiseMin(1.0);
  out.std = out.model_std;
  for (std::size_t q = 0; q < s.size(); ++q) {
    out.mean[s[q]] = measured[static_cast<Index>(q)];
    out.std[s[q]] = std::sqrt(s2);
  }
  return out;
}

}  // namespace peppp::meta
