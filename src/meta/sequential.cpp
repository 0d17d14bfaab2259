// The sequential EI-MF selection of `peppp select`: rounds of jointly chosen picks, fantasized
// at their posterior mean, then the posterior selection after the round's measurements.
#include "peppp/meta/sequential.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "peppp/core/error.hpp"
#include "peppp/meta/bayes.hpp"

namespace peppp::meta {

SequentialSelection::SequentialSelection(AcquisitionContext ctx, Eigen::VectorXd memory, SequentialOptions options)
    : ctx_(std::move(ctx)), memory_(std::move(memory)), options_(options) {
  if (options_.per_round < 1)
    throw InputError("sequential selection: " + std::to_string(options_.per_round) +
                     " picks per round; allowed: at least 1");
  if (memory_.size() != ctx_.y.cols())
    throw InputError("sequential selection: " + std::to_string(memory_.size()) + " memory entries for " +
                     std::to_string(ctx_.y.cols()) + " configurations");
  zero_shot_ = recommendation();  // nothing measured yet: the prior's answer
  if (options_.measurements <= 0)
    stop_ = StopReason::measurements;
  else if (options_.tolerance > 0 && zero_shot_.expected_regret <= options_.tolerance)
    stop_ = StopReason::tolerance;  // the prior is already sure enough: nothing to train
}

std::vector<int> SequentialSelection::next_picks() {
  if (done()) return {};
  const FiniteMeasurements fm = finite_measurements(used_, errors_);
  std::vector<int> s = fm.configs;  // measured, then the round's pending picks
  std::vector<double> v(fm.errors.data(), fm.errors.data() + fm.errors.size());
  AcquisitionContext rc = ctx_;  // failed cells are not tried again
  for (auto* set : {&rc.feasible, &rc.decision})
    set->erase(std::remove_if(set->begin(), set->end(),
                              [&](int j) { return std::find(failed_.begin(), failed_.end(), j) != failed_.end(); }),
               set->end());
  std::vector<int> picks;
  const int want = std::min(options_.per_round, options_.measurements - static_cast<int>(used_.size()));
  for (int i = 0; i < want; ++i) {
    const Eigen::VectorXd values = Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
    const int j = ei_mf_next(rc, ctx_.prior, s, values);
    if (j < 0) break;
    const double fantasy = embedding_posterior(ctx_.prior, s, values).mean(j);
    picks.push_back(j);
    s.push_back(j);
    v.push_back(fantasy);
  }
  if (picks.empty()) stop_ = StopReason::exhausted;
  return picks;
}

const RoundResult& SequentialSelection::observe(const std::vector<int>& picks, const std::vector<double>& errors) {
  if (picks.size() != errors.size())
    throw InputError("sequential selection: " + std::to_string(errors.size()) + " errors for " +
                     std::to_string(picks.size()) + " picks");
  const int round = static_cast<int>(rounds_.size());
  for (std::size_t q = 0; q < picks.size(); ++q) {
    used_.push_back(picks[q]);
    errors_.push_back(errors[q]);
    round_of_.push_back(round);
    if (!std::isfinite(errors[q])) failed_.push_back(picks[q]);
  }
  RoundResult r;
  r.recommended_before = rounds_.empty() ? zero_shot_.recommended_index : rounds_.back().after.recommended_index;
  r.picks = picks;
  r.errors = errors;
  r.after = recommendation();
  rounds_.push_back(std::move(r));
  const double regret = rounds_.back().after.expected_regret;
  if (options_.tolerance > 0 && regret <= options_.tolerance)
    stop_ = StopReason::tolerance;
  else if (static_cast<int>(used_.size()) >= options_.measurements)
    stop_ = StopReason::measurements;
  return rounds_.back();
}

SelectionPrediction SequentialSelection::recommendation() const {
  return posterior_selection(ctx_.prior, memory_, used_, errors_, options_.budget, options_.risk_samples,
                             options_.seed);
}

}  // namespace peppp::meta
