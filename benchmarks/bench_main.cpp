// Google Benchmark main for peppp: initialises MPI, only rank 0 reports.
#include <benchmark/benchmark.h>

#include "peppp/par/mpi_session.hpp"

namespace {
class NullReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};
}  // namespace

int main(int argc, char** argv) {
  peppp::par::MpiSession mpi(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (mpi.rank() == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    NullReporter null;
    benchmark::RunSpecifiedBenchmarks(&null, &null);
  }
  benchmark::Shutdown();
  return 0;
}
