#pragma once
/// @file load_check.hpp
/// @brief Torch-free check that every task of a catalog loads: each dataset
/// read, each task built (class subsets, sizes, resolution), with counts and
/// content hashes, for `peppp tasks --load` and for checking data before a
/// campaign. Not collective.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "peppp/data/catalog.hpp"

namespace peppp::data {

/// One loaded task.
struct TaskLoad {
  std::string name;         ///< task name
  std::int64_t train = 0;   ///< training images
  std::int64_t test = 0;    ///< test images
  std::uint64_t hash = 0;   ///< content hash of the built task (`task_hash`)
};

/// Every task of a catalog, loaded.
struct LoadReport {
  std::vector<TaskLoad> tasks;     ///< in catalog order
  std::int64_t train = 0;          ///< Σ training images
  std::int64_t test = 0;           ///< Σ test images
  std::size_t dataset_reads = 0;   ///< dataset files read (one cache slot: tasks are grouped by dataset)
  double seconds = 0;              ///< wall time, s
};

/// Load every task of `catalog` once.
/// @throws InputError naming the file and what is wrong with it.
LoadReport load_all(const Catalog& catalog);

}  // namespace peppp::data
