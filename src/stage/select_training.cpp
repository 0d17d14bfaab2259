// The select stage's measurements: errors from a file, or the new task's picks trained over
// the ranks (one ED-MF round, or EI-MF rounds decided by meta::SequentialSelection).
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "cell_training.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/meta/sequential.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/measure.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/signals.hpp"
#include "peppp/stage/measure.hpp"
#include "select_parts.hpp"

namespace peppp::stage {

namespace {

// The one-task campaign of the new task over `picked`: the measure stage plans it. Its
// identity keeps select's journals apart from measure's, and cells trained to epoch E from full runs.
CampaignSpec round_campaign(const SelectJob& job, const std::vector<Configuration>& picked, MPI_Comm comm) {
  CampaignSpec spec;
  spec.name = "select: " + job.task.name;
  spec.seed = job.seed;
  spec.tasks = {job.task};
  spec.configs = picked;
  spec.model = job.model;
  spec.train = job.train;
  spec.identity = "select\n" + job.identity;
  if (job.epoch > 0) spec.identity += "select.epoch=" + std::to_string(job.epoch) + "\n";
  check_task_data(spec.tasks, comm);
  check_models(spec, comm);
  spec.task_definitions = task_definitions(spec.tasks, comm);
  return spec;
}

// The settings of a round's training: its file and journal (always resumed: the rounds are a
// deterministic function of the rounds before), this rank's resources and the file's attributes.
par::MeasureSettings round_settings(const SelectJob& job, const std::string& output, MPI_Comm comm) {
  par::MeasureSettings st;
  st.output = output;
  st.resume = true;
  st.command = "peppp select";
  set_rank_resources(st, job.resources, comm);
  st.text_attributes = job.attributes.text;
  st.text_attributes["campaign_name"] = "select: " + job.task.name;
  st.text_attributes["model"] = job.model;
  st.text_attributes["meta_training_campaign"] = job.campaign_path;
  st.number_attributes["epochs"] = job.train.epochs;
  // The per-epoch record of the cells: epochs 1..E (--epoch), else the whole run.
  st.epochs = job.epoch > 0 ? job.epoch : job.train.epochs;
  if (job.epoch > 0) st.number_attributes["epoch_used"] = job.epoch;
  st.number_attributes["batch_size"] = job.train.batch_size;
  st.number_attributes["learning_rate"] = job.train.learning_rate;
  st.number_attributes["momentum"] = job.train.momentum;
  st.number_attributes["weight_decay"] = job.train.weight_decay;
  st.number_attributes["synthetic"] = 0;
  return st;
}

// Train this round's cells (`plan`, `n` of them, in plan order) and get their measured errors,
// NaN where not measured, the same on every rank: from measure_plan's return value (the root
// wrote the round's file at the measure stage's edge; nothing is read back).
std::vector<double> train_round(const meta::Plan& plan, const par::CellTrainer& trainer,
                                const par::MeasureSettings& st, std::size_t n, MPI_Comm comm) {
  const par::MeasureResults r = measure_plan(plan, trainer, st, comm);
  const par::MeasureSummary& s = r.summary;
  if (s.interrupted || s.missing > 0)
    throw Interrupted("select: stopped early; " + std::to_string(s.planned - s.missing) + " of " +
                      std::to_string(s.planned) + " cells done (in " + st.output + "); rerun with --resume to finish");
  std::vector<double> measured(n, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t q = 0; q < n; ++q)
    if (static_cast<CellStatus>(r.campaign.status[q]) == CellStatus::measured) measured[q] = r.campaign.error[q];
  log::info("select: ", s.measured, " measured, ", s.diverged, " diverged, ", s.failed, " failed (", s.resumed,
            " from the journal) -> ", st.output);
  return measured;
}

// The new task's measured cells of a sequential selection as one campaign-like
// file (what --measured reads back): one row, the measured configurations in pick order.
void write_measured(const SelectJob& job, const SelectProblem& p, const SelectMeasurements& m,
                    const std::string& path) {
  io::Campaign out;
  io::set_task_rows(out, {TaskRow::of(job.task)});
  std::vector<Configuration> picked;
  for (int j : m.configs) picked.push_back(p.configs[static_cast<std::size_t>(j)]);
  io::set_configurations(out, picked);
  out.allocate();
  for (std::size_t q = 0; q < m.configs.size(); ++q) {
    out.error[q] = m.errors[q];
    out.memory[q] = p.memory(m.configs[q]);
    out.status[q] =
        static_cast<std::uint8_t>(std::isfinite(m.errors[q]) ? CellStatus::measured : CellStatus::failed);
  }
  out.text_attributes = job.attributes.text;
  out.text_attributes["campaign_name"] = "select: " + job.task.name;
  out.text_attributes["model"] = job.model;
  out.number_attributes["learning_rate"] = job.train.learning_rate;
  if (job.epoch > 0) out.number_attributes["epoch_used"] = job.epoch;
  out.text_attributes["meta_training_campaign"] = job.campaign_path;
  out.text_attributes["title"] = "configurations measured by a sequential selection (rounds in <output>.round-K.nc)";
  io::write_campaign(path, out);
}

}  // namespace

std::vector<double> train_chosen(const SelectJob& job, const SelectProblem& p, const std::vector<int>& chosen,
                                 const std::string& output, const std::string& chooser, MPI_Comm comm) {
  if (auto why = io::check_writable(output); !why.empty()) throw InputError("--output: " + why);
  std::vector<Configuration> picked;
  for (int j : chosen) picked.push_back(p.configs[static_cast<std::size_t>(j)]);
  // par::measure checks the output, the lock and the journals before any work.
  const meta::Plan plan = plan_campaign(round_campaign(job, picked, comm), false);
  const par::MeasureSettings st = round_settings(job, output, comm);
  par::install_stop_handlers();
  log::info("select: training ", chosen.size(), " configurations of task '", job.task.name, "' (", job.model, ", lr ",
            text_g12(job.train.learning_rate),
            job.epoch > 0 ? ", to epoch " + std::to_string(job.epoch) + " of " + std::to_string(job.train.epochs)
                          : std::string(),
            ") chosen by ", chooser, " under ", text_fixed(p.cap, 3), " MiB on ", par::size(comm), " rank(s), device ",
            st.device);
  TrainSettings train = job.train;
  train.stop_after_epoch = job.epoch;  // 0: every epoch
  return train_round(plan, real_trainer({job.task}, picked, train, job.model), st, chosen.size(), comm);
}

meta::SelectionPrediction zero_shot_selection(const SelectJob& job, const SelectProblem& p) {
  return meta::posterior_selection(p.prior(), p.memory, {}, {}, job.budget, job.risk_samples, job.seed);
}

void log_zero_shot(const SelectProblem& p, const meta::SelectionPrediction& zero) {
  const int z = zero.recommended_index;
  log::info("select: zero-shot pick (nothing trained: the lowest prior mean error under the budget): ",
            p.campaign.config[static_cast<std::size_t>(z)], " (", text_fixed(p.memory(z), 3), " MiB), predicted error ",
            text_fixed(zero.predicted_error(z), 3), " +- ", text_fixed(zero.predicted_std(z), 3), ", expected regret ",
            text_fixed(zero.expected_regret, 4));
}

namespace {

// "; recommendation unchanged" or "; recommendation changed from A to B" after a round.
std::string change_text(const SelectProblem& p, int before, int after) {
  if (before == after) return "; recommendation unchanged";
  return "; recommendation changed from " + p.campaign.config[static_cast<std::size_t>(before)] + " to " +
         p.campaign.config[static_cast<std::size_t>(after)];
}

}  // namespace

namespace {

// Observe the reused cells of `start`, one round per earlier round file 1..K (an absent
// one: an empty round), so that their selection rounds are their files' and the next
// round is K + 1.
void observe_reused(meta::SequentialSelection& sel, const SelectProblem& p, const TrainingStart& start,
                    SelectMeasurements& m) {
  for (int k = 1; k <= start.reused_rounds; ++k) {
    std::vector<int> picks;
    std::vector<double> errors;
    for (std::size_t q = 0; q < start.configs.size(); ++q)
      if (start.rounds[q] == k) {
        picks.push_back(start.configs[q]);
        errors.push_back(start.errors[q]);
      }
    const meta::SelectionPrediction& now = sel.observe(picks, errors).after;
    m.round_regret.push_back(now.expected_regret);
    m.round_recommended.push_back(now.recommended_index);
  }
  if (sel.rounds().empty()) return;
  const meta::SelectionPrediction& now = sel.rounds().back().after;
  log::info("select: ", sel.measured_configs().size(), " reused cell(s) of ", start.reused_rounds,
            " earlier round(s): recommendation ", p.campaign.config[static_cast<std::size_t>(now.recommended_index)],
            ", expected regret ", text_fixed(now.expected_regret, 4));
}

}  // namespace

SelectMeasurements ei_mf_rounds(const SelectJob& job, const SelectProblem& p, const TrainingStart& start,
                                MPI_Comm comm) {
  meta::SequentialOptions o;
  o.measurements = job.measurements;
  o.per_round = start.per_round;
  o.budget = job.budget;
  o.tolerance = job.tolerance;
  o.risk_samples = job.risk_samples;
  o.seed = job.seed;
  meta::SequentialSelection sel(p.ctx, p.memory, o);
  SelectMeasurements m;
  const double zero_regret = sel.zero_shot().expected_regret;
  if (sel.stop_reason() == meta::StopReason::tolerance && start.configs.empty()) {
    m.none_why = "the zero-shot pick's expected regret " + text_fixed(zero_regret, 4) + " <= --tolerance " +
                 text_g12(job.tolerance) + ": the prior is already sure enough, nothing trained";
    log::info("select: ", m.none_why);
  }
  observe_reused(sel, p, start, m);
  for (std::vector<int> picks = sel.next_picks(); !picks.empty(); picks = sel.next_picks()) {
    const std::string round = std::to_string(sel.rounds().size() + 1);
    const std::vector<double> got =
        train_chosen(job, p, picks, job.output + ".round-" + round + ".nc", "EI-MF round " + round, comm);
    const meta::RoundResult& r = sel.observe(picks, got);
    const meta::SelectionPrediction& now = r.after;
    log::info("select: round ", round, ": ", sel.measured_configs().size(), " measured, recommendation ",
              p.campaign.config[static_cast<std::size_t>(now.recommended_index)], " (predicted ",
              text_fixed(now.predicted_error(now.recommended_index), 3), "), expected regret ",
              text_fixed(now.expected_regret, 4), " (zero-shot ", text_fixed(zero_regret, 4), ")",
              change_text(p, r.recommended_before, now.recommended_index));
    m.round_regret.push_back(now.expected_regret);
    m.round_recommended.push_back(now.recommended_index);
    if (sel.stop_reason() == meta::StopReason::tolerance)
      log::info("select: expected regret ", text_fixed(now.expected_regret, 4), " <= --tolerance ", text_g12(job.tolerance),
                ": stopping after ", sel.measured_configs().size(), " of at most ", job.measurements, " measurements");
  }
  m.configs = sel.measured_configs();
  m.errors = sel.measured_errors();
  m.rounds = sel.measured_rounds();
  if (m.configs.empty() && m.none_why.empty()) m.none_why = "nothing was left to train under the cap";
  if (par::rank(comm) == 0 && !m.configs.empty()) write_measured(job, p, m, job.output + ".measured.nc");
  return m;
}

SelectMeasurements ed_mf_round(const SelectJob& job, const SelectProblem& p, const TrainingStart& start,
                               MPI_Comm comm) {
  const std::vector<int> chosen = meta::choose_configurations(p.train, p.memory, job.measurements, p.cap, job.rank);
  SelectMeasurements m;
  if (!start.reusing) {
    m.configs = chosen;
    m.errors = train_chosen(job, p, m.configs, job.output + ".measured.nc", "ED-MF", comm);
    m.rounds.assign(m.configs.size(), 0);
    return m;
  }
  // The earlier picks count as the first ones; the rest of this run's picks follow.
  m.configs = start.configs;
  m.errors = start.errors;
  m.rounds = start.rounds;
  std::vector<int> more;
  for (int j : chosen)
    if (m.configs.size() + more.size() < static_cast<std::size_t>(job.measurements) &&
        std::find(m.configs.begin(), m.configs.end(), j) == m.configs.end())
      more.push_back(j);
  if (more.empty()) return m;
  const int round = start.reused_rounds + 1;
  const std::vector<double> got = train_chosen(job, p, more, job.output + ".round-" + std::to_string(round) + ".nc",
                                               "ED-MF (after " + std::to_string(m.configs.size()) + " reused)", comm);
  m.configs.insert(m.configs.end(), more.begin(), more.end());
  m.errors.insert(m.errors.end(), got.begin(), got.end());
  m.rounds.insert(m.rounds.end(), more.size(), round);
  return m;
}

SelectMeasurements measurements_from_file(const SelectJob& job, const SelectProblem& p) {
  const bool ei = job.acquisition == "ei-mf";
  std::vector<int> chosen;
  if (!ei && job.measurements > 0)
    chosen = meta::choose_configurations(p.train, p.memory, job.measurements, p.cap, job.rank);
  auto pairs = job.measured;
  // ED-MF's order first (when measurements were asked for), then the file's.
  auto pos = [&](int j) {
    auto it = std::find(chosen.begin(), chosen.end(), j);
    return it == chosen.end() ? chosen.size() : static_cast<std::size_t>(it - chosen.begin());
  };
  std::stable_sort(pairs.begin(), pairs.end(), [&](const auto& a, const auto& b) { return pos(a.first) < pos(b.first); });
  SelectMeasurements m;
  for (const auto& [j, e] : pairs) {
    m.configs.push_back(j);
    m.errors.push_back(e);
    if (p.memory(j) > p.cap)
      log::warn("select: --measured gives ", p.campaign.config[j], " (", text_fixed(p.memory(j), 3),
                " MiB), above the cap of ", text_fixed(p.cap, 3), " MiB; it is used anyway");
  }
  if (!chosen.empty() && std::set<int>(chosen.begin(), chosen.end()) != std::set<int>(m.configs.begin(), m.configs.end()))
    log::warn("select: the configurations in --measured are not the ", chosen.size(), " ED-MF picks; the fit uses "
              "the file's");
  int finite = 0;
  for (double e : m.errors) finite += std::isfinite(e) ? 1 : 0;
  if (finite < 1 || (!ei && finite < job.rank))
    throw InputError("--measured " + job.measured_source + ": " + std::to_string(finite) +
                     " finite errors; at least " + std::to_string(ei ? 1 : job.rank) + " are needed");
  return m;
}

}  // namespace peppp::stage
