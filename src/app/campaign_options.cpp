// The keys several commands share, each declared once with default, unit,
// example and help (the --help text and README table) and bound to its
// typed field: the campaign keys (measure, memory, run, select) and the
// meta-LOOCV keys (loocv, run).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/settings.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::app {

namespace {
// `text` with the line "key=..." replaced by "key=value".
std::string replace_line(const std::string& text, const std::string& key, const std::string& value) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    out += (starts_with(line, key + "=") ? key + "=" + value : line) + "\n";
  return out;
}
const char* kTorchScript = "torchscript:";
const char* kFormatsA = "e3m1,e3m2,e3m3,e3m4,e4m1,e4m2,e4m3,e4m4,e5m1,e5m2,e5m3";
const char* kFormatsB = "e6m7,e6m9,e6m11,e7m7,e7m9,e7m11,e8m7,e8m9,e8m11";
const std::vector<std::string> kRounding = {"nearest", "nearest_even", "stochastic"};
Rounding rounding(const std::string& s) { return parse_rounding(s); }

// The per-role keys (docs/roles.md): campaign.formats_first/last/attention/norm, campaign.configurations.
void declare_roles(OptionSet& s, CampaignArgs& a) {
  const std::pair<const char*, std::vector<std::string>*> roles[] = {
      {"first", &a.formats_first}, {"last", &a.formats_last}, {"attention", &a.formats_attention},
      {"norm", &a.formats_norm}};
  const char* what[] = {"the input and the first conv/linear layer's output and weights",
                        "the classifier head (its output and weights)",
                        "attention scores and softmax (vit-tiny; TorchScript networks where detected)",
                        "batch/layer/group norm outputs and weights"};
  for (std::size_t i = 0; i < 4; ++i) {
    s.add(std::string("campaign.formats_") + roles[i].first, Kind::list, "", "", "e8m7,bf16",
          std::string("Format A choices for role ") + roles[i].first + " (" + what[i] + "; docs/roles.md), labels as "
          "campaign.formats_a. Empty: the body's format. The configurations are the product body x first x last x "
          "attention x norm x B (a role with the body's format gives the uniform label e4m3/e6m7, others "
          "e4m3[first=e8m7]/e6m7). Refused for a network without the role.").to(*roles[i].second);
  }
  s.add("campaign.configurations", Kind::text, "", "path", "configs.txt",
        "File of configuration labels, one a line (# comments), e.g. e4m3/e6m7 or e4m3[first=e8m7,last=e8m7]/e6m7 "
        "(docs/roles.md): the columns instead of the product of the format lists.").to(a.configurations);
}
}  // namespace

