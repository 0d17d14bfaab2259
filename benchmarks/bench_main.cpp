// Google Benchmark main for peppp: initialises MPI, only rank 0 reports.
#include <benchmark/benchmark.h>

#include <string>

#include "peppp/core/allocator.hpp"
#include "peppp/par/mpi_session.hpp"

namespace {
class NullReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>&) override {}
};
}  // namespace

int main(int argc, char** argv) {
  peppp::keep_freed_memory();  // as peppp itself does (core/allocator.hpp)
  peppp::par::MpiSession mpi(argc, argv);
  // Google Benchmark exits(1) when given a file reporter without --benchmark_out.
  bool has_out = false;
  for (int i = 1; i < argc; ++i) has_out = has_out || std::string(argv[i]).rfind("--benchmark_out=", 0) == 0;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (mpi.rank() == 0) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    NullReporter null;
    if (has_out)
      benchmark::RunSpecifiedBenchmarks(&null, &null);
    else
      benchmark::RunSpecifiedBenchmarks(&null);
  }
  benchmark::Shutdown();
  return 0;
}
