// peppp measure: train the planned (task, configuration) cells over MPI ranks -> campaign.nc.
#include "commands.hpp"
#include "peppp/core/error.hpp"

namespace peppp::app {

OptionSet measure_options() {
  OptionSet s;
  s.command = "measure";
  s.summary = "train the planned (task, configuration) cells over MPI ranks -> campaign.nc";
  s.usage = "mpirun -np N peppp measure --config FILE --output campaign.nc [--resume]";
  s.takes_config = true;
  add_campaign_options(s);
  {
    auto& o = s.add("output", Kind::text, "", "path", "campaign.nc", "Campaign file to write (NetCDF-4); its journal folder is <output>.journal/.");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("resume", Kind::flag, "false", "", "", "Resume from the journals of an interrupted run of the same plan.");
    o.in_config = false;
  }
  return s;
}

int run_measure(const Options& o, MPI_Comm comm) {
  throw RuntimeError("peppp measure is not implemented in this build yet (issue #6); "
                     "nothing was run and no file was written", true);
}

}  // namespace peppp::app
