// The measure stage's queue order: a cost estimate per cell, calibrated by measured wall times.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/meta/pareto.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/stage/measure.hpp"

namespace peppp::stage {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The network row i of the campaign trains.
const std::string& row_model(const CampaignSpec& c, const meta::Plan& plan, std::size_t i) {
  const TaskRow& r = plan.spec.tasks[i];
  return r.expanded() ? r.model : c.model;
}

// Per cell, the mean wall time of its replicates finished earlier (NaN: none).
std::vector<double> journal_seconds(const meta::Plan& plan, const std::vector<io::JournalRecord>& done) {
  std::vector<double> sum(plan.mask.size(), 0.0), count(plan.mask.size(), 0.0);
  for (const auto& rec : done) {
    if (rec.cell >= sum.size() || !(rec.seconds > 0)) continue;
    sum[rec.cell] += rec.seconds;
    count[rec.cell] += 1;
  }
  for (std::size_t i = 0; i < sum.size(); ++i) sum[i] = count[i] > 0 ? sum[i] / count[i] : kNaN;
  return sum;
}
}  // namespace

std::vector<double> cost_estimate(const CampaignSpec& c, const meta::Plan& plan, const par::SyntheticSpec& synthetic) {
  const std::size_t n = plan.n_tasks(), d = plan.n_configs();
  std::vector<double> out(n * d, 0.0);
  if (c.tasks.empty()) {  // synthetic rows: what their cells take on average
    for (std::size_t t = 0; t < n; ++t)
      std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(t * d), d,
                  par::synthetic_row_seconds(synthetic, static_cast<int>(t)));
    return out;
  }
  std::vector<std::size_t> row_task;
  campaign_rows(c, &row_task);
  // A task with train_size 0 (every image of its classes) counts as the mean known size.
  double known = 0, rows_known = 0;
  for (const TaskRow& r : plan.spec.tasks)
    if (r.train_size > 0) known += r.train_size, rows_known += 1;
  const double fallback = rows_known > 0 ? known / rows_known : 1.0;
  for (std::size_t t = 0; t < n; ++t) {
    const TaskSpec& task = c.tasks.at(row_task.at(t));
    const TaskRow& r = plan.spec.tasks[t];
    const auto counts = nn::model_counts(row_model(c, plan, t), task.num_classes(), task.channels, task.resolution);
    const double images = r.train_size > 0 ? r.train_size : fallback;
    const double cost = static_cast<double>(counts.activations) * images * std::max(1, c.train.epochs);
    std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(t * d), d, cost);
  }
  return out;
}

std::vector<double> calibrate_costs(const std::vector<double>& estimate, std::size_t d,
                                    const std::vector<double>& seconds, int* rows_measured) {
  if (d == 0 || estimate.size() % d != 0 || seconds.size() != estimate.size())
    throw InputError("calibrate_costs: " + std::to_string(estimate.size()) + " estimates, " +
                     std::to_string(seconds.size()) + " times, " + std::to_string(d) + " configurations");
  const std::size_t n = estimate.size() / d;
  std::vector<double> out = estimate, row_time(n, kNaN), ratios;
  for (std::size_t t = 0; t < n; ++t) {
    std::vector<double> times;
    double est = 0;
    for (std::size_t c = 0; c < d; ++c) {
      est += estimate[t * d + c] / static_cast<double>(d);
      if (std::isfinite(seconds[t * d + c]) && seconds[t * d + c] > 0) times.push_back(seconds[t * d + c]);
    }
    if (times.empty()) continue;
    row_time[t] = meta::finite_median(times);
    if (est > 0) ratios.push_back(row_time[t] / est);
  }
  if (rows_measured) *rows_measured = static_cast<int>(std::count_if(row_time.begin(), row_time.end(),
                                                                     [](double v) { return !std::isnan(v); }));
  if (ratios.empty()) return out;
  const double scale = meta::finite_median(ratios);
  for (std::size_t t = 0; t < n; ++t)
    for (std::size_t c = 0; c < d; ++c)
      out[t * d + c] = std::isnan(row_time[t]) ? estimate[t * d + c] * scale : row_time[t];
  return out;
}

std::vector<double> reference_seconds(const std::string& path, const meta::Plan& plan, const CampaignSpec& campaign) {
  io::Campaign ref;
  try {
    ref = io::read_campaign(path);
  } catch (const Error& e) {
    throw InputError(std::string("run.cost_reference: ") + e.what());
  }
  const std::size_t d = plan.n_configs(), rd = ref.config.size();
  std::map<std::string, std::size_t> rows, configs;
  for (std::size_t i = 0; i < ref.task.size(); ++i) rows[ref.task[i]] = i;
  for (std::size_t j = 0; j < rd; ++j) configs[ref.config[j]] = j;
  // A reference of one network speaks for the rows that train it; one of several names it in its rows.
  const auto m = ref.text_attributes.find("model");
  const std::string ref_model = m == ref.text_attributes.end() ? "" : m->second;
  const bool one_model = ref_model.find(',') == std::string::npos;
  std::vector<double> out(plan.mask.size(), kNaN);
  if (ref.train_seconds.size() != ref.task.size() * rd) return out;
  for (std::size_t t = 0; t < plan.n_tasks(); ++t) {
    const auto row = rows.find(plan.spec.tasks[t].name);
    if (row == rows.end() || (one_model && row_model(campaign, plan, t) != ref_model)) continue;
    for (std::size_t c = 0; c < d; ++c) {
      const auto col = configs.find(plan.spec.configs[c].label());
      if (col != configs.end()) out[t * d + c] = ref.train_seconds[row->second * rd + col->second];
    }
  }
  return out;
}

std::function<std::vector<double>(const std::vector<io::JournalRecord>&)> queue_costs(
    const CampaignSpec& campaign, const meta::Plan& plan, const par::SyntheticSpec& synthetic,
    const std::string& reference) {
  return [campaign, plan, synthetic, reference](const std::vector<io::JournalRecord>& done) {
    const std::vector<double> estimate = cost_estimate(campaign, plan, synthetic);
    const std::string unit = campaign.tasks.empty() ? "the synthetic rows' mean seconds"
                                                    : "N_act x images x epochs of each row";
    int rows = 0;
    std::vector<double> cost = calibrate_costs(estimate, plan.n_configs(), journal_seconds(plan, done), &rows);
    std::string source = rows > 0 ? ", calibrated by the wall times of " + std::to_string(rows) +
                                        " row(s) finished earlier" : "";
    if (rows == 0 && !reference.empty()) {
      cost = calibrate_costs(estimate, plan.n_configs(), reference_seconds(reference, plan, campaign), &rows);
      source = rows > 0 ? ", calibrated by the train_seconds of " + std::to_string(rows) + " row(s) of " + reference
                        : "; no row of " + reference + " matches by name, configuration and network";
    }
    log::info("measure: queue order: most expensive cells first (cost: ", unit, source, ")");
    return cost;
  };
}

}  // namespace peppp::stage
