// The select stage's problem: every input checked alike on every rank, the meta-training
// rows (--rows-model, --epoch), the new task's memory and the prior the picks are made from.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <type_traits>
#include <variant>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/meta/architectures.hpp"
#include "peppp/stage/campaign_errors.hpp"
#include "select_parts.hpp"

namespace peppp::stage {

std::string text_g12(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

std::string text_fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

namespace {

// The rows `keep` of `c` (in that order): every variable over the row dimension
// (per row, per cell, per cell replicate, per cell epoch) cut alike, from the schema table.
io::Campaign campaign_rows_subset(const io::Campaign& c, const std::vector<std::size_t>& keep) {
  io::Campaign out = c;
  const std::size_t n = c.n_tasks();
  for (const auto& f : io::campaign_schema().fields) {
    if (f.dims.empty() || std::string(f.dims.front()) != "task") continue;
    std::visit(
        [&](auto member) {
          if constexpr (!std::is_same_v<decltype(member), std::monostate>) {
            const auto& from = c.*member;
            auto& to = out.*member;
            if (from.empty() || n == 0 || from.size() % n != 0) return;
            const std::size_t stride = from.size() / n;
            to.clear();
            for (std::size_t t : keep)
              to.insert(to.end(), from.begin() + static_cast<std::ptrdiff_t>(t * stride),
                        from.begin() + static_cast<std::ptrdiff_t>((t + 1) * stride));
          }
        },
        f.member);
  }
  return out;
}

// The meta-training campaign of `job`: its rows (all, or --rows-model's), after --epoch E.
io::Campaign meta_training_campaign(const SelectJob& job) {
  const io::Campaign& full = job.campaign;
  io::Campaign c;
  if (job.rows_model.empty()) {
    c = full;
  } else {
    const std::vector<std::string> models = campaign_models(full);
    if (std::find(models.begin(), models.end(), job.rows_model) == models.end())
      throw InputError("--rows-model '" + job.rows_model + "': the campaign " + job.campaign_path + " has no rows of it; " +
                       (models.empty() ? std::string("it records no model of its rows (no row_model, no 'model' attribute)")
                                       : "allowed: " + join(models, ", ")));
    std::vector<std::size_t> keep;
    for (std::size_t t = 0; t < full.n_tasks(); ++t)
      if (full.row_model_of(t) == job.rows_model) keep.push_back(t);
    c = campaign_rows_subset(full, keep);
    log::info("select: meta-training on the ", keep.size(), " of ", full.n_tasks(), " rows of model ", job.rows_model,
              " (--rows-model)");
  }
  if (job.epoch > 0) {
    if (job.epoch > job.train.epochs)
      throw InputError("--epoch " + std::to_string(job.epoch) + ": the new task trains train.epochs = " +
                       std::to_string(job.train.epochs) + " epochs; allowed: 1.." + std::to_string(job.train.epochs));
    c = io::campaign_at_epoch(c, job.epoch, "--campaign " + job.campaign_path);
    if (auto it = full.number_attributes.find("epochs");
        it != full.number_attributes.end() && it->second != job.train.epochs)
      log::warn("select: --epoch ", job.epoch, ": the campaign trained ", it->second,
                " epochs, the new task's schedule is of train.epochs = ", job.train.epochs,
                "; their errors after epoch ", job.epoch, " do not compare");
  }
  return c;
}

// Rows of several models: the new task's prior from the rows of its model (job.model), or, when
// no row trains it, from all rows widened by the spread between the models (docs/ei-mf.md §5).
// Rows of one model (or of unknown ones) keep the all-row prior.
void architecture_prior(const SelectJob& job, SelectProblem& p) {
  const std::vector<std::string> models = campaign_models(p.campaign);
  if (models.size() < 2) return;
  const std::size_t n = p.campaign.n_tasks();
  std::vector<int> group(n);
  for (std::size_t t = 0; t < n; ++t) {
    const auto it = std::find(models.begin(), models.end(), p.campaign.row_model_of(t));
    if (it == models.end()) return;  // a `model` attribute listing several: rows not attributable
    group[t] = static_cast<int>(it - models.begin());
  }
  const auto own = std::find(models.begin(), models.end(), job.model);
  const std::string all = std::to_string(n) + " rows", k = std::to_string(models.size());
  if (own != models.end()) {
    const int g = static_cast<int>(own - models.begin());
    const auto rows = std::count(group.begin(), group.end(), g);
    p.ctx.prior = meta::model_rows_prior(p.ctx.prior, p.train, job.rank, group, g);
    p.prior_rows = "model " + job.model + ": the mean and covariance of its " + std::to_string(rows) +
                   " rows' embeddings (covariance shrunk toward that of all " + all + ")";
    log::info("select: meta-training on all ", all, " of the ", k, " models; the prior from the ", rows,
              " rows of model ", job.model);
  } else {
    p.ctx.prior = meta::widened_prior(p.ctx.prior, p.train, job.rank, group);
    p.prior_rows = "model " + job.model + " in no row: all " + all + ", covariance widened by the spread between the " +
                   k + " architectures (" + join(models, ", ") + ")";
    log::info("select: model ", job.model, " is in no row of the campaign; prior from all ", all,
              ", widened by the spread between the ", k, " architectures (", join(models, ", "), ")");
  }
}

// The meta-training errors and the prior fitted on them (noise from the campaign's replicates when it has them).
void fit_prior(const SelectJob& job, SelectProblem& p) {
  meta::CompletionResult completion;
  p.train = meta_training_errors(p.campaign, job.seed, &completion);
  if (completion.estimate.size() > 0)
    log::info("select: campaign partially measured; completed by centered SoftImpute (lambda ", completion.lambda,
              ", rank ", completion.rank, ")");
  meta::PriorOptions prior_options;
  double noise_std = job.noise_std;
  if (std::isnan(noise_std)) {
    const meta::NoiseEstimate rep = campaign_replicate_noise(p.campaign);
    if (rep.cells > 0) noise_std = rep.std;
  }
  if (std::isfinite(noise_std)) prior_options.noise_variance = noise_std * noise_std;
  p.ctx.prior = meta::fit_embedding_prior(p.train, job.rank, prior_options);
  if (job.rows_model.empty()) architecture_prior(job, p);
  p.ctx.y = p.ctx.prior.y.topRows(job.rank);  // the designs use the embedding, not the level offset
  p.ctx.train_errors = p.train;
}

}  // namespace

SelectProblem select_problem(const SelectJob& job) {
  // The new task is new to every row (a task x model x learning-rate row names its task in row_task).
  for (std::size_t t = 0; t < job.campaign.n_tasks(); ++t)
    if (job.campaign.row_task_of(t) == job.task.name || job.campaign.task[t] == job.task.name)
      throw InputError("--task '" + job.task_text + "': task '" + job.task.name + "' is already in the campaign " +
                       job.campaign_path + "; select is for a new task (use peppp loocv to evaluate held-out "
                       "campaign tasks, or rename the task)");
  SelectProblem p;
  p.campaign = meta_training_campaign(job);
  const io::Campaign& c = p.campaign;
  const std::size_t n = c.n_tasks(), d = c.n_configs();
  if (auto it = c.number_attributes.find("synthetic"); it != c.number_attributes.end() && it->second != 0)
    log::warn("select: ", job.campaign_path, " is a SYNTHETIC campaign (fake errors); its predictions mean nothing");
  // ---- every input checked on every rank before any work (identical inputs -> identical decisions)
  if (auto why = io::check_writable(job.output); !why.empty()) throw InputError("--output: " + why);
  if (n < 3)
    throw InputError("--campaign " + job.campaign_path + ": has " + std::to_string(n) +
                     (job.rows_model.empty() ? std::string(" task(s)")
                                             : " row(s) of model " + job.rows_model + " (--rows-model)") +
                     "; allowed: at least 3 meta-training tasks");
  const bool ei = job.acquisition == "ei-mf";
  if (!ei && job.acquisition != "ed-mf")
    throw InputError("--acquisition '" + job.acquisition + "': allowed: ei-mf, ed-mf");
  p.configs = io::configurations(c, job.campaign_path);
  const std::vector<double> memory_v = task_memory(job.task, p.configs, job.model, job.train.batch_size);
  p.memory = Eigen::Map<const Eigen::VectorXd>(memory_v.data(), static_cast<Eigen::Index>(d));
  const Eigen::VectorXd& memory = p.memory;
  if (job.budget < memory.minCoeff())
    throw InputError("--budget " + text_g12(job.budget) + ": below every configuration's memory on task '" +
                     job.task.name + "' (" + text_fixed(memory.minCoeff(), 3) + " ... " + text_fixed(memory.maxCoeff(), 3) +
                     " MiB); allowed: >= " + text_fixed(memory.minCoeff(), 3) + " MiB");
  p.cap_given = !std::isnan(job.cap);
  p.cap = p.cap_given ? job.cap : job.budget;
  if (job.rank < 1 || static_cast<std::size_t>(job.rank) > std::min(n, d))
    throw InputError("--rank " + std::to_string(job.rank) + ": allowed: 1.." + std::to_string(std::min(n, d)) +
                     " (tasks and configurations of the campaign)");
  const bool have_file = !job.measured.empty();
  if (!have_file && job.measurements < 0)
    throw InputError("--measurements: required (how many configurations to train; 0: the prior's answer, nothing "
                     "trained), unless --measured FILE is given");

  fit_prior(job, p);
  for (std::size_t j = 0; j < d; ++j) {
    if (memory(static_cast<Eigen::Index>(j)) <= p.cap) p.ctx.feasible.push_back(static_cast<int>(j));
    if (memory(static_cast<Eigen::Index>(j)) <= job.budget) p.ctx.decision.push_back(static_cast<int>(j));
  }
  if (p.ctx.feasible.empty())
    throw InputError("--cap " + text_g12(p.cap) + ": no configuration of task '" + job.task.name + "' fits (" +
                     text_fixed(memory.minCoeff(), 3) + " MiB and more)");
  if (!have_file && job.measurements > static_cast<int>(p.ctx.feasible.size()))
    throw InputError("--measurements " + std::to_string(job.measurements) + " exceeds the " +
                     std::to_string(p.ctx.feasible.size()) + " configurations of task '" + job.task.name +
                     "' under the cap of " + text_fixed(p.cap, 3) + " MiB; allowed: 1.." +
                     std::to_string(p.ctx.feasible.size()));
  return p;
}

}  // namespace peppp::stage
