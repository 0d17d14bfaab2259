// The select stage (meta-test on a new task): the problem checked and its prior fitted, the
// configurations measured (a file, one ED-MF round, or EI-MF rounds decided by
// meta::SequentialSelection), the rest predicted -> selection.nc.
#include "peppp/stage/select.hpp"

#include "peppp/core/log.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/io/selection.hpp"
#include "peppp/meta/select.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"
#include "select_parts.hpp"

namespace peppp::stage {

io::Selection select(const SelectJob& job, MPI_Comm comm) {
  const SelectProblem p = select_problem(job);
  const meta::SelectionPrediction zero = zero_shot_selection(job, p);
  log_zero_shot(p, zero);
  SelectMeasurements m;
  if (!job.measured.empty()) {
    m = measurements_from_file(job, p);
  } else if (job.measurements == 0) {
    m.none_why = "--measurements 0: the prior's answer (zero-shot), nothing trained";
    log::info("select: ", m.none_why, ", no journal");
  } else if (job.acquisition == "ed-mf") {
    // ED-MF: every pick chosen up front, trained in one round.
    m = ed_mf_round(job, p, prepare_training(job, p, comm), comm);
  } else {
    m = ei_mf_rounds(job, p, prepare_training(job, p, comm), comm);
  }
  const meta::SelectionPrediction s =
      job.prediction == "least-squares"
          ? meta::predict_selection(p.train, p.memory, m.configs, m.errors, job.budget, job.rank)
          : meta::posterior_selection(p.prior(), p.memory, m.configs, m.errors, job.budget, job.risk_samples, job.seed);
  io::Selection sel = selection_record(job, p, m, s, zero);
  if (par::rank(comm) == 0) io::write_selection(job.output, sel);
  par::barrier(comm);
  return sel;
}

}  // namespace peppp::stage
