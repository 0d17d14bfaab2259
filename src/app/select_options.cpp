// The options of peppp select: each key once, with its help text, bound to SelectArgs.
#include "select_options.hpp"

#include "peppp/core/strings.hpp"

namespace peppp::app {

OptionSet declare_select(SelectArgs& a) {
  OptionSet s;
  s.command = "select";
  s.summary = "meta-test: pick, train and predict configurations for a new task -> selection.nc";
  s.usage =
      "mpirun -np N peppp select [--campaign campaign.nc] --task CATALOG.ini:TASK --budget MiB --measurements N\n"
      "       [--tolerance E] [--acquisition ei-mf|ed-mf] [--cap MiB] [--rank K] [--campaign.model NAME]\n"
      "       [--train.learning_rate X] [--rows-model NAME] [--epoch E] --output selection.nc [--resume | --restart]\n"
      "  or:  peppp select ... --measured errors.csv   (errors measured elsewhere; nothing is trained)\n"
      "  or:  peppp select ... --measurements 0        (the prior's answer, the zero-shot pick; nothing is trained)\n"
      "The new task is trained with the campaign's model and [train] settings (its option.* attributes);\n"
      "--config FILE or --train.KEY / --campaign.model on the command line override them (a campaign whose\n"
      "rows are task x model x learning rate needs --campaign.model, and --train.learning_rate when its\n"
      "rates vary; every row is meta-training unless --rows-model, and the new task's prior comes from the\n"
      "rows of its model, or, for a network in no row, from all rows widened by the spread between the\n"
      "architectures: docs/ei-mf.md section 5). The\n"
      "configurations are the campaign's (campaign.formats_a/b and [sampling] are ignored). ei-mf trains\n"
      "in rounds of one configuration per rank (round K: <output>.round-K.nc and its journal) until\n"
      "--measurements or --tolerance; ed-mf trains its picks at once (journal <output>.measured.nc.journal/).\n"
      "The cells measured are collected in <output>.measured.nc; a rerun resumes without retraining.\n"
      "Before round 1 select prints the zero-shot pick (lowest prior mean error under the budget, no training),\n"
      "its predicted error +- std and expected regret; after each round the expected regret of the current\n"
      "pick and whether the recommendation changed. The conditions of a training selection are recorded in\n"
      "<output>.conditions: a rerun that changed only --budget, --cap, --measurements or --tolerance (or the\n"
      "rank count) reuses every cell trained before (they count towards --measurements) and continues in new\n"
      "round files numbered after the earlier ones; other changes (task, campaign, model, training settings,\n"
      "seed, acquisition, rank, ...) are refused unless --restart.";
  s.other_stage_sections = {"complete", "loocv"};
  a.campaign.declare(s);
  s.get("campaign.tasks").mandatory(false).help = "Ignored by select (the new task is --task).";
  for (const char* key : {"campaign.formats_a", "campaign.formats_b"})
    s.get(key).help = "Ignored by select: the configurations are the campaign's.";
  for (auto& spec : s.specs)
    if (starts_with(spec.key, "sampling.")) spec.help = "Ignored by select.";
  s.get("campaign.model").help =
      "Network trained on the new task (its memory model gives the memory of every configuration); any "
      "model of the zoo or torchscript:PATH (relative to the INI file, else to the working folder). Default: "
      "the campaign's one model, its TorchScript path as measure recorded it (absolute; a relative one is "
      "taken relative to the campaign file's folder); required when the campaign's rows have several "
      "(campaign.models): the new task's prior then comes from this model's rows (or, in no row, from all "
      "rows, widened by the spread between the architectures).";
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
        "How many configurations are trained on the new task at most (ed-mf: exactly, >= --rank); 0: none, the "
        "prior's answer (the zero-shot pick and the prior's frontier; no training, no journal). Required "
        "unless --measured is given.")
      .command_line_only().at_least(0).to(a.job.measurements);
  s.add("acquisition", Kind::choice, "ei-mf", "", "ed-mf",
        "How the configurations to train are chosen: ei-mf (sequential rounds of as many configurations as "
        "ranks, each the best expected improvement of the pick under the budget, docs/ei-mf.md) or ed-mf (the "
        "paper's D-optimal design, all at once).")
      .command_line_only().one_of({"ei-mf", "ed-mf"}).to(a.job.acquisition);
  s.add("prediction", Kind::choice, "posterior", "", "least-squares",
        "How the measured errors predict the others: 'posterior' (the bounded embedding posterior with p_best and "
        "the expected regret, docs/ei-mf.md) or 'least-squares' (the paper's F6.2: unclipped least squares on "
        "the measured columns, fitted values at every configuration, needs >= --rank measurements; no p_best or "
        "expected regret). Only the final prediction changes: ei-mf's rounds decide with the posterior.")
      .command_line_only().one_of({"posterior", "least-squares"}).to(a.job.prediction);
  s.add("tolerance", Kind::real, "0", "error rate", "0.01",
        "ei-mf: stop before --measurements once the expected regret of the recommendation is at most this, "
        "checked before round 1 too (a prior already that sure trains nothing, and says so); "
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
        "E.5 case i); torchscript:PATH relative to the working folder, matched against the rows' absolute "
        "paths. Default: every row, whatever its model (learning across architectures, case ii).")
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
        "Resume the training of an interrupted selection (its journal is used either way; a rerun on another "
        "number of ranks continues the earlier run's rounds, one with another --budget, --cap, --measurements or "
        "--tolerance reuses every cell trained before and continues in new round files).")
      .command_line_only().to(a.job.resume);
  s.add("restart", Kind::flag, "false", "", "",
        "Move the outputs of an earlier selection into --output aside (<output>.round-K.nc, <output>.measured.nc, "
        "their journals, <output>.conditions and the selection file, each to NAME.moved-<UTC time>; nothing "
        "deleted) and start over. Needed when the earlier one was begun under other conditions than --budget, --cap, "
        "--measurements or --tolerance, or when a fresh start is wanted instead of reusing its cells.")
      .command_line_only().to(a.job.restart);
  return s;
}

OptionSet select_options() {
  static SelectArgs unused;
  return declare_select(unused);
}

}  // namespace peppp::app
