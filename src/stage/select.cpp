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
#include "peppp/meta/plan.hpp"
#include "peppp/meta/select.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/signals.hpp"

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
std::vector<std::pair<int, double>> read_measured(const std::string& path, const std::vector<std::string>& config) {
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
    const io::Campaign m = io::read_campaign(path);
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

namespace {

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
  log::info("  config            memory   predicted        measured");
  for (int j : order) {
    if (!s.pareto_estimate[j] && j != s.recommended_index) continue;
    char line[160];
    std::snprintf(line, sizeof line, "  %-15s %8.3f   %.3f +- %.3f   %s%s", s.config[j].c_str(), s.memory[j],
                  s.predicted_error[j], s.predicted_std[j],
                  s.measured[j] ? ("* " + fixed(s.measured_error[j], 3)).c_str() : "       ",
                  j == s.recommended_index ? "   <- recommended" : "");
    log::info(line);
  }
  const int r = s.recommended_index;
  log::info("select: recommended configuration under the budget of ", fixed(s.budget, 3), " MiB: ",
            s.recommended_config, " (", fixed(s.memory[r], 3), " MiB), predicted error ",
            fixed(s.predicted_error[r], 3), " +- ", fixed(s.predicted_std[r], 3),
            s.measured[r] ? ", measured " + fixed(s.measured_error[r], 3) : std::string());
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
  return out;
}

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The meta-training matrix: the campaign's errors, completed by SoftImpute when cells are missing.
Eigen::MatrixXd meta_training(const io::Campaign& c, std::uint64_t seed) {
  const auto ni = static_cast<Eigen::Index>(c.n_tasks()), di = static_cast<Eigen::Index>(c.n_configs());
  const Eigen::MatrixXd observed = meta::measured_errors(Eigen::Map<const RowMajor>(c.error.data(), ni, di), c.status);
  if (observed.allFinite()) return observed;
  meta::CompletionOptions opt;
  opt.sweep = false;
  opt.seed = seed;
  auto scheme = c.text_attributes.find("sampling_scheme");
  if (scheme != c.text_attributes.end() && scheme->second == "nonuniform" && !c.sampling_probability.empty())
    opt.sampling_probabilities = Eigen::Map<const RowMajor>(c.sampling_probability.data(), ni, di);
  const meta::CompletionResult r =
      meta::complete_campaign(observed, Eigen::Map<const RowMajor>(c.memory.data(), ni, di), opt);
  log::info("select: campaign partially measured; completed by SoftImpute (lambda ", r.lambda, ", rank ", r.rank,
            ")");
  return r.estimate;
}

// Train the chosen cells of the new task (a one-task plan over the chosen
// configurations) and return their errors, NaN where not measured; the same on every rank.
std::vector<double> train_chosen(const SelectJob& job, const std::vector<Configuration>& configs,
                                 const std::vector<int>& chosen, double cap, const std::string& measured_nc,
                                 MPI_Comm comm) {
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
  const meta::Plan plan = meta::make_plan(std::move(spec));
  par::check_outputs(plan, measured_nc, comm);

  par::MeasureSettings st;
  st.output = measured_nc;
  st.resume = job.resume;
  set_rank_resources(st, job.resources, comm);
  st.text_attributes = job.attributes.text;
  st.text_attributes["campaign_name"] = "select: " + task.name;
  st.text_attributes["model"] = job.model;
  st.text_attributes["meta_training_campaign"] = job.campaign_path;
  st.number_attributes["epochs"] = job.train.epochs;
  st.number_attributes["batch_size"] = job.train.batch_size;
  st.number_attributes["learning_rate"] = job.train.learning_rate;
  st.number_attributes["momentum"] = job.train.momentum;
  st.number_attributes["weight_decay"] = job.train.weight_decay;
  st.number_attributes["synthetic"] = 0;

  par::install_stop_handlers();
  log::info("select: training ", chosen.size(), " configurations of task '", task.name, "' chosen by ED-MF under ",
            fixed(cap, 3), " MiB on ", par::size(comm), " rank(s), device ", st.device);
  const par::MeasureSummary s = par::measure(plan, real_trainer({task}, picked, job.train, job.model), st, comm);
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
  const io::Campaign& c = job.campaign;
  const std::size_t n = c.n_tasks(), d = c.n_configs();
  if (auto it = c.number_attributes.find("synthetic"); it != c.number_attributes.end() && it->second != 0)
    log::warn("select: ", job.campaign_path, " is a SYNTHETIC campaign (fake errors); its predictions mean nothing");
  // ---- every input checked on every rank before any work (identical inputs -> identical decisions)
  if (auto why = io::check_writable(job.output); !why.empty()) throw InputError("--output: " + why);
  if (n < 3)
    throw InputError("--campaign " + job.campaign_path + ": has " + std::to_string(n) +
                     " task(s); allowed: at least 3 meta-training tasks");
  if (std::find(c.task.begin(), c.task.end(), job.task.name) != c.task.end())
    throw InputError("--task '" + job.task_text + "': task '" + job.task.name + "' is already in the campaign " +
                     job.campaign_path + "; select is for a new task (use peppp loocv to evaluate held-out campaign "
                     "tasks, or rename the task)");
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
  std::vector<int> chosen;
  if (job.measurements > 0) chosen = meta::choose_configurations(train_matrix, memory, job.measurements, cap, rank);

  std::vector<double> measured;
  std::vector<int> used;  // the configurations whose errors enter the fit, in pick order
  const std::string measured_nc = job.output + ".measured.nc";
  if (have_file) {
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
    if (finite < rank)
      throw InputError("--measured " + job.measured_source + ": " + std::to_string(finite) +
                       " finite errors; at least the rank " + std::to_string(rank) + " are needed");
  } else {
    measured = train_chosen(job, configs, chosen, cap, measured_nc, comm);
    used = chosen;
  }

  io::Selection sel = to_selection(meta::predict_selection(train_matrix, memory, used, measured, job.budget, rank),
                                   c.config, memory, cap, job.budget);
  sel.task = job.task.name;
  if (par::rank(comm) == 0) {
    sel.text_attributes = job.attributes.text;
    sel.text_attributes["campaign"] = job.campaign_path;
    sel.text_attributes["task_spec"] = job.task_text;
    sel.text_attributes["model"] = job.model;
    sel.text_attributes["measurements_source"] = have_file ? "file " + job.measured_source : "trained: " + measured_nc;
    sel.text_attributes["cap_choice"] = cap_given ? "given" : "budget";
    for (const auto& [k, v] : job.attributes.number) sel.number_attributes[k] = v;
    sel.number_attributes["rank"] = rank;
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
