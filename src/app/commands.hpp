#pragma once
// Private to the app layer: one option set and one run function per
// subcommand, each pair in its own cmd_<name>.cpp.
#include <mpi.h>

#include "peppp/app/options.hpp"
#include "peppp/core/cell.hpp"

namespace peppp::app {

/// The campaign keys shared by measure, memory, run and select.
void add_campaign_options(OptionSet& set);
/// The [train] keys as TrainSettings (device and threads are set by the caller).
TrainSettings train_settings(const Options& o);

#define PEPPP_DECLARE_COMMAND(name)        \
  OptionSet name##_options();              \
  int run_##name(const Options& o, MPI_Comm comm);

PEPPP_DECLARE_COMMAND(run)
PEPPP_DECLARE_COMMAND(measure)
PEPPP_DECLARE_COMMAND(complete)
PEPPP_DECLARE_COMMAND(loocv)
PEPPP_DECLARE_COMMAND(select)
PEPPP_DECLARE_COMMAND(memory)
PEPPP_DECLARE_COMMAND(tasks)
PEPPP_DECLARE_COMMAND(info)
#undef PEPPP_DECLARE_COMMAND

}  // namespace peppp::app
