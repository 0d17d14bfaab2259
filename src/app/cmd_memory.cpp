// peppp memory: theoretical training memory of every cell (no training) -> memory.nc.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/par/mpi_session.hpp"

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
    auto& o = s.add("output", Kind::text, "", "path", "memory.nc", "Also write the matrix to this file (campaign.nc schema, nothing measured: error NaN, status 0).");
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
  const int rank = par::rank(comm);

  // The matrix in the campaign.nc schema (no cell measured: error NaN, status
  // 0), so `peppp info`, scripts/plot_memory.py and xarray read it as they
  // read a campaign.
  io::Campaign mc;
  for (const auto& t : catalog.tasks) {
    mc.task.push_back(t.name);
  }
  for (const auto& c : configs) mc.config.push_back(c.label());
  mc.allocate();
  for (std::size_t j = 0; j < configs.size(); ++j) {
    mc.a_exponent_bits[j] = configs[j].a.exponent_bits();
    mc.a_mantissa_bits[j] = configs[j].a.mantissa_bits();
    mc.b_exponent_bits[j] = configs[j].b.exponent_bits();
    mc.b_mantissa_bits[j] = configs[j].b.mantissa_bits();
  }
  for (std::size_t i = 0; i < catalog.tasks.size(); ++i) {
    const auto& t = catalog.tasks[i];
    mc.task_dataset[i] = t.dataset;
    mc.task_classes[i] = t.num_classes();
    mc.task_resolution[i] = t.resolution;
    mc.task_train_size[i] = t.train_size;
    mc.task_test_size[i] = t.test_size;
  }
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
      const std::size_t cell = totals.size() - 1;
      mc.memory[cell] = m.total;
      mc.memory_weights[cell] = m.weights;
      mc.memory_activations[cell] = m.activations;
      mc.memory_optimizer[cell] = m.optimizer;
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
  if (o.given("output") && rank == 0) {
    mc.text_attributes = io::provenance(o.command_line(), par::size(comm));
    for (const auto& [k, v] : o.values()) mc.text_attributes["option." + k] = v;
    mc.text_attributes["title"] = "peppp memory matrix (METHOD.md F2): no cell measured";
    mc.text_attributes["model"] = model;
    mc.text_attributes["memory_source"] = "nn memory model (METHOD.md F2): " + model + ", batch " + std::to_string(batch);
    mc.number_attributes["batch_size"] = batch;
    io::write_campaign(o.path("output"), mc);
    log::info("memory: wrote ", o.path("output"));
  }
  return 0;
}

}  // namespace peppp::app
