#include "peppp/nn/cell_runner.hpp"

#include <torch/cuda.h>

#include <mutex>

#include "peppp/data/loader.hpp"
#include "peppp/nn/trainer.hpp"

namespace peppp::nn {

namespace {
// The last task built by this process: a rank trains a task's cells one
// after another (queue order), so one entry suffices.
struct LastTask {
  std::mutex mutex;
  std::string key;
  data::TaskData data;
  TaskCacheStats stats;
};

LastTask& last_task() {
  static LastTask last;
  return last;
}

std::string task_key(const TaskSpec& t) {
  std::string k = t.name + '|' + t.dataset_kind + '|' + t.dataset_path + '|' + t.label_set + '|' +
                  std::to_string(t.resolution) + '|' + std::to_string(t.channels) + '|' +
                  std::to_string(t.train_size) + '|' + std::to_string(t.test_size) + '|' + std::to_string(t.seed);
  for (int c : t.classes) k += ',' + std::to_string(c);
  return k;
}
}  // namespace

CellResult run_cell(const TaskSpec& task, const Configuration& config, const TrainSettings& settings,
                    std::uint64_t seed, const std::string& model) {
  LastTask& last = last_task();
  std::lock_guard<std::mutex> lock(last.mutex);
  const std::string key = task_key(task);
  if (key != last.key) {
    last.data = data::load_task(task);
    last.key = key;
    ++last.stats.loads;
  } else {
    ++last.stats.hits;
  }
  return train_cell(last.data, config, settings, seed, model);
}

TaskCacheStats task_cache_stats() {
  LastTask& last = last_task();
  std::lock_guard<std::mutex> lock(last.mutex);
  return last.stats;
}

int cuda_device_count() { return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0; }

}  // namespace peppp::nn
