// The tasks stage: a catalog's tasks, their dataset files checked, optionally every task loaded.
#include "peppp/stage/tasks.hpp"

#include "peppp/core/error.hpp"

namespace peppp::stage {

TasksResult tasks(const TasksJob& job, const std::function<void(const TasksResult&)>& checked) {
  TasksResult r;
  r.catalog = data::read_catalog(job.catalog);
  r.checks = data::check_datasets(r.catalog);
  for (const auto& c : r.checks) r.missing += c.missing.size();
  if (checked) checked(r);
  if (r.missing > 0)
    throw InputError(job.catalog + ": " + std::to_string(r.missing) +
                     " dataset file(s) missing (listed above); install them or fix the dataset path");
  if (job.load) {
    r.load = data::load_all(r.catalog);
    r.loaded = true;
  }
  return r;
}

}  // namespace peppp::stage
