#include <gtest/gtest.h>

#include "peppp/core/log.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"
#include "test_util.hpp"

using namespace peppp;

TEST(MpiSession, SizeMatchesRegistration) {
  EXPECT_EQ(par::size(MPI_COMM_WORLD), test::registered_ranks());
  EXPECT_EQ(log::rank(), par::rank(MPI_COMM_WORLD));
}

TEST(MpiSession, LocalRankOnOneNode) {
  auto lr = par::local_rank(MPI_COMM_WORLD);
  // All test ranks run on this one machine.
  EXPECT_EQ(lr.size, par::size(MPI_COMM_WORLD));
  EXPECT_EQ(lr.rank, par::rank(MPI_COMM_WORLD));
}

TEST(MpiSession, BroadcastAndAgreement) {
  std::string s = par::rank(MPI_COMM_WORLD) == 0 ? std::string("from root \0 with nul", 20) : "junk";
  par::broadcast(s, MPI_COMM_WORLD);
  EXPECT_EQ(s, std::string("from root \0 with nul", 20));
  EXPECT_TRUE(par::all_true(true, MPI_COMM_WORLD));
  bool last_says_no = par::rank(MPI_COMM_WORLD) != par::size(MPI_COMM_WORLD) - 1;
  EXPECT_FALSE(par::all_true(last_says_no, MPI_COMM_WORLD));
}

TEST(MpiSession, MpiErrorsBecomeExceptions) {
  int dummy = 0;
  // Invalid root rank: MPI returns an error (errors-return handler), which
  // PEPPP_MPI turns into a RuntimeError naming the call.
  try {
    PEPPP_MPI(MPI_Bcast(&dummy, 1, MPI_INT, 9999, MPI_COMM_WORLD));
    FAIL() << "expected an exception";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("MPI_Bcast"), std::string::npos) << e.what();
  }
}
