// peppp measure: train the planned (task, configuration) cells over MPI ranks -> campaign.nc.
#include <cmath>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/stage/measure.hpp"

namespace peppp::app {

namespace {

struct MeasureArgs {
  CampaignArgs campaign;
  stage::MeasureJob job;
  std::vector<std::string> row_scale;  ///< synthetic.row_scale text
};

OptionSet declare(MeasureArgs& a) {
  OptionSet s;
  s.command = "measure";
  s.summary = "train the planned (task, configuration) cells over MPI ranks -> campaign.nc";
  s.usage = "mpirun -np N peppp measure --config FILE --output campaign.nc [--resume | --restart] [--break-lock]";
  s.other_stage_sections = {"complete", "loocv", "select"};
  a.campaign.declare(s);
  // Synthetic campaigns may name their tasks without a catalog (checked in run_measure).
  s.get("campaign.tasks").mandatory(false);
  s.add("output", Kind::text, "", "path", "campaign.nc",
        "Campaign file to write (NetCDF-4); its journal folder is <output>.journal/.")
      .command_line_only().mandatory().to(a.job.output);
  s.add("resume", Kind::flag, "false", "", "",
        "Resume from the journals of an interrupted run of the same plan (measured and diverged cells kept, "
        "failed ones trained again). Without it an existing journal is refused.")
      .command_line_only().to(a.job.resume);
  s.add("restart", Kind::flag, "false", "", "",
        "Move an existing journal folder aside (<output>.journal.moved-<UTC time>, never deleted), and an output "
        "with results but no journal (<output>.moved-<UTC time>), and start over.")
      .command_line_only().to(a.job.restart);
  s.add("break-lock", Kind::flag, "false", "", "",
        "Take over the output's lock (<output>.lock) even if its holder may be alive on another host.")
      .command_line_only().to(a.job.break_lock);
  s.add("synthetic.seconds", Kind::real, "0", "s", "0.2",
        "Synthetic campaign (tests, scaling runs): each cell sleeps about this long and returns a fake "
        "error hashed from its seed; 0 = real training. The output is marked synthetic = 1.")
      .at_least(0).to(a.job.synthetic.seconds);
  s.add("synthetic.spread", Kind::real, "0.5", "fraction", "0.5",
        "Synthetic cells: time = seconds * (1 + spread * (2u - 1)), u uniform per cell (heterogeneous cells).")
      .at_least(0).at_most(0.99).to(a.job.synthetic.spread);
  s.add("synthetic.fail_fraction", Kind::real, "0", "fraction", "0.1",
        "Synthetic cells: fraction that raise an error (recorded as failed).")
      .at_least(0).at_most(1).to(a.job.synthetic.fail_fraction);
  s.add("synthetic.diverge_fraction", Kind::real, "0", "fraction", "0.1",
        "Synthetic cells: fraction reported as diverged.").at_least(0).at_most(1).to(a.job.synthetic.diverge_fraction);
  s.add("synthetic.spin", Kind::flag, "false", "", "true", "Synthetic cells busy-wait instead of sleeping.")
      .to(a.job.synthetic.spin);
  s.add("synthetic.tasks", Kind::list, "", "", "a,b,c",
        "Synthetic cells: plain task names used instead of a task catalog.").to(a.campaign.spec.synthetic_tasks);
  s.add("synthetic.row_scale", Kind::list, "", "", "1,2.2,8",
        "Synthetic cells of mixed cost: row t's cells take row_scale[t mod n] times longer (numbers > 0; "
        "e.g. 14 px, 28 px and vit-tiny rows); empty = every row alike.")
      .to(a.row_scale);
  return s;
}

}  // namespace

OptionSet measure_options() {
  static MeasureArgs unused;
  return declare(unused);
}

/// The measure job the options describe: campaign keys, output, synthetic
/// cells, and the provenance of the output file.
stage::MeasureJob measure_job(const Options& o, MPI_Comm comm) {
  MeasureArgs a;
  apply(declare(a), o);
  const bool synthetic = a.job.synthetic.seconds > 0;
  if (!synthetic && o.given("synthetic.tasks"))
    throw InputError("synthetic.tasks (" + o.source("synthetic.tasks") +
                     ") names tasks for synthetic cells only; give --synthetic.seconds S (> 0) too, or use "
                     "campaign.tasks");
  if (synthetic && o.given("synthetic.tasks")) {
    if (a.campaign.spec.synthetic_tasks.empty())
      throw InputError("synthetic.tasks (" + o.source("synthetic.tasks") +
                       "): the task list is empty; a campaign needs at least one task");
  } else if (!o.given("campaign.tasks")) {
    throw InputError("campaign.tasks: required (the task catalog)" +
                     std::string(synthetic ? "; or name tasks with synthetic.tasks" : ""));
  }
  for (const auto& text : a.row_scale) {
    double v = 0;
    if (!parse_double(text, v) || !(v > 0) || !std::isfinite(v))
      throw InputError("synthetic.row_scale (" + o.source("synthetic.row_scale") + "): value '" + text +
                       "' is not allowed; allowed: comma-separated numbers > 0");
    a.job.synthetic.row_scale.push_back(v);
  }
  a.campaign.finish(o, !(synthetic && o.given("synthetic.tasks")));
  a.job.campaign = a.campaign.spec;
  a.job.resources = a.campaign.resources;
  a.job.synthetic.epochs = a.campaign.spec.train.record_epochs ? a.campaign.spec.train.epochs : 0;

  // ---- provenance and configuration as global attributes
  stage::Attributes& at = a.job.attributes;
  at = output_attributes(o, comm, "measure");
  at.text["campaign_name"] = a.campaign.spec.name + (synthetic ? " [SYNTHETIC]" : "");
  const stage::CampaignSpec& cs = a.campaign.spec;
  at.text["model"] = cs.models.empty() ? cs.model : join(cs.models, ",");  // per row: row_model
  if (!o.config_file().empty()) at.text["config_file"] = o.config_file();
  const TrainSettings& t = a.campaign.spec.train;
  at.number["epochs"] = t.epochs;
  at.number["batch_size"] = t.batch_size;
  if (cs.learning_rates.empty()) {
    at.number["learning_rate"] = t.learning_rate;
  } else {  // per row: row_learning_rate
    at.text["learning_rates"] = join_g(cs.learning_rates, ",");
  }
  at.number["momentum"] = t.momentum;
  at.number["weight_decay"] = t.weight_decay;
  at.text["lr_schedule"] = t.cosine_schedule ? "cosine" : "constant";
  at.number["synthetic"] = synthetic ? 1 : 0;
  if (synthetic) {
    at.text["title"] = "SYNTHETIC peppp campaign: timed dummy cells with fake errors, not measurements";
    at.number["synthetic_seconds"] = a.job.synthetic.seconds;
  }
  return a.job;
}

int run_measure(const Options& o, MPI_Comm comm) {
  stage::measure(measure_job(o, comm), comm);
  return 0;
}

}  // namespace peppp::app
