#pragma once
/// @file sequential.hpp
/// @brief The sequential EI-MF selection of `peppp select` (docs/ei-mf.md)
/// as an object: each round picks as many configurations as there are
/// trainers, jointly, by fantasizing the pending picks at their posterior
/// mean; the caller trains them and hands their errors back; the posterior
/// is updated, and the selection stops at the measurement limit, when the
/// expected regret of the recommendation is within the tolerance (checked
/// before round 1 too: a prior already sure enough trains nothing), or when
/// every configuration under the cap is measured. The zero-shot answer (the
/// prior's, nothing measured) is kept beside the rounds, so that what each
/// round bought can be told. Every round is a
/// deterministic function of the rounds before it. Serial, not collective:
/// the training in between is the caller's.

#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "peppp/meta/acquisition.hpp"
#include "peppp/meta/select.hpp"

namespace peppp::meta {

/// Settings of a `SequentialSelection`.
struct SequentialOptions {
  int measurements = 0;      ///< at most this many configurations are measured
  int per_round = 1;         ///< picks per round (the trainers: one per rank)
  double budget = 0;         ///< MiB: the recommendation has memory ≤ budget
  /// Stop once the expected regret of the recommendation is at most this
  /// (error-rate units); 0 = measure all `measurements`.
  double tolerance = 0;
  int risk_samples = 4000;   ///< Monte Carlo draws of p_best and the expected regret
  std::uint64_t seed = 1;    ///< of those draws
};

/// What one round measured and what the selection believes after it.
struct RoundResult {
  std::vector<int> picks;        ///< the configurations trained in the round, pick order
  std::vector<double> errors;    ///< their measured errors (NaN: failed)
  SelectionPrediction after;     ///< the posterior selection after the round
  /// The recommended configuration before the round (before round 1: the
  /// zero-shot pick), to tell whether the round changed the recommendation.
  int recommended_before = -1;
};

/// Why a selection stopped.
enum class StopReason {
  running,      ///< not stopped
  measurements, ///< the measurement limit is reached (at once when it is 0)
  tolerance,    ///< the expected regret of the recommendation is within the tolerance (before round 1: the zero-shot pick's)
  exhausted,    ///< every configuration under the cap is measured (or failed)
};

/// The EI-MF rounds of one new task.
class SequentialSelection {
 public:
  /// `ctx`: the embedding, the meta-training errors, the feasible (cap) and
  /// decision (budget) sets and the prior (`ctx.prior`, fitted);
  /// `memory`: d, MiB, of the new task's configurations. Computes the
  /// zero-shot answer and stops at once when `options.measurements` is 0
  /// (reason `measurements`) or its expected regret is within a positive
  /// tolerance (reason `tolerance`).
  /// @throws InputError when the sizes differ, per_round < 1 or the budget is
  ///         below every configuration.
  SequentialSelection(AcquisitionContext ctx, Eigen::VectorXd memory, SequentialOptions options);

  /// The next round's picks (at most `per_round`, fewer when the limit is
  /// near), chosen jointly: each is `ei_mf_next` given the measured
  /// configurations and the picks before it at their posterior mean. Failed
  /// configurations are not tried again. Empty once `done()`; a call that
  /// finds nothing left to pick marks the selection exhausted.
  std::vector<int> next_picks();
  /// Record the errors of `picks` (same order; NaN = failed) as the next
  /// round and update the posterior selection; stops on the tolerance.
  /// @returns the round (its picks, errors and the selection after it).
  /// @throws InputError when the sizes differ.
  const RoundResult& observe(const std::vector<int>& picks, const std::vector<double>& errors);
  /// Has the selection stopped (limit, tolerance or nothing left)?
  bool done() const { return stop_ != StopReason::running; }
  /// Why it stopped (`running` while not).
  StopReason stop_reason() const { return stop_; }
  /// The posterior selection from everything measured so far (before any
  /// round: the prior's, the zero-shot pick).
  SelectionPrediction recommendation() const;
  /// The zero-shot answer: the posterior selection from no measurement (the
  /// prior's): its pick is the configuration of lowest prior mean error under
  /// the budget, with its predicted error, std and expected regret.
  const SelectionPrediction& zero_shot() const { return zero_shot_; }

  /// Measured configurations in pick order, their errors and their rounds (0-based).
  const std::vector<int>& measured_configs() const { return used_; }
  const std::vector<double>& measured_errors() const { return errors_; }
  const std::vector<int>& measured_rounds() const { return round_of_; }
  /// Every round so far, in order.
  const std::vector<RoundResult>& rounds() const { return rounds_; }
  const SequentialOptions& options() const { return options_; }

 private:
  AcquisitionContext ctx_;
  Eigen::VectorXd memory_;
  SequentialOptions options_;
  std::vector<int> used_, round_of_, failed_;
  std::vector<double> errors_;
  std::vector<RoundResult> rounds_;
  SelectionPrediction zero_shot_;
  StopReason stop_ = StopReason::running;
};

}  // namespace peppp::meta
