// peppp loocv: meta-leave-one-out evaluation of the acquisition methods -> loocv.nc.
#include "commands.hpp"

#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/stage/loocv.hpp"

namespace peppp::app {

namespace {

struct LoocvCmdArgs {
  LoocvArgs loocv;
  stage::LoocvJob job;
  std::string part;
  std::vector<std::string> merge;
  bool fidelity = false;
  double hide_columns = 0;
  std::string candidates = "all";
};

OptionSet declare(LoocvCmdArgs& a) {
  OptionSet s;
  s.command = "loocv";
  s.summary = "meta-leave-one-out evaluation of the acquisition methods -> loocv.nc";
  s.usage =
      "peppp loocv --campaign campaign.nc --output loocv.nc [--settings I,IV] [--methods ...] [--measurements 3,5]\n"
      "  split over a job array:  peppp loocv ... --part K/N --output part-K.nc\n"
      "  then merge:              peppp loocv --merge part-1.nc,part-2.nc,... --output loocv.nc\n"
      "  early-epoch fidelity:    peppp loocv --fidelity --campaign campaign.nc [--epoch E] [--output fidelity.nc]";
  s.takes_config = false;
  s.add("campaign", Kind::text, "", "path", "campaign.nc",
        "Campaign file written by peppp measure (fully measured, or see --completed).")
      .command_line_only().to(a.job.campaign);
  s.add("completed", Kind::text, "", "path", "completed.nc",
        "Completion file (peppp complete) whose estimates stand in for unmeasured cells of a sampled campaign.")
      .command_line_only().to(a.job.completed);
  s.add("output", Kind::text, "", "path", "loocv.nc",
        "LOOCV file to write (required; with --fidelity optional: the fidelity.nc to write).")
      .command_line_only().to(a.job.output);
  a.loocv.declare(s, "", false);
  s.add("hide-columns", Kind::real, "0", "fraction", "0.5",
        "Column hold-out (docs/feature-completion.md): remove a seeded set of round(F*d) configurations (never all; "
        "from --seed) from every meta-training row in every setting and fold, so the meta-training completion must "
        "predict columns no task measured; scored apart (relative_error_hidden / _measured). 0 <= F < 1; F > 0 "
        "needs a campaign with per-role configurations. The held-out task keeps all its truth.")
      .command_line_only().at_least(0).to(a.hide_columns);
  s.add("candidates", Kind::choice, "all", "", "measured",
        "What the methods, the baseline and the zero-shot default may measure and recommend on the held-out task: "
        "'all' configurations (hidden ones included: ei-mf can propose a never-measured column) or only the "
        "'measured' ones (not hidden by --hide-columns). Regret is against the best configuration of all.")
      .command_line_only().one_of({"all", "measured"}).to(a.candidates);
  s.add("part", Kind::text, "1/1", "", "2/8",
        "Compute only part K of N (folds split in contiguous blocks), for a job array; merge with --merge.")
      .command_line_only().to(a.part);
  s.add("merge", Kind::list, "", "path", "part-1.nc,part-2.nc",
        "Merge the partial files of a --part run into one file equal to a single run (no computation).")
      .command_line_only().to(a.merge);
  s.add("summary", Kind::flag, "true", "", "false", "Print the summary table on rank 0.")
      .command_line_only().to(a.job.print_summary);
  s.add("fidelity", Kind::flag, "false", "", "",
        "Instead of LOOCV: how well the errors after each recorded epoch (or only --epoch) rank the final ones, "
        "per row Kendall tau-b and the regret of picking by that epoch (also under --cap); table on rank 0, "
        "fidelity.nc with --output (docs/fidelity.md). Uses --campaign, --epoch, --cap, --rows.")
      .command_line_only().to(a.fidelity);
  return s;
}

void parse_part(const std::string& text, meta::LoocvSpec& spec) {
  const auto parts = split(text, '/');
  std::int64_t k = 0, n = 0;
  constexpr std::int64_t kMax = std::numeric_limits<int>::max();
  if (parts.size() != 2 || !parse_int(parts[0], k) || !parse_int(parts[1], n) || k < 1 || n < 1 || k > n || n > kMax)
    throw InputError("--part: value '" + text + "' is not allowed; allowed: K/N with 1 <= K <= N <= " +
                     std::to_string(kMax) + ", e.g. 2/8");
  spec.part = static_cast<int>(k);
  spec.parts = static_cast<int>(n);
}

}  // namespace

OptionSet loocv_options() {
  static LoocvCmdArgs unused;
  return declare(unused);
}

int run_loocv(const Options& o, MPI_Comm comm) {
  LoocvCmdArgs a;
  apply(declare(a), o);
  if (o.given("merge")) {
    if (o.given("campaign") || o.given("completed") || o.given("part"))
      throw InputError("--merge combines finished partial files; it takes no --campaign, --completed or --part");
    stage::merge(a.merge, a.job.output, a.job.print_summary, output_attributes(o, comm, "loocv --merge"), comm);
    return 0;
  }
  if (!o.given("campaign")) throw InputError("--campaign is required (or --merge FILES)");
  a.loocv.finish(o);
  if (a.fidelity) {
    for (const char* k : {"completed", "part", "test-rows", "settings", "methods", "measurements", "prediction",
                          "hide-columns", "candidates"})
      if (o.given(k))
        throw InputError(std::string("--fidelity ranks the measured per-epoch errors; it takes no --") + k +
                         " (allowed: --campaign, --epoch, --cap, --rows, --output, --summary)");
    stage::FidelityJob f;
    f.campaign = a.job.campaign;
    f.output = a.job.output;
    f.epoch = a.loocv.epoch;
    f.cap = a.loocv.spec.cap;
    f.cap_per_task = a.loocv.spec.cap_per_task;
    f.rows = a.loocv.rows;
    f.print_summary = a.job.print_summary;
    f.attributes = output_attributes(o, comm, "loocv --fidelity");
    stage::fidelity(f, comm);
    return 0;
  }
  if (a.job.output.empty()) throw InputError("missing required option --output (LOOCV file to write); see 'peppp loocv --help'");
  a.job.spec = a.loocv.spec;
  a.job.epoch = a.loocv.epoch;
  a.job.rows = a.loocv.rows;
  a.job.test_rows = a.loocv.test_rows;
  a.job.spec.hide_columns = a.hide_columns;
  a.job.spec.candidates = meta::parse_candidates(a.candidates);
  parse_part(a.part, a.job.spec);
  a.job.attributes = output_attributes(o, comm, "loocv");
  stage::loocv(a.job, comm);
  return 0;
}

}  // namespace peppp::app
