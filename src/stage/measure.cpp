// The measure stage: plan the campaign, train its cells over the ranks -> campaign.nc.
#include "peppp/stage/measure.hpp"

#include <cstdio>
#include <set>

#include "cell_training.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/nn/cell_runner.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/signals.hpp"
#include "peppp/stage/memory.hpp"

namespace peppp::stage {

namespace {
// The catalog task of every row (what each row trains on).
std::vector<TaskSpec> row_specs(const CampaignSpec& c) {
  std::vector<std::size_t> row_task;
  campaign_rows(c, &row_task);
  std::vector<TaskSpec> out;
  for (std::size_t t : row_task) out.push_back(c.tasks[t]);
  return out;
}
}  // namespace

std::string row_label(const std::string& task, const std::string& model, double learning_rate, bool models_vary,
                      bool rates_vary) {
  return peppp::row_label(task, model, learning_rate, models_vary, rates_vary);
}

std::vector<TaskRow> campaign_rows(const CampaignSpec& c, std::vector<std::size_t>* row_task) {
  std::vector<TaskRow> tasks;
  if (c.tasks.empty()) {
    tasks = par::synthetic_tasks(c.synthetic_tasks);
  } else {
    for (const TaskSpec& t : c.tasks) tasks.push_back(TaskRow::of(t));
  }
  const std::vector<std::string> models = c.models.empty() ? std::vector<std::string>{c.model} : c.models;
  const std::vector<double> rates = c.learning_rates.empty() ? std::vector<double>{c.train.learning_rate}
                                                             : c.learning_rates;
  if (row_task) row_task->clear();
  if (models.size() == 1 && rates.size() == 1) {
    for (std::size_t t = 0; t < tasks.size() && row_task && !c.tasks.empty(); ++t) row_task->push_back(t);
    return tasks;
  }
  std::vector<TaskRow> rows;
  for (std::size_t t = 0; t < tasks.size(); ++t)
    for (const auto& m : models)
      for (double lr : rates) {
        TaskRow r = tasks[t];
        r.task = tasks[t].name;
        r.model = m;
        r.learning_rate = lr;
        r.name = row_label(r.task, m, lr, models.size() > 1, rates.size() > 1);
        rows.push_back(r);
        if (row_task && !c.tasks.empty()) row_task->push_back(t);
      }
  return rows;
}

meta::Plan plan_campaign(const CampaignSpec& c, bool synthetic) {
  meta::PlanSpec spec;
  spec.configs = c.configs;
  std::vector<std::size_t> row_task;
  spec.tasks = campaign_rows(c, &row_task);
  if (c.tasks.empty()) {
    // Synthetic tasks without a catalog have no shape: a stand-in cost, marked as such.
    par::synthetic_memory(spec);
  } else {
    // The theoretical memory of every cell (METHOD.md F2), with each row's model: the
    // queue's cost estimate and the weights of non-uniform sampling.
    std::vector<TaskSpec> specs;
    std::vector<std::string> models;
    for (std::size_t i = 0; i < spec.tasks.size(); ++i) {
      specs.push_back(c.tasks[row_task[i]]);
      models.push_back(spec.tasks[i].expanded() ? spec.tasks[i].model : c.model);
    }
    fill_plan_memory(spec, specs, c.configs, models, c.train.batch_size);
  }
  spec.scheme = c.scheme;
  spec.ratio = c.ratio;
  spec.p_min = c.p_min;
  spec.p_max = c.p_max;
  spec.seed = c.seed;
  spec.replicates = c.replicates;
  spec.identity = c.identity + (synthetic ? "synthetic=1\n" : "");
  for (std::size_t i = 0; i < row_task.size() && !c.task_definitions.empty(); ++i)
    spec.task_definitions.push_back(c.task_definitions.at(row_task[i]));
  return meta::make_plan(std::move(spec));
}

std::vector<std::string> task_definitions(const std::vector<TaskSpec>& tasks, MPI_Comm comm) {
  std::vector<std::string> defs;
  par::agreed(
      [&] {
        if (par::rank(comm) != 0) return;
        for (const TaskSpec& t : tasks) defs.push_back(data::task_definition(t));
      },
      comm);
  par::broadcast(defs, comm);
  return defs;
}

void check_task_data(const std::vector<TaskSpec>& tasks, MPI_Comm comm) {
  par::agreed(
      [&] {
        if (par::rank(comm) != 0) return;
        for (const TaskSpec& t : tasks) {
          try {
            data::check_task_data(t);
          } catch (const InputError& e) {
            throw InputError("campaign.tasks: task '" + t.name + "' (" + t.origin + "): " + e.what());
          }
        }
      },
      comm);
}

std::map<std::string, std::string> check_models(CampaignSpec& campaign, MPI_Comm comm) {
  const std::vector<std::string> models =
      campaign.models.empty() ? std::vector<std::string>{campaign.model} : campaign.models;
  // On rank 0: identity lines, then the two attributes' values (one entry per model each).
  std::vector<std::string> lines, hashes, points;
  par::agreed(
      [&] {
        if (par::rank(comm) != 0) return;
        for (const std::string& m : models) {
          if (!nn::is_torchscript(m)) continue;
          const std::string hash = nn::model_file_hash(m);
          lines.push_back("model." + m + ".fnv1a64=" + hash);
          hashes.push_back(m + " fnv1a64=" + hash);
          std::set<std::string> shapes;
          for (const TaskSpec& t : campaign.tasks) {
            const std::string shape = std::to_string(t.channels) + "x" + std::to_string(t.resolution) + "x" +
                                      std::to_string(t.resolution) + ":" + std::to_string(t.num_classes());
            if (!shapes.insert(shape).second) continue;
            task_model_counts(m, t);  // a network that does not fit: refused naming the task and sizes
            const std::string fp = nn::model_fingerprint(m, t.num_classes(), t.channels, t.resolution);
            const std::string list = fp.substr(fp.find("#points=") + 8);
            lines.push_back("model." + m + ".points." + shape + "=" + list);
            points.push_back(m + " [" + shape + "] " + list);
          }
        }
      },
      comm);
  par::broadcast(lines, comm);
  par::broadcast(hashes, comm);
  par::broadcast(points, comm);
  for (const std::string& l : lines) campaign.identity += l + "\n";
  std::map<std::string, std::string> attributes;
  if (!hashes.empty()) attributes["model_file_hash"] = join(hashes, "; ");
  if (!points.empty()) attributes["model_points"] = join(points, "; ");
  return attributes;
}

namespace {

// The campaign's cells measured over the ranks, written to settings.output on
// the root at the stage's edge while par::measure's lock is still held (also
// when interrupted or cells failed), every rank learning whether that worked.
par::MeasureResults measure_and_write(const meta::Plan& plan, const par::CellTrainer& trainer,
                                      const par::MeasureSettings& settings, MPI_Comm comm) {
  par::MeasureResults r = par::measure(plan, trainer, settings, comm);
  par::Failure failure;
  if (par::rank(comm) == 0) {
    try {
      io::write_campaign(settings.output, r.campaign);
    } catch (const Error& e) {
      failure = par::Failure::runtime(e.what());
    }
    r.lock.reset();  // released once the output is written
  }
  par::agree(failure, comm);
  return r;
}

// The checks of a measure job that need no data: tasks, files, options.
void check_job(const MeasureJob& job, bool synthetic) {
  if (job.campaign.tasks.empty() && !synthetic)
    throw InputError("campaign.tasks: required (the task catalog)");
  if (job.campaign.tasks.empty() && job.campaign.synthetic_tasks.empty())
    throw InputError("synthetic.tasks: the task list is empty; a campaign needs at least one task");
  for (const TaskSpec& t : job.campaign.tasks) {
    const auto missing = data::missing_files(t);
    if (!missing.empty())
      throw InputError("campaign.tasks: task '" + t.name + "' (" + t.origin + "): dataset file " + missing.front() +
                       " not found");
  }
  if (job.resume && job.restart) throw InputError("--resume and --restart: give one of them, not both");
}

// Interrupted when the campaign stopped early, RuntimeError when cells failed.
void raise_unfinished(const par::MeasureSummary& s, const std::string& output) {
  if (s.interrupted || s.missing > 0)
    throw Interrupted("measure: stopped early" +
                      (par::stop_signal() ? " by signal " + std::to_string(par::stop_signal()) : std::string()) +
                      "; " + std::to_string(s.planned - s.missing) + " of " + std::to_string(s.planned) +
                      " planned cells done and written to " + output + "; rerun with --resume to finish");
  if (s.failed > 0) {
    std::string names;
    for (const auto& n : s.failed_cells) names += (names.empty() ? "" : ", ") + n;
    throw RuntimeError("measure: " + std::to_string(s.failed) + " of " + std::to_string(s.planned) +
                           " planned cells failed, also on their retry (" + names + (s.failed > 3 ? ", ..." : "") +
                           "; the warnings above say why); " + output +
                           " holds them as failed: fix the cause and rerun with --resume to train them again",
                       true);
  }
}

}  // namespace

par::MeasureResults measure_plan(const meta::Plan& plan, const par::CellTrainer& trainer,
                                 const par::MeasureSettings& settings, MPI_Comm comm) {
  par::MeasureSettings st = settings;
  st.campaign_on_every_rank = true;
  return measure_and_write(plan, trainer, st, comm);
}

par::MeasureResults measure_results(const MeasureJob& job, MPI_Comm comm) {
  const bool synthetic = job.synthetic.seconds > 0;
  check_job(job, synthetic);
  // Bad data is bad input: found here, before a cell is trained or a file created.
  if (!synthetic) check_task_data(job.campaign.tasks, comm);
  CampaignSpec campaign = job.campaign;
  // A user's network is checked before a cell is trained or a file created; its hash joins the plan.
  const std::map<std::string, std::string> model_attributes = check_models(campaign, comm);
  if (!campaign.tasks.empty()) campaign.task_definitions = task_definitions(campaign.tasks, comm);
  const meta::Plan plan = plan_campaign(campaign, synthetic);
  // par::measure checks the output, takes the lock and applies the resume rules before any work.

  par::MeasureSettings st;
  st.output = job.output;
  st.resume = job.resume;
  st.restart = job.restart;
  st.break_lock = job.break_lock;
  set_rank_resources(st, job.resources, comm);
  st.epochs = job.campaign.train.record_epochs ? job.campaign.train.epochs : 0;
  st.text_attributes = job.attributes.text;
  for (const auto& [k, v] : model_attributes) st.text_attributes[k] = v;
  if (!campaign.task_definitions.empty()) {  // what each task is, for merge's identity checks
    std::vector<std::string> names;
    for (const TaskSpec& t : campaign.tasks) names.push_back(t.name);
    st.text_attributes[io::kTaskDefinitionsAttribute] = io::encode_task_definitions(names, campaign.task_definitions);
  }
  st.number_attributes = job.attributes.number;
  if (job.resources.queue_order == "cost")
    st.cell_cost = queue_costs(campaign, plan, job.synthetic, job.resources.cost_reference);
  else if (job.resources.queue_order != "plan")
    throw InputError("run.queue_order = '" + job.resources.queue_order + "': allowed cost, plan");
  const par::CellTrainer trainer =
      synthetic ? par::synthetic_trainer(job.synthetic)
                : real_trainer(row_specs(job.campaign), job.campaign.configs, job.campaign.train, job.campaign.model);

  par::install_stop_handlers();
  log::info("measure: device ", st.device, ", ", st.threads, " thread(s) per rank, ", par::size(comm), " rank(s)",
            synthetic ? " [SYNTHETIC cells]" : "");
  par::MeasureResults r = measure_and_write(plan, trainer, st, comm);
  const par::MeasureSummary& s = r.summary;
  if (!synthetic) {
    // The task cache of each process: with the queue's row-major orders (plan order, or cost
    // order, which keeps a row's cells together) a rank builds each row's task about once
    // (more when ranks interleave rows near their boundaries).
    const nn::TaskCacheStats cache = nn::task_cache_stats();
    log::info_all("task cache: ", cache.hits + cache.loads, " cells, task data built ", cache.loads,
                  " times, reused ", cache.hits, " times");
  }
  log::info("measure: ", s.measured, " measured, ", s.diverged, " diverged, ", s.failed, " failed, ", s.missing,
            " missing of ", s.planned, " planned (", s.resumed, " from journals, ", s.trained, " trained now",
            s.retried ? ", " + std::to_string(s.retried) + " retried once" : "", ") -> ", job.output);
  raise_unfinished(s, job.output);
  return r;
}

par::MeasureSummary measure(const MeasureJob& job, MPI_Comm comm) { return measure_results(job, comm).summary; }

}  // namespace peppp::stage
