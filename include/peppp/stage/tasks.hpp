#pragma once
/// @file tasks.hpp
/// @brief The tasks stage: the tasks a catalog declares, with every dataset
/// file checked (opened) and, on request, every task loaded. Not collective
/// (every rank may run it and gets the same result). Plain structs in and out.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "peppp/data/catalog.hpp"
#include "peppp/data/load_check.hpp"

namespace peppp::stage {

/// Everything `peppp tasks` does.
struct TasksJob {
  std::string catalog;  ///< task catalog file
  bool load = false;    ///< also read every dataset and build every task
};

/// The catalog and what was checked. Move-only: `checks` point into `catalog`.
struct TasksResult {
  data::Catalog catalog;                   ///< as read
  std::vector<data::DatasetCheck> checks;  ///< per dataset used, declaration order (pointers into `catalog`)
  std::size_t missing = 0;                 ///< Σ missing files over `checks`
  bool loaded = false;                     ///< `load` holds the load of every task
  data::LoadReport load;                   ///< with TasksJob::load

  TasksResult() = default;
  TasksResult(TasksResult&&) = default;
  TasksResult& operator=(TasksResult&&) = default;
  TasksResult(const TasksResult&) = delete;
  TasksResult& operator=(const TasksResult&) = delete;
};

/// Read `job.catalog`, check its dataset files, call `checked` (when given)
/// with the result so far (e.g. to print the list before a refusal or a long
/// load), then refuse missing files, then load every task when `job.load`.
/// @throws InputError on an unreadable catalog, missing dataset files (after
/// `checked`), or a dataset that does not load.
TasksResult tasks(const TasksJob& job, const std::function<void(const TasksResult&)>& checked = {});

}  // namespace peppp::stage
