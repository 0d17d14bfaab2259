// The typed collectives (par/collectives.hpp): broadcast, gather(v) and
// allgather(v) of PODs and strings in rank order, agree-or-throw with the
// lowest failing rank's message on every rank, and the one queue loop.
#include <gtest/gtest.h>

#include <set>

#include "peppp/core/error.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/progress.hpp"
#include "peppp/par/work_queue.hpp"
#include "test_util.hpp"

using namespace peppp;

namespace {
struct Pod {
  int a;
  double b;
  char c[3];
};
}  // namespace

TEST(Collectives, BroadcastValuesVectorsAndStrings) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const bool root = par::rank(comm) == 0;
  Pod p{root ? 7 : 0, root ? 2.5 : 0, {root ? 'x' : 'y', 'z', '\0'}};
  par::broadcast(p, comm);
  EXPECT_EQ(p.a, 7);
  EXPECT_EQ(p.b, 2.5);
  EXPECT_EQ(p.c[0], 'x');
  std::vector<std::uint64_t> v;
  if (root) v = {1, 2, 3, 1ULL << 60};
  par::broadcast(v, comm);
  EXPECT_EQ(v, (std::vector<std::uint64_t>{1, 2, 3, 1ULL << 60}));
  std::vector<std::string> s;
  if (root) s = {"a", "", std::string("n\0l", 3)};
  par::broadcast(s, comm);
  EXPECT_EQ(s, (std::vector<std::string>{"a", "", std::string("n\0l", 3)}));
  std::vector<double> empty{1.0};
  if (root) empty.clear();
  par::broadcast(empty, comm);
  EXPECT_TRUE(empty.empty());
}

TEST(Collectives, GathersAreInRankOrder) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int me = par::rank(comm), p = par::size(comm);
  std::vector<double> mine(static_cast<std::size_t>(me));  // rank r sends r values r + k/10
  for (int k = 0; k < me; ++k) mine[k] = me + k / 10.0;
  std::vector<double> expected;
  for (int r = 0; r < p; ++r)
    for (int k = 0; k < r; ++k) expected.push_back(r + k / 10.0);
  const auto all = par::allgatherv(mine, comm);
  EXPECT_EQ(all, expected);
  const auto on_root = par::gatherv(mine, comm);
  if (me == 0) EXPECT_EQ(on_root, expected);
  else EXPECT_TRUE(on_root.empty());
  std::vector<Pod> pods{{me, 0.5 * me, {'a', 'b', '\0'}}};
  const auto pall = par::allgatherv(pods, comm);
  ASSERT_EQ(pall.size(), static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) EXPECT_EQ(pall[r].a, r);
  const auto ranks = par::allgather(me, comm);
  for (int r = 0; r < p; ++r) EXPECT_EQ(ranks[r], r);
  const auto names = par::allgather(std::string(static_cast<std::size_t>(me), 'r'), comm);
  const auto names_root = par::gather(std::string(static_cast<std::size_t>(me), 'r'), comm);
  ASSERT_EQ(names.size(), static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) EXPECT_EQ(names[r], std::string(static_cast<std::size_t>(r), 'r'));
  if (me == 0) EXPECT_EQ(names_root, names);
  EXPECT_EQ(par::sum(me, comm), static_cast<std::int64_t>(p) * (p - 1) / 2);
  EXPECT_TRUE(par::any_true(me == p - 1, comm));
  EXPECT_FALSE(par::any_true(false, comm));
}

TEST(Collectives, AgreeThrowsTheFirstFailureOnEveryRank) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int me = par::rank(comm), p = par::size(comm);
  EXPECT_NO_THROW(par::agree({}, comm));
  // The last rank and (with 3 ranks) rank 1 fail; everyone sees the lowest one's error.
  par::Failure f;
  if (me == p - 1) f = par::Failure::input("bad input on rank " + std::to_string(me));
  if (p == 3 && me == 1) f = par::Failure::runtime("runtime on rank 1");
  const std::string want = p == 3 ? "runtime on rank 1" : "bad input on rank " + std::to_string(p - 1);
  try {
    par::agree(f, comm);
    ADD_FAILURE() << "agree did not throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.what(), want);
    EXPECT_TRUE(e.all_ranks());
    EXPECT_EQ(e.code(), p == 3 ? ExitCode::runtime : ExitCode::bad_input);
  }
  // Root decides: an InputError thrown on the root only reaches everyone.
  try {
    par::agreed([&] { if (me == 0) throw InputError("root says no"); }, comm);
    ADD_FAILURE() << "agreed did not throw";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "root says no");
  }
}

TEST(Collectives, RootDecidesInOneBroadcast) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int me = par::rank(comm);
  // Success: every rank gets root's payload, binary bytes included; others' payload is ignored.
  std::string payload = me == 0 ? std::string("items\0\1\2", 8) : "ignored";
  EXPECT_NO_THROW(par::root_decides({}, payload, comm));
  EXPECT_EQ(payload, std::string("items\0\1\2", 8));
  std::string empty;
  EXPECT_NO_THROW(par::root_decides({}, empty, comm));
  EXPECT_TRUE(empty.empty());
  // Root fails: every rank throws root's error with its exit code; a non-root failure is ignored.
  for (auto code : {ExitCode::bad_input, ExitCode::runtime, ExitCode::incomplete}) {
    par::Failure f = me == 0 ? par::Failure{code, "root: no"} : par::Failure::runtime("not root");
    std::string p = "data";
    try {
      par::root_decides(f, p, comm);
      ADD_FAILURE() << "root_decides did not throw";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "root: no");
      EXPECT_EQ(e.code(), code);
    }
  }
}

TEST(Collectives, QueueLoopTakesEveryItemOnceAndAbortDrains) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  std::vector<std::int64_t> mine;
  {
    par::WorkQueue q(comm, 50);
    par::Progress progress("test", 50, 0, false, 0);
    par::QueueLoopOptions opt;
    opt.progress = &progress;
    const auto r = par::for_each_item(
        q, [&](std::int64_t i) { mine.push_back(i); return i % 7 ? par::ItemOutcome::done : par::ItemOutcome::failed; },
        opt);
    EXPECT_FALSE(r.stopped);
    EXPECT_EQ(r.items, static_cast<std::int64_t>(mine.size()));
    const auto c = q.counts();
    EXPECT_EQ(c.finished, 50);
    EXPECT_EQ(c.failed, 8);  // 0, 7, ..., 49
  }
  const auto all = par::allgatherv(mine, comm);
  EXPECT_EQ(all.size(), 50u);
  EXPECT_EQ(std::set<std::int64_t>(all.begin(), all.end()).size(), 50u);

  // An aborting item drains the queue for every rank: far fewer than all items run.
  std::int64_t ran = 0;
  {
    par::WorkQueue q(comm, 100000);
    par::for_each_item(q, [&](std::int64_t i) {
      ++ran;
      return i == 3 ? par::ItemOutcome::abort : par::ItemOutcome::done;
    });
  }
  EXPECT_LT(par::sum(ran, comm), 100000);
}
