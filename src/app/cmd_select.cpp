// peppp select: meta-test: pick, train and predict configurations for a new task -> selection.nc.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/stage/select.hpp"

namespace peppp::app {

namespace {

struct SelectArgs {
  CampaignArgs campaign;
  stage::SelectJob job;
  std::string campaign_path, task, measured;
};

OptionSet declare(SelectArgs& a) {
  OptionSet s;
  s.command = "select";
  s.summary = "meta-test: pick, train and predict configurations for a new task -> selection.nc";
  s.usage =
      "mpirun -np N peppp select [--campaign campaign.nc] --task CATALOG.ini:TASK --budget MiB --measurements N\n"
      "       [--tolerance E] [--acquisition ei-mf|ed-mf] [--cap MiB] [--rank K] [--campaign.model NAME]\n"
      "       [--train.learning_rate X] [--rows-model NAME] [--epoch E] --output selection.nc [--resume]\n"
      "  or:  peppp select ... --measured errors.csv   (errors measured elsewhere; nothing is trained)\n"
      "The new task is trained with the campaign's model and [train] settings (its option.* attributes);\n"
      "--config FILE or --train.KEY / --campaign.model on the command line override them (a campaign whose\n"
      "rows are task x model x learning rate needs --campaign.model, and --train.learning_rate when its\n"
      "rates vary; every row is meta-training unless --rows-model). The\n"
      "configurations are the campaign's (campaign.formats_a/b and [sampling] are ignored). ei-mf trains\n"
      "in rounds of one configuration per rank (round K: <output>.round-K.nc and its journal) until\n"
      "--measurements or --tolerance; ed-mf trains its picks at once (journal <output>.measured.nc.journal/).\n"
      "The cells measured are collected in <output>.measured.nc; a rerun resumes without retraining.";
  s.other_stage_sections = {"complete", "loocv"};
  a.campaign.declare(s);
  s.get("campaign.tasks").mandatory(false).help = "Ignored by select (the new task is --task).";
  for (const char* key : {"campaign.formats_a", "campaign.formats_b"})
    s.get(key).help = "Ignored by select: the configurations are the campaign's.";
  for (auto& spec : s.specs)
    if (starts_with(spec.key, "sampling.")) spec.help = "Ignored by select.";
  s.get("campaign.model").help =
      "Network trained on the new task (its memory model gives the memory of every configuration); any "
      "model of the zoo. Default: the campaign's one model; required when the campaign's rows have several "
      "(campaign.models).";
  s.get("train.learning_rate").help =
      "SGD learning rate of the new task. Default: the campaign's one rate; required when the campaign's "
      "rows have several (train.learning_rates).";
  s.get("campaign.models").help =
      "Not for select (the new task trains one model: campaign.model); ignored in a --config file, refused "
      "on the command line.";
  s.get("train.learning_rates").help =
      "Not for select (the new task trains one rate: train.learning_rate); ignored in a --config file, "
      "refused on the command line.";
  s.add("campaign", Kind::text, "", "path", "campaign.nc",
        "Campaign file written by peppp measure (the meta-training tasks, at least 3). A partially "
        "measured campaign is completed with SoftImpute first. Default (cold start): the shipped reference "
        "matrix fashion-small-cnn.nc (24 Fashion-MNIST tasks x 99 configurations, docs/reference-matrix.md; "
        "$PEPPP_REFERENCE overrides where it is found).")
      .command_line_only().to(a.campaign_path);
  s.add("task", Kind::text, "", "CATALOG.ini:TASK", "inputs/tasks/new.ini:shirt-dress",
        "The new task: a catalog file and a task name, or a catalog declaring exactly one task. "
        "A task whose name is already in the campaign is refused.")
      .command_line_only().mandatory().to(a.task);
  s.add("budget", Kind::real, "", "MiB", "2.5",
        "Training memory budget: the recommendation is the configuration of lowest predicted error "
        "with memory <= budget (METHOD.md F9.1).")
      .command_line_only().mandatory().above(0).to(a.job.budget);
  s.add("measurements", Kind::integer, "", "configurations", "5",
        "How many configurations are trained on the new task at most (ed-mf: exactly, >= --rank). Required "
        "unless --measured is given.")
      .command_line_only().at_least(1).to(a.job.measurements);
  s.add("acquisition", Kind::choice, "ei-mf", "", "ed-mf",
        "How the configurations to train are chosen: ei-mf (sequential rounds of as many configurations as "
        "ranks, each the best expected improvement of the pick under the budget, docs/ei-mf.md) or ed-mf (the "
        "paper's D-optimal design, all at once).")
      .command_line_only().one_of({"ei-mf", "ed-mf"}).to(a.job.acquisition);
  s.add("tolerance", Kind::real, "0", "error rate", "0.01",
        "ei-mf: stop before --measurements once the expected regret of the recommendation is at most this; "
        "0 = train all --measurements.")
      .command_line_only().at_least(0).to(a.job.tolerance);
  s.add("cap", Kind::real, "", "MiB", "2.0",
        "Memory cap on the measured configurations (METHOD.md F6.3); default: the budget (a "
        "configuration that does not fit the budget is not trained either).")
      .command_line_only().above(0).to(a.job.cap);
  s.add("rank", Kind::integer, "3", "", "3", "Embedding rank k (METHOD.md F6.1), <= tasks and configurations.")
      .command_line_only().at_least(1).to(a.job.rank);
  s.add("measured", Kind::text, "", "path", "errors.csv",
        "Errors measured elsewhere instead of training: a text file of 'config,error' lines (header "
        "and # comments allowed, error in [0, 1] or nan) or a one-task campaign-like .nc file (e.g. "
        "<output>.measured.nc of an earlier run).")
      .command_line_only().to(a.measured);
  s.add("rows-model", Kind::text, "", "", "resnet18",
        "Meta-train on the campaign's rows of this model only (rows of task x model campaigns; the paper's "
        "E.5 case i). Default: every row, whatever its model (learning across architectures, case ii).")
      .command_line_only().to(a.job.rows_model);
  s.add("epoch", Kind::integer, "", "epoch", "1",
        "Early epochs as a cheaper fidelity: meta-train on the campaign's errors after this epoch "
        "(its error_by_epoch) and train the new task's cells only to this epoch, with the learning-rate "
        "schedule of the whole train.epochs run, so the two compare; 1..train.epochs, an epoch the campaign "
        "records. Errors given by --measured are taken as errors after this epoch (a .nc file: its "
        "error_by_epoch there). Default: the final errors.")
      .command_line_only().at_least(1).to(a.job.epoch);
  s.add("output", Kind::text, "", "path", "selection.nc", "Selection file to write (NetCDF-4).")
      .command_line_only().mandatory().to(a.job.output);
  s.add("resume", Kind::flag, "false", "", "",
        "Resume the training of an interrupted selection (its journal is used either way).")
      .command_line_only().to(a.job.resume);
  return s;
}

// A number as text that reads back as the same double ("0.01", not "0.01000000000000000021").
std::string format_number(double v) {
  char buf[40];
  for (int digits : {15, 16, 17}) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    double back = 0;
    if (parse_double(buf, back) && back == v) break;
  }
  return buf;
}

// The cold-start campaign: $PEPPP_REFERENCE, else the source tree's copy, else the installed one.
std::string reference_campaign() {
  if (const char* env = std::getenv("PEPPP_REFERENCE"); env && *env) {
    if (!std::filesystem::exists(env))
      throw InputError("PEPPP_REFERENCE = '" + std::string(env) + "': no such file; unset it or name the reference matrix");
    return env;
  }
  for (const char* p : {PEPPP_SOURCE_REFERENCE, PEPPP_INSTALL_REFERENCE})
    if (std::filesystem::exists(p)) return p;
  throw InputError(std::string("--campaign not given and the reference matrix is not found (looked at ") +
                   PEPPP_SOURCE_REFERENCE + " and " + PEPPP_INSTALL_REFERENCE +
                   "); give --campaign FILE or set PEPPP_REFERENCE");
}

}  // namespace

