// peppp run: measure -> complete -> loocv in one MPI job, all files in one folder.
#include "commands.hpp"
#include "peppp/core/error.hpp"

namespace peppp::app {

OptionSet run_options() {
  OptionSet s;
  s.command = "run";
  s.summary = "measure -> complete -> loocv in one MPI job, all files in one folder";
  s.usage = "peppp run --config inputs/demo.ini --output-dir DIR";
  s.takes_config = true;
  add_campaign_options(s);
  {
    auto& o = s.add("output-dir", Kind::text, "", "path", "results/demo", "Folder for campaign.nc, completed.nc, loocv.nc and figures.");
    o.in_config = false;
    o.required = true;
  }
  return s;
}

int run_run(const Options& o, MPI_Comm comm) {
  throw RuntimeError("peppp run is not implemented in this build yet (issue #8); "
                     "nothing was run and no file was written", true);
}

}  // namespace peppp::app
