// peppp info: human summary of any peppp NetCDF file (the info stage reads it, report.cpp formats it).
#include <iostream>

#include "commands.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/stage/info.hpp"
#include "report.hpp"

namespace peppp::app {

namespace {
OptionSet declare(std::string& file) {
  OptionSet s;
  s.command = "info";
  s.summary = "human summary of any peppp NetCDF file";
  s.usage = "peppp info FILE.nc | CAMPAIGN.nc.journal";
  s.takes_config = false;

  s.add("file", Kind::text, "", "path", "campaign.nc", "peppp NetCDF file to summarise.")
      .command_line_only().mandatory().as_positional().to(file);
  return s;
}
}  // namespace

OptionSet info_options() {
  static std::string unused;
  return declare(unused);
}

int run_info(const Options& o, MPI_Comm comm) {
  // Every rank reads (cheap) so a bad file is reported consistently; rank 0 prints.
  std::string file;
  apply(declare(file), o);
  const std::string text = report::format_info(stage::info(file));
  if (par::rank(comm) == 0) std::cout << text << std::flush;
  return 0;
}

}  // namespace peppp::app
