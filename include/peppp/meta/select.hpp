#pragma once
/// @file select.hpp
/// @brief Meta-test on a new task (METHOD.md F6, F9): choose the
/// configurations to measure by ED-MF under the memory cap, then predict
/// every configuration's error from the measured ones, with an uncertainty
/// from the least-squares variance, the estimated Pareto frontier and the
/// recommended configuration under the budget. The training in between is
/// the caller's (the ranks train the chosen cells). Serial, not collective.

#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "peppp/meta/bayes.hpp"

namespace peppp::meta {

/// The measured configurations with a finite error (failed cells left out):
/// `configs[q]`, `errors[q]` for the q with finite `measured[q]`, in order.
struct FiniteMeasurements {
  std::vector<int> configs;  ///< configuration indices
  Eigen::VectorXd errors;    ///< their errors
};
/// Keep the entries of `chosen` whose `measured` error (same order) is finite.
FiniteMeasurements finite_measurements(const std::vector<int>& chosen, const std::vector<double>& measured);

/// The first `count` configurations ED-MF (F6.5) measures on a task whose
/// memory per configuration (MiB) is `memory` (length d), learnt from the
/// complete meta-training matrix `train` (n×d), only among configurations
/// with memory ≤ `cap` (MiB). Pick order; indices into the d columns.
/// @throws InputError when fewer than `count` configurations fit the cap, or
///         `count` < `rank`, or the shapes disagree.
std::vector<int> choose_configurations(const Eigen::MatrixXd& train, const Eigen::VectorXd& memory, int count,
                                       double cap, int rank);

/// Everything `predict_selection` finds for the new task; per-config
/// entries have d = train.cols() entries. The caller adds the labels and
/// the provenance (e.g. app's conversion to `io::Selection`).
struct SelectionPrediction {
  Eigen::VectorXd predicted_error;          ///< d: LS prediction ê = Yᵀx̂ (F6.2), error in [0, 1] units
  Eigen::VectorXd predicted_std;            ///< d: its standard deviation (same units)
  std::vector<std::uint8_t> measured;       ///< d: 1 where the configuration was measured (in `chosen`)
  Eigen::VectorXd measured_error;           ///< d: the measured error there, NaN elsewhere
  std::vector<std::uint8_t> pareto_estimate;  ///< d: 1 on the estimated frontier of (memory/max memory, ê)
  std::vector<int> selection_order;         ///< the measured configurations in pick order (= `chosen`)
  int recommended_index = -1;               ///< the F9.1 pick under the budget: column index
  /// d: posterior probability of being the best feasible configuration
  /// (`posterior_selection` only; empty otherwise).
  Eigen::VectorXd p_best;
  /// Expected regret of the recommendation under the posterior (error-rate
  /// units; NaN unless `posterior_selection`).
  double expected_regret = std::numeric_limits<double>::quiet_NaN();
};

/// The paper's least-squares prediction (METHOD.md F6.2), kept as the
/// reference its tests pin down; `peppp select` predicts with
/// `posterior_selection` (bounded, noise-aware). Predict the task's errors
/// from `measured` (errors of `chosen`, same order; NaN entries, e.g. failed
/// cells, are left out of the fit):
/// predicted error ê = Yᵀx̂ (F6.2), its standard deviation
/// sqrt(s²·y_jᵀ(Y_S Y_Sᵀ)⁻¹y_j) with s² the residual variance of the fit
/// (or, with no residual degree of freedom, the rank-k residual variance
/// of `train`, n×d), the estimated frontier, and the F9.1 pick under
/// `budget` (MiB). `memory`: d, MiB.
/// @throws InputError when the budget is below every configuration or fewer
///         than `rank` measurements are finite.
SelectionPrediction predict_selection(const Eigen::MatrixXd& train, const Eigen::VectorXd& memory,
                                      const std::vector<int>& chosen, const std::vector<double>& measured,
                                      double budget, int rank);

/// The bounded Bayesian prediction of the new task (docs/ei-mf.md) from
/// `measured` (errors of `chosen`, same order; NaN entries are left out):
/// the embedding posterior of `prior` (predicted errors in [0, 1], measured
/// configurations at their measurements, predictive std), the estimated
/// frontier, the recommendation argmin of the posterior mean among
/// configurations with `memory` ≤ `budget`, and its risk (`decision_risk`:
/// p_best and expected regret, `samples` draws of `seed`; the latent
/// covariance YᵀΣ_post Y plus σ² on the diagonal, zero for measured configurations).
/// @throws InputError when the budget is below every configuration.
SelectionPrediction posterior_selection(const EmbeddingPrior& prior, const Eigen::VectorXd& memory,
                                        const std::vector<int>& chosen, const std::vector<double>& measured,
                                        double budget, int samples = 4000, std::uint64_t seed = 1);

/// The risk of a recommendation under a Gaussian belief about the new
/// task's errors (METHOD.md F9 with uncertainty; docs/ei-mf.md).
struct DecisionRisk {
  Eigen::VectorXd p_best;      ///< d: P(config is the best feasible one); 0 when infeasible
  double expected_regret = 0;  ///< E[e_rec − min_{feasible} e], error-rate units (≥ 0)
  int recommended_index = -1;  ///< argmin of the mean among feasible configs (ties: less memory, lower index)
};

/// p_best and the expected regret of recommending argmin `mean` among the
/// configurations with `memory` ≤ `budget`, when the errors are jointly
/// Gaussian with `mean` (d) and covariance `cov` (d×d, PSD: the posterior
/// of the latent errors plus the measurement noise on its diagonal;
/// measured configurations have their measured value as mean and zero
/// variance). Monte Carlo with `samples` draws from the counter-based
/// generator of `seed` (deterministic on every platform and rank count);
/// draws are clipped to [0, 1] like the predictions. Serial.
/// @throws InputError when no configuration fits the budget or the shapes differ.
DecisionRisk decision_risk(const Eigen::VectorXd& mean, const Eigen::MatrixXd& cov, const Eigen::VectorXd& memory,
                           double budget, int samples = 4000, std::uint64_t seed = 1);

}  // namespace peppp::meta
