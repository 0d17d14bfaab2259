// The memory stage: theoretical training memory of every cell (no training) -> table and memory.nc.
#include "peppp/stage/memory.hpp"

#include <algorithm>
#include <cstdio>

#include "peppp/core/log.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::stage {

namespace {

// The matrix and, line by line, the table that `memory` prints.
io::Campaign matrix_and_table(const MemoryJob& job, std::string* table) {
  // The matrix in the campaign.nc schema (no cell measured: error NaN, status
  // 0), so `peppp info`, scripts/plot_memory.py and xarray read it as they
  // read a campaign.
  io::Campaign mc;
  for (const auto& t : job.tasks) mc.task.push_back(t.name);
  io::set_configurations(mc, job.configs);  // labels, bit columns (and block columns for named formats)
  mc.allocate();
  for (std::size_t i = 0; i < job.tasks.size(); ++i) {
    const auto& t = job.tasks[i];
    mc.task_dataset[i] = t.dataset;
    mc.task_classes[i] = t.num_classes();
    mc.task_resolution[i] = t.resolution;
    mc.task_train_size[i] = t.train_size;
    mc.task_test_size[i] = t.test_size;
  }
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
      const auto m = nn::memory_from_counts(counts, job.batch_size, c);
      mc.memory[cell] = m.total;
      mc.memory_weights[cell] = m.weights;
      mc.memory_activations[cell] = m.activations;
      mc.memory_optimizer[cell] = m.optimizer;
      ++cell;
      std::snprintf(line, sizeof line, "%-24s %-12s %12.3f %12.3f %12.3f %12.3f\n", task.name.c_str(),
                    c.label().c_str(), m.weights, m.activations, m.optimizer, m.total);
      out += line;
    }
  }
  if (!mc.memory.empty()) {
    std::vector<double> sorted = mc.memory;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    std::snprintf(line, sizeof line, "# %zu tasks x %zu configurations; min %.3f, median (the cap) %.3f, max %.3f MiB\n",
                  job.tasks.size(), job.configs.size(), sorted.front(), median, sorted.back());
    out += line;
  }
  mc.text_attributes = job.attributes.text;
  mc.text_attributes["title"] = "peppp memory matrix (METHOD.md F2): no cell measured";
  mc.text_attributes["model"] = job.model;
  mc.text_attributes["memory_source"] =
      "nn memory model (METHOD.md F2): " + job.model + ", batch " + std::to_string(job.batch_size);
  mc.number_attributes = job.attributes.number;
  mc.number_attributes["batch_size"] = job.batch_size;
  if (table) *table = out;
  return mc;
}

}  // namespace

io::Campaign memory_matrix(const MemoryJob& job) { return matrix_and_table(job, nullptr); }

io::Campaign memory(const MemoryJob& job, MPI_Comm comm) {
  // Every rank computes the same (cheap) matrix; rank 0 prints and writes it.
  std::string table;
  io::Campaign mc = matrix_and_table(job, &table);
  if (par::rank(comm) == 0) {
    std::fputs(table.c_str(), stdout);
    if (!job.output.empty()) {
      io::write_campaign(job.output, mc);
      log::info("memory: wrote ", job.output);
    }
  }
  return mc;
}

}  // namespace peppp::stage
