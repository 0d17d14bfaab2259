// peppp select: meta-test: pick, train and predict configurations for a new task -> selection.nc.
// The options are in select_options.cpp; the stage decides what the new task inherits.
#include <cstdlib>
#include <filesystem>
#include <set>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/settings.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/stage/select.hpp"
#include "report.hpp"
#include "select_options.hpp"

namespace peppp::app {

namespace {

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

// The journal identity of the new task's cells: the keys of its options that decide a cell's
// result (core/settings.hpp's table; train.learning_rates is not select's: one rate, train.learning_rate).
std::string select_identity(const Options& o) {
  std::string id;
  for (const auto& [k, v] : o.values())
    if (in_campaign_identity(k) && k != "train.learning_rates") id += k + "=" + v + "\n";
  return id;
}

// The conditions of a training selection from select's own options (keys without a section)
// that the stage does not record itself (it records the task's definition, the campaign's
// content, the budget, cap, measurements, tolerance, acquisition, rank, --rows-model and
// --epoch); not the output, --resume/--restart or --measured.
std::string select_conditions(const Options& o) {
  static const std::set<std::string> skip = {"output",      "resume",  "restart", "measured",     "task",
                                             "campaign",    "budget",  "cap",     "measurements", "tolerance",
                                             "acquisition", "rank",    "epoch",   "rows-model"};
  std::string text;
  for (const auto& [k, v] : o.values())
    if (k.find('.') == std::string::npos && !skip.count(k)) text += k + "=" + v + "\n";
  return text;
}

// The new task's network, resolved as measure resolves it: the user's (relative to its INI file,
// else to the working folder), or the campaign's, recorded absolute by measure (a relative one,
// from a campaign written before, is taken relative to the campaign file's folder).
std::string select_model(const Options& user, const Options& o, const std::string& campaign_path) {
  if (user.given("campaign.model")) return resolve_model(user, "campaign.model", user.text("campaign.model"));
  return resolve_model(o, "campaign.model", o.text("campaign.model"),
                       std::filesystem::path(campaign_path).parent_path().string());
}

}  // namespace

int run_select(const Options& user, MPI_Comm comm) {
  for (const char* key : {"campaign.models", "train.learning_rates"})
    if (user.given(key) && user.source(key) == "command line")
      throw InputError(std::string("--") + key + ": select trains the new task with one " +
                       (key[0] == 'c' ? "model; give --campaign.model NAME" : "rate; give --train.learning_rate X"));
  // The campaign first: the new task inherits its model and training settings.
  const std::string campaign_path = user.given("campaign") ? user.path("campaign") : reference_campaign();
  if (!user.given("campaign")) log::info("select: cold start: meta-training campaign ", campaign_path);
  io::Campaign campaign = io::read_campaign(campaign_path);
  const auto attributes = stage::inherited_settings(campaign, campaign_path, user.given("campaign.model"),
                                                    user.given("train.learning_rate"));
  bool from_campaign = false;
  Options o;
  try {
    o = overlay_options(select_options(), user, attributes, stage::inherits_setting, &from_campaign);
  } catch (const InputError& e) {
    throw InputError("--campaign: its training settings are not usable: " + std::string(e.what()));
  }
  if (!from_campaign)
    log::warn("select: ", campaign_path, " records no training settings (option.* attributes); the new task is "
              "trained with the defaults and the command line");

  SelectArgs a;
  apply(declare_select(a), o);
  stage::SelectJob& job = a.job;
  job.campaign = std::move(campaign);
  job.campaign_path = campaign_path;
  job.task = stage::read_task(a.task);
  job.task_text = a.task;
  job.model = select_model(user, o, campaign_path);
  // The rows' recorded model names are absolute: so is --rows-model torchscript:PATH (the working folder's).
  if (nn::is_torchscript(job.rows_model)) {
    const std::string path = trim(job.rows_model.substr(job.rows_model.find(':') + 1));
    job.rows_model = "torchscript:" + std::filesystem::absolute(path).lexically_normal().string();
  }
  job.train = a.campaign.spec.train;
  job.seed = a.campaign.spec.seed;
  job.resources = a.campaign.resources;
  job.identity = select_identity(o);
  job.conditions = select_conditions(o);
  if (o.given("measured")) {
    job.measured = stage::read_measured(a.measured, job.campaign.config, job.epoch, &job.task);
    job.measured_source = a.measured;
  }
  job.attributes = output_attributes(o, comm, "select");
  const io::Selection sel = stage::select(job, comm);
  if (par::rank(comm) == 0) {
    report::print_selection(sel);
    log::info("select: -> ", job.output);
  }
  return 0;
}

}  // namespace peppp::app