OptionSet select_options() {
  static SelectArgs unused;
  return declare(unused);
}

int run_select(const Options& user, MPI_Comm comm) {
  for (const char* key : {"campaign.models", "train.learning_rates"})
    if (user.given(key) && user.source(key) == "command line")
      throw InputError(std::string("--") + key + ": select trains the new task with one " +
                       (key[0] == 'c' ? "model; give --campaign.model NAME" : "rate; give --train.learning_rate X"));
  // The campaign first: the new task inherits its model and training settings.
  const std::string campaign_path = user.given("campaign") ? user.path("campaign") : reference_campaign();
  if (!user.given("campaign")) log::info("select: cold start: meta-training campaign ", campaign_path);
  io::Campaign campaign = io::read_campaign(campaign_path);
  // The model and rate the new task inherits are the rows' (row_model / row_learning_rate, or the
  // `model` / `learning_rate` attributes), not option.campaign.model / option.train.learning_rate:
  // those keep their defaults when the campaign was measured with campaign.models /
  // train.learning_rates. Several of them: the user must choose.
  std::map<std::string, std::string> attributes = campaign.text_attributes;
  const std::vector<std::string> models = stage::campaign_models(campaign);
  const std::vector<double> rates = stage::campaign_learning_rates(campaign);
  if (models.size() > 1 && !user.given("campaign.model"))
    throw InputError("--campaign " + campaign_path + ": its rows train several models (" + join(models, ", ") +
                     "); give --campaign.model NAME for the new task (one of them, or another network)");
  if (rates.size() > 1 && !user.given("train.learning_rate")) {
    std::vector<std::string> text;
    for (double r : rates) text.push_back(format_number(r));
    throw InputError("--campaign " + campaign_path + ": its rows train with several learning rates (" +
                     join(text, ", ") + "); give --train.learning_rate X for the new task");
  }
  if (models.size() == 1) attributes["option.campaign.model"] = models.front();
  if (rates.size() == 1) {
    auto it = attributes.find("option.train.learning_rate");
    double recorded = 0;
    if (it == attributes.end() || !parse_double(it->second, recorded) || recorded != rates.front())
      attributes["option.train.learning_rate"] = format_number(rates.front());
  }
  // The keys the new task inherits from the campaign unless the user gives them.
  auto inherited = [](const std::string& key) {
    return key == "campaign.model" || key == "campaign.seed" ||
           (starts_with(key, "train.") && key != "train.learning_rates");
  };
  bool from_campaign = false;
  Options o;
  try {
    o = overlay_options(select_options(), user, attributes, inherited, &from_campaign);
  } catch (const InputError& e) {
    throw InputError("--campaign: its training settings are not usable: " + std::string(e.what()));
  }
  if (!from_campaign)
    log::warn("select: ", campaign_path, " records no training settings (option.* attributes); the new task is "
              "trained with the defaults and the command line");

  SelectArgs a;
  apply(declare(a), o);
  stage::SelectJob& job = a.job;
  job.campaign = std::move(campaign);
  job.campaign_path = campaign_path;
  job.task = stage::read_task(a.task);
  job.task_text = a.task;
  job.model = a.campaign.spec.model;
  job.train = a.campaign.spec.train;
  job.seed = a.campaign.spec.seed;
  job.resources = a.campaign.resources;
  for (const auto& [k, v] : o.values())
    if (k == "campaign.model" ||
        (starts_with(k, "train.") && k != "train.replicates" && k != "train.learning_rates"))
      job.identity += k + "=" + v + "\n";
  if (o.given("measured")) {
    job.measured = stage::read_measured(a.measured, job.campaign.config, job.epoch);
    job.measured_source = a.measured;
  }
  job.attributes = output_attributes(o, comm, "select");
  stage::select(job, comm);
  return 0;
}

}  // namespace peppp::app
