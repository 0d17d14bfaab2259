// Which completion and which noise source for a campaign: shared by complete, select and info.
#include "peppp/stage/campaign_errors.hpp"

#include <limits>
#include <utility>
#include <vector>

namespace peppp::stage {

namespace {
using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Eigen::MatrixXd matrix(const std::vector<double>& v, const io::Campaign& c) {
  return Eigen::Map<const RowMajor>(v.data(), static_cast<Eigen::Index>(c.n_tasks()),
                                    static_cast<Eigen::Index>(c.n_configs()));
}
}  // namespace

Eigen::MatrixXd observed_errors(const io::Campaign& c) { return meta::measured_errors(matrix(c.error, c), c.status); }

Eigen::MatrixXd campaign_memory_matrix(const io::Campaign& c) { return matrix(c.memory, c); }

meta::CompletionOptions completion_options(const io::Campaign& c, bool weighted) {
  meta::CompletionOptions opt;
  auto scheme = c.text_attributes.find("sampling_scheme");
  const bool nonuniform = scheme != c.text_attributes.end() && scheme->second == "nonuniform";
  if (weighted && nonuniform && !c.sampling_probability.empty())
    opt.sampling_probabilities = matrix(c.sampling_probability, c);
  opt.configuration_labels = c.config;  // per-role labels switch to the feature completion
  return opt;
}

meta::NoiseEstimate campaign_replicate_noise(const io::Campaign& c) {
  const auto cells = static_cast<Eigen::Index>(c.error.size()), R = static_cast<Eigen::Index>(c.n_replicates());
  if (c.error_replicates.size() != c.error.size() * c.n_replicates()) {
    meta::NoiseEstimate none;
    none.std = std::numeric_limits<double>::quiet_NaN();
    return none;
  }
  return meta::replicate_noise(Eigen::Map<const RowMajor>(c.error_replicates.data(), cells, R));
}

meta::NoiseEstimate campaign_noise(const io::Campaign& c, const Eigen::MatrixXd& observed,
                                   const Eigen::MatrixXd& estimate, int rank, int free_columns) {
  const meta::NoiseEstimate rep = campaign_replicate_noise(c);
  if (rep.cells > 0) return rep;
  return meta::residual_noise(observed, estimate, rank, free_columns);
}

meta::NoiseEstimate campaign_noise(const io::Campaign& c, std::uint64_t seed) {
  const meta::NoiseEstimate rep = campaign_replicate_noise(c);
  if (rep.cells > 0) return rep;
  const Eigen::MatrixXd observed = observed_errors(c);
  meta::CompletionOptions opt = completion_options(c, false);
  opt.sweep = false;
  opt.seed = seed;
  const meta::CompletionResult r = meta::complete_campaign(observed, campaign_memory_matrix(c), opt);
  return meta::residual_noise(observed, r.estimate, r.rank, r.free_columns);
}

Eigen::MatrixXd meta_training_errors(const io::Campaign& c, std::uint64_t seed, meta::CompletionResult* completion) {
  const Eigen::MatrixXd observed = observed_errors(c);
  if (observed.allFinite()) return observed;
  meta::CompletionOptions opt = completion_options(c, true);
  opt.sweep = false;
  opt.center = true;  // the posterior's prior: unmeasured cells near their task and configuration means
  opt.seed = seed;
  meta::CompletionResult r = meta::complete_campaign(observed, campaign_memory_matrix(c), opt);
  Eigen::MatrixXd estimate = r.estimate;
  if (completion) *completion = std::move(r);
  return estimate;
}

}  // namespace peppp::stage
