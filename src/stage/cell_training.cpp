// Shared by measure and select: the memory of planned cells and the real cell trainer.
#include "cell_training.hpp"
#include "peppp/stage/select.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/nn/cell_runner.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/par/device.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/stage/memory.hpp"

namespace peppp::stage {

std::vector<double> task_memory(const TaskSpec& task, const std::vector<Configuration>& configs,
                                const std::string& model, int batch_size) {
  const auto counts = task_model_counts(model, task);
  std::vector<double> out;
  out.reserve(configs.size());
  for (const auto& c : configs) out.push_back(nn::memory_from_counts(counts, batch_size, c).total);
  return out;
}

void fill_plan_memory(meta::PlanSpec& spec, const std::vector<TaskSpec>& tasks,
                      const std::vector<Configuration>& configs, const std::vector<std::string>& models,
                      int batch_size) {
  const std::size_t d = configs.size();
  for (auto* v : {&spec.memory, &spec.memory_weights, &spec.memory_activations, &spec.memory_optimizer})
    v->assign(tasks.size() * d, 0.0);
  std::vector<std::string> distinct;
  for (std::size_t t = 0; t < tasks.size(); ++t) {
    const std::string& model = models.at(t);
    if (std::find(distinct.begin(), distinct.end(), model) == distinct.end()) distinct.push_back(model);
    const auto counts = task_model_counts(model, tasks[t]);
    for (std::size_t c = 0; c < d; ++c) {
      const auto m = nn::memory_from_counts(counts, batch_size, configs[c]);
      const std::size_t i = t * d + c;
      spec.memory[i] = m.total;
      spec.memory_weights[i] = m.weights;
      spec.memory_activations[i] = m.activations;
      spec.memory_optimizer[i] = m.optimizer;
    }
  }
  std::string names;
  for (const auto& m : distinct) names += (names.empty() ? "" : ", ") + m;
  spec.memory_source = "nn memory model (METHOD.md F2): " + names + ", batch " + std::to_string(batch_size);
}

void fill_plan_memory(meta::PlanSpec& spec, const std::vector<TaskSpec>& tasks,
                      const std::vector<Configuration>& configs, const std::string& model, int batch_size) {
  fill_plan_memory(spec, tasks, configs, std::vector<std::string>(tasks.size(), model), batch_size);
}

par::CellTrainer real_trainer(std::vector<TaskSpec> tasks, std::vector<Configuration> configs, TrainSettings train,
                              std::string model) {
  return [tasks = std::move(tasks), configs = std::move(configs), train, model = std::move(model)](
             const par::CellWork& w) {
    TrainSettings ts = train;
    ts.device = w.device;
    ts.threads = w.threads;
    ts.should_stop = w.should_stop;
    const bool own = w.task_row && w.task_row->expanded();
    if (own) ts.learning_rate = w.task_row->learning_rate;
    // A failed cell comes back as such (the driver records and reports it).
    const CellResult r = nn::run_cell(tasks.at(static_cast<std::size_t>(w.task)),
                                      configs.at(static_cast<std::size_t>(w.config)), ts, w.seed,
                                    own ? w.task_row->model : model);
    if (r.status == CellStatus::diverged)
      log::info_all("cell ", w.task_row->name, " ", w.configuration->label(), ": ", r.message);
    return r;
  };
}

void set_rank_resources(par::MeasureSettings& st, const Resources& resources, MPI_Comm comm) {
  const auto local = par::local_rank(comm);
  st.device = par::select_device(resources.device, local.rank, nn::cuda_device_count());
  st.progress_interval_s = resources.progress_interval_s;
  st.threads = par::select_threads(resources.threads, std::getenv("SLURM_CPUS_PER_TASK"),
                                   static_cast<int>(std::thread::hardware_concurrency()), local.size);
  // Where each rank runs (one line per rank): the node, its rank among the
  // node's ranks (MPI_COMM_TYPE_SHARED), the device that rank takes from it.
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  const char* cvd = std::getenv("CUDA_VISIBLE_DEVICES");
  log::info_all("placement: host ", host, ", node-local rank ", local.rank, " of ", local.size, ", device ",
                st.device, ", CUDA_VISIBLE_DEVICES=", cvd ? cvd : "(unset)", ", ", st.threads, " thread(s)");
  // mpirun hands ranks a pseudo-terminal even when its own output is a file:
  // under a launcher, print one line per update.
  st.terminal = ::isatty(1) != 0 && !std::getenv("OMPI_COMM_WORLD_SIZE") && !std::getenv("PMI_SIZE") &&
                !std::getenv("SLURM_JOB_ID");
}

}  // namespace peppp::stage
