// peppp measure: train the planned (task, configuration) cells over MPI ranks -> campaign.nc.
#include "cell_training.hpp"
#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/core/task.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/par/measure.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/signals.hpp"
#include "peppp/par/synthetic.hpp"

namespace peppp::app {

OptionSet measure_options() {
  OptionSet s;
  s.command = "measure";
  s.summary = "train the planned (task, configuration) cells over MPI ranks -> campaign.nc";
  s.usage = "mpirun -np N peppp measure --config FILE --output campaign.nc [--resume]";
  s.takes_config = true;
  add_campaign_options(s);
  s.other_stage_sections = {"complete", "loocv", "select"};
  // Synthetic campaigns may name their tasks without a catalog (checked in run_measure).
  for (auto& spec : s.specs)
    if (spec.key == "campaign.tasks") spec.required = false;
  {
    auto& o = s.add("output", Kind::text, "", "path", "campaign.nc", "Campaign file to write (NetCDF-4); its journal folder is <output>.journal/.");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("resume", Kind::flag, "false", "", "", "Resume from the journals of an interrupted run of the same plan.");
    o.in_config = false;
  }
  s.add("synthetic.seconds", Kind::real, "0", "s", "0.2",
        "Synthetic campaign (tests, scaling runs): each cell sleeps about this long and returns a fake "
        "error hashed from its seed; 0 = real training. The output is marked synthetic = 1.")
      .min = 0;
  {
    auto& o = s.add("synthetic.spread", Kind::real, "0.5", "fraction", "0.5",
                    "Synthetic cells: time = seconds * (1 + spread * (2u - 1)), u uniform per cell (heterogeneous cells).");
    o.min = 0;
    o.max = 0.99;
  }
  {
    auto& o = s.add("synthetic.fail_fraction", Kind::real, "0", "fraction", "0.1",
                    "Synthetic cells: fraction that raise an error (recorded as failed).");
    o.min = 0;
    o.max = 1;
  }
  {
    auto& o = s.add("synthetic.diverge_fraction", Kind::real, "0", "fraction", "0.1",
                    "Synthetic cells: fraction reported as diverged.");
    o.min = 0;
    o.max = 1;
  }
  s.add("synthetic.spin", Kind::flag, "false", "", "true", "Synthetic cells busy-wait instead of sleeping.");
  s.add("synthetic.tasks", Kind::list, "", "", "a,b,c",
        "Synthetic cells: plain task names used instead of a task catalog.");
  return s;
}

namespace {

std::vector<Configuration> configurations(const Options& o) {
  auto parse = [&](const std::string& key) {
    std::vector<FloatFormat> out;
    for (const auto& label : o.list(key)) {
      try {
        out.push_back(FloatFormat::parse(label));
      } catch (const InputError& e) {
        throw InputError(key + " (" + o.source(key) + "): " + e.what());
      }
    }
    if (out.empty()) throw InputError(key + " (" + o.source(key) + "): the format list is empty");
    return out;
  };
  return all_configurations(parse("campaign.formats_a"), parse("campaign.formats_b"));
}

// Everything besides tasks, configurations and sampling that decides a
// cell's result: a journal made with other values belongs to another plan.
std::string identity(const Options& o, bool synthetic) {
  std::string id;
  for (const auto& [k, v] : o.values()) {
    const bool relevant = k == "campaign.model" || starts_with(k, "train.") ||
                          (starts_with(k, "synthetic.") && k != "synthetic.spin" && k != "synthetic.tasks");
    if (relevant) id += k + "=" + v + "\n";
  }
  return id + (synthetic ? "synthetic=1\n" : "");
}

}  // namespace

int run_measure(const Options& o, MPI_Comm comm) {
  const double synthetic_s = o.real("synthetic.seconds");
  const bool synthetic = synthetic_s > 0;
  const int nranks = par::size(comm);

  // ---- everything checked on every rank before any work (identical inputs -> identical decisions)
  if (!synthetic && o.given("synthetic.tasks"))
    throw InputError("synthetic.tasks (" + o.source("synthetic.tasks") +
                     ") names tasks for synthetic cells only; give --synthetic.seconds S (> 0) too, or use "
                     "campaign.tasks");
  meta::PlanSpec spec;
  const std::vector<Configuration> configs = configurations(o);
  spec.configs = configs;
  std::vector<TaskSpec> task_specs;
  if (synthetic && o.given("synthetic.tasks")) {
    spec.tasks = par::synthetic_tasks(o.list("synthetic.tasks"));
    if (spec.tasks.empty())
      throw InputError("synthetic.tasks (" + o.source("synthetic.tasks") +
                       "): the task list is empty; a campaign needs at least one task");
  } else if (!o.given("campaign.tasks")) {
    throw InputError("campaign.tasks: required (the task catalog)" +
                     std::string(synthetic ? "; or name tasks with synthetic.tasks" : ""));
  } else {
    const std::string catalog = o.path("campaign.tasks");
    for (const TaskSpec& t : data::read_catalog(catalog).tasks) {
      const auto missing = data::missing_files(t);
      if (!missing.empty())
        throw InputError("campaign.tasks = '" + catalog + "': task '" + t.name + "' (" + t.origin +
                         "): dataset file " + missing.front() + " not found");
      spec.tasks.push_back(TaskRow::of(t));
      task_specs.push_back(t);
    }
    if (spec.tasks.empty())
      throw InputError("campaign.tasks = '" + catalog + "': the catalog declares no task");
  }
  const std::string model = o.text("campaign.model");
  const TrainSettings train = train_settings(o);
  if (task_specs.empty()) {
    // Synthetic tasks without a catalog have no shape: a stand-in cost, marked as such.
    par::synthetic_memory(spec);
  } else {
    // The theoretical memory of every cell (METHOD.md F2): the queue's cost
    // estimate and the weights of non-uniform sampling.
    fill_plan_memory(spec, task_specs, configs, model, train.batch_size);
  }
  spec.scheme = meta::parse_scheme(o.text("sampling.scheme"));
  spec.ratio = o.real("sampling.ratio");
  spec.p_min = o.real("sampling.p_min");
  spec.p_max = o.real("sampling.p_max");
  spec.seed = static_cast<std::uint64_t>(o.integer("campaign.seed"));
  spec.identity = identity(o, synthetic);
  const meta::Plan plan = meta::make_plan(std::move(spec));

  const std::string output = o.path("output");
  par::check_outputs(plan, output, comm);

  par::MeasureSettings st;
  st.output = output;
  st.resume = o.flag("resume");
  set_rank_resources(st, o.text("run.device"), static_cast<int>(o.integer("run.threads")), comm);
  st.progress_interval_s = o.real("run.progress_interval");

  par::CellTrainer trainer;
  if (synthetic) {
    par::SyntheticSpec ss;
    ss.seconds = synthetic_s;
    ss.spread = o.real("synthetic.spread");
    ss.fail_fraction = o.real("synthetic.fail_fraction");
    ss.diverge_fraction = o.real("synthetic.diverge_fraction");
    ss.spin = o.flag("synthetic.spin");
    trainer = par::synthetic_trainer(ss);
  } else {
    trainer = real_trainer(task_specs, configs, train, model);
  }

  // ---- provenance and configuration as global attributes
  st.text_attributes = io::provenance(o.command_line(), nranks);
  for (const auto& [k, v] : o.values()) st.text_attributes["option." + k] = v;
  st.text_attributes["campaign_name"] = o.text("campaign.name") + (synthetic ? " [SYNTHETIC]" : "");
  st.text_attributes["model"] = o.text("campaign.model");
  if (!o.config_file().empty()) st.text_attributes["config_file"] = o.config_file();
  st.number_attributes["epochs"] = static_cast<double>(o.integer("train.epochs"));
  st.number_attributes["batch_size"] = static_cast<double>(o.integer("train.batch_size"));
  st.number_attributes["learning_rate"] = o.real("train.learning_rate");
  st.number_attributes["momentum"] = o.real("train.momentum");
  st.number_attributes["weight_decay"] = o.real("train.weight_decay");
  st.number_attributes["synthetic"] = synthetic ? 1 : 0;
  if (synthetic) {
    st.text_attributes["title"] = "SYNTHETIC peppp campaign: timed dummy cells with fake errors, not measurements";
    st.number_attributes["synthetic_seconds"] = synthetic_s;
  }

  par::install_stop_handlers();
  log::info("measure: device ", st.device, ", ", st.threads, " thread(s) per rank, ", nranks, " rank(s)",
            synthetic ? " [SYNTHETIC cells]" : "");
  const par::MeasureSummary s = par::measure(plan, trainer, st, comm);
  log::info("measure: ", s.measured, " measured, ", s.diverged, " diverged, ", s.failed, " failed, ", s.missing,
            " missing of ", s.planned, " planned (", s.resumed, " from journals, ", s.trained, " trained now) -> ",
            output);
  if (s.interrupted || s.missing > 0)
    throw Interrupted("measure: stopped early" +
                      (par::stop_signal() ? " by signal " + std::to_string(par::stop_signal()) : std::string()) +
                      "; " + std::to_string(s.planned - s.missing) + " of " + std::to_string(s.planned) +
                      " planned cells done and written to " + output + "; rerun with --resume to finish");
  return 0;
}

}  // namespace peppp::app
