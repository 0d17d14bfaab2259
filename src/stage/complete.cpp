// The complete stage: SoftImpute on the campaign's error matrix -> completed.nc.
// meta::complete_campaign does the computation, io writes it.
#include "peppp/stage/complete.hpp"

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/meta/noise.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::stage {

namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::vector<double> flat(const Eigen::MatrixXd& m) {
  std::vector<double> v(static_cast<std::size_t>(m.size()));
  Eigen::Map<RowMajor>(v.data(), m.rows(), m.cols()) = m;
  return v;
}

std::vector<std::uint8_t> flags(const meta::ByteMatrix& m) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) v[static_cast<std::size_t>(i * m.cols() + j)] = m(i, j);
  return v;
}

// A task row with nothing measured cannot be completed: name the file and the task.
void check_rows_observed(const io::Campaign& c, const Eigen::MatrixXd& observed, const std::string& file) {
  for (Eigen::Index i = 0; i < observed.rows(); ++i)
    if (!observed.row(i).array().isFinite().any())
      throw InputError(file + ": task '" + c.task[static_cast<std::size_t>(i)] + "' (row " + std::to_string(i) +
                       ") has no measured configuration; allowed: a campaign whose every task has at least one "
                       "(measure it with --resume, or merge it away)");
}

// The 5%-50% sampling-ratio sweep needs at least 2 tasks and 2 configurations
// to sample from; with fewer it is skipped (said once), not an internal error.
bool sweep_possible(const io::Campaign& c, const std::string& file) {
  if (c.n_tasks() >= 2 && c.n_configs() >= 2) return true;
  log::warn("complete: ", file, " has ", c.n_tasks(), " task(s) x ", c.n_configs(),
            " configuration(s); the sampling-ratio sweep needs at least 2 of each and is skipped");
  return false;
}

}  // namespace

meta::CompletionResult complete(const CompleteJob& job, MPI_Comm comm) {
  if (auto why = io::check_writable(job.output); !why.empty()) throw InputError("--output: " + why);
  // Every rank reads and checks the same input (same error everywhere); only the root writes.
  if (job.epoch < 0)
    throw InputError("--epoch " + std::to_string(job.epoch) + ": allowed: an epoch >= 1, or 0 for the final errors");
  const io::Campaign c = job.epoch > 0 ? io::campaign_at_epoch(io::read_campaign(job.campaign), job.epoch, job.campaign)
                                       : io::read_campaign(job.campaign);
  const auto n = static_cast<Eigen::Index>(c.n_tasks()), d = static_cast<Eigen::Index>(c.n_configs());
  meta::CompletionOptions opt = completion_options(c, job.weights_auto);
  opt.lambda_auto = !(job.lambda > 0);
  if (!opt.lambda_auto) opt.lambda = job.lambda;
  opt.seed = job.seed;
  const Eigen::MatrixXd observed = observed_errors(c);
  check_rows_observed(c, observed, job.campaign);
  // The sweep runs on a fully measured campaign only.
  opt.sweep = job.sweep && (!observed.array().isFinite().all() || sweep_possible(c, job.campaign));
  const Eigen::MatrixXd memory = campaign_memory_matrix(c);
  const meta::CompletionResult r = meta::complete_campaign(observed, memory, opt);
  const meta::NoiseEstimate noise = campaign_noise(c, observed, r.estimate, r.rank, r.free_columns);

  if (par::rank(comm) == 0) {
    io::Completion out;
    out.task = c.task;
    out.config = c.config;
    out.error_observed = flat(observed);
    out.error_estimate = flat(r.estimate);
    out.memory = c.memory;
    out.pareto_estimate = flags(r.pareto_estimate);
    if (r.fully_observed) {
      out.pareto_true = flags(r.pareto_true);
      out.convergence.assign(r.convergence.data(), r.convergence.data() + n);
      out.hyperdiff.assign(r.hyperdiff.data(), r.hyperdiff.data() + n);
      out.relative_error.assign(r.relative_error.data(), r.relative_error.data() + n);
    }
    for (const auto& p : r.sweep) {
      out.sweep_ratio.push_back(p.ratio);
      out.sweep_convergence.push_back(p.mean_convergence);
      out.sweep_hyperdiff.push_back(p.mean_hyperdiff);
      out.sweep_relative_error.push_back(p.relative_error);
    }
    out.lambda = r.lambda;
    out.rank = r.rank;
    out.iterations = r.iterations;
    out.objective = r.objective;
    out.gap = r.gap;
    out.text_attributes = job.attributes.text;
    out.text_attributes["campaign"] = job.campaign;
    out.text_attributes["lambda_choice"] = r.lambda_auto ? "cross-validation" : "given";
    out.text_attributes["weighted"] = r.weighted ? "inverse sampling probability" : "none";
    out.text_attributes["converged"] = r.converged ? "yes" : "no";
    out.number_attributes = job.attributes.number;
    out.number_attributes["observed_entries"] = r.observed;
    out.number_attributes["relative_error_observed"] = r.relative_error_observed;
    out.number_attributes["noise_std"] = noise.std;
    out.number_attributes["noise_dof"] = noise.dof;
    out.text_attributes["noise_source"] = noise.source;
    out.text_attributes["completion_model"] = r.free_columns > 0 ? "feature" : "softimpute";
    if (r.fully_observed) out.number_attributes["relative_error_all"] = r.relative_error_all;
    if (job.epoch > 0) out.number_attributes["epoch_used"] = job.epoch;
    io::write_completion(job.output, out);
    if (r.free_columns > 0)  // per-role configurations: docs/feature-completion.md
      log::info("complete: ", r.observed, " of ", n * d, " entries observed, feature completion: ridge ", r.lambda,
                ", rank ", r.rank, ", ", r.free_columns, " expanded features, ", r.iterations, " sweeps -> ", job.output);
    else
      log::info("complete: ", r.observed, " of ", n * d, " entries observed, lambda ", r.lambda, ", rank ", r.rank,
                ", ", r.iterations, " iterations, duality gap ", r.gap, " -> ", job.output);
    log::info("complete: noise std ", noise.std, " (", noise.source, ", ", noise.dof, " degrees of freedom)");
  }
  par::barrier(comm);
  return r;
}

}  // namespace peppp::stage
