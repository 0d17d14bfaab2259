// peppp memory: theoretical training memory of every cell (no training) -> memory.nc.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/nn/memory.hpp"

namespace peppp::app {

OptionSet memory_options() {
  OptionSet s;
  s.command = "memory";
  s.summary = "theoretical training memory of every cell (no training) -> memory.nc";
  s.usage = "peppp memory --config FILE [--output memory.nc]";
  s.takes_config = true;
  add_campaign_options(s);
  s.other_stage_sections = {"complete", "loocv", "select"};
  {
    auto& o = s.add("output", Kind::text, "", "path", "memory.nc", "Memory file to write (optional; printed otherwise).");
    o.in_config = false;
  }
  return s;
}

int run_memory(const Options& o, MPI_Comm comm) {
  // Every rank computes the same (cheap) matrix; rank 0 prints it.
  const auto catalog = data::read_catalog(o.path("campaign.tasks"));
  const auto configs = all_configurations(FloatFormat::parse_list(o.text("campaign.formats_a")),
                                          FloatFormat::parse_list(o.text("campaign.formats_b")));
  const std::string model = o.text("campaign.model");
  const int batch = static_cast<int>(o.integer("train.batch_size"));
  int rank = 0;
  MPI_Comm_rank(comm, &rank);

  std::vector<double> totals;
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "# memory model (METHOD.md F2), model %s, batch %d, MiB = 2^20 bytes\n",
                model.c_str(), batch);
  out += line;
  std::snprintf(line, sizeof line, "%-24s %-12s %12s %12s %12s %12s\n", "task", "config", "weights", "activations",
                "optimizer", "total");
  out += line;
  for (const auto& task : catalog.tasks) {
    const auto counts = nn::model_counts(model, task.num_classes(), task.channels, task.resolution);
    std::snprintf(line, sizeof line, "# %s: %d classes, %d channel(s), %d px; %lld parameters, %lld activations/sample\n",
                  task.name.c_str(), task.num_classes(), task.channels, task.resolution,
                  static_cast<long long>(counts.parameters), static_cast<long long>(counts.activations));
    out += line;
    for (const auto& c : configs) {
      const auto m = nn::memory_from_counts(counts, batch, c);
      totals.push_back(m.total);
      std::snprintf(line, sizeof line, "%-24s %-12s %12.3f %12.3f %12.3f %12.3f\n", task.name.c_str(),
                    c.label().c_str(), m.weights, m.activations, m.optimizer, m.total);
      out += line;
    }
  }
  if (!totals.empty()) {
    std::vector<double> sorted = totals;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    std::snprintf(line, sizeof line, "# %zu tasks x %zu configurations; min %.3f, median (the cap) %.3f, max %.3f MiB\n",
                  catalog.tasks.size(), configs.size(), sorted.front(), median, sorted.back());
    out += line;
  }
  if (rank == 0) std::fputs(out.c_str(), stdout);
  if (o.given("output")) {
    throw RuntimeError("--output " + o.text("output") + ": writing memory.nc is not available in this build "
                       "(the io layer has no memory writer yet); the matrix was printed only", true);
  }
  return 0;
}

}  // namespace peppp::app
