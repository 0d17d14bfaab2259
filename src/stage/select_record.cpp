// The select stage's output record: the prediction with its labels and provenance (selection.nc).
#include <cmath>

#include "select_parts.hpp"

namespace peppp::stage {

io::Selection selection_record(const SelectJob& job, const SelectProblem& p, const SelectMeasurements& m,
                               const meta::SelectionPrediction& s, const meta::SelectionPrediction& zero) {
  io::Selection out;
  out.task = job.task.name;
  out.acquisition = job.acquisition;
  out.config = p.campaign.config;
  out.memory.assign(p.memory.data(), p.memory.data() + p.memory.size());
  out.predicted_error.assign(s.predicted_error.data(), s.predicted_error.data() + s.predicted_error.size());
  out.predicted_std.assign(s.predicted_std.data(), s.predicted_std.data() + s.predicted_std.size());
  out.measured = s.measured;
  out.measured_error.assign(s.measured_error.data(), s.measured_error.data() + s.measured_error.size());
  out.pareto_estimate = s.pareto_estimate;
  out.selection_order = s.selection_order;
  out.selection_round = m.rounds;  // empty for --measured: nothing was trained in rounds
  out.cap = p.cap;
  out.budget = job.budget;
  out.recommended_index = s.recommended_index;
  out.recommended_config = out.config[static_cast<std::size_t>(s.recommended_index)];
  out.p_best.assign(s.p_best.data(), s.p_best.data() + s.p_best.size());
  out.expected_regret = s.expected_regret;
  out.round_expected_regret = m.round_regret;
  out.round_recommended_index = m.round_recommended;
  out.zero_shot_index = zero.recommended_index;
  out.zero_shot_config = out.config[static_cast<std::size_t>(zero.recommended_index)];
  out.zero_shot_predicted_error = zero.predicted_error(zero.recommended_index);
  out.zero_shot_predicted_std = zero.predicted_std(zero.recommended_index);
  out.zero_shot_expected_regret = zero.expected_regret;

  out.text_attributes = job.attributes.text;
  out.text_attributes["campaign"] = job.campaign_path;
  out.text_attributes["task_spec"] = job.task_text;
  out.text_attributes["model"] = job.model;  // of the new task; with its learning rate below
  out.text_attributes["meta_training_rows"] = job.rows_model.empty() ? "all" : "model " + job.rows_model;
  out.text_attributes["measurements_source"] =
      !job.measured.empty() ? "file " + job.measured_source
      : m.configs.empty()   ? "none: " + m.none_why
                            : "trained: " + job.output + ".measured.nc";
  if (!p.prior_rows.empty()) out.text_attributes["prior_rows"] = p.prior_rows;  // rows of several models
  out.text_attributes["cap_choice"] = p.cap_given ? "given" : "budget";
  out.text_attributes["noise_source"] = p.prior().noise_estimated ? "low-rank residual of the meta-training matrix"
                                                                  : "given (replicates of the campaign)";
  for (const auto& [k, v] : job.attributes.number) out.number_attributes[k] = v;
  out.number_attributes["rank"] = job.rank;
  out.number_attributes["learning_rate"] = job.train.learning_rate;
  out.number_attributes["meta_training_row_count"] = static_cast<double>(p.campaign.n_tasks());
  if (job.epoch > 0) out.number_attributes["epoch_used"] = job.epoch;
  out.number_attributes["noise_std"] = std::sqrt(p.prior().noise_variance);
  out.number_attributes["measurements"] = static_cast<double>(m.configs.size());
  out.number_attributes["memory_used"] = 0;
  for (int j : m.configs) out.number_attributes["memory_used"] += p.memory(j);
  return out;
}

}  // namespace peppp::stage
