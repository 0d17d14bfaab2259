#include "peppp/meta/acquisition.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Dense>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/meta/design.hpp"
#include "peppp/meta/sampling.hpp"

namespace peppp::meta {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

std::string method_name(Method m) {
  switch (m) {
    case Method::ed_mf: return "ed-mf";
    case Method::qr_mf: return "qr-mf";
    case Method::random_mf: return "random-mf";
    case Method::bo_mf: return "bo-mf";
    case Method::bo_full: return "bo-full";
    case Method::ei_mf: return "ei-mf";
  }
  return "?";
}

std::vector<Method> all_methods() {
  return {Method::ed_mf, Method::qr_mf, Method::random_mf, Method::bo_mf, Method::bo_full, Method::ei_mf};
}

Method parse_method(const std::string& name) {
  const std::string n = to_lower(trim(name));
  for (Method m : all_methods())
    if (method_name(m) == n) return m;
  throw InputError("method '" + name + "' is unknown; allowed: ed-mf, qr-mf, random-mf, bo-mf, bo-full, ei-mf");
}

const char* prediction_rule_name(PredictionRule r) {
  return r == PredictionRule::least_squares ? "least-squares" : "posterior";
}

PredictionRule parse_prediction_rule(const std::string& text, const std::string& key) {
  if (text == "posterior") return PredictionRule::posterior;
  if (text == "least-squares") return PredictionRule::least_squares;
  throw InputError(key + ": value '" + text + "' is not allowed; allowed: posterior, least-squares");
}

GaussianProcess::GaussianProcess(double length_scale, double noise_variance)
    : length_scale_(length_scale), noise_(noise_variance) {
  if (!(length_scale > 0) || !(noise_variance >= 0))
    throw InputError("GaussianProcess: length scale " + std::to_string(length_scale) + " must be > 0 and noise " +
                     std::to_string(noise_variance) + " >= 0");
}

VectorXd GaussianProcess::kernel_column(const VectorXd& f) const {
  VectorXd k(train_.cols());
  const double c = 1.0 / (2.0 * length_scale_ * length_scale_);
  for (Index a = 0; a < train_.cols(); ++a) k[a] = std::exp(-(train_.col(a) - f).squaredNorm() * c);
  return k;
}

void GaussianProcess::fit(const MatrixXd& features, const VectorXd& values) {
  if (features.cols() != values.size() || values.size() == 0)
    throw InputError("GaussianProcess::fit: " + std::to_string(features.cols()) + " points but " +
                     std::to_string(values.size()) + " values");
  train_ = features;
  const Index m = values.size();
  mean_ = values.mean();
  scale_ = std::sqrt((values.array() - mean_).square().mean());
  if (scale_ == 0) scale_ = 1;
  const VectorXd yt = (values.array() - mean_) / scale_;
  MatrixXd k(m, m);
  for (Index a = 0; a < m; ++a) k.col(a) = kernel_column(train_.col(a));
  k.diagonal().array() += noise_ + 1e-10;
  Eigen::LLT<MatrixXd> llt(k);
  k_inv_ = llt.solve(MatrixXd::Identity(m, m));
  alpha_ = llt.solve(yt);
}

void GaussianProcess::predict(const MatrixXd& features, VectorXd& mean, VectorXd& std) const {
  mean.resize(features.cols());
  std.resize(features.cols());
  for (Index q = 0; q < features.cols(); ++q) {
    const VectorXd k = kernel_column(features.col(q));
    mean[q] = mean_ + scale_ * k.dot(alpha_);
    const double var = 1.0 + noise_ - k.dot(k_inv_ * k);
    std[q] = scale_ * std::sqrt(std::max(0.0, var));
  }
}

namespace {
// erfcx(t) = exp(t²) erfc(t) for t ≥ 0.
double erfcx(double t) {
  if (t < 25.0) return std::exp(t * t) * std::erfc(t);
  // Asymptotic series 1/(t√π) Σ (−1)^n (2n−1)!! / (2t²)^n; converges fast here.
  const double inv = 1.0 / (2.0 * t * t);
  double term = 1.0, sum = 1.0;
  for (int n = 1; n < 12; ++n) {
    term *= -(2.0 * n - 1.0) * inv;
    sum += term;
  }
  return sum / (t * std::sqrt(M_PI));
}
// log h(z), h(z) = zΦ(z) + φ(z).
double log_h(double z) {
  const double log_phi = -0.5 * z * z - 0.5 * std::log(2.0 * M_PI);
  if (z > -1.0) {
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    return std::log(z * cdf + std::exp(log_phi));
  }
  if (z > -1e4) return log_phi + std::log1p(z * std::sqrt(M_PI / 2.0) * erfcx(-z / std::sqrt(2.0)));
  return log_phi - 2.0 * std::log(-z);
}
}  // namespace

double log_expected_improvement(double mean, double std, double y_min, double xi) {
  const double imp = y_min - mean - xi;
  if (!(std > 0)) return imp > 0 ? std::log(imp) : -std::numeric_limits<double>::infinity();
  return std::log(std) + log_h(imp / std);
}

namespace {

MatrixXd columns(const MatrixXd& m, const std::vector<int>& idx) {
  MatrixXd out(m.rows(), static_cast<Index>(idx.size()));
  for (std::size_t i = 0; i < idx.size(); ++i) out.col(static_cast<Index>(i)) = m.col(idx[i]);
  return out;
}

void check_context(const AcquisitionContext& c, int l_max) {
  if (c.feasible.empty())
    throw InputError("acquisition: no configuration fits under the memory cap; nothing can be measured");
  if (l_max < 1) throw InputError("acquisition: the number of measurements " + std::to_string(l_max) + " must be >= 1");
  for (int j : c.feasible)
    if (j < 0 || j >= c.y.cols()) throw InputError("acquisition: feasible index " + std::to_string(j) + " out of range");
}

// The prior of the context, or one fitted on its meta-training matrix.
EmbeddingPrior prior_of(const AcquisitionContext& c) {
  if (c.prior.y.size() > 0) {
    if (c.prior.y.cols() != c.y.cols())
      throw InputError("acquisition: the prior's embedding has " + std::to_string(c.prior.y.cols()) +
                       " configurations, the context " + std::to_string(c.y.cols()));
    return c.prior;
  }
  if (c.train_errors.cols() != c.y.cols() || c.train_errors.rows() < 1)
    throw InputError("acquisition: no prior and no meta-training matrix of " + std::to_string(c.y.cols()) +
                     " configurations to fit one on");
  return fit_embedding_prior(c.train_errors, static_cast<int>(c.y.rows()));
}

Prediction posterior_prediction(const EmbeddingPrior& p, const std::vector<int>& s, const VectorXd& v) {
  EmbeddingPosterior post = embedding_posterior(p, s, v);
  return {std::move(post.mean), std::move(post.std)};
}

// The *-MF methods: the Bayesian posterior on the embedding (bayes.hpp) in
// place of the paper's least squares (ls_predict, kept for reference).
class PosteriorPrediction : public AcquisitionStrategy {
 public:
  Prediction predict(const AcquisitionContext& c, const std::vector<int>& s, const VectorXd& v) const override {
    return posterior_prediction(prior_of(c), s, v);
  }
};

// ED-MF, QR-MF and Random-MF: the posterior, or with PredictionRule::
// least_squares the paper's F6.2 (unclipped, fitted values everywhere) with
// the least-squares predictive std under the prior's noise variance.
class PaperPrediction : public PosteriorPrediction {
 public:
  Prediction predict(const AcquisitionContext& c, const std::vector<int>& s, const VectorXd& v) const override {
    if (c.prediction != PredictionRule::least_squares) return PosteriorPrediction::predict(c, s, v);
    return {ls_predict(c.y, s, v), ls_predict_std(c.y, s, prior_of(c).noise_variance)};
  }
};

class EdMf : public PaperPrediction {
 public:
  Method method() const override { return Method::ed_mf; }
  std::vector<int> select(const AcquisitionContext& c, int l, const std::function<double(int)>&) const override {
    check_context(c, l);
    return greedy_d_optimal(c.y, c.feasible, l);
  }
};

class QrMf : public PaperPrediction {
 public:
  Method method() const override { return Method::qr_mf; }
  std::vector<int> select(const AcquisitionContext& c, int l, const std::function<double(int)>&) const override {
    check_context(c, l);
    if (c.train_errors.cols() != c.y.cols())
      throw InputError("qr-mf: the meta-training error matrix has " + std::to_string(c.train_errors.cols()) +
                       " columns, the embedding " + std::to_string(c.y.cols()));
    const int tn = static_cast<int>(c.feasible.size());
    const auto piv = pivoted_qr_order(columns(c.train_errors, c.feasible), std::min(l, tn));
    std::vector<int> s;
    for (int p : piv) s.push_back(c.feasible[static_cast<std::size_t>(p)]);
    return s;
  }
};

class RandomMf : public PaperPrediction {
 public:
  Method method() const override { return Method::random_mf; }
  std::vector<int> select(const AcquisitionContext& c, int l, const std::function<double(int)>&) const override {
    check_context(c, l);
    const int tn = static_cast<int>(c.feasible.size());
    const auto perm = random_permutation(tn, c.seed);
    std::vector<int> s;
    for (int i = 0; i < std::min(l, tn); ++i) s.push_back(c.feasible[static_cast<std::size_t>(perm[static_cast<std::size_t>(i)])]);
    return s;
  }
};

class Bo : public AcquisitionStrategy {
 public:
  explicit Bo(bool full) : full_(full) {}
  Method method() const override { return full_ ? Method::bo_full : Method::bo_mf; }

