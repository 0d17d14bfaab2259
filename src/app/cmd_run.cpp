// peppp run: measure -> complete -> loocv in one MPI job, all files in one folder.
// The stages are the ones the stand-alone commands run, given the jobs
// these options describe, so `run` and the separate commands cannot drift apart.
#include "commands.hpp"
#include "peppp/app/figures.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/stage/run.hpp"

namespace peppp::app {

namespace {

struct RunArgs {
  CampaignArgs campaign;
  LoocvArgs loocv;
  std::string dir;
  bool resume = false, restart = false, break_lock = false, figures = true;
  int complete_epoch = 0;
};

OptionSet declare(RunArgs& a) {
  OptionSet s;
  s.command = "run";
  s.summary = "measure -> complete -> loocv in one MPI job, all files in one folder";
  s.usage = "mpirun -np N peppp run --config inputs/demo.ini --output-dir DIR";
  a.campaign.declare(s);
  // The paper's practical setting: measure a uniform 20-30% sample, complete the rest.
  s.get("sampling.scheme").default_value = "uniform";
  s.get("sampling.ratio").default_value = "0.25";
  s.add("output-dir", Kind::text, "", "path", "results/demo",
        "Folder for campaign.nc, completed.nc and loocv.nc (created if missing).")
      .command_line_only().mandatory().to(a.dir);
  s.add("resume", Kind::flag, "false", "", "",
        "Resume the measurement from the journals of an interrupted run in the same folder.")
      .command_line_only().to(a.resume);
  s.add("restart", Kind::flag, "false", "", "",
        "Move the measurement's existing journal folder aside (timestamped, never deleted), and a campaign.nc "
        "with results but no journal, and start over.")
      .command_line_only().to(a.restart);
  s.add("break-lock", Kind::flag, "false", "", "",
        "Take over the campaign's lock (campaign.nc.lock) even if its holder may be alive on another host.")
      .command_line_only().to(a.break_lock);
  s.add("figures", Kind::flag, "true", "", "false",
        "Draw the figures and report.md into OUTPUT_DIR/figures with scripts/report.py (needs Python 3 "
        "with numpy, netCDF4, xarray, matplotlib).")
      .command_line_only().to(a.figures);
  s.add("complete.lambda", Kind::text, "auto", "", "0.1",
        "SoftImpute lambda of the completion: a number > 0 or 'auto' (cross-validation).");
  s.add("complete.epoch", Kind::integer, "0", "epoch", "3",
        "Complete the errors after this epoch instead of the final ones (0 = final); loocv.epoch follows it "
        "unless given (they must agree: the completion stands in for the LOOCV's unmeasured cells).")
      .at_least(0).to(a.complete_epoch);
  a.loocv.declare(s, "loocv.", true);
  s.get("loocv.settings").default_value = "I,IV";  // the paper's main-text settings
  return s;
}

}  // namespace

OptionSet run_options() {
  static RunArgs unused;
  return declare(unused);
}

int run_run(const Options& o, MPI_Comm comm) {
  RunArgs a;
  apply(declare(a), o);
  a.loocv.finish(o);
  stage::RunJob job;
  job.dir = a.dir;
  job.measure = measure_job(o, comm);
  job.measure.resume = a.resume;
  job.measure.restart = a.restart;
  job.measure.break_lock = a.break_lock;
  job.complete.lambda = lambda_value(o, "complete.lambda");
  job.complete.attributes = output_attributes(o, comm, "run: complete");
  // One epoch for both stages: the completion fills the LOOCV's unmeasured cells.
  if (o.given("complete.epoch") && !o.given("loocv.epoch")) a.loocv.epoch = a.complete_epoch;
  if (o.given("loocv.epoch") && !o.given("complete.epoch")) a.complete_epoch = a.loocv.epoch;
  if (a.complete_epoch != a.loocv.epoch)
    throw InputError("complete.epoch (" + o.source("complete.epoch") + ") = " + std::to_string(a.complete_epoch) +
                     " and loocv.epoch (" + o.source("loocv.epoch") + ") = " + std::to_string(a.loocv.epoch) +
                     "; allowed: the same epoch (the completion stands in for the LOOCV's unmeasured cells)");
  job.complete.epoch = a.complete_epoch;
  job.loocv.spec = a.loocv.spec;
  job.loocv.epoch = a.loocv.epoch;
  job.loocv.rows = a.loocv.rows;
  job.loocv.test_rows = a.loocv.test_rows;
  job.loocv.attributes = output_attributes(o, comm, "run: loocv");
  stage::run(job, comm);
  // Figures and a Markdown report (scripts/report.py) when Python and its
  // packages are there; otherwise one line saying how to get them.
  if (a.figures && par::rank(comm) == 0) {
    const FiguresResult f = draw_run_figures(a.dir);
    if (f.drawn) {
      log::info("run: ", f.message);
    } else {
      log::warn("run: no figures: ", f.message);
    }
  }
  return 0;
}

}  // namespace peppp::app
