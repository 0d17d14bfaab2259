// peppp loocv: meta-leave-one-out evaluation of the acquisition methods -> loocv.nc.
#include "commands.hpp"
#include "peppp/core/error.hpp"

namespace peppp::app {

OptionSet loocv_options() {
  OptionSet s;
  s.command = "loocv";
  s.summary = "meta-leave-one-out evaluation of the acquisition methods -> loocv.nc";
  s.usage = "peppp loocv --campaign campaign.nc --output loocv.nc [--settings I,IV] [--methods ...]";
  s.takes_config = false;

  {
    auto& o = s.add("campaign", Kind::text, "", "path", "campaign.nc", "Campaign file written by peppp measure.");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("output", Kind::text, "", "path", "loocv.nc", "LOOCV file to write.");
    o.in_config = false;
    o.required = true;
  }
  return s;
}

int run_loocv(const Options& o, MPI_Comm comm) {
  throw RuntimeError("peppp loocv is not implemented in this build yet (issue #8); "
                     "nothing was run and no file was written", true);
}

}  // namespace peppp::app
