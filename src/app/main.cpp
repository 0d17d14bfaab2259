// peppp: the executable. Starts MPI, runs the command line, maps errors to
// exit codes. All logic lives in the library.
#include <exception>
#include <iostream>

#include "peppp/app/cli.hpp"
#include "peppp/core/allocator.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/par/mpi_session.hpp"

int main(int argc, char** argv) {
  peppp::keep_freed_memory();   // before the first allocation that matters (core/allocator.hpp)
  peppp::io::prepare_netcdf();  // before any NetCDF/HDF5 call
  try {
    peppp::par::MpiSession mpi(argc, argv);
    try {
      return peppp::app::run_cli(argc, argv, MPI_COMM_WORLD);
    } catch (const peppp::Error& e) {
      if (e.all_ranks() || mpi.size() == 1) {
        peppp::log::error(e.what());
        return static_cast<int>(e.code());
      }
      // Only this rank failed: the others may wait in a collective forever.
      peppp::log::error_all(e.what());
      MPI_Abort(MPI_COMM_WORLD, static_cast<int>(e.code()));
    } catch (const std::exception& e) {
      peppp::log::error_all("internal error: ", e.what());
      if (mpi.size() > 1) MPI_Abort(MPI_COMM_WORLD, static_cast<int>(peppp::ExitCode::runtime));
      return static_cast<int>(peppp::ExitCode::runtime);
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return static_cast<int>(peppp::ExitCode::runtime);
  }
  return static_cast<int>(peppp::ExitCode::runtime);
}
