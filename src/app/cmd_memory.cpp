// peppp memory: theoretical training memory of every cell (no training) -> memory.nc.
#include "commands.hpp"
#include "peppp/core/error.hpp"

namespace peppp::app {

OptionSet memory_options() {
  OptionSet s;
  s.command = "memory";
  s.summary = "theoretical training memory of every cell (no training) -> memory.nc";
  s.usage = "peppp memory --config FILE [--output memory.nc]";
  s.takes_config = true;
  add_campaign_options(s);
  {
    auto& o = s.add("output", Kind::text, "", "path", "memory.nc", "Memory file to write (optional; printed otherwise).");
    o.in_config = false;
  }
  return s;
}

int run_memory(const Options& o, MPI_Comm comm) {
  throw RuntimeError("peppp memory is not implemented in this build yet (issue #5); "
                     "nothing was run and no file was written", true);
}

}  // namespace peppp::app
