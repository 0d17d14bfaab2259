// peppp complete: complete the error matrix with SoftImpute -> completed.nc.
// A thin wrapper: meta::complete_campaign does the computation, io writes it.
#include <cmath>

#include "commands.hpp"
#include "loocv_options.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/meta/completion.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::app {

OptionSet complete_options() {
  OptionSet s;
  s.command = "complete";
  s.summary = "complete the error matrix with SoftImpute -> completed.nc";
  s.usage = "peppp complete --campaign campaign.nc --output completed.nc [--lambda L|auto] [--weights auto|none]";
  s.takes_config = false;
  {
    auto& o = s.add("campaign", Kind::text, "", "path", "campaign.nc", "Campaign file written by peppp measure.");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("output", Kind::text, "", "path", "completed.nc", "Completion file to write.");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("lambda", Kind::text, "auto", "", "0.1",
                    "SoftImpute lambda: a number > 0, or 'auto' (5-fold CV over 0.03 ... 10, METHOD.md F3.5).");
    o.in_config = false;
  }
  {
    auto& o = s.add("weights", Kind::choice, "auto", "", "none",
                    "Inverse-probability weights (F4.3): auto = when the campaign's plan was non-uniform; none = plain.");
    o.in_config = false;
    o.choices = {"auto", "none"};
  }
  {
    auto& o = s.add("sweep", Kind::flag, "true", "", "false",
                    "For a fully measured campaign, also run the 5%-50% sampling-ratio sweep (the paper's Figure 10).");
    o.in_config = false;
  }
  {
    auto& o = s.add("seed", Kind::integer, "1", "", "7", "Seed of the CV folds and the sweep's masks.");
    o.in_config = false;
    o.min = 0;
  }
  return s;
}

int run_complete(const Options& o, MPI_Comm comm) {
  const std::string path = o.path("campaign"), output = o.path("output");
  if (auto why = io::check_writable(output); !why.empty()) throw InputError("--output: " + why);
  // Every rank reads and checks the same input (same error everywhere); only the root computes and writes.
  const io::Campaign c = io::read_campaign(path);
  const auto n = static_cast<Eigen::Index>(c.n_tasks()), d = static_cast<Eigen::Index>(c.n_configs());
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd error = Eigen::Map<const RowMajor>(c.error.data(), n, d);
  const Eigen::MatrixXd memory = Eigen::Map<const RowMajor>(c.memory.data(), n, d);
  meta::CompletionOptions opt;
  const std::string lambda = o.text("lambda");
  if (lambda != "auto") {
    opt.lambda_auto = false;
    if (!parse_double(lambda, opt.lambda) || !(opt.lambda > 0) || !std::isfinite(opt.lambda))
      throw InputError("--lambda: value '" + lambda + "' is not allowed; allowed: 'auto' or a number > 0");
  }
  auto scheme = c.text_attributes.find("sampling_scheme");
  const bool nonuniform = scheme != c.text_attributes.end() && scheme->second == "nonuniform";
  if (o.text("weights") == "auto" && nonuniform && !c.sampling_probability.empty())
    opt.sampling_probabilities = Eigen::Map<const RowMajor>(c.sampling_probability.data(), n, d);
  opt.sweep = o.flag("sweep");
  opt.seed = static_cast<std::uint64_t>(o.integer("seed"));
  const Eigen::MatrixXd observed = meta::measured_errors(error, c.status);
  const meta::CompletionResult r = meta::complete_campaign(observed, memory, opt);

  if (par::rank(comm) == 0) {
    io::Completion out;
    out.task = c.task;
    out.config = c.config;
    auto flat = [&](const Eigen::MatrixXd& m) {
      std::vector<double> v(static_cast<std::size_t>(n * d));
      Eigen::Map<RowMajor>(v.data(), n, d) = m;
      return v;
    };
    auto flags = [&](const meta::ByteMatrix& m) {
      std::vector<std::uint8_t> v(static_cast<std::size_t>(n * d));
      for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < d; ++j) v[static_cast<std::size_t>(i * d + j)] = m(i, j);
      return v;
    };
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
    out.text_attributes = output_attributes(o, comm, "complete");
    out.text_attributes["campaign"] = path;
    out.text_attributes["lambda_choice"] = r.lambda_auto ? "cross-validation" : "given";
    out.text_attributes["weighted"] = r.weighted ? "inverse sampling probability" : "none";
    out.text_attributes["converged"] = r.converged ? "yes" : "no";
    out.number_attributes["observed_entries"] = r.observed;
    out.number_attributes["relative_error_observed"] = r.relative_error_observed;
    if (r.fully_observed) out.number_attributes["relative_error_all"] = r.relative_error_all;
    io::write_completion(output, out);
    log::info("complete: ", r.observed, " of ", n * d, " entries observed, lambda ", r.lambda, ", rank ", r.rank,
              ", ", r.iterations, " iterations, duality gap ", r.gap, " -> ", output);
  }
  par::barrier(comm);
  return 0;
}

}  // namespace peppp::app
