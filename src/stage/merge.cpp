// The merge stage: several campaign.nc files -> one campaign.nc (docs/merge.md).
#include "peppp/stage/merge.hpp"

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::stage {

namespace {

// The root's part: read, merge, write.
MergeResult merge_on_root(const MergeJob& job) {
  if (job.files.size() < 2)
    throw InputError("merge: --files names " + std::to_string(job.files.size()) +
                     " campaign(s); allowed: at least 2 (peppp merge A.nc B.nc ... --output all.nc)");
  const std::string why = io::check_writable(job.output);
  if (!why.empty()) throw InputError("--output: " + why);
  std::vector<io::MergeInput> inputs;
  for (const auto& f : job.files) inputs.push_back(io::read_merge_input(f));
  MergeResult r;
  io::Campaign out = io::merge_campaigns(inputs, job.configs, &r.notes);
  for (const auto& line : r.notes) log::info(line);
  for (const auto& [k, v] : job.attributes.text) out.text_attributes[k] = v;
  for (const auto& [k, v] : job.attributes.number) out.number_attributes[k] = v;
  io::write_campaign(job.output, out);
  r.inputs = inputs.size();
  r.rows = out.n_tasks();
  for (const auto& s : out.row_source) r.combined_rows += s.find(',') != std::string::npos ? 1 : 0;
  r.configs = out.n_configs();
  r.replicates = out.n_replicates();
  return r;
}

}  // namespace

MergeResult merge(const MergeJob& job, MPI_Comm comm) {
  MergeResult result;
  // Serial: the root reads, merges and writes; every rank ends alike.
  par::agreed(
      [&] {
        if (par::rank(comm) == 0) result = merge_on_root(job);
      },
      comm);
  return result;
}

}  // namespace peppp::stage
