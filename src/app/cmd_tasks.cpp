// peppp tasks: list the tasks a catalog declares, with files checked.
#include <cstdio>
#include <sstream>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/data/load_check.hpp"

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

namespace {

std::string classes_text(const TaskSpec& t) {
  std::string s = join(t.class_names, ",");
  return s.size() > 48 ? s.substr(0, 45) + "..." : s;
}

std::string size_text(int n) { return n == 0 ? "all" : std::to_string(n); }

}  // namespace

int run_tasks(const Options& o, MPI_Comm comm) {
  TasksArgs a;
  apply(declare(a), o);
  const std::string& path = a.catalog;
  const data::Catalog cat = data::read_catalog(path);

  // Missing files first, per dataset, so a user sees them before the list.
  const auto checks = data::check_datasets(cat);
  std::size_t missing_total = 0;
  for (const auto& c : checks) {
    const auto& d = *c.dataset;
    missing_total += c.missing.size();
    if (c.missing.empty())
      log::info("dataset ", d.name, " (", d.kind, ", ", d.classes, " classes): ", d.path, ": all ", c.files,
                " files present");
    for (const auto& m : c.missing)
      log::warn("dataset ", d.name, " (", d.kind, ", used by ", c.tasks, " tasks): missing file ", m);
  }

  std::ostringstream table;
  char line[256];
  std::snprintf(line, sizeof line, "%-34s %-10s %7s %5s %3s %7s %6s  %s\n", "task", "dataset", "classes", "res",
                "ch", "train", "test", "class names");
  table << line;
  for (const auto& t : cat.tasks) {
    std::snprintf(line, sizeof line, "%-34s %-10s %7d %5d %3d %7s %6s  %s\n", t.name.c_str(), t.dataset.c_str(),
                  t.num_classes(), t.resolution, t.channels, size_text(t.train_size).c_str(),
                  size_text(t.test_size).c_str(), classes_text(t).c_str());
    table << line;
  }
  log::info("catalog ", path, ": ", cat.tasks.size(), " tasks from ", checks.size(), " dataset(s)\n",
            table.str().substr(0, table.str().size() - 1));

  if (missing_total > 0)
    throw InputError(path + ": " + std::to_string(missing_total) +
                     " dataset file(s) missing (listed above); install them or fix the dataset path");

  if (a.load) {
    const data::LoadReport r = data::load_all(cat);
    for (const auto& t : r.tasks) {
      char hash[32];
      std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(t.hash));
      log::debug("loaded ", t.name, ": ", t.train, " train + ", t.test, " test images, hash ", hash);
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", r.seconds);
    log::info("loaded all ", cat.tasks.size(), " tasks (", r.train, " train + ", r.test, " test images, ",
              r.dataset_reads, " dataset read(s)) in ", buf, " s");
  }
  return 0;
}

}  // namespace peppp::app