  std::vector<int> select(const AcquisitionContext& c, int l, const std::function<double(int)>& measure) const override {
    check_context(c, l);
    const MatrixXd& feat = features(c);
    const int tn = static_cast<int>(c.feasible.size());
    const int target = std::min(l, tn);
    const int k = static_cast<int>(c.y.rows());
    const auto piv = pivoted_qr_order(columns(c.y, c.feasible), std::min({k, tn, target}));
    std::vector<int> s;
    std::vector<double> vals;
    std::vector<char> in(static_cast<std::size_t>(c.y.cols()), 0);
    for (int p : piv) {
      const int j = c.feasible[static_cast<std::size_t>(p)];
      s.push_back(j);
      vals.push_back(measure(j));
      in[static_cast<std::size_t>(j)] = 1;
    }
    GaussianProcess gp(scale(c), c.bo.noise_variance);
    while (static_cast<int>(s.size()) < target) {
      const VectorXd v = Eigen::Map<const VectorXd>(vals.data(), static_cast<Index>(vals.size()));
      gp.fit(columns(feat, s), v);
      const double y_min = v.minCoeff();
      std::vector<int> cand;
      for (int j : c.feasible)
        if (!in[static_cast<std::size_t>(j)]) cand.push_back(j);
      VectorXd mu, sd;
      gp.predict(columns(feat, cand), mu, sd);
      std::size_t best = 0;
      double best_v = -std::numeric_limits<double>::infinity();
      for (std::size_t q = 0; q < cand.size(); ++q) {
        const double le = log_expected_improvement(mu[static_cast<Index>(q)], sd[static_cast<Index>(q)], y_min, c.bo.xi);
        if (le > best_v) {
          best_v = le;
          best = q;
        }
      }
      const int j = cand[best];
      s.push_back(j);
      vals.push_back(measure(j));
      in[static_cast<std::size_t>(j)] = 1;
    }
    return s;
  }

