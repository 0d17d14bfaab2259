// peppp select: meta-test: pick, train and predict configurations for a new task -> selection.nc.
#include "commands.hpp"
#include "peppp/core/error.hpp"

namespace peppp::app {

OptionSet select_options() {
  OptionSet s;
  s.command = "select";
  s.summary = "meta-test: pick, train and predict configurations for a new task -> selection.nc";
  s.usage = "peppp select --campaign campaign.nc --task SPEC --budget MiB --measurements N --output selection.nc";
  s.takes_config = false;

  {
    auto& o = s.add("campaign", Kind::text, "", "path", "campaign.nc", "Campaign file written by peppp measure.");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("output", Kind::text, "", "path", "selection.nc", "Selection file to write.");
    o.in_config = false;
    o.required = true;
  }
  return s;
}

int run_select(const Options& o, MPI_Comm comm) {
  throw RuntimeError("peppp select is not implemented in this build yet (issue #8); "
                     "nothing was run and no file was written", true);
}

}  // namespace peppp::app
