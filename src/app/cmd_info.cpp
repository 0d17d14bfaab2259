// peppp info: human summary of any peppp NetCDF file.
#include "commands.hpp"
#include "peppp/core/error.hpp"

namespace peppp::app {

OptionSet info_options() {
  OptionSet s;
  s.command = "info";
  s.summary = "human summary of any peppp NetCDF file";
  s.usage = "peppp info FILE.nc";
  s.takes_config = false;

  {
    auto& o = s.add("file", Kind::text, "", "path", "campaign.nc", "peppp NetCDF file to summarise.");
    o.in_config = false;
    o.required = true;
    o.positional = true;
  }
  return s;
}

int run_info(const Options& o, MPI_Comm comm) {
  throw RuntimeError("peppp info is not implemented in this build yet (issue #6); "
                     "nothing was run and no file was written", true);
}

}  // namespace peppp::app
