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

#if defined(__SANITIZE_ADDRESS__)
#define PEPPP_TEST_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PEPPP_TEST_LEAK_CHECK 1
#endif
#endif
#ifdef PEPPP_TEST_LEAK_CHECK
#include <sanitizer/lsan_interface.h>
#endif

namespace {
// Under AddressSanitizer (PEPPP_SANITIZE), the leak check runs here, after the
// tests and while MPI is still initialized: Open MPI's init and finalize load
// and unload components whose allocations LeakSanitizer can then attribute
// to no library (and so no suppression can name), so what MPI_Init allocates
// on this thread is not checked and the end-of-process check is off
// (leak_check_at_exit=0, set by the test helper). A leak ends the process
// with LeakSanitizer's exit code, which fails the test.
void pause_leak_check(bool pause) {
#ifdef PEPPP_TEST_LEAK_CHECK
  if (pause)
    __lsan_disable();
  else
    __lsan_enable();
#endif
}
void check_leaks() {
#ifdef PEPPP_TEST_LEAK_CHECK
  __lsan_do_leak_check();
#endif
}

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
  pause_leak_check(true);
  peppp::par::MpiSession mpi(argc, argv);
  pause_leak_check(false);
  testing::InitGoogleTest(&argc, argv);
  peppp::log::set_level(peppp::log::Level::warn);
  if (mpi.rank() != 0) {
    auto& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(mpi.rank()));
  }
  int local = RUN_ALL_TESTS();
  check_leaks();
  int global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (mpi.rank() == 0 && global != local)
    std::cerr << "FAILED on another rank (see the [rank r] lines above)" << std::endl;
  return global;
}