void CampaignArgs::declare(OptionSet& s) {
  TrainSettings& t = spec.train;
  s.add("campaign.name", Kind::text, "campaign", "", "fashion-demo",
        "Name of the campaign, written into every output file.").to(spec.name);
  s.add("campaign.seed", Kind::integer, "1", "", "42",
        "Campaign seed: every cell's seed is a hash of (seed, task, configuration), so a cell gives "
        "the same result on any rank.").at_least(0).to(spec.seed);
  s.add("campaign.tasks", Kind::text, "", "path", "tasks/fashion-demo.ini",
        "Task catalog (inputs/tasks/*.ini) declaring the tasks (rows of the error matrix).")
      .mandatory().to(catalog);
  s.add("campaign.model", Kind::choice, "small-cnn", "", "resnet18",
        "Network trained in every cell: a zoo name, or torchscript:PATH, your own network saved with "
        "torch.jit.save (images [N, C, H, W] to logits [N, K]; PATH relative to the INI file like every "
        "path, recorded absolute). K >= every task's classes: a task of C classes uses the first C logits "
        "(export one file with the catalog's largest class count); a smaller K is refused naming the file, "
        "the task and both sizes. Quantizer points after the input and after every conv, linear/addmm, "
        "matmul/mm/bmm/baddbmm/einsum, batch/layer/group/instance norm, relu, gelu and other activation, "
        "softmax/log_softmax, pooling/mean, add/sub, mul/div, cat/stack (functional forms; "
        "examples/models/README.md); 'peppp memory' lists the points.")
      .one_of(nn::model_names())
      .or_prefixed(kTorchScript, "PATH")
      .to(spec.model);
  s.add("campaign.models", Kind::list, "", "", "resnet18,vgg11",
        "Several networks: the rows become task x model (x learning rate), labelled TASK:MODEL, each row "
        "with its own memory model; a row's cells equal a one-model campaign's bit for bit. Instead of "
        "campaign.model. Each a zoo name or torchscript:PATH, as campaign.model.")
      .one_of(nn::model_names())
      .or_prefixed(kTorchScript, "PATH")
      .to(spec.models);
  s.add("campaign.formats_a", Kind::list, kFormatsA, "", "e3m1,e4m3,e5m2",
        "Format A list (weights, activations, errors): labels eEmM or 1-E-M, E in 2..8, M in 1..23, "
        "or named formats ocp-e4m3, ocp-e5m2, fp16, bf16, mxfp8-e4m3, mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, "
        "mxfp4, nvfp4 (docs/formats.md). Default: the paper's 11 formats.").to(formats_a);
  s.add("campaign.formats_b", Kind::list, kFormatsB, "", "e6m7,e8m7",
        "Format B list (optimizer: gradient, momentum, accumulator), labels as Format A. Configurations "
        "are all (A, B) pairs, A-major. Default: the paper's 9 formats.").to(formats_b);
  declare_roles(s, *this);

  s.add("train.epochs", Kind::integer, "10", "epochs", "2", "Training epochs per cell.").at_least(1).to(t.epochs);
  s.add("train.batch_size", Kind::integer, "32", "samples", "64",
        "Mini-batch size (also the B of the memory model).").at_least(1).to(t.batch_size);
  s.add("train.learning_rate", Kind::real, "0.001", "", "0.01", "SGD learning rate.").above(0).to(t.learning_rate);
  s.add("train.learning_rates", Kind::list, "", "", "0.001,0.01",
        "Several learning rates: the rows become task x learning rate (x model), labelled TASK:lr=RATE "
        "(the paper's LR-tuned rows). Instead of train.learning_rate.").to(learning_rates);
  s.add("train.momentum", Kind::real, "0.9", "", "0.9", "SGD momentum.").at_least(0).at_most(1).to(t.momentum);
  s.add("train.weight_decay", Kind::real, "0.0005", "", "0.0005", "SGD weight decay (L2).")
      .at_least(0).to(t.weight_decay);
  s.add("train.lr_schedule", Kind::choice, "constant", "", "cosine",
        "Learning-rate schedule: constant, or cosine annealing from learning_rate to 0 over the cell's steps.")
      .one_of({"constant", "cosine"}).to(t.cosine_schedule, [](const std::string& v) { return v == "cosine"; });
  s.add("train.replicates", Kind::integer, "1", "", "3",
        "Times every planned cell is trained, each replicate with its own seed hash(seed, task, configuration, "
        "replicate); replicate 0 is the 1-replicate seed. campaign.nc stores each replicate (error_replicates), "
        "their mean (error) and sample std (error_std).").at_least(1).at_most(65535).to(spec.replicates);
  s.add("train.record_epochs", Kind::flag, "true", "", "false",
        "Evaluate the test split after every epoch: campaign.nc's error_by_epoch / loss_by_epoch (early epochs "
        "as a cheaper fidelity: --epoch E of complete, loocv, select; loocv --fidelity). Costs E-1 extra test "
        "evaluations per cell; the training and final error are the same bit for bit either way.")
      .to(t.record_epochs);
  s.add("train.rounding_weights", Kind::choice, "stochastic", "", "nearest",
        "Rounding of the forward weights onto Format A.").one_of(kRounding).to(t.rounding.weights, rounding);
  s.add("train.rounding_activations", Kind::choice, "nearest", "", "stochastic",
        "Rounding of every layer's output activation onto Format A.")
      .one_of(kRounding).to(t.rounding.activations, rounding);
  s.add("train.rounding_errors", Kind::choice, "nearest", "", "stochastic",
        "Rounding of the back-propagated errors onto Format A.").one_of(kRounding).to(t.rounding.errors, rounding);
  s.add("train.rounding_gradient", Kind::choice, "stochastic", "", "nearest",
        "Rounding of the gradient handed to the optimizer onto Format B.")
      .one_of(kRounding).to(t.rounding.gradient, rounding);
  s.add("train.rounding_momentum", Kind::choice, "stochastic", "", "nearest",
        "Rounding of the momentum buffer onto Format B.").one_of(kRounding).to(t.rounding.momentum, rounding);
  s.add("train.rounding_accumulator", Kind::choice, "stochastic", "", "nearest",
        "Rounding of the float32 master weights (accumulator) onto Format B after each step.")
      .one_of(kRounding).to(t.rounding.accumulator, rounding);
  s.add("train.loss_scale", Kind::real, "0", "", "1",
        "Factor on the loss before backward (errors are divided back out before the optimizer), so "
        "small errors survive Format A; 0 = the batch size, 1 = no scaling.").at_least(0).to(t.loss_scale);

  s.add("sampling.scheme", Kind::choice, "full", "", "uniform",
        "Which cells to measure: all (full), an exact uniform random fraction (uniform), a "
        "memory-weighted random sample favouring cheap cells (nonuniform, METHOD.md F4.2), or every "
        "uniform configuration plus a level-balanced fraction sampling.ratio of the per-role ones per task "
        "(design, docs/feature-completion.md).")
      .one_of({"full", "uniform", "nonuniform", "design"}).to(spec.scheme, meta::parse_scheme);
  s.add("sampling.ratio", Kind::real, "0.2", "fraction", "0.25",
        "Fraction of cells measured by the uniform scheme; design: fraction of the per-role configurations per task.")
      .above(0).at_most(1).to(spec.ratio);
  s.add("sampling.p_max", Kind::real, "0.4", "probability", "0.6",
        "Non-uniform scheme: sampling probability of the cheapest cells.").above(0).at_most(1).to(spec.p_max);
  s.add("sampling.p_min", Kind::real, "0", "probability", "0.05",
        "Non-uniform scheme: probability floor of the most expensive cells.").at_least(0).at_most(1).to(spec.p_min);

  s.add("run.device", Kind::choice, "auto", "", "cpu",
        "Where cells train: auto = cuda:(local rank mod GPUs) when LibTorch has CUDA, else cpu.")
      .one_of({"auto", "cpu", "cuda"}).to(resources.device);
  s.add("run.threads", Kind::integer, "0", "threads", "1",
        "Torch threads per rank; 0 = SLURM_CPUS_PER_TASK, else cores / ranks on the node.")
      .at_least(0).to(resources.threads);
  s.add("run.progress_interval", Kind::real, "10", "s", "60",
        "Seconds between progress lines on rank 0 (cells done/total, cells/hour, ETA, failures).")
      .at_least(0).to(resources.progress_interval_s);
  s.add("run.queue_order", Kind::choice, "cost", "", "plan",
        "Order the queue hands cells out in: cost = the most expensive first (network activations x images x "
        "epochs of each row, calibrated by run.cost_reference or, on --resume, by the cells already done; equal "
        "costs in plan order), which shortens the campaign's tail; plan = the plan's order (by task). Results "
        "are the same in either order.")
      .one_of({"cost", "plan"}).to(resources.queue_order);
  s.add("run.cost_reference", Kind::text, "", "path", "inputs/reference/fashion-small-cnn.nc",
        "Campaign file whose train_seconds calibrate the queue's cost estimate (rows matched by name, "
        "configuration and network); empty = the estimate alone.")
      .to(resources.cost_reference);
}

