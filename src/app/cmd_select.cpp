// peppp select: meta-test: pick, train and predict configurations for a new task -> selection.nc.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "cell_training.hpp"
#include "commands.hpp"
#include "loocv_options.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/io/selection.hpp"
#include "peppp/meta/completion.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/meta/select.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/measure.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/signals.hpp"

namespace peppp::app {

OptionSet select_options() {
  OptionSet s;
  s.command = "select";
  s.summary = "meta-test: pick, train and predict configurations for a new task -> selection.nc";
  s.usage =
      "mpirun -np N peppp select --campaign campaign.nc --task CATALOG.ini:TASK --budget MiB --measurements N\n"
      "       [--cap MiB] [--rank K] --output selection.nc [--resume]\n"
      "  or:  peppp select ... --measured errors.csv   (errors measured elsewhere; nothing is trained)\n"
      "The new task is trained with the campaign's model and [train] settings (its option.* attributes);\n"
      "--config FILE or --train.KEY / --campaign.model on the command line override them. The\n"
      "configurations are the campaign's (campaign.formats_a/b and [sampling] are ignored). The cells\n"
      "measured are written to <output>.measured.nc, their journal to <output>.measured.nc.journal/\n"
      "(an interrupted selection resumes from it).";
  s.takes_config = true;
  s.other_stage_sections = {"complete", "loocv"};
  add_campaign_options(s);
  for (auto& spec : s.specs) {
    if (spec.key == "campaign.tasks") {
      spec.required = false;
      spec.help = "Ignored by select (the new task is --task).";
    }
    if (spec.key == "campaign.formats_a" || spec.key == "campaign.formats_b")
      spec.help = "Ignored by select: the configurations are the campaign's.";
    if (starts_with(spec.key, "sampling.")) spec.help = "Ignored by select.";
  }
  {
    auto& o = s.add("campaign", Kind::text, "", "path", "campaign.nc",
                    "Campaign file written by peppp measure (the meta-training tasks, at least 3). A partially "
                    "measured campaign is completed with SoftImpute first.");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("task", Kind::text, "", "CATALOG.ini:TASK", "inputs/tasks/new.ini:shirt-dress",
                    "The new task: a catalog file and a task name, or a catalog declaring exactly one task. "
                    "A task whose name is already in the campaign is refused.");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("budget", Kind::real, "", "MiB", "2.5",
                    "Training memory budget: the recommendation is the configuration of lowest predicted error "
                    "with memory <= budget (METHOD.md F9.1).");
    o.in_config = false;
    o.required = true;
    o.min = 0;
    o.min_exclusive = true;
  }
  {
    auto& o = s.add("measurements", Kind::integer, "", "configurations", "5",
                    "How many configurations ED-MF picks and trains on the new task (>= --rank). Required unless "
                    "--measured is given.");
    o.in_config = false;
    o.min = 1;
  }
  {
    auto& o = s.add("cap", Kind::real, "", "MiB", "2.0",
                    "Memory cap on the measured configurations (METHOD.md F6.3); default: the budget (a "
                    "configuration that does not fit the budget is not trained either).");
    o.in_config = false;
    o.min = 0;
    o.min_exclusive = true;
  }
  {
    auto& o = s.add("rank", Kind::integer, "3", "", "3", "Embedding rank k (METHOD.md F6.1), <= tasks and configurations.");
    o.in_config = false;
    o.min = 1;
  }
  {
    auto& o = s.add("measured", Kind::text, "", "path", "errors.csv",
                    "Errors measured elsewhere instead of training: a text file of 'config,error' lines (header "
                    "and # comments allowed, error in [0, 1] or nan) or a one-task campaign-like .nc file (e.g. "
                    "<output>.measured.nc of an earlier run).");
    o.in_config = false;
  }
  {
    auto& o = s.add("output", Kind::text, "", "path", "selection.nc", "Selection file to write (NetCDF-4).");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("resume", Kind::flag, "false", "", "",
                    "Resume the training of an interrupted selection (its journal is used either way).");
    o.in_config = false;
  }
  return s;
}

namespace {

// The keys the new task inherits from the campaign unless the user gives them.
bool inherited(const std::string& key) {
  return key == "campaign.model" || key == "campaign.seed" || starts_with(key, "train.");
}

// The user's values on top of the campaign's option.* attributes, re-checked.
Options effective_options(const Options& o, const io::Campaign& c, bool& from_campaign) {
  const OptionSet set = select_options();
  std::vector<std::string> args;
  from_campaign = false;
  for (const auto& s : set.specs) {
    if (o.given(s.key)) {
      args.push_back("--" + s.key + "=" + (s.key == "campaign" || s.key == "output" || s.key == "measured"
                                               ? o.path(s.key)
                                               : o.text(s.key)));
    } else if (inherited(s.key)) {
      auto it = c.text_attributes.find("option." + s.key);
      if (it != c.text_attributes.end()) {
        args.push_back("--" + s.key + "=" + it->second);
        from_campaign = true;
      }
    }
  }
  try {
    return parse_options(set, args);
  } catch (const InputError& e) {
    throw InputError("--campaign: its training settings are not usable: " + std::string(e.what()));
  }
}

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

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// selection.nc's content from the meta-layer prediction (labels and cap added).
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

}  // namespace

int run_select(const Options& user, MPI_Comm comm) {
  const int me = par::rank(comm);
  // ---- every input checked on every rank before any work (identical inputs -> identical decisions)
  const std::string output = user.path("output");
  if (auto why = io::check_writable(output); !why.empty()) throw InputError("--output: " + why);
  const std::string campaign_path = user.path("campaign");
  const io::Campaign c = io::read_campaign(campaign_path);
  const std::size_t n = c.n_tasks(), d = c.n_configs();
  if (n < 3)
    throw InputError("--campaign " + campaign_path + ": has " + std::to_string(n) +
                     " task(s); allowed: at least 3 meta-training tasks");
  bool from_campaign = false;
  const Options o = effective_options(user, c, from_campaign);
  if (!from_campaign)
    log::warn("select: ", campaign_path, " records no training settings (option.* attributes); the new task is "
              "trained with the defaults and the command line");
  if (auto it = c.number_attributes.find("synthetic"); it != c.number_attributes.end() && it->second != 0)
    log::warn("select: ", campaign_path, " is a SYNTHETIC campaign (fake errors); its predictions mean nothing");

  const TaskSpec task = read_task(o.text("task"));
  if (std::find(c.task.begin(), c.task.end(), task.name) != c.task.end())
    throw InputError("--task '" + o.text("task") + "': task '" + task.name + "' is already in the campaign " +
                     campaign_path + "; select is for a new task (use peppp loocv to evaluate held-out campaign "
                     "tasks, or rename the task)");

  const std::vector<Configuration> configs = io::configurations(c);
  const std::string model = o.text("campaign.model");
  const TrainSettings train = train_settings(o);
  const std::vector<double> memory_v = task_memory(task, configs, model, train.batch_size);
  const Eigen::VectorXd memory = Eigen::Map<const Eigen::VectorXd>(memory_v.data(), static_cast<Eigen::Index>(d));
  const double budget = o.real("budget");
  if (budget < memory.minCoeff())
    throw InputError("--budget " + o.text("budget") + ": below every configuration's memory on task '" + task.name +
                     "' (" + fixed(memory.minCoeff(), 3) + " ... " + fixed(memory.maxCoeff(), 3) +
                     " MiB); allowed: >= " + fixed(memory.minCoeff(), 3) + " MiB");
  const double cap = o.given("cap") ? o.real("cap") : budget;
  const int rank = static_cast<int>(o.integer("rank"));
  if (static_cast<std::size_t>(rank) > std::min(n, d))
    throw InputError("--rank " + std::to_string(rank) + ": allowed: 1.." + std::to_string(std::min(n, d)) +
                     " (tasks and configurations of the campaign)");
  const bool have_file = o.given("measured");
  if (!have_file && !o.given("measurements"))
    throw InputError("--measurements: required (how many configurations to train), unless --measured FILE is given");

  // The meta-training matrix: the campaign's errors, completed by SoftImpute when cells are missing.
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto ni = static_cast<Eigen::Index>(n), di = static_cast<Eigen::Index>(d);
  const Eigen::MatrixXd observed =
      meta::measured_errors(Eigen::Map<const RowMajor>(c.error.data(), ni, di), c.status);
  Eigen::MatrixXd train_matrix = observed;
  if (!observed.allFinite()) {
    meta::CompletionOptions opt;
    opt.sweep = false;
    opt.seed = static_cast<std::uint64_t>(o.integer("campaign.seed"));
    auto scheme = c.text_attributes.find("sampling_scheme");
    if (scheme != c.text_attributes.end() && scheme->second == "nonuniform" && !c.sampling_probability.empty())
      opt.sampling_probabilities = Eigen::Map<const RowMajor>(c.sampling_probability.data(), ni, di);
    const meta::CompletionResult r =
        meta::complete_campaign(observed, Eigen::Map<const RowMajor>(c.memory.data(), ni, di), opt);
    train_matrix = r.estimate;
    log::info("select: campaign partially measured; completed by SoftImpute (lambda ", r.lambda, ", rank ", r.rank,
              ")");
  }

  std::vector<int> chosen;
  if (o.given("measurements"))
    chosen = meta::choose_configurations(train_matrix, memory, static_cast<int>(o.integer("measurements")), cap, rank);

  std::vector<double> measured;
  std::vector<int> used;  // the configurations whose errors enter the fit, in pick order
  const std::string measured_nc = output + ".measured.nc";
  if (have_file) {
    auto pairs = read_measured(o.path("measured"), c.config);
    // ED-MF's order first (when --measurements was given), then the file's.
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
      throw InputError("--measured " + o.path("measured") + ": " + std::to_string(finite) +
                       " finite errors; at least the rank " + std::to_string(rank) + " are needed");
  } else {
    // ---- train the chosen cells: a one-task plan over the chosen configurations
    if (auto why = io::check_writable(measured_nc); !why.empty()) throw InputError("--output: " + why);
    meta::PlanSpec spec;
    spec.tasks = {TaskRow::of(task)};
    std::vector<Configuration> picked;
    for (int j : chosen) picked.push_back(configs[j]);
    spec.configs = picked;
    fill_plan_memory(spec, {task}, picked, model, train.batch_size);
    spec.scheme = meta::Scheme::full;
    spec.seed = static_cast<std::uint64_t>(o.integer("campaign.seed"));
    std::string identity = "select\n";
    for (const auto& [k, v] : o.values())
      if (k == "campaign.model" || starts_with(k, "train.")) identity += k + "=" + v + "\n";
    spec.identity = identity;
    const meta::Plan plan = meta::make_plan(std::move(spec));
    par::check_outputs(plan, measured_nc, comm);

    par::MeasureSettings st;
    st.output = measured_nc;
    st.resume = o.flag("resume");
    set_rank_resources(st, o.text("run.device"), static_cast<int>(o.integer("run.threads")), comm);
    st.progress_interval_s = o.real("run.progress_interval");
    st.text_attributes = output_attributes(o, comm, "select");
    st.text_attributes["campaign_name"] = "select: " + task.name;
    st.text_attributes["model"] = model;
    st.text_attributes["meta_training_campaign"] = campaign_path;
    st.number_attributes["epochs"] = train.epochs;
    st.number_attributes["batch_size"] = train.batch_size;
    st.number_attributes["learning_rate"] = train.learning_rate;
    st.number_attributes["momentum"] = train.momentum;
    st.number_attributes["weight_decay"] = train.weight_decay;
    st.number_attributes["synthetic"] = 0;

    par::install_stop_handlers();
    log::info("select: training ", chosen.size(), " configurations of task '", task.name, "' chosen by ED-MF under ",
              fixed(cap, 3), " MiB on ", par::size(comm), " rank(s), device ", st.device);
    const par::MeasureSummary s = par::measure(plan, real_trainer({task}, picked, train, model), st, comm);
    if (s.interrupted || s.missing > 0)
      throw Interrupted("select: stopped early; " + std::to_string(s.planned - s.missing) + " of " +
                        std::to_string(s.planned) + " cells done (in " + measured_nc +
                        "); rerun with --resume to finish");
    // The root wrote the measured file; everyone gets the same errors.
    measured.assign(chosen.size(), std::numeric_limits<double>::quiet_NaN());
    if (me == 0) {
      const io::Campaign m = io::read_campaign(measured_nc);
      for (std::size_t q = 0; q < chosen.size(); ++q)
        if (static_cast<CellStatus>(m.status[q]) == CellStatus::measured) measured[q] = m.error[q];
    }
    par::broadcast(measured, comm);
    used = chosen;
    log::info("select: ", s.measured, " measured, ", s.diverged, " diverged, ", s.failed, " failed (", s.resumed,
              " from the journal) -> ", measured_nc);
  }

  io::Selection sel = to_selection(meta::predict_selection(train_matrix, memory, used, measured, budget, rank),
                                   c.config, memory, cap, budget);
  sel.task = task.name;
  if (me == 0) {
    sel.text_attributes = output_attributes(o, comm, "select");
    sel.text_attributes["campaign"] = campaign_path;
    sel.text_attributes["task_spec"] = o.text("task");
    sel.text_attributes["model"] = model;
    sel.text_attributes["measurements_source"] = have_file ? "file " + o.path("measured") : "trained: " + measured_nc;
    sel.text_attributes["cap_choice"] = o.given("cap") ? "given" : "budget";
    sel.number_attributes["rank"] = rank;
    sel.number_attributes["measurements"] = static_cast<double>(used.size());
    sel.number_attributes["memory_used"] = 0;
    for (int j : used) sel.number_attributes["memory_used"] += memory(j);
    print_selection(sel);
    io::write_selection(output, sel);
    log::info("select: -> ", output);
  }
  par::barrier(comm);
  return 0;
}

}  // namespace peppp::app
