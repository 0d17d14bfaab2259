#pragma once
/// @file acquisition.hpp
/// @brief Meta-test acquisition strategies behind one interface (METHOD.md
/// F6–F7): ED-MF, QR-MF, Random-MF, BO-MF, BO-full and the decision-aware
/// EI-MF (docs/ei-mf.md), plus the Gaussian process (RBF + white noise,
/// normalized targets) and the stable log expected improvement that BO and
/// EI-MF use. Every method predicts errors in [0, 1] with a predictive
/// standard deviation, measured configurations at their measurements.
/// Serial, deterministic.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "peppp/meta/bayes.hpp"

namespace peppp::meta {

/// The acquisition methods of F7 (ED-MF is the paper's own) and EI-MF.
enum class Method { ed_mf, qr_mf, random_mf, bo_mf, bo_full, ei_mf };

/// "ed-mf", "qr-mf", "random-mf", "bo-mf", "bo-full", "ei-mf".
std::string method_name(Method m);
/// Inverse of method_name; throws InputError naming the allowed values.
Method parse_method(const std::string& name);
/// All six methods in the order above.
std::vector<Method> all_methods();

/// How ED-MF, QR-MF and Random-MF predict (`--prediction`): `posterior`
/// (default: the bounded embedding posterior of bayes.hpp, docs/ei-mf.md) or
/// `least_squares` (the paper's F6.2: unclipped least squares on the measured
/// columns, the fitted values used at every configuration, measured ones
/// included; std from `ls_predict_std`). BO and EI-MF predict as always.
enum class PredictionRule { posterior, least_squares };
/// "posterior" / "least-squares".
const char* prediction_rule_name(PredictionRule r);
/// Inverse of prediction_rule_name. @throws InputError naming `key`, the value and the allowed ones.
PredictionRule parse_prediction_rule(const std::string& text, const std::string& key = "--prediction");

/// Gaussian process regression with kernel RBF(ℓ) + White(σ_n²), fixed
/// hyperparameters, normalized targets and jitter 1e-10 (F7.3; identical to
/// sklearn's GaussianProcessRegressor(normalize_y=True, optimizer=None)).
class GaussianProcess {
 public:
  GaussianProcess(double length_scale, double noise_variance);
  /// Fit on m points: `features` p×m (one column per point), `values` length m.
  void fit(const Eigen::MatrixXd& features, const Eigen::VectorXd& values);
  /// Posterior mean and standard deviation (including the white noise) at the
  /// q columns of `features` (p×q).
  void predict(const Eigen::MatrixXd& features, Eigen::VectorXd& mean, Eigen::VectorXd& std) const;

 private:
  Eigen::VectorXd kernel_column(const Eigen::VectorXd& f) const;
  double length_scale_, noise_;
  Eigen::MatrixXd train_;
  Eigen::MatrixXd k_inv_;
  Eigen::VectorXd alpha_;  // K⁻¹ ỹ
  double mean_ = 0, scale_ = 1;
};

/// log EI(μ, σ) for minimization: EI = (y_min − μ − ξ)Φ(z) + σφ(z),
/// z = (y_min − μ − ξ)/σ, computed as log σ + log h(z) without underflow
/// (erfcx form for z ≤ −1, φ(z)/z² for z ≤ −1e4). σ = 0: log of the
/// positive part of the improvement (−inf when none).
double log_expected_improvement(double mean, double std, double y_min, double xi);

/// BO hyperparameters (F7.3 defaults).
struct BoOptions {
  double length_scale_mf = 0.1;    ///< RBF ℓ on the k-dim embedding columns (BO-MF)
  double length_scale_full = 3.0;  ///< RBF ℓ on the n_train-dim error columns (BO-full)
  double noise_variance = 1e-3;    ///< white-noise variance σ_n² (normalized units)
  double xi = 0.01;                ///< EI exploration offset ξ (error units)
};

/// EI-MF options (docs/ei-mf.md).
struct EiOptions {
  /// Start from the first k pivoted-QR columns of Y_{:T} (as ED-MF and BO);
  /// false: the first pick is already the EI argmax under the prior.
  bool qr_start = false;
  double xi = 0.0;  ///< EI offset ξ (error units)
};

/// What a strategy sees of the meta-training side.
struct AcquisitionContext {
  Eigen::MatrixXd y;             ///< k×d configuration embedding (F5.1)
  Eigen::MatrixXd train_errors;  ///< n_train×d (completed) meta-training errors (QR-MF, BO-full)
  std::vector<int> feasible;     ///< T: configurations allowed to be measured (F6.3), ascending
  /// Configurations the final pick may take (memory ≤ budget), ascending;
  /// empty = `feasible`. EI-MF measures inside T ∩ this set first.
  std::vector<int> decision;
  std::uint64_t seed = 0;        ///< Random-MF permutation seed
  BoOptions bo;
  EiOptions ei;
  /// The Bayesian prior of the *-MF predictions and of EI-MF (bayes.hpp),
  /// fitted on `train_errors` with `y`'s rank; empty `prior.y` = fit it on
  /// demand with default PriorOptions (each call: callers should set it).
  EmbeddingPrior prior;
  /// How ED-MF, QR-MF and Random-MF predict (their orders are the same either way).
  PredictionRule prediction = PredictionRule::posterior;
};

/// Predicted errors of all d configurations and their standard deviations.
struct Prediction {
  Eigen::VectorXd mean;  ///< in [0, 1]; a measured configuration's is its measurement
  Eigen::VectorXd std;   ///< predictive standard deviation (of a new measurement), ≥ 0
};

/// One acquisition method. `select` builds the nested measurement sequence;
/// `predict` turns a measured prefix into errors for all d configurations.
class AcquisitionStrategy {
 public:
  virtual ~AcquisitionStrategy() = default;
  virtual Method method() const = 0;
  /// The first min(l_max, |T|) configurations to measure, in pick order,
  /// all inside T. `measure(j)` reveals the meta-test error of j; it is only
  /// called for picked j (BO uses it; the others do not need it).
  virtual std::vector<int> select(const AcquisitionContext& ctx, int l_max,
                                  const std::function<double(int)>& measure) const = 0;
  /// Predicted errors and standard deviations (length d) from the measured
  /// prefix `s` with values `measured` (same order): the embedding posterior
  /// of bayes.hpp for the *-MF methods and EI-MF, the GP mean and std for
  /// BO; means clipped to [0, 1], measured configurations at their values.
  virtual Prediction predict(const AcquisitionContext& ctx, const std::vector<int>& s,
                             const Eigen::VectorXd& measured) const = 0;
};

/// The strategy object for a method.
std::unique_ptr<AcquisitionStrategy> make_strategy(Method m);

/// One EI-MF step (docs/ei-mf.md): the configuration to measure next given
/// the configurations `s` already measured (or pending, with fantasized
/// values) and their `values` (same order). Among the unmeasured
/// configurations of T ∩ D (under the cap and the budget), the argmax of
/// log EI of the posterior predictive over the incumbent (best measured
/// value in D, else the best posterior mean in D); when none is left, the
/// unmeasured one of T with the largest predictive std; −1 when T is
/// exhausted. `prior` is the context's (`fit_embedding_prior`). Serial.
int ei_mf_next(const AcquisitionContext& ctx, const EmbeddingPrior& prior, const std::vector<int>& s,
               const Eigen::VectorXd& values);

}  // namespace peppp::meta
