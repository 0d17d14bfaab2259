// The select stage (meta-test on a new task): ED-MF picks, the ranks train, the rest is predicted -> selection.nc.
#include "peppp/stage/select.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <type_traits>
#include <variant>

#include "cell_training.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/meta/completion.hpp"
#include "peppp/par/measure.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/meta/acquisition.hpp"
#include "peppp/meta/bayes.hpp"
#include "peppp/meta/noise.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/meta/select.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/signals.hpp"
#include "peppp/stage/measure.hpp"

namespace peppp::stage {

TaskSpec read_task(const std::string& spec) {
  namespace fs = std::filesystem;
  std::string file = spec, name;
  const auto colon = spec.rfind(':');
  if (colon != std::string::npos && !fs::exists(spec)) {
    file = spec.substr(0, colon);
    name = spec.substr(colon + 1);
  }
  const data::Catalog cat = data::read_catalog(file);
  std::vector<std::string> names;
  for (const auto& t : cat.tasks) names.push_back(t.name);
  const TaskSpec* task = nullptr;
  if (name.empty()) {
    if (cat.tasks.size() != 1)
      throw InputError("--task '" + spec + "': the catalog declares " + std::to_string(cat.tasks.size()) +
                       " tasks; name one as CATALOG.ini:TASK (tasks: " + join(names, ", ") + ")");
    task = &cat.tasks.front();
  } else {
    task = cat.find(name);
    if (!task)
      throw InputError("--task '" + spec + "': no task '" + name + "' in " + file + "; allowed: " + join(names, ", "));
  }
  const auto missing = data::missing_files(*task);
  if (!missing.empty())
    throw InputError("--task '" + spec + "': task '" + task->name + "' (" + task->origin + "): dataset file " +
                     missing.front() + " not found");
  return *task;
}

// (config index, error) pairs of a --measured file, in file order.
std::vector<std::pair<int, double>> read_measured(const std::string& path, const std::vector<std::string>& config,
                                                  int epoch) {
  std::map<std::string, int> index;
  for (std::size_t j = 0; j < config.size(); ++j) index[config[j]] = static_cast<int>(j);
  std::vector<std::pair<int, double>> out;
  std::set<int> seen;
  auto add = [&](const std::string& label, double error, const std::string& where) {
    auto it = index.find(label);
    if (it == index.end()) {
      const std::string near = nearest(label, config);
      throw InputError("--measured " + where + ": unknown configuration '" + label + "'" +
                       (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                       "; allowed: the campaign's configurations (" + join(config, ", ") + ")");
    }
    if (!seen.insert(it->second).second)
      throw InputError("--measured " + where + ": configuration '" + label + "' is given twice");
    out.emplace_back(it->second, error);
  };
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".nc") {
    io::Campaign m = io::read_campaign(path);
    if (epoch > 0) {
      // Errors after epoch E: a file of an earlier select --epoch E as it is, else its per-epoch record.
      const auto used = m.number_attributes.find("epoch_used");
      if (used == m.number_attributes.end() || used->second != epoch)
        m = io::campaign_at_epoch(m, epoch, "--measured " + path);
    }
    if (m.n_tasks() != 1)
      throw InputError("--measured " + path + ": holds " + std::to_string(m.n_tasks()) +
                       " tasks; allowed: exactly one (the new task)");
    for (std::size_t j = 0; j < m.n_configs(); ++j) {
      const auto st = static_cast<CellStatus>(m.status[j]);
      if (st == CellStatus::not_planned || st == CellStatus::planned) continue;
      add(m.config[j], st == CellStatus::measured ? m.error[j] : std::numeric_limits<double>::quiet_NaN(),
          path);
    }
  } else {
    std::ifstream in(path);
    if (!in) throw InputError("--measured " + path + ": cannot be read");
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      const auto hash = line.find('#');
      const std::string text = trim(hash == std::string::npos ? line : line.substr(0, hash));
      if (text.empty()) continue;
      const std::string where = path + ":" + std::to_string(line_no);
      const auto f = split(text, ',');
      if (f.size() != 2)
        throw InputError("--measured " + where + ": '" + text + "' is not 'config,error'");
      const std::string label = trim(f[0]), value = trim(f[1]);
      double e = 0;
      if (to_lower(value) == "nan") {
        e = std::numeric_limits<double>::quiet_NaN();
      } else if (!parse_double(value, e)) {
        if (out.empty() && seen.empty() && to_lower(label) == "config") continue;  // header
        throw InputError("--measured " + where + ": error '" + value + "' is not a number; allowed: [0, 1] or nan");
      } else if (!(e >= 0 && e <= 1)) {
        throw InputError("--measured " + where + ": error " + value + " is outside [0, 1]");
      }
      add(label, e, where);
    }
  }
  if (out.empty()) throw InputError("--measured " + path + ": no measured configuration in it");
  return out;
}

