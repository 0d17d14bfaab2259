// MPI-aware GoogleTest main: every test executable runs under MPI (one rank
// is fine). Only rank 0 prints; a failure on ANY rank fails the run on every
// rank (the result is reduced), so a test that breaks on rank 2 only cannot
// pass silently.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdlib>
#include <iostream>

#include "peppp/core/log.hpp"
#include "peppp/par/mpi_session.hpp"

namespace {
// Prints failures from non-root ranks (which have no default printer), tagged.
class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const testing::TestPartResult& r) override {
    if (r.failed())
      std::cerr << "[rank " << rank_ << "] " << (r.file_name() ? r.file_name() : "?") << ":"
                << r.line_number() << ": " << r.summary() << std::endl;
  }

 private:
  int rank_;
};
}  // namespace

int main(int argc, char** argv) {
  peppp::par::MpiSession mpi(argc, argv);
  testing::InitGoogleTest(&argc, argv);
  peppp::log::set_level(peppp::log::Level::warn);
  if (mpi.rank() != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(mpi.rank()));
  }
  int local = RUN_ALL_TESTS();
  int global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (mpi.rank() == 0 && global != local)
    std::cerr << "FAILED on another rank (see the [rank r] lines above)" << std::endl;
  return global;
}
