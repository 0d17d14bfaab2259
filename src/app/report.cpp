// The tables and summaries the commands print (report.hpp).
#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/nn/memory.hpp"

namespace peppp::app::report {

namespace {

std::string classes_text(const TaskSpec& t) {
  std::string s = join(t.class_names, ",");
  return s.size() > 48 ? s.substr(0, 45) + "..." : s;
}

std::string size_text(int n) { return n == 0 ? "all" : std::to_string(n); }

}  // namespace

void help(const std::string& text) { std::cout << text << std::flush; }

void memory_table(const stage::MemoryJob& job, const io::Campaign& m) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "# memory model (METHOD.md F2), model %s, batch %d, MiB = 2^20 bytes\n",
                job.model.c_str(), job.batch_size);
  out += line;
  std::snprintf(line, sizeof line, "%-24s %-12s %12s %12s %12s %12s\n", "task", "config", "weights", "activations",
                "optimizer", "total");
  out += line;
  std::size_t cell = 0;
  for (const auto& task : job.tasks) {
    const auto counts = nn::model_counts(job.model, task.num_classes(), task.channels, task.resolution);
    std::snprintf(line, sizeof line, "# %s: %d classes, %d channel(s), %d px; %lld parameters, %lld activations/sample\n",
                  task.name.c_str(), task.num_classes(), task.channels, task.resolution,
                  static_cast<long long>(counts.parameters), static_cast<long long>(counts.activations));
    out += line;
    for (const auto& c : job.configs) {
      std::snprintf(line, sizeof line, "%-24s %-12s %12.3f %12.3f %12.3f %12.3f\n", task.name.c_str(),
                    c.label().c_str(), m.memory_weights[cell], m.memory_activations[cell], m.memory_optimizer[cell],
                    m.memory[cell]);
      out += line;
      ++cell;
    }
  }
  if (!m.memory.empty()) {
    std::vector<double> sorted = m.memory;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    std::snprintf(line, sizeof line, "# %zu tasks x %zu configurations; min %.3f, median (the cap) %.3f, max %.3f MiB\n",
                  job.tasks.size(), job.configs.size(), sorted.front(), median, sorted.back());
    out += line;
  }
  std::fputs(out.c_str(), stdout);
}

void tasks_listing(const std::string& catalog, const stage::TasksResult& r) {
  // Missing files first, per dataset, so a user sees them before the list.
  for (const auto& c : r.checks) {
    const auto& d = *c.dataset;
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
  for (const auto& t : r.catalog.tasks) {
    std::snprintf(line, sizeof line, "%-34s %-10s %7d %5d %3d %7s %6s  %s\n", t.name.c_str(), t.dataset.c_str(),
                  t.num_classes(), t.resolution, t.channels, size_text(t.train_size).c_str(),
                  size_text(t.test_size).c_str(), classes_text(t).c_str());
    table << line;
  }
  log::info("catalog ", catalog, ": ", r.catalog.tasks.size(), " tasks from ", r.checks.size(), " dataset(s)\n",
            table.str().substr(0, table.str().size() - 1));
}

void tasks_loaded(const stage::TasksResult& r) {
  for (const auto& t : r.load.tasks) {
    char hash[32];
    std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(t.hash));
    log::debug("loaded ", t.name, ": ", t.train, " train + ", t.test, " test images, hash ", hash);
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", r.load.seconds);
  log::info("loaded all ", r.catalog.tasks.size(), " tasks (", r.load.train, " train + ", r.load.test,
            " test images, ", r.load.dataset_reads, " dataset read(s)) in ", buf, " s");
}

void quantize_summary(const stage::QuantizeResult& r) {
  std::printf("quantize: format=%s rounding=%s elements=%zu saturated=%zu flushed_to_zero=%zu nan=%zu\n",
              r.format.label().c_str(), label(r.rounding).c_str(), r.summary.elements, r.summary.saturated,
              r.summary.flushed_to_zero, r.summary.nan);
  std::fflush(stdout);
}

void merge_summary(const stage::MergeJob& job, const stage::MergeResult& r) {
  log::info("merge: wrote ", job.output, ": ", r.rows, " rows (", r.combined_rows,
            " combined from several inputs) x ", r.configs, " configurations, ", r.replicates,
            " replicate(s) per cell, from ", r.inputs, " campaigns");
}

}  // namespace peppp::app::report
