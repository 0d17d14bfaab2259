// peppp merge: several campaign.nc files (clusters, people, seeds, a reference matrix) -> one campaign.nc.
#include <string>
#include <vector>

#include "commands.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/stage/merge.hpp"
#include "report.hpp"

namespace peppp::app {

namespace {

struct MergeArgs {
  std::vector<std::string> files;
  std::string output;
  std::string configs = "same";
};

OptionSet declare(MergeArgs& a) {
  OptionSet s;
  s.command = "merge";
  s.summary = "combine campaigns (clusters, people, seeds, a reference) -> one campaign.nc";
  s.usage =
      "peppp merge A.nc B.nc [C.nc ...] --output all.nc [--configs same|common]\n"
      "  Rows are appended, first input first; a row (task, model, learning rate) in several inputs has\n"
      "  its cells combined as replicates (error = mean over them, error_std, status, final_loss,\n"
      "  train_seconds and per-epoch values recomputed; R = the largest total, NaN-padded). Every input\n"
      "  must be finished and trained with the same settings (train.* but replicates and the learning\n"
      "  rate; always the same epochs); the same row from two inputs of one campaign seed, synthetic with\n"
      "  real campaigns, a task or a cell that differs between inputs (task columns, memory) are refused.\n"
      "  Provenance: variable row_source, attributes source_<k>_* of each input. Rules: docs/merge.md";
  s.takes_config = false;
  s.add("files", Kind::list, "", "path", "a.nc,b.nc",
        "Campaign files to merge (at least 2), in order; also as the positional arguments (paths without commas).")
      .command_line_only().mandatory().as_positional().to(a.files);
  s.add("output", Kind::text, "", "path", "all.nc",
        "Merged campaign file to write (NetCDF-4, written atomically; never one of the inputs).")
      .command_line_only().mandatory().to(a.output);
  s.add("configs", Kind::choice, "same", "", "common",
        "Configurations of the output: 'same' = every input must have the same set (same labels and bits, any "
        "order; a difference is refused), 'common' = their intersection (the log says how many were dropped from "
        "which input). Both keep the first input's order.")
      .one_of({"same", "common"}).command_line_only().to(a.configs);
  return s;
}

}  // namespace

OptionSet merge_options() {
  static MergeArgs unused;
  return declare(unused);
}

int run_merge(const Options& o, MPI_Comm comm) {
  MergeArgs a;
  apply(declare(a), o);
  stage::MergeJob job;
  job.files = a.files;
  job.output = a.output;
  job.configs = a.configs == "common" ? io::MergeConfigs::common : io::MergeConfigs::same;
  job.attributes = output_attributes(o, comm, "merge");
  const stage::MergeResult r = stage::merge(job, comm);
  if (par::rank(comm) == 0) report::merge_summary(job, r);
  return 0;
}

}  // namespace peppp::app
