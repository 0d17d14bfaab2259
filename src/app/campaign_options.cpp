// The campaign keys (measure, memory, run, select): one declaration each,
// with default, unit, example and help (the --help text and README table).
#include "commands.hpp"

#include "peppp/core/format.hpp"

namespace peppp::app {

namespace {
const char* kFormatsA = "e3m1,e3m2,e3m3,e3m4,e4m1,e4m2,e4m3,e4m4,e5m1,e5m2,e5m3";
const char* kFormatsB = "e6m7,e6m9,e6m11,e7m7,e7m9,e7m11,e8m7,e8m9,e8m11";
const std::vector<std::string> kRounding = {"nearest", "nearest_even", "stochastic"};
}  // namespace

void add_campaign_options(OptionSet& s) {
  s.add("campaign.name", Kind::text, "campaign", "", "fashion-demo",
        "Name of the campaign, written into every output file.");
  s.add("campaign.seed", Kind::integer, "1", "", "42",
        "Campaign seed: every cell's seed is a hash of (seed, task, configuration), so a cell gives "
        "the same result on any rank.").min = 0;
  s.add("campaign.tasks", Kind::text, "", "path", "tasks/fashion-demo.ini",
        "Task catalog (inputs/tasks/*.ini) declaring the tasks (rows of the error matrix).")
      .required = true;
  s.add("campaign.model", Kind::choice, "small-cnn", "", "resnet18",
        "Network trained in every cell.")
      .choices = {"small-cnn", "resnet8", "resnet18", "resnet34", "vgg11", "vgg13", "vgg16", "vgg19"};
  s.add("campaign.formats_a", Kind::list, kFormatsA, "", "e3m1,e4m3,e5m2",
        "Format A list (weights, activations, errors): labels eEmM or 1-E-M, E in 2..8, M in 1..23. "
        "Default: the paper's 11 formats.");
  s.add("campaign.formats_b", Kind::list, kFormatsB, "", "e6m7,e8m7",
        "Format B list (optimizer: gradient, momentum, accumulator). Configurations are all "
        "(A, B) pairs, A-major. Default: the paper's 9 formats.");

  s.add("train.epochs", Kind::integer, "10", "epochs", "2", "Training epochs per cell.").min = 1;
  s.add("train.batch_size", Kind::integer, "32", "samples", "64",
        "Mini-batch size (also the B of the memory model).").min = 1;
  auto& lr = s.add("train.learning_rate", Kind::real, "0.001", "", "0.01", "SGD learning rate.");
  lr.min = 0; lr.min_exclusive = true;
  auto& mom = s.add("train.momentum", Kind::real, "0.9", "", "0.9", "SGD momentum.");
  mom.min = 0; mom.max = 1;
  s.add("train.weight_decay", Kind::real, "0.0005", "", "0.0005", "SGD weight decay (L2).").min = 0;
  s.add("train.rounding_weights", Kind::choice, "stochastic", "", "nearest",
        "Rounding of the forward weights onto Format A.").choices = kRounding;
  s.add("train.rounding_activations", Kind::choice, "nearest", "", "stochastic",
        "Rounding of every layer's output activation onto Format A.").choices = kRounding;
  s.add("train.rounding_errors", Kind::choice, "nearest", "", "stochastic",
        "Rounding of the back-propagated errors onto Format A.").choices = kRounding;
  s.add("train.rounding_gradient", Kind::choice, "stochastic", "", "nearest",
        "Rounding of the gradient handed to the optimizer onto Format B.").choices = kRounding;
  s.add("train.rounding_momentum", Kind::choice, "stochastic", "", "nearest",
        "Rounding of the momentum buffer onto Format B.").choices = kRounding;
  s.add("train.rounding_accumulator", Kind::choice, "stochastic", "", "nearest",
        "Rounding of the float32 master weights (accumulator) onto Format B after each step.")
      .choices = kRounding;

  auto& ls = s.add("train.loss_scale", Kind::real, "0", "", "1",
                   "Factor on the loss before backward (errors are divided back out before the optimizer), so "
                   "small errors survive Format A; 0 = the batch size, 1 = no scaling.");
  ls.min = 0;

  s.add("sampling.scheme", Kind::choice, "full", "", "uniform",
        "Which cells to measure: all (full), an exact uniform random fraction (uniform), or a "
        "memory-weighted random sample favouring cheap cells (nonuniform, METHOD.md F4.2).")
      .choices = {"full", "uniform", "nonuniform"};
  auto& ratio = s.add("sampling.ratio", Kind::real, "0.2", "fraction", "0.25",
                      "Fraction of cells measured by the uniform scheme.");
  ratio.min = 0; ratio.min_exclusive = true; ratio.max = 1;
  auto& pmax = s.add("sampling.p_max", Kind::real, "0.4", "probability", "0.6",
                     "Non-uniform scheme: sampling probability of the cheapest cells.");
  pmax.min = 0; pmax.min_exclusive = true; pmax.max = 1;
  auto& pmin = s.add("sampling.p_min", Kind::real, "0", "probability", "0.05",
                     "Non-uniform scheme: probability floor of the most expensive cells.");
  pmin.min = 0; pmin.max = 1;

  s.add("run.device", Kind::choice, "auto", "", "cpu",
        "Where cells train: auto = cuda:(local rank mod GPUs) when LibTorch has CUDA, else cpu.")
      .choices = {"auto", "cpu", "cuda"};
  s.add("run.threads", Kind::integer, "0", "threads", "1",
        "Torch threads per rank; 0 = SLURM_CPUS_PER_TASK, else cores / ranks on the node.").min = 0;
  s.add("run.progress_interval", Kind::real, "10", "s", "60",
        "Seconds between progress lines on rank 0 (cells done/total, cells/hour, ETA, failures).")
      .min = 0;
}

TrainSettings train_settings(const Options& o) {
  TrainSettings t;
  t.epochs = static_cast<int>(o.integer("train.epochs"));
  t.batch_size = static_cast<int>(o.integer("train.batch_size"));
  t.learning_rate = o.real("train.learning_rate");
  t.momentum = o.real("train.momentum");
  t.weight_decay = o.real("train.weight_decay");
  t.loss_scale = o.real("train.loss_scale");
  t.rounding.weights = parse_rounding(o.text("train.rounding_weights"));
  t.rounding.activations = parse_rounding(o.text("train.rounding_activations"));
  t.rounding.errors = parse_rounding(o.text("train.rounding_errors"));
  t.rounding.gradient = parse_rounding(o.text("train.rounding_gradient"));
  t.rounding.momentum = parse_rounding(o.text("train.rounding_momentum"));
  t.rounding.accumulator = parse_rounding(o.text("train.rounding_accumulator"));
  return t;
}

}  // namespace peppp::app