void CampaignArgs::finish(const Options& o, bool read, bool need_files) {
  // Relative to the INI file that names it, like every path there.
  if (o.given("run.cost_reference")) resources.cost_reference = o.path("run.cost_reference");
  spec.configs = campaign_configurations(o);
  if (read && !catalog.empty()) {
    spec.tasks = data::read_catalog(catalog).tasks;
    for (const TaskSpec& t : need_files ? spec.tasks : std::vector<TaskSpec>{}) {
      const auto missing = data::missing_files(t);
      if (!missing.empty())
        throw InputError("campaign.tasks = '" + catalog + "': task '" + t.name + "' (" + t.origin +
                         "): dataset file " + missing.front() + " not found");
    }
    if (spec.tasks.empty()) throw InputError("campaign.tasks = '" + catalog + "': the catalog declares no task");
  }
  check_roles(o);
  // The scalar key and its list: the command line wins over the file; both in one place is ambiguous.
  bool models_win = o.given("campaign.models"), rates_win = o.given("train.learning_rates");
  auto pick = [&](const char* scalar, const char* list, bool& list_wins) {
    if (!o.given(scalar) || !o.given(list)) return;
    const bool scalar_cl = o.source(scalar) == "command line", list_cl = o.source(list) == "command line";
    if (scalar_cl == list_cl)
      throw InputError(std::string(scalar) + " (" + o.source(scalar) + ") and " + list + " (" + o.source(list) +
                       "): give one of them");
    list_wins = list_cl;
  };
  pick("campaign.model", "campaign.models", models_win);
  pick("train.learning_rate", "train.learning_rates", rates_win);
  if (!models_win) spec.models.clear();
  if (!rates_win) learning_rates.clear();
  spec.learning_rates.clear();
  for (const auto& text : learning_rates) {
    double v = 0;
    if (!parse_double(text, v) || !(v > 0) || !std::isfinite(v))
      throw InputError("train.learning_rates (" + o.source("train.learning_rates") + "): value '" + text +
                       "' is not allowed; allowed: comma-separated numbers > 0");
    for (double w : spec.learning_rates)
      if (w == v) throw InputError("train.learning_rates (" + o.source("train.learning_rates") + "): '" + text +
                                   "' is listed twice");
    spec.learning_rates.push_back(v);
  }
  for (std::size_t i = 0; i < spec.models.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (spec.models[i] == spec.models[j])
        throw InputError("campaign.models (" + o.source("campaign.models") + "): '" + spec.models[i] +
                         "' is listed twice");
  if (models_win && spec.models.empty())
    throw InputError("campaign.models (" + o.source("campaign.models") + "): the model list is empty");
  if (rates_win && spec.learning_rates.empty())
    throw InputError("train.learning_rates (" + o.source("train.learning_rates") + "): the list is empty");
  spec.model = resolve_model(o, "campaign.model", spec.model);
  for (auto& m : spec.models) m = resolve_model(o, "campaign.models", m);
  // One value in a list is the scalar key: a plain campaign, the same plan and files.
  if (spec.models.size() == 1) spec.model = spec.models.front();
  if (spec.learning_rates.size() == 1) spec.train.learning_rate = spec.learning_rates.front();
  if (spec.models.size() <= 1 && spec.learning_rates.size() <= 1) {
    spec.models.clear();
    spec.learning_rates.clear();
  }
  spec.identity = campaign_identity(o, spec.model);
  if (!spec.models.empty()) spec.identity = replace_line(spec.identity, "campaign.model", "(per row)");
  if (!spec.learning_rates.empty()) spec.identity = replace_line(spec.identity, "train.learning_rate", "(per row)");
  else if (rates_win) spec.identity = replace_line(spec.identity, "train.learning_rate", trim(o.text("train.learning_rates")));
}

namespace {
const char* kRoleKeys[] = {"campaign.formats_first", "campaign.formats_last", "campaign.formats_attention",
                           "campaign.formats_norm"};

// The formats of list `key`; `empty_ok`: an empty list is no choice (a role's list).
std::vector<FloatFormat> parse_formats(const Options& o, const std::string& key, const std::vector<std::string>& labels,
                                       bool empty_ok = false) {
  std::vector<FloatFormat> out;
  for (const auto& label : labels) {
    try {
      out.push_back(FloatFormat::parse(label));
    } catch (const InputError& e) {
      throw InputError(key + " (" + o.source(key) + "): " + e.what());
    }
  }
  if (out.empty() && !empty_ok) throw InputError(key + " (" + o.source(key) + "): the format list is empty");
  return out;
}

// The labels of campaign.configurations = `path`, one a line, '#' starts a comment; refused: a
// malformed or repeated label, an empty file.
std::vector<Configuration> read_configurations(const Options& o, const std::string& path) {
  const std::string where = "campaign.configurations = '" + path + "' (" + o.source("campaign.configurations") + ")";
  std::ifstream in(path);
  if (!in) throw InputError(where + ": the file cannot be read");
  std::vector<Configuration> out;
  std::set<std::string> seen;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string text = trim(line.substr(0, line.find('#')));
    if (text.empty()) continue;
    try {
      out.push_back(parse_configuration(text));
    } catch (const InputError& e) {
      throw InputError(where + ": line " + std::to_string(number) + ": " + e.what());
    }
    if (!seen.insert(out.back().label()).second)
      throw InputError(where + ": line " + std::to_string(number) + ": configuration " + out.back().label() +
                       " is listed twice");
  }
  if (out.empty()) throw InputError(where + ": the file lists no configuration");
  return out;
}
}  // namespace

