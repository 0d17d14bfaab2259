#pragma once
/// @file memory.hpp
/// @brief The memory stage: the theoretical training memory (METHOD.md F2)
/// of every (task, configuration) cell, no training; as a table and in the
/// campaign.nc schema (error NaN, status 0).

#include <mpi.h>

#include <string>
#include <vector>

#include "peppp/core/format.hpp"
#include "peppp/core/task.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/stage/common.hpp"

namespace peppp::stage {

/// Everything `peppp memory` does.
struct MemoryJob {
  std::vector<TaskSpec> tasks;         ///< rows (a task catalog)
  std::vector<Configuration> configs;  ///< columns
  std::string model = "small-cnn";
  int batch_size = 32;                 ///< B of the memory model
  std::string output;                  ///< memory.nc to write; empty: print only
  Attributes attributes;               ///< provenance and options of the output
};

/// The memory matrix of `job` in the campaign schema. Not collective.
/// @throws InputError on an unknown model or an impossible task shape.
io::Campaign memory_matrix(const MemoryJob& job);

/// Print the table on rank 0 and write `job.output` when given. Collective
/// in the sense that every rank computes alike; only the root prints and writes.
io::Campaign memory(const MemoryJob& job, MPI_Comm comm);

}  // namespace peppp::stage
