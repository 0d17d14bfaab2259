// peppp complete: complete the error matrix with SoftImpute -> completed.nc.
#include "commands.hpp"
#include "peppp/core/error.hpp"

namespace peppp::app {

OptionSet complete_options() {
  OptionSet s;
  s.command = "complete";
  s.summary = "complete the error matrix with SoftImpute -> completed.nc";
  s.usage = "peppp complete --campaign campaign.nc --output completed.nc [--lambda L|auto] [--rank K]";
  s.takes_config = false;

  {
    auto& o = s.add("campaign", Kind::text, "", "path", "campaign.nc", "Campaign file written by peppp measure.");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("output", Kind::text, "", "path", "completed.nc", "Completion file to write.");
    o.in_config = false;
    o.required = true;
  }
  return s;
}

int run_complete(const Options& o, MPI_Comm comm) {
  throw RuntimeError("peppp complete is not implemented in this build yet (issue #7); "
                     "nothing was run and no file was written", true);
}

}  // namespace peppp::app