std::vector<Configuration> CampaignArgs::campaign_configurations(const Options& o) const {
  // campaign.configurations or the format lists: the command line wins over the INI file; both in one place
  // is ambiguous.
  bool file_wins = !configurations.empty();
  for (const std::string key :
       {"campaign.formats_a", "campaign.formats_b", kRoleKeys[0], kRoleKeys[1], kRoleKeys[2], kRoleKeys[3]}) {
    if (configurations.empty() || !o.given(key)) continue;
    const bool list_cl = o.source(key) == "command line";
    if (list_cl == (o.source("campaign.configurations") == "command line"))
      throw InputError("campaign.configurations (" + o.source("campaign.configurations") + ") and " + key + " (" +
                       o.source(key) + "): give one of them (the file lists the configurations)");
    file_wins = file_wins && !list_cl;
  }
  if (file_wins) return read_configurations(o, configurations);
  const auto body = parse_formats(o, "campaign.formats_a", formats_a);
  const auto fb = parse_formats(o, "campaign.formats_b", formats_b);
  // Body-major, then first, last, attention, norm, Format B innermost: without role lists exactly
  // all_configurations (A-major). A role given the body's format is the uniform label; repeats are dropped.
  std::vector<Configuration> out;
  std::set<std::string> seen;
  for (const FloatFormat& a : body) {
    std::vector<Configuration> partial{Configuration{a, FloatFormat()}};
    for (std::size_t i = 0; i < 4; ++i) {
      auto choices = parse_formats(o, kRoleKeys[i], role_lists()[i], true);
      if (choices.empty()) choices.push_back(a);
      std::vector<Configuration> next;
      for (const Configuration& c : partial)
        for (const FloatFormat& f : choices) next.push_back(Configuration(c).set(override_roles()[i], f));
      partial = std::move(next);
    }
    for (const Configuration& c : partial)
      for (const FloatFormat& b : fb) {
        Configuration k = c;
        k.b = b;
        if (seen.insert(k.label()).second) out.push_back(k);
      }
  }
  return out;
}