  Prediction predict(const AcquisitionContext& c, const std::vector<int>& s, const VectorXd& v) const override {
    const MatrixXd& feat = features(c);
    GaussianProcess gp(scale(c), c.bo.noise_variance);
    gp.fit(columns(feat, s), v);
    Prediction p;
    gp.predict(feat, p.mean, p.std);
    p.mean = p.mean.cwiseMax(0.0).cwiseMin(1.0);
    for (std::size_t q = 0; q < s.size(); ++q) p.mean[s[q]] = v[static_cast<Index>(q)];
    return p;
  }

 private:
  const MatrixXd& features(const AcquisitionContext& c) const {
    if (full_ && c.train_errors.cols() != c.y.cols())
      throw InputError("bo-full: the meta-training error matrix has " + std::to_string(c.train_errors.cols()) +
                       " columns, the embedding " + std::to_string(c.y.cols()));
    return full_ ? c.train_errors : c.y;
  }
  double scale(const AcquisitionContext& c) const { return full_ ? c.bo.length_scale_full : c.bo.length_scale_mf; }
  bool full_;
};

// EI-MF (docs/ei-mf.md): measure next, inside T ∩ D not yet measured, the
// argmax of log EI of the posterior predictive over the best feasible error
// so far; predict with the posterior.
class EiMf : public PosteriorPrediction {
 public:
  Method method() const override { return Method::ei_mf; }
  std::vector<int> select(const AcquisitionContext& c, int l, const std::function<double(int)>& measure) const override {
    check_context(c, l);
    const EmbeddingPrior prior = prior_of(c);
    const int tn = static_cast<int>(c.feasible.size());
    const int target = std::min(l, tn);
    std::vector<int> s;
    std::vector<double> vals;
    auto take = [&](int j) {
      s.push_back(j);
      vals.push_back(measure(j));
    };
    if (c.ei.qr_start) {
      const int k = static_cast<int>(c.y.rows());
      for (int p : pivoted_qr_order(columns(c.y, c.feasible), std::min({k, tn, target})))
        take(c.feasible[static_cast<std::size_t>(p)]);
    }
    while (static_cast<int>(s.size()) < target) {
      const int pick = ei_mf_next(c, prior, s, Eigen::Map<const VectorXd>(vals.data(), static_cast<Index>(vals.size())));
      if (pick < 0) break;
      take(pick);
    }
    return s;
  }
};

}  // namespace

int ei_mf_next(const AcquisitionContext& c, const EmbeddingPrior& prior, const std::vector<int>& s,
               const VectorXd& values) {
  const Index d = c.y.cols();
  if (values.size() != static_cast<Index>(s.size()))
    throw InputError("ei-mf: " + std::to_string(s.size()) + " configurations but " + std::to_string(values.size()) +
                     " values");
  std::vector<char> in(static_cast<std::size_t>(d), 0), decision(static_cast<std::size_t>(d), 0);
  for (int j : c.decision.empty() ? c.feasible : c.decision) {
    if (j < 0 || j >= d) throw InputError("ei-mf: decision index " + std::to_string(j) + " out of range");
    decision[static_cast<std::size_t>(j)] = 1;
  }
  for (int j : s) {
    if (j < 0 || j >= d) throw InputError("ei-mf: measured index " + std::to_string(j) + " out of range");
    in[static_cast<std::size_t>(j)] = 1;
  }
  const EmbeddingPosterior post = embedding_posterior(prior, s, values);
  // Incumbent: the best measured feasible error, else the best posterior mean.
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t q = 0; q < s.size(); ++q)
    if (decision[static_cast<std::size_t>(s[q])]) best = std::min(best, values[static_cast<Index>(q)]);
  if (!std::isfinite(best))
    for (Index j = 0; j < d; ++j)
      if (decision[static_cast<std::size_t>(j)]) best = std::min(best, post.mean[j]);
  int pick = -1;
  double pick_v = -std::numeric_limits<double>::infinity();
  for (int j : c.feasible) {
    if (in[static_cast<std::size_t>(j)] || !decision[static_cast<std::size_t>(j)]) continue;
    const double le = log_expected_improvement(post.mean[j], post.model_std[j], best, c.ei.xi);
    if (pick < 0 || le > pick_v) {
      pick = j;
      pick_v = le;
    }
  }
  if (pick < 0) {  // every feasible pick measured: learn most where the model is least sure
    for (int j : c.feasible) {
      if (in[static_cast<std::size_t>(j)]) continue;
      if (pick < 0 || post.model_std[j] > pick_v) {
        pick = j;
        pick_v = post.model_std[j];
      }
    }
  }
  return pick;
}

std::unique_ptr<AcquisitionStrategy> make_strategy(Method m) {
  switch (m) {
    case Method::ed_mf: return std::make_unique<EdMf>();
    case Method::qr_mf: return std::make_unique<QrMf>();
    case Method::random_mf: return std::make_unique<RandomMf>();
    case Method::bo_mf: return std::make_unique<Bo>(false);
    case Method::bo_full: return std::make_unique<Bo>(true);
    case Method::ei_mf: return std::make_unique<EiMf>();
  }
  throw InputError("make_strategy: unknown method");
}

}  // namespace peppp::meta
