// The loocv stage: meta-leave-one-out over the ranks -> loocv.nc, and the merge of split runs.
#include "peppp/stage/loocv.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::stage {

namespace {
std::string join_ints(const std::vector<int>& v) {
  std::vector<std::string> s;
  for (int x : v) s.push_back(std::to_string(x));
  return join(s, ",");
}
}  // namespace

std::vector<int> feasible_counts(const meta::LoocvSpec& spec, const meta::LoocvData& data) {
  // One count at a time through the validation itself, so "fits" means
  // exactly what validate_loocv accepts.
  std::vector<int> out;
  for (int m : spec.measurements) {
    meta::LoocvSpec one = spec;
    one.measurements = {m};
    try {
      meta::validate_loocv(one, data);
      out.push_back(m);
    } catch (const InputError&) {
    }
  }
  return out;
}

io::Loocv loocv(const LoocvJob& job, MPI_Comm comm) {
  const bool root = par::rank(comm) == 0;
  if (auto why = io::check_writable(job.output); !why.empty()) throw InputError("--output: " + why);
  // Every rank reads the inputs and validates alike: a bad input fails everywhere, before any work.
  const io::Campaign campaign = io::read_campaign(job.campaign);
  std::vector<double> fill;
  if (!job.completed.empty()) {
    const io::Completion c = io::read_completion(job.completed);
    if (c.task != campaign.task || c.config != campaign.config)
      throw InputError("--completed: " + job.completed + " does not complete " + job.campaign +
                       " (different tasks or configurations)");
    fill = c.error_estimate;
    // SoftImpute estimates are not confined to [0, 1]; as the truth of an error rate they are clamped.
    for (double& v : fill)
      if (std::isfinite(v)) v = std::clamp(v, 0.0, 1.0);
  }
  const meta::LoocvData data = par::loocv_data(campaign, job.campaign, fill);
  meta::LoocvSpec spec = job.spec;
  if (job.fit_counts) {
    const std::size_t n = data.n(), d = data.d();
    const int rank = std::min<int>(spec.rank, static_cast<int>(std::min(n > 0 ? n - 1 : 0, d)));
    meta::LoocvSpec fitted = spec;
    fitted.rank = std::max(rank, 1);
    fitted.measurements = feasible_counts(fitted, data);
    if (fitted.measurements.empty()) {
      spec = meta::validate_loocv(spec, data);  // throws the reason
      throw InputError("loocv: no count of measurements " + join_ints(spec.measurements) + " fits this campaign");
    }
    if (fitted.measurements.size() < spec.measurements.size() || fitted.rank != spec.rank)
      log::warn("run: loocv uses measurements ", join_ints(fitted.measurements), " and rank ", fitted.rank,
                " (the campaign is too small for the rest: a count needs >= rank configurations under the cap on "
                "every task)");
    spec = fitted;
  }
  spec = meta::validate_loocv(spec, data);
  log::info("loocv: ", data.n(), " tasks x ", data.d(), " configurations, settings ", join(spec.settings, ","),
            ", methods ", join(spec.methods, ","), ", cap ", (spec.cap_per_task ? std::string("task-median") : std::to_string(spec.cap) + " MiB"), ", part ", spec.part, "/", spec.parts);

  io::Loocv result = par::run_loocv(data, spec, comm);
  if (root) {
    for (const auto& [k, v] : job.attributes.text) result.text_attributes[k] = v;
    for (const auto& [k, v] : job.attributes.number) result.number_attributes[k] = v;
    result.text_attributes["campaign"] = job.campaign;
    result.text_attributes["truth"] = fill.empty() ? "measured" : "measured, SoftImpute estimates where unmeasured";
    io::write_loocv(job.output, result);
    if (job.print_summary) std::cout << par::loocv_summary(result) << std::flush;
    log::info("loocv: wrote ", job.output);
  }
  par::barrier(comm);
  return result;
}

io::Loocv merge(const std::vector<std::string>& files, const std::string& output, bool print_summary,
                const Attributes& attributes, MPI_Comm comm) {
  const bool root = par::rank(comm) == 0;
  if (auto why = io::check_writable(output); !why.empty()) throw InputError("--output: " + why);
  if (files.empty()) throw InputError("--merge: give the partial files, comma-separated");
  io::Loocv merged;
  // Only the root reads the parts: every rank learns the outcome and fails alike.
  par::agreed(
      [&] {
        if (!root) return;
        std::vector<io::Loocv> parts;
        for (const auto& f : files) parts.push_back(io::read_loocv(f));
        merged = par::merge_loocv(parts, files);
      },
      comm);
  if (root) {
    for (const auto& [k, v] : attributes.text) merged.text_attributes[k] = v;
    for (const auto& [k, v] : attributes.number) merged.number_attributes[k] = v;
    merged.text_attributes["merged_from"] = join(files, ",");
    io::write_loocv(output, merged);
    if (print_summary) std::cout << par::loocv_summary(merged) << std::flush;
    log::info("loocv: merged ", files.size(), " files into ", output);
  }
  return merged;
}

}  // namespace peppp::stage