void CampaignArgs::check_roles(const Options& o) const {
  const bool mixed = std::any_of(spec.configs.begin(), spec.configs.end(), [](const auto& c) { return !c.uniform(); });
  if (!mixed || spec.tasks.empty()) return;
  const TaskSpec& t = spec.tasks.front();  // roles come from the network's structure, not the task's shape
  for (const std::string& model : spec.models.empty() ? std::vector<std::string>{spec.model} : spec.models) {
    const auto has = nn::roles_of(nn::model_counts(model, t.num_classes(), t.channels, t.resolution));
    std::vector<std::string> names;
    for (Role r : has) names.push_back(label(r));
    for (const Configuration& c : spec.configs) {
      for (std::size_t i = 0; i < 4; ++i) {
        const Role r = override_roles()[i];
        if (c.format(r) == c.a || std::find(has.begin(), has.end(), r) != has.end()) continue;
        const std::string key = configurations.empty() ? kRoleKeys[i] : "campaign.configurations";
        const std::string value =
            configurations.empty() ? join(role_lists()[i], ",") : configurations + ": " + c.label();
        throw InputError(key + " (" + o.source(key) + "): '" + value + "' gives role " + label(r) + " its own format, "
                         "but network " + model + " has no " + label(r) + " role; allowed: the roles of " + model +
                         " (" + join(names, ", ") + "), or only the body's format");
      }
    }
  }
}

