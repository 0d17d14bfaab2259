// peppp tasks: list the tasks a catalog declares, with files checked.
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/data/loader.hpp"

namespace peppp::app {

OptionSet tasks_options() {
  OptionSet s;
  s.command = "tasks";
  s.summary = "list the tasks a catalog declares, with files checked";
  s.usage = "peppp tasks --catalog FILE [--load]";
  s.takes_config = false;

  {
    auto& o = s.add("catalog", Kind::text, "", "path", "inputs/tasks/fashion-demo.ini", "Task catalog to list.");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("load", Kind::flag, "false", "", "true",
                    "Also read every dataset and build every task (checks file contents and that each class "
                    "has enough images for the requested sizes; prints the load time).");
    o.in_config = false;
  }
  return s;
}

namespace {

std::string classes_text(const TaskSpec& t) {
  std::string s = join(t.class_names, ",");
  return s.size() > 48 ? s.substr(0, 45) + "..." : s;
}

std::string size_text(int n) { return n == 0 ? "all" : std::to_string(n); }

}  // namespace

int run_tasks(const Options& o, MPI_Comm comm) {
  const std::string path = o.path("catalog");
  const data::Catalog cat = data::read_catalog(path);

  // Missing files first, per dataset, so a user sees them before the list.
  std::map<std::string, int> uses;
  for (const auto& t : cat.tasks) ++uses[t.dataset];
  std::size_t missing_total = 0;
  for (const auto& d : cat.datasets) {
    if (!uses.count(d.name)) continue;
    const auto files = data::dataset_files(d.kind, d.path);
    std::vector<std::string> missing;
    for (const auto* list : {&files.train, &files.test})
      for (const auto& f : *list)
        if (FILE* fp = std::fopen(f.c_str(), "rb")) std::fclose(fp); else missing.push_back(f);
    missing_total += missing.size();
    if (missing.empty())
      log::info("dataset ", d.name, " (", d.kind, ", ", d.classes, " classes): ", d.path, ": all ",
                files.train.size() + files.test.size(), " files present");
    else
      for (const auto& m : missing)
        log::warn("dataset ", d.name, " (", d.kind, ", used by ", uses[d.name], " tasks): missing file ", m);
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
  log::info("catalog ", path, ": ", cat.tasks.size(), " tasks from ", uses.size(), " dataset(s)\n",
            table.str().substr(0, table.str().size() - 1));

  if (missing_total > 0)
    throw InputError(path + ": " + std::to_string(missing_total) +
                     " dataset file(s) missing (listed above); install them or fix the dataset path");

  if (o.flag("load")) {
    data::DatasetCache cache(1);  // tasks are grouped by dataset in catalogs; keep one at a time
    std::int64_t train = 0, test = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& t : cat.tasks) {
      const auto d = data::load_task(t, cache);
      train += d.train_x.size(0);
      test += d.test_x.size(0);
      char hash[32];
      std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(data::task_hash(d)));
      log::debug("loaded ", t.name, ": ", d.train_x.size(0), " train + ", d.test_x.size(0), " test images, hash ",
                 hash);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f", secs);
    log::info("loaded all ", cat.tasks.size(), " tasks (", train, " train + ", test, " test images, ",
              cache.reads(), " dataset read(s)) in ", buf, " s");
  }
  return 0;
}

}  // namespace peppp::app
