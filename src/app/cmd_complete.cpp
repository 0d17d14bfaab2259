// peppp complete: complete the error matrix with SoftImpute -> completed.nc.
#include "commands.hpp"
#include "peppp/stage/complete.hpp"

namespace peppp::app {

namespace {

struct CompleteArgs {
  stage::CompleteJob job;
  std::string weights;
};

OptionSet declare(CompleteArgs& a) {
  OptionSet s;
  s.command = "complete";
  s.summary = "complete the error matrix with SoftImpute -> completed.nc";
  s.usage = "peppp complete --campaign campaign.nc --output completed.nc [--lambda L|auto] [--weights auto|none] [--epoch E]";
  s.takes_config = false;
  s.add("campaign", Kind::text, "", "path", "campaign.nc", "Campaign file written by peppp measure.")
      .command_line_only().mandatory().to(a.job.campaign);
  s.add("output", Kind::text, "", "path", "completed.nc", "Completion file to write.")
      .command_line_only().mandatory().to(a.job.output);
  s.add("lambda", Kind::text, "auto", "", "0.1",
        "SoftImpute lambda: a number > 0, or 'auto' (5-fold CV over 0.03 ... 10, METHOD.md F3.5).")
      .command_line_only();
  s.add("weights", Kind::choice, "auto", "", "none",
        "Inverse-probability weights (F4.3): auto = when the campaign's plan was non-uniform; none = plain.")
      .command_line_only().one_of({"auto", "none"}).to(a.weights);
  s.add("sweep", Kind::flag, "true", "", "false",
        "For a fully measured campaign, also run the 5%-50% sampling-ratio sweep (the paper's Figure 10).")
      .command_line_only().to(a.job.sweep);
  s.add("seed", Kind::integer, "1", "", "7", "Seed of the CV folds and the sweep's masks.")
      .command_line_only().at_least(0).to(a.job.seed);
  s.add("epoch", Kind::integer, "0", "epoch", "3",
        "Complete the errors after this epoch (the campaign's per-epoch record) instead of the final ones; "
        "0 = final. Written as attribute epoch_used; loocv --completed needs the same --epoch.")
      .command_line_only().at_least(0).to(a.job.epoch);
  return s;
}

}  // namespace

OptionSet complete_options() {
  static CompleteArgs unused;
  return declare(unused);
}

int run_complete(const Options& o, MPI_Comm comm) {
  CompleteArgs a;
  apply(declare(a), o);
  a.job.lambda = lambda_value(o, "lambda");
  a.job.weights_auto = a.weights == "auto";
  a.job.attributes = output_attributes(o, comm, "complete");
  stage::complete(a.job, comm);
  return 0;
}

}  // namespace peppp::app