std::vector<std::string> campaign_models(const io::Campaign& c) {
  std::vector<std::string> out;
  for (std::size_t t = 0; t < c.n_tasks(); ++t)
    // A `model` attribute listing several ("a,b": rows without a row_model column) names them all.
    for (const std::string& part : split(c.row_model_of(t), ',')) {
      const std::string m = trim(part);
      if (!m.empty() && std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
    }
  return out;
}

std::vector<double> campaign_learning_rates(const io::Campaign& c) {
  std::vector<double> out;
  for (std::size_t t = 0; t < c.n_tasks(); ++t) {
    const double r = c.row_learning_rate_of(t);
    if (std::isfinite(r) && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
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

std::string shortest(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

void print_selection(const io::Selection& s) {
  std::vector<int> order(s.config.size());
  for (std::size_t j = 0; j < order.size(); ++j) order[j] = static_cast<int>(j);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s.memory[a] < s.memory[b]; });
  log::info("select: estimated Pareto frontier of task '", s.task, "' (memory MiB, predicted error +- std; "
            "* measured):");
  log::info("  config            memory   predicted        measured    p_best");
  for (int j : order) {
    if (!s.pareto_estimate[j] && j != s.recommended_index) continue;
    char line[160];
    const std::string pb = s.p_best.empty() ? std::string("     ") : fixed(s.p_best[j], 3);
    std::snprintf(line, sizeof line, "  %-15s %8.3f   %.3f +- %.3f   %s   %s%s", s.config[j].c_str(), s.memory[j],
                  s.predicted_error[j], s.predicted_std[j],
                  s.measured[j] ? ("* " + fixed(s.measured_error[j], 3)).c_str() : "       ", pb.c_str(),
                  j == s.recommended_index ? "   <- recommended" : "");
    log::info(line);
  }
  const int r = s.recommended_index;
  log::info("select: recommended configuration under the budget of ", fixed(s.budget, 3), " MiB: ",
            s.recommended_config, " (", fixed(s.memory[r], 3), " MiB), predicted error ",
            fixed(s.predicted_error[r], 3), " +- ", fixed(s.predicted_std[r], 3),
            s.measured[r] ? ", measured " + fixed(s.measured_error[r], 3) : std::string(),
            std::isnan(s.expected_regret) ? std::string()
                                          : "; expected regret " + fixed(s.expected_regret, 4) + ", p_best " +
                                                fixed(s.p_best.empty() ? 0.0 : s.p_best[r], 3));
}

io::Selection to_selection(const meta::SelectionPrediction& p, const std::vector<std::string>& config,
                           const Eigen::VectorXd& memory, double cap, double budget) {
  io::Selection out;
  out.config = config;
  out.memory.assign(memory.data(), memory.data() + memory.size());
  out.predicted_error.assign(p.predicted_error.data(), p.predicted_error.data() + p.predicted_error.size());
  out.predicted_std.assign(p.predicted_std.data(), p.predicted_std.data() + p.predicted_std.size());
  out.measured = p.measured;
  out.measured_error.assign(p.measured_error.data(), p.measured_error.data() + p.measured_error.size());
  out.pareto_estimate = p.pareto_estimate;
  out.selection_order = p.selection_order;
  out.cap = cap;
  out.budget = budget;
  out.recommended_index = p.recommended_index;
  out.recommended_config = config[p.recommended_index];
  out.p_best.assign(p.p_best.data(), p.p_best.data() + p.p_best.size());
  out.expected_regret = p.expected_regret;
  return out;
}

// The new task's measured cells of a sequential selection as one campaign-like
// file (what --measured reads back): one row, the measured configurations in pick order.
void write_measured(const SelectJob& job, const std::vector<Configuration>& configs, const std::vector<int>& used,
                    const std::vector<double>& measured, const Eigen::VectorXd& memory, const std::string& path) {
  io::Campaign m;
  io::set_task_rows(m, {TaskRow::of(job.task)});
  std::vector<Configuration> picked;
  for (int j : used) picked.push_back(configs[static_cast<std::size_t>(j)]);
  io::set_configurations(m, picked);
  m.allocate();
  for (std::size_t q = 0; q < used.size(); ++q) {
    m.error[q] = measured[q];
    m.memory[q] = memory(used[q]);
    m.status[q] = static_cast<std::uint8_t>(std::isfinite(measured[q]) ? CellStatus::measured : CellStatus::failed);
  }
  m.text_attributes = job.attributes.text;
  m.text_attributes["campaign_name"] = "select: " + job.task.name;
  m.text_attributes["model"] = job.model;
  m.number_attributes["learning_rate"] = job.train.learning_rate;
  if (job.epoch > 0) m.number_attributes["epoch_used"] = job.epoch;
  m.text_attributes["meta_training_campaign"] = job.campaign_path;
  m.text_attributes["title"] = "configurations measured by a sequential selection (rounds in <output>.round-K.nc)";
  io::write_campaign(path, m);
}

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The meta-training matrix: the campaign's errors, completed by SoftImpute when cells are missing.
Eigen::MatrixXd meta_training(const io::Campaign& c, std::uint64_t seed) {
  const auto ni = static_cast<Eigen::Index>(c.n_tasks()), di = static_cast<Eigen::Index>(c.n_configs());
  const Eigen::MatrixXd observed = meta::measured_errors(Eigen::Map<const RowMajor>(c.error.data(), ni, di), c.status);
  if (observed.allFinite()) return observed;
  meta::CompletionOptions opt;
  opt.sweep = false;
  opt.center = true;  // the posterior's prior: unmeasured cells near their task and configuration means
  opt.seed = seed;
  auto scheme = c.text_attributes.find("sampling_scheme");
  if (scheme != c.text_attributes.end() && scheme->second == "nonuniform" && !c.sampling_probability.empty())
    opt.sampling_probabilities = Eigen::Map<const RowMajor>(c.sampling_probability.data(), ni, di);
  const meta::CompletionResult r =
      meta::complete_campaign(observed, Eigen::Map<const RowMajor>(c.memory.data(), ni, di), opt);
  log::info("select: campaign partially measured; completed by centered SoftImpute (lambda ", r.lambda, ", rank ", r.rank,
            ")");
  return r.estimate;
}

// Train the chosen cells of the new task (a one-task plan over the chosen
// configurations) and return their errors, NaN where not measured; the same on every rank.
std::vector<double> train_chosen(const SelectJob& job, const std::vector<Configuration>& configs,
                                 const std::vector<int>& chosen, double cap, const std::string& measured_nc,
                                 const std::string& chooser, MPI_Comm comm) {
  if (auto why = io::check_writable(measured_nc); !why.empty()) throw InputError("--output: " + why);
  const TaskSpec& task = job.task;
  meta::PlanSpec spec;
  spec.tasks = {TaskRow::of(task)};
  std::vector<Configuration> picked;
  for (int j : chosen) picked.push_back(configs[j]);
  spec.configs = picked;
  fill_plan_memory(spec, {task}, picked, job.model, job.train.batch_size);
  spec.scheme = meta::Scheme::full;
  spec.seed = job.seed;
  spec.identity = "select\n" + job.identity;
  // Cells trained to epoch E are other cells than the full run's: their journals never mix.
  if (job.epoch > 0) spec.identity += "select.epoch=" + std::to_string(job.epoch) + "\n";
  check_task_data({task}, comm);
  spec.task_definitions = task_definitions({task}, comm);
  const meta::Plan plan = meta::make_plan(std::move(spec));
  // par::measure checks the output, the lock and the journals before any work.

  par::MeasureSettings st;
  st.output = measured_nc;
  // A selection's journals are part of its replay (rounds are a deterministic
  // function of the rounds before), so they are always resumed.
  st.resume = true;
  st.command = "peppp select";
  set_rank_resources(st, job.resources, comm);
  st.text_attributes = job.attributes.text;
  st.text_attributes["campaign_name"] = "select: " + task.name;
  st.text_attributes["model"] = job.model;
  st.text_attributes["meta_training_campaign"] = job.campaign_path;
  st.number_attributes["epochs"] = job.train.epochs;
  // The per-epoch record of the cells: epochs 1..E (--epoch), else the whole run.
  st.epochs = job.epoch > 0 ? job.epoch : job.train.epochs;
  if (job.epoch > 0) st.number_attributes["epoch_used"] = job.epoch;
  st.number_attributes["batch_size"] = job.train.batch_size;
  st.number_attributes["learning_rate"] = job.train.learning_rate;
  st.number_attributes["momentum"] = job.train.momentum;
  st.number_attributes["weight_decay"] = job.train.weight_decay;
  st.number_attributes["synthetic"] = 0;

  par::install_stop_handlers();
  log::info("select: training ", chosen.size(), " configurations of task '", task.name, "' (", job.model, ", lr ",
            shortest(job.train.learning_rate),
            job.epoch > 0 ? ", to epoch " + std::to_string(job.epoch) + " of " + std::to_string(job.train.epochs)
                          : std::string(),
            ") chosen by ", chooser, " under ", fixed(cap, 3), " MiB on ", par::size(comm), " rank(s), device ",
            st.device);
  TrainSettings train = job.train;
  train.stop_after_epoch = job.epoch;  // 0: every epoch
  const par::MeasureSummary s = measure_plan(plan, real_trainer({task}, picked, train, job.model), st, comm).summary;
  if (s.interrupted || s.missing > 0)
    throw Interrupted("select: stopped early; " + std::to_string(s.planned - s.missing) + " of " +
                      std::to_string(s.planned) + " cells done (in " + measured_nc +
                      "); rerun with --resume to finish");
  // The root wrote the measured file; everyone gets the same errors.
  std::vector<double> measured(chosen.size(), std::numeric_limits<double>::quiet_NaN());
  if (par::rank(comm) == 0) {
    const io::Campaign m = io::read_campaign(measured_nc);
    for (std::size_t q = 0; q < chosen.size(); ++q)
      if (static_cast<CellStatus>(m.status[q]) == CellStatus::measured) measured[q] = m.error[q];
  }
  par::broadcast(measured, comm);
  log::info("select: ", s.measured, " measured, ", s.diverged, " diverged, ", s.failed, " failed (", s.resumed,
            " from the journal) -> ", measured_nc);
  return measured;
}

}  // namespace

io::Selection select(const SelectJob& job, MPI_Comm comm) {
  // The new task is new to every row (a task x model x learning-rate row names its task in row_task).
  for (std::size_t t = 0; t < job.campaign.n_tasks(); ++t)
    if (job.campaign.row_task_of(t) == job.task.name || job.campaign.task[t] == job.task.name)
      throw InputError("--task '" + job.task_text + "': task '" + job.task.name + "' is already in the campaign " +
                       job.campaign_path + "; select is for a new task (use peppp loocv to evaluate held-out "
                       "campaign tasks, or rename the task)");
  const io::Campaign c = meta_training_campaign(job);
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
  const std::vector<Configuration> configs = io::configurations(c, job.campaign_path);
  const std::vector<double> memory_v = task_memory(job.task, configs, job.model, job.train.batch_size);
  const Eigen::VectorXd memory = Eigen::Map<const Eigen::VectorXd>(memory_v.data(), static_cast<Eigen::Index>(d));
  if (job.budget < memory.minCoeff())
    throw InputError("--budget " + shortest(job.budget) + ": below every configuration's memory on task '" +
                     job.task.name + "' (" + fixed(memory.minCoeff(), 3) + " ... " + fixed(memory.maxCoeff(), 3) +
                     " MiB); allowed: >= " + fixed(memory.minCoeff(), 3) + " MiB");
  const bool cap_given = !std::isnan(job.cap);
  const double cap = cap_given ? job.cap : job.budget;
  const int rank = job.rank;
  if (rank < 1 || static_cast<std::size_t>(rank) > std::min(n, d))
    throw InputError("--rank " + std::to_string(rank) + ": allowed: 1.." + std::to_string(std::min(n, d)) +
                     " (tasks and configurations of the campaign)");
  const bool have_file = !job.measured.empty();
  if (!have_file && job.measurements < 1)
    throw InputError("--measurements: required (how many configurations to train), unless --measured FILE is given");

  const Eigen::MatrixXd train_matrix = meta_training(c, job.seed);
  meta::PriorOptions prior_options;
  double noise_std = job.noise_std;
  if (std::isnan(noise_std) && c.n_replicates() > 1 && c.error_replicates.size() == c.error.size() * c.n_replicates()) {
    // The campaign's replicates give the noise of one measurement.
    const meta::NoiseEstimate rep = meta::replicate_noise(Eigen::Map<const RowMajor>(
        c.error_replicates.data(), static_cast<Eigen::Index>(c.error.size()),
        static_cast<Eigen::Index>(c.n_replicates())));
    if (rep.cells > 0) noise_std = rep.std;
  }
  if (std::isfinite(noise_std)) prior_options.noise_variance = noise_std * noise_std;
  const meta::EmbeddingPrior prior = meta::fit_embedding_prior(train_matrix, rank, prior_options);
  meta::AcquisitionContext ctx;
  ctx.y = prior.y.topRows(rank);  // the designs use the embedding, not the level offset
  ctx.train_errors = train_matrix;
  ctx.prior = prior;
  for (std::size_t j = 0; j < d; ++j) {
    if (memory(static_cast<Eigen::Index>(j)) <= cap) ctx.feasible.push_back(static_cast<int>(j));
    if (memory(static_cast<Eigen::Index>(j)) <= job.budget) ctx.decision.push_back(static_cast<int>(j));
  }
  if (ctx.feasible.empty())
    throw InputError("--cap " + shortest(cap) + ": no configuration of task '" + job.task.name + "' fits (" +
                     fixed(memory.minCoeff(), 3) + " MiB and more)");
  if (!have_file && job.measurements > static_cast<int>(ctx.feasible.size()))
    throw InputError("--measurements " + std::to_string(job.measurements) + " exceeds the " +
                     std::to_string(ctx.feasible.size()) + " configurations of task '" + job.task.name +
                     "' under the cap of " + fixed(cap, 3) + " MiB; allowed: 1.." +
                     std::to_string(ctx.feasible.size()));

  std::vector<double> measured;
  std::vector<int> used, rounds;  // the configurations whose errors enter the fit, in pick order, and their round
  const std::string measured_nc = job.output + ".measured.nc";
  if (have_file) {
    std::vector<int> chosen;
    if (!ei && job.measurements > 0)
      chosen = meta::choose_configurations(train_matrix, memory, job.measurements, cap, rank);
    auto pairs = job.measured;
    // ED-MF's order first (when measurements were asked for), then the file's.
    auto pos = [&](int j) {
      auto it = std::find(chosen.begin(), chosen.end(), j);
      return it == chosen.end() ? chosen.size() : static_cast<std::size_t>(it - chosen.begin());
    };
    std::stable_sort(pairs.begin(), pairs.end(), [&](const auto& a, const auto& b) { return pos(a.first) < pos(b.first); });
    for (const auto& [j, e] : pairs) {
      used.push_back(j);
      measured.push_back(e);
      if (memory(j) > cap)
        log::warn("select: --measured gives ", c.config[j], " (", fixed(memory(j), 3), " MiB), above the cap of ",
                  fixed(cap, 3), " MiB; it is used anyway");
    }
    if (!chosen.empty() && std::set<int>(chosen.begin(), chosen.end()) != std::set<int>(used.begin(), used.end()))
      log::warn("select: the configurations in --measured are not the ", chosen.size(), " ED-MF picks; the fit uses "
                "the file's");
    int finite = 0;
    for (double e : measured) finite += std::isfinite(e) ? 1 : 0;
    if (finite < 1 || (!ei && finite < rank))
      throw InputError("--measured " + job.measured_source + ": " + std::to_string(finite) +
                       " finite errors; at least " + std::to_string(ei ? 1 : rank) + " are needed");
  } else if (!ei) {
    // ED-MF: every pick chosen up front, trained in one round.
    used = meta::choose_configurations(train_matrix, memory, job.measurements, cap, rank);
    measured = train_chosen(job, configs, used, cap, measured_nc, "ED-MF", comm);
    rounds.assign(used.size(), 0);
  } else {
    // EI-MF, sequential: each round trains as many configurations as there are
    // ranks, chosen jointly by fantasizing the pending ones at their posterior
    // mean; the posterior is updated and the loop stops at --measurements or
    // when the expected regret of the recommendation is within --tolerance.
    // Every round is a deterministic function of the rounds before it, so a
    // rerun replays them and the journals make finished cells free (resume).
    const int per_round = par::size(comm);
    std::vector<int> failed;
    for (int round = 0; static_cast<int>(used.size()) < job.measurements; ++round) {
      const meta::FiniteMeasurements fm = meta::finite_measurements(used, measured);
      std::vector<int> s = fm.configs;  // measured, then the round's pending picks
      std::vector<double> v(fm.errors.data(), fm.errors.data() + fm.errors.size());
      meta::AcquisitionContext rc = ctx;  // failed cells are not tried again
      for (auto* set : {&rc.feasible, &rc.decision})
        set->erase(std::remove_if(set->begin(), set->end(),
                                  [&](int j) { return std::find(failed.begin(), failed.end(), j) != failed.end(); }),
                   set->end());
      std::vector<int> picks;
      const int want = std::min(per_round, job.measurements - static_cast<int>(used.size()));
      for (int i = 0; i < want; ++i) {
        const Eigen::VectorXd values = Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
        const int j = meta::ei_mf_next(rc, prior, s, values);
        if (j < 0) break;
        const double fantasy = meta::embedding_posterior(prior, s, values).mean(j);
        picks.push_back(j);
        s.push_back(j);
        v.push_back(fantasy);
      }
      if (picks.empty()) break;  // every configuration under the cap is measured
      const std::string round_nc = job.output + ".round-" + std::to_string(round + 1) + ".nc";
      const std::vector<double> got =
          train_chosen(job, configs, picks, cap, round_nc, "EI-MF round " + std::to_string(round + 1), comm);
      for (std::size_t q = 0; q < picks.size(); ++q) {
        used.push_back(picks[q]);
        measured.push_back(got[q]);
        rounds.push_back(round);
        if (!std::isfinite(got[q])) failed.push_back(picks[q]);
      }
      const meta::SelectionPrediction now =
          meta::posterior_selection(prior, memory, used, measured, job.budget, job.risk_samples, job.seed);
      log::info("select: round ", round + 1, ": ", used.size(), " measured, recommendation ",
                c.config[static_cast<std::size_t>(now.recommended_index)], " (predicted ",
                fixed(now.predicted_error(now.recommended_index), 3), "), expected regret ",
                fixed(now.expected_regret, 4));
      if (job.tolerance > 0 && now.expected_regret <= job.tolerance) {
        log::info("select: expected regret ", fixed(now.expected_regret, 4), " <= --tolerance ",
                  shortest(job.tolerance), ": stopping after ", used.size(), " of at most ", job.measurements,
                  " measurements");
        break;
      }
    }
    if (par::rank(comm) == 0) write_measured(job, configs, used, measured, memory, measured_nc);
  }

  const meta::SelectionPrediction p =
      meta::posterior_selection(prior, memory, used, measured, job.budget, job.risk_samples, job.seed);
  io::Selection sel = to_selection(p, c.config, memory, cap, job.budget);
  sel.task = job.task.name;
  sel.acquisition = job.acquisition;
  sel.selection_round = rounds;  // empty for --measured: nothing was trained in rounds
  if (par::rank(comm) == 0) {
    sel.text_attributes = job.attributes.text;
    sel.text_attributes["campaign"] = job.campaign_path;
    sel.text_attributes["task_spec"] = job.task_text;
    sel.text_attributes["model"] = job.model;  // of the new task; with its learning rate below
    sel.text_attributes["meta_training_rows"] =
        job.rows_model.empty() ? "all" : "model " + job.rows_model;  // --rows-model
    sel.text_attributes["measurements_source"] = have_file ? "file " + job.measured_source : "trained: " + measured_nc;
    sel.text_attributes["cap_choice"] = cap_given ? "given" : "budget";
    sel.text_attributes["noise_source"] = prior.noise_estimated ? "low-rank residual of the meta-training matrix"
                                                                : "given (replicates of the campaign)";
    for (const auto& [k, v] : job.attributes.number) sel.number_attributes[k] = v;
    sel.number_attributes["rank"] = rank;
    sel.number_attributes["learning_rate"] = job.train.learning_rate;
    sel.number_attributes["meta_training_row_count"] = static_cast<double>(n);
    if (job.epoch > 0) sel.number_attributes["epoch_used"] = job.epoch;
    sel.number_attributes["noise_std"] = std::sqrt(prior.noise_variance);
    sel.number_attributes["measurements"] = static_cast<double>(used.size());
    sel.number_attributes["memory_used"] = 0;
    for (int j : used) sel.number_attributes["memory_used"] += memory(j);
    print_selection(sel);
    io::write_selection(job.output, sel);
    log::info("select: -> ", job.output);
  }
  par::barrier(comm);
  return sel;
}

}  // namespace peppp::stage