namespace {
// PATH of "torchscript:PATH" given for `key`, absolute and normalized: relative to the INI file
// when the value came from it, else to `base` when given, else to the working folder.
std::string torchscript_path(const Options& o, const std::string& key, const std::string& model,
                             const std::string& base) {
  namespace fs = std::filesystem;
  std::string path = trim(model.substr(std::string(kTorchScript).size()));
  const std::string& config = o.config_file();
  // Lists split at ',' (campaign.models, a campaign's `model` attribute): no path may hold one.
  if (path.find(',') != std::string::npos)
    throw InputError(key + " (" + o.source(key) + "): TorchScript path '" + path +
                     "' has a ','; allowed: a path without ',' (lists of models are split at ',')");
  if (!fs::path(path).is_absolute()) {
    if (!config.empty() && starts_with(o.source(key), config + ":"))
      path = (fs::path(config).parent_path() / path).string();
    else if (!base.empty())
      path = (fs::path(base) / path).string();
  }
  return fs::absolute(path).lexically_normal().string();
}
}  // namespace

std::string resolve_model(const Options& o, const std::string& key, const std::string& model,
                          const std::string& base) {
  if (!nn::is_torchscript(model)) return model;
  // Absolute from here on: the campaign, its row labels and what `select` inherits name the
  // file measured, whatever the working folder of a later command.
  const std::string path = torchscript_path(o, key, model, base);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError(key + " (" + o.source(key) + "): TorchScript file '" + path +
                     "' not found; allowed: a zoo name (" + join(nn::model_names(), ", ") +
                     ") or torchscript:PATH, a file saved with torch.jit.save (relative to the INI file)");
  return kTorchScript + path;
}

void resolve_model_selectors(const Options& o, const std::string& key, std::vector<std::string>& selectors) {
  for (std::string& sel : selectors) {
    const auto eq = sel.find('=');
    if (eq == std::string::npos || trim(sel.substr(0, eq)) != "model") continue;
    const std::string model = trim(sel.substr(eq + 1));
    if (nn::is_torchscript(model)) sel = "model=" + std::string(kTorchScript) + torchscript_path(o, key, model, "");
  }
}

std::string campaign_identity(const Options& o, const std::string& model) {
  std::map<std::string, std::string> keys;
  for (const auto& s : measure_options().specs) {
    // The roles' table (core/settings.hpp) decides. Not in: synthetic.fail_fraction (injected
    // failures are trained again on --resume: another fraction is the "cause repaired" case) and
    // train.replicates (the plan's identity has its own "replicates" line).
    if (!in_campaign_identity(s.key)) continue;
    if (o.has(s.key)) {
      keys[s.key] = o.text(s.key);
    } else if (!s.default_value.empty()) {
      keys[s.key] = s.default_value;
    }
  }
  // A one-element list is its scalar key (the same plan, so the same journals; `finish` puts the
  // rate and "(per row)" in); with several values the plan's identity names every row's model and rate.
  keys.erase("train.learning_rates");
  keys["campaign.model"] = model;
  std::string id;
  for (const auto& [k, v] : keys) id += k + "=" + v + "\n";
  return id;
}

