// peppp tasks: list the tasks a catalog declares, with files checked.
#include "commands.hpp"
#include "peppp/stage/tasks.hpp"
#include "report.hpp"

namespace peppp::app {

namespace {
struct TasksArgs {
  std::string catalog;
  bool load = false;
};

OptionSet declare(TasksArgs& a) {
  OptionSet s;
  s.command = "tasks";
  s.summary = "list the tasks a catalog declares, with files checked";
  s.usage = "peppp tasks --catalog FILE [--load]";
  s.takes_config = false;

  s.add("catalog", Kind::text, "", "path", "inputs/tasks/fashion-demo.ini", "Task catalog to list.")
      .command_line_only().mandatory().to(a.catalog);
  s.add("load", Kind::flag, "false", "", "true",
        "Also read every dataset and build every task (checks file contents and that each class "
        "has enough images for the requested sizes; prints the load time).")
      .command_line_only().to(a.load);
  return s;
}
}  // namespace

OptionSet tasks_options() {
  static TasksArgs unused;
  return declare(unused);
}

int run_tasks(const Options& o, MPI_Comm comm) {
  TasksArgs a;
  apply(declare(a), o);
  const stage::TasksJob job{a.catalog, a.load};
  const stage::TasksResult r = stage::tasks(job, [&](const stage::TasksResult& listed) {
    report::tasks_listing(job.catalog, listed);
  });
  if (r.loaded) report::tasks_loaded(r);
  return 0;
}

}  // namespace peppp::app
