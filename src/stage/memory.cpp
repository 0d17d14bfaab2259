// The memory stage: theoretical training memory of every cell (no training) -> matrix and memory.nc.
#include "peppp/stage/memory.hpp"

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::stage {

nn::ModelCounts task_model_counts(const std::string& model, const TaskSpec& task) {
  try {
    return nn::model_counts(model, task.num_classes(), task.channels, task.resolution);
  } catch (const InputError& e) {
    const std::string r = std::to_string(task.resolution);
    throw InputError("task '" + task.name + "' (" + std::to_string(task.num_classes()) + " classes, " +
                     std::to_string(task.channels) + "x" + r + "x" + r + " images): " + e.what());
  }
}

io::Campaign memory_matrix(const MemoryJob& job) {
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
  std::size_t cell = 0;
  for (const auto& task : job.tasks) {
    const auto counts = task_model_counts(job.model, task);
    for (const auto& c : job.configs) {
      const auto m = nn::memory_from_counts(counts, job.batch_size, c);
      mc.memory[cell] = m.total;
      mc.memory_weights[cell] = m.weights;
      mc.memory_activations[cell] = m.activations;
      mc.memory_optimizer[cell] = m.optimizer;
      ++cell;
    }
  }
  mc.text_attributes = job.attributes.text;
  mc.text_attributes["title"] = "peppp memory matrix (METHOD.md F2): no cell measured";
  mc.text_attributes["model"] = job.model;
  mc.text_attributes["memory_source"] =
      "nn memory model (METHOD.md F2): " + job.model + ", batch " + std::to_string(job.batch_size);
  mc.number_attributes = job.attributes.number;
  mc.number_attributes["batch_size"] = job.batch_size;
  return mc;
}

io::Campaign memory(const MemoryJob& job, MPI_Comm comm, const std::function<void(const io::Campaign&)>& computed) {
  // Every rank computes the same (cheap) matrix; rank 0 reports and writes it.
  io::Campaign mc = memory_matrix(job);
  if (par::rank(comm) == 0) {
    if (computed) computed(mc);
    if (!job.output.empty()) {
      io::write_campaign(job.output, mc);
      log::info("memory: wrote ", job.output);
    }
  }
  return mc;
}

}  // namespace peppp::stage