void LoocvArgs::declare(OptionSet& s, const std::string& p, bool in_config) {
  prefix_ = p;
  auto add = [&](const std::string& key, Kind kind, const std::string& def, const std::string& unit,
                 const std::string& example, const std::string& help) -> OptionSpec& {
    auto& o = s.add(p + key, kind, def, unit, example, help);
    o.in_config = in_config;
    return o;
  };
  add("settings", Kind::list, "I,II,III,IV,V,VI", "", "I,IV",
      "Meta-LOOCV settings (METHOD.md F10): I/II full meta-training matrix, III/IV uniform sample + SoftImpute, "
      "V/VI non-uniform sample + weighted SoftImpute; even numbers cap the meta-test measurements.")
      .one_of(meta::loocv_setting_names()).to(spec.settings);
  add("methods", Kind::list, "ed-mf,qr-mf,random-mf,bo-mf,bo-full,ei-mf", "", "ed-mf,random-mf",
      "Acquisition methods compared; the random-high-memory baseline and the zero-shot default (no training, "
      "METHOD.md F9.3) are always added.")
      .one_of(meta::loocv_method_names()).to(spec.methods);
  add("measurements", Kind::list, "3,4,5,6,8,10,12,15", "configurations", "3,5,8",
      "Numbers of configurations measured on the held-out task (each >= rank).").to(measurements);
  add("cap", Kind::text, "median", "MiB", "816",
      "Memory cap on meta-test measurements and budget of the final pick: 'median' (of all memory entries), "
      "'task-median' (each held-out task's own median memory: for campaigns mixing resolutions) or MiB.")
      .to(cap);
  add("repeats", Kind::integer, "1", "", "3",
      "Repeats with different sampling masks and random orders; metrics are averaged over them.")
      .at_least(1).to(spec.repeats);
  add("rank", Kind::integer, "3", "", "3", "Rank k of the low-rank embedding.").at_least(1).to(spec.rank);
  add("lambda", Kind::text, "auto", "", "0.1",
      "SoftImpute lambda for the sampled settings: a number > 0, 'auto' (a 5-fold CV in every fold, METHOD.md "
      "F3.5) or 'once' (one CV, on the first fold's meta-training matrix, for all folds: faster; that matrix holds "
      "the other folds' tasks, so their lambda is not chosen blind to them).").to(lambda);
  add(key("lambda-flat").substr(p.size()), Kind::real, "0", "standard errors", "0.5",
      "With lambda auto: stop each fold's lambda CV path once a candidate lowers the held-out error of the one "
      "before by less than this many standard errors, after an earlier step gained at least that much (the curve "
      "has flattened within its noise); the smaller, dearest candidates are not solved. Can change a fold's "
      "lambda to one within its CV noise. 0 = every candidate down to the first rise (docs/softimpute.md).")
      .at_least(0).to(spec.lambda_flat);
  add(key("lambda-warm").substr(p.size()), Kind::flag, "false", "", "true",
      "With lambda auto: start each fold's final completions from a completion the lambda choice made instead of "
      "the path from lambda_max: its CV's first-split completion at the chosen lambda, or with lambda-cv-folds "
      "B > 0 the block's lambda-CV matrix completed at the block's lambda (the fold's other rows fitted to its "
      "configuration factors). The same optimum to the certificate in fewer steps, but other last bits, and on "
      "sparse matrices with no unique optimum another completion, so some picks change. No effect with lambda "
      "once (docs/softimpute.md).")
      .to(spec.lambda_warm);
  add(key("lambda-cv-blocked").substr(p.size()), Kind::flag, "true", "", "false",
      "With lambda auto: the CV solves build their preconditioner blockwise (faster at high rank); the CV errors "
      "differ in their last bits only and the final solves not at all. false = as before this option "
      "(docs/softimpute.md).")
      .to(spec.lambda_cv_blocked);
  add(key("lambda-cv-single").substr(p.size()), Kind::flag, "false", "", "true",
      "With lambda auto and lambda-cv-blocked: the CV solves' preconditioner in single precision (less CPU at "
      "high rank); the CV errors move by more than round-off, which can change a fold's lambda to one within its "
      "CV noise (docs/softimpute.md).")
      .to(spec.lambda_cv_single);
  add(key("lambda-cv-folds").substr(p.size()), Kind::integer, "0", "blocks", "5",
      "With lambda auto: 0 = a lambda CV in every fold. B > 0 = one CV per block of held-out rows: the held-out "
      "rows, in campaign order, split into B contiguous blocks (block b holds entries [b*F/B, (b+1)*F/B) of the F "
      "held-out rows, whatever --part); each block's CVs run once, on its first fold's meta-training matrix "
      "(sampling mask, seeds) with all the block's rows removed, and every fold of the block uses that lambda. "
      "No fold's lambda is chosen with its own row in the matrix; B = F is the per-fold CV. 0..F; not with lambda "
      "once. With lambda-warm each block's matrix is also completed at its lambda, the start of its folds' final "
      "solves. Can change a fold's lambda to one within its CV noise (docs/softimpute.md).")
      .at_least(0).to(spec.lambda_cv_folds);
  add("seed", Kind::integer, "1", "", "7", "Seed of the sampling masks and random orders.").at_least(0).to(spec.seed);
  add("ratio", Kind::real, "0.2", "fraction", "0.2",
      "Uniform sampling ratio of the meta-training matrix (settings III, IV).").above(0).at_most(1).to(spec.ratio);
  add("p_max", Kind::real, "0.4", "probability", "0.4",
      "Non-uniform sampling: probability of the cheapest cells (settings V, VI).")
      .above(0).at_most(1).to(spec.p_max);
  add("p_min", Kind::real, "0", "probability", "0", "Non-uniform sampling: probability floor.")
      .at_least(0).at_most(1).to(spec.p_min);
  add(key("fold-by").substr(p.size()), Kind::choice, "task", "", "row",
      "Which rows a fold keeps out of meta-training. Each row is held out once either way; 'task' also drops the "
      "held-out row's other models and learning rates (rows of the same task), since knowing how other networks "
      "did on the very dataset is what a new task lacks: no leakage. 'row' drops only the held-out row. Same "
      "result on a plain campaign (rows are tasks).")
      .one_of({"task", "row"}).to(fold_by);
  add("prediction", Kind::choice, "posterior", "", "least-squares",
      "How ed-mf, qr-mf and random-mf predict the held-out task: 'posterior' (the bounded embedding posterior, "
      "docs/ei-mf.md) or 'least-squares' (the paper's F6.2: unclipped least squares on the measured columns, the "
      "fitted values used at every configuration, measured ones included). Their measurement orders, bo-*, "
      "ei-mf and the zero-shot default are the same either way.")
      .one_of({"posterior", "least-squares"}).to(prediction);
  add("epoch", Kind::integer, "0", "epoch", "3",
      "Use the errors after this epoch (early epochs as a cheaper fidelity; the campaign's per-epoch record) "
      "instead of the final ones; 0 = final. Written as attribute epoch_used.")
      .at_least(0).to(epoch);
  add("rows", Kind::list, "", "", "model=resnet8",
      "Run on these campaign rows only: selectors task=NAME, model=NAME, lr=RATE (same key: any of them; "
      "different keys: all). model=M is meta-learning within one architecture (paper App. E.5 Case i).")
      .to(rows);
  add(key("test-rows").substr(p.size()), Kind::list, "", "", "model=resnet8",
      "Hold out and score only these rows (selectors as rows); the other rows only meta-train. With fold-by "
      "task: meta-learning across architectures, scored on one (paper App. E.5 Case ii).")
      .to(test_rows);
}

