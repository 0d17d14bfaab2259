// peppp memory: theoretical training memory of every cell (no training) -> memory.nc.
#include "commands.hpp"
#include "peppp/stage/memory.hpp"
#include "report.hpp"

namespace peppp::app {

namespace {

struct MemoryArgs {
  CampaignArgs campaign;
  stage::MemoryJob job;
};

OptionSet declare(MemoryArgs& a) {
  OptionSet s;
  s.command = "memory";
  s.summary = "theoretical training memory of every cell (no training) -> memory.nc";
  s.usage =
      "peppp memory --config FILE [--campaign.model NAME|torchscript:PATH] [--output memory.nc]\n"
      "After the table, the network's quantizer points once per task shape (layer, kind, activations per\n"
      "sample, in forward order): for torchscript:PATH, the ops of its forward that got a Format A point\n"
      "(the input, conv, linear/addmm, matmul/mm/bmm/baddbmm/einsum, batch/layer/group/instance norm,\n"
      "relu, gelu and the other activations, softmax/log_softmax, pooling/mean, add/sub, mul/div,\n"
      "cat/stack; functional forms only): check there that your network is quantized where you expect.";
  s.other_stage_sections = {"complete", "loocv", "select"};
  a.campaign.declare(s);
  s.add("output", Kind::text, "", "path", "memory.nc",
        "Also write the matrix to this file (campaign.nc schema, nothing measured: error NaN, status 0).")
      .command_line_only().to(a.job.output);
  return s;
}

}  // namespace

OptionSet memory_options() {
  static MemoryArgs unused;
  return declare(unused);
}

int run_memory(const Options& o, MPI_Comm comm) {
  MemoryArgs a;
  apply(declare(a), o);
  a.campaign.finish(o, true, false);  // the memory model needs no data
  a.job.tasks = a.campaign.spec.tasks;
  a.job.configs = a.campaign.spec.configs;
  a.job.model = a.campaign.spec.model;
  a.job.batch_size = a.campaign.spec.train.batch_size;
  a.job.attributes = output_attributes(o, comm, "memory");
  stage::memory(a.job, comm, [&](const io::Campaign& m) { report::memory_table(a.job, m); });
  return 0;
}

}  // namespace peppp::app
