// The whole pipeline: measure -> complete -> loocv, all files in one folder.
#include "peppp/stage/run.hpp"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/measure.hpp"
#include "peppp/par/mpi_session.hpp"

namespace fs = std::filesystem;

namespace peppp::stage {

namespace {

// The options of the later stages, checked before anything is trained: the
// complete stage's and the LOOCV's against the campaign as planned (its
// memory model known, no error yet). Every rank checks alike.
void check_before_training(const RunJob& job) {
  if (job.complete.epoch < 0)
    throw InputError("--complete.epoch " + std::to_string(job.complete.epoch) +
                     ": allowed: an epoch >= 1, or 0 for the final errors");
  const bool synthetic = job.measure.synthetic.seconds > 0;
  const meta::Plan plan = plan_campaign(job.measure.campaign, synthetic);
  check_loocv_job(job.loocv, par::empty_campaign(plan));
}

// completed.nc and loocv.nc of an earlier run describe an earlier
// campaign.nc: removed before this run writes a new one, so a failure in a
// later stage never leaves them beside the new files.
void remove_earlier_results(const std::vector<std::string>& files) {
  for (const auto& f : files) {
    std::error_code ec;
    if (fs::is_regular_file(fs::symlink_status(f, ec)) && fs::remove(f, ec))
      log::info("run: removed ", f, " of an earlier run (it described an earlier campaign.nc)");
  }
}

}  // namespace

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
  job.complete.campaign = campaign;
  job.complete.output = completed;
  // LOOCV on the measured campaign, SoftImpute estimates standing in where
  // unmeasured; a small campaign cannot take the standard counts: keep those every fold can measure.
  job.loocv.campaign = campaign;
  job.loocv.completed = completed;
  job.loocv.output = loocv;
  job.loocv.fit_counts = true;
  check_before_training(job);
  if (root) remove_earlier_results({completed, loocv});

  log::info("run: measure -> ", campaign);
  const par::MeasureResults results = measure_results(job.measure, comm);
  log::info("run: complete -> ", completed);
  complete(job.complete, comm);
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