std::string LoocvArgs::key(const std::string& name) const {
  std::string k = name;
  if (!prefix_.empty())
    for (char& ch : k)
      if (ch == '-') ch = '_';
  return prefix_ + k;
}

void LoocvArgs::finish(const Options& o) {
  const std::string& p = prefix_;
  spec.measurements.clear();
  for (const auto& m : measurements) {
    std::int64_t v = 0;
    if (!parse_int(m, v) || v < 1 || v > 1000000)
      throw InputError("--" + p + "measurements: value '" + m + "' (from " + o.source(p + "measurements") +
                       ") is not allowed; allowed: comma-separated integers >= 1");
    spec.measurements.push_back(static_cast<int>(v));
  }
  spec.cap_per_task = cap == "task-median";
  if (cap == "median" || cap == "task-median") {
    spec.cap = std::numeric_limits<double>::quiet_NaN();
  } else if (!parse_double(cap, spec.cap) || !(spec.cap > 0) || !std::isfinite(spec.cap)) {
    throw InputError("--" + p + "cap: value '" + cap + "' (from " + o.source(p + "cap") +
                     ") is not allowed; allowed: 'median', 'task-median' or a number of MiB > 0");
  }
  spec.lambda_once = o.text(p + "lambda") == "once";
  spec.lambda = spec.lambda_once ? 0.0 : lambda_value(o, p + "lambda", "'auto', 'once'");
  spec.fold_by = meta::parse_fold_by(fold_by, "--" + key("fold-by"));
  resolve_model_selectors(o, key("rows"), rows);
  resolve_model_selectors(o, key("test-rows"), test_rows);
  spec.prediction = meta::parse_prediction_rule(prediction, "--" + key("prediction"));
}

double lambda_value(const Options& o, const std::string& key, const std::string& words) {
  const std::string& text = o.text(key);
  if (text == "auto") return 0;
  double v = 0;
  if (!parse_double(text, v) || !(v > 0) || !std::isfinite(v))
    throw InputError("--" + key + ": value '" + text + "' (from " + o.source(key) +
                     ") is not allowed; allowed: " + words + " or a number > 0");
  return v;
}

stage::Attributes output_attributes(const Options& o, MPI_Comm comm, const std::string& command) {
  stage::Attributes a;
  a.text = io::provenance(o.command_line(), par::size(comm));
  a.text["peppp_command"] = command;
  for (const auto& [k, v] : o.values()) a.text["option." + k] = v;
  return a;
}

}  // namespace peppp::app
