// peppp loocv: meta-leave-one-out evaluation of the acquisition methods -> loocv.nc.
#include <iostream>

#include "commands.hpp"
#include "loocv_options.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/meta/loocv.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/loocv.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::app {

OptionSet loocv_options() {
  OptionSet s;
  s.command = "loocv";
  s.summary = "meta-leave-one-out evaluation of the acquisition methods -> loocv.nc";
  s.usage =
      "peppp loocv --campaign campaign.nc --output loocv.nc [--settings I,IV] [--methods ...] [--measurements 3,5]\n"
      "  split over a job array:  peppp loocv ... --part K/N --output part-K.nc\n"
      "  then merge:              peppp loocv --merge part-1.nc,part-2.nc,... --output loocv.nc";
  s.takes_config = false;
  {
    auto& o = s.add("campaign", Kind::text, "", "path", "campaign.nc",
                    "Campaign file written by peppp measure (fully measured, or see --completed).");
    o.in_config = false;
  }
  {
    auto& o = s.add("completed", Kind::text, "", "path", "completed.nc",
                    "Completion file (peppp complete) whose estimates stand in for unmeasured cells of a sampled campaign.");
    o.in_config = false;
  }
  {
    auto& o = s.add("output", Kind::text, "", "path", "loocv.nc", "LOOCV file to write.");
    o.in_config = false;
    o.required = true;
  }
  add_loocv_options(s, "", false);
  {
    auto& o = s.add("part", Kind::text, "1/1", "", "2/8",
                    "Compute only part K of N (folds split in contiguous blocks), for a job array; merge with --merge.");
    o.in_config = false;
  }
  {
    auto& o = s.add("merge", Kind::list, "", "path", "part-1.nc,part-2.nc",
                    "Merge the partial files of a --part run into one file equal to a single run (no computation).");
    o.in_config = false;
  }
  {
    auto& o = s.add("summary", Kind::flag, "true", "", "false", "Print the summary table on rank 0.");
    o.in_config = false;
  }
  return s;
}

namespace {

void parse_part(const std::string& text, meta::LoocvSpec& spec) {
  const auto parts = split(text, '/');
  std::int64_t k = 0, n = 0;
  if (parts.size() != 2 || !parse_int(parts[0], k) || !parse_int(parts[1], n) || k < 1 || n < 1 || k > n)
    throw InputError("--part: value '" + text + "' is not allowed; allowed: K/N with 1 <= K <= N, e.g. 2/8");
  spec.part = static_cast<int>(k);
  spec.parts = static_cast<int>(n);
}

}  // namespace

int run_loocv(const Options& o, MPI_Comm comm) {
  const bool root = par::rank(comm) == 0;
  const std::string output = o.path("output");
  if (auto why = io::check_writable(output); !why.empty()) throw InputError("--output: " + why);

  if (o.given("merge")) {
    if (o.given("campaign") || o.given("completed") || o.given("part"))
      throw InputError("--merge combines finished partial files; it takes no --campaign, --completed or --part");
    const auto files = o.list("merge");
    if (files.empty()) throw InputError("--merge: give the partial files, comma-separated");
    io::Loocv merged;
    par::Failure failure;
    if (root) {
      try {
        std::vector<io::Loocv> parts;
        for (const auto& f : files) parts.push_back(io::read_loocv(f));
        merged = par::merge_loocv(parts, files);
      } catch (const InputError& e) {
        failure = par::Failure::input(e.what());
      }
    }
    // Only the root read the parts: every rank learns the outcome and fails alike.
    par::agree(failure, comm);
    if (root) {
      for (const auto& [k, v] : output_attributes(o, comm, "loocv --merge")) merged.text_attributes[k] = v;
      merged.text_attributes["merged_from"] = join(files, ",");
      io::write_loocv(output, merged);
      if (o.flag("summary")) std::cout << par::loocv_summary(merged) << std::flush;
      log::info("loocv: merged ", files.size(), " files into ", output);
    }
    return 0;
  }

  if (!o.given("campaign")) throw InputError("--campaign is required (or --merge FILES)");
  const std::string campaign_path = o.path("campaign");
  meta::LoocvSpec spec = loocv_spec_from(o, "");
  parse_part(o.text("part"), spec);
  // Every rank reads the inputs and validates alike: a bad input fails everywhere, before any work.
  const io::Campaign campaign = io::read_campaign(campaign_path);
  std::vector<double> fill;
  if (o.given("completed")) {
    const io::Completion c = io::read_completion(o.path("completed"));
    if (c.task != campaign.task || c.config != campaign.config)
      throw InputError("--completed: " + o.path("completed") + " does not complete " + campaign_path +
                       " (different tasks or configurations)");
    fill = c.error_estimate;
  }
  const meta::LoocvData data = par::loocv_data(campaign, campaign_path, fill);
  spec = meta::validate_loocv(spec, data);
  log::info("loocv: ", data.n(), " tasks x ", data.d(), " configurations, settings ", join(spec.settings, ","),
            ", methods ", join(spec.methods, ","), ", cap ", spec.cap, " MiB, part ", spec.part, "/", spec.parts);

  io::Loocv result = par::run_loocv(data, spec, comm);
  if (root) {
    for (const auto& [k, v] : output_attributes(o, comm, "loocv")) result.text_attributes[k] = v;
    result.text_attributes["campaign"] = campaign_path;
    result.text_attributes["truth"] = fill.empty() ? "measured" : "measured, SoftImpute estimates where unmeasured";
    io::write_loocv(output, result);
    if (o.flag("summary")) std::cout << par::loocv_summary(result) << std::flush;
    log::info("loocv: wrote ", output);
  }
  par::barrier(comm);
  return 0;
}

}  // namespace peppp::app
