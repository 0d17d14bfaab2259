// The whole pipeline: measure -> complete -> loocv, all files in one folder.
#include "peppp/stage/run.hpp"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"

namespace fs = std::filesystem;

namespace peppp::stage {

void run(RunJob job, MPI_Comm comm) {
  const bool root = par::rank(comm) == 0;
  par::Failure failure;
  if (root) {
    std::error_code ec;
    fs::create_directories(job.dir, ec);
    if (ec) failure = par::Failure::input("--output-dir: cannot create folder '" + job.dir + "': " + ec.message());
  }
  par::agree(failure, comm);
  const std::string campaign = (fs::path(job.dir) / "campaign.nc").string();
  const std::string completed = (fs::path(job.dir) / "completed.nc").string();
  const std::string loocv = (fs::path(job.dir) / "loocv.nc").string();

  job.measure.output = campaign;
  log::info("run: measure -> ", campaign);
  const par::MeasureResults results = measure_results(job.measure, comm);

  job.complete.campaign = campaign;
  job.complete.output = completed;
  log::info("run: complete -> ", completed);
  complete(job.complete, comm);

  // LOOCV on the measured campaign, SoftImpute estimates standing in where
  // unmeasured; a small campaign cannot take the standard counts: keep those every fold can measure.
  job.loocv.campaign = campaign;
  job.loocv.completed = completed;
  job.loocv.output = loocv;
  job.loocv.fit_counts = true;
  log::info("run: loocv -> ", loocv);
  stage::loocv(job.loocv, comm);

  if (!root) return;
  const io::Campaign& c = results.campaign;  // the root's: what campaign.nc holds
  const std::size_t n = c.n_tasks(), d = c.n_configs();
  std::size_t measured = 0;
  for (auto s : c.status) measured += s == static_cast<std::uint8_t>(CellStatus::measured);
  std::ostringstream os;
  os << "\npeppp run finished: " << n << (c.has_row_columns() ? " rows (task x model x learning rate) x " : " tasks x ") << d << " configurations, " << measured << " cells measured ("
     << std::fixed << std::setprecision(0) << 100.0 * measured / std::max<std::size_t>(1, n * d) << "%)\n"
     << "  " << campaign << "   measured error matrix\n"
     << "  " << completed << "  SoftImpute completion and estimated Pareto frontiers\n"
     << "  " << loocv << "      meta-LOOCV of the acquisition methods (table above)\n"
     << "Inspect any file with 'peppp info FILE'.\n";
  std::cout << os.str() << std::flush;
}

}  // namespace peppp::stage
