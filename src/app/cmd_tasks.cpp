// peppp tasks: list the tasks a catalog declares, with files checked.
#include "commands.hpp"
#include "peppp/core/error.hpp"

namespace peppp::app {

OptionSet tasks_options() {
  OptionSet s;
  s.command = "tasks";
  s.summary = "list the tasks a catalog declares, with files checked";
  s.usage = "peppp tasks --catalog FILE";
  s.takes_config = false;

  {
    auto& o = s.add("catalog", Kind::text, "", "path", "inputs/tasks/fashion-demo.ini", "Task catalog to list.");
    o.in_config = false;
    o.required = true;
  }
  return s;
}

int run_tasks(const Options& o, MPI_Comm comm) {
  throw RuntimeError("peppp tasks is not implemented in this build yet (issue #4); "
                     "nothing was run and no file was written", true);
}

}  // namespace peppp::app
