// Both work-queue implementations (one-sided window, messages to rank 0's
// service thread) keep the queue's promises: every item exactly once, every
// rank (root included) takes items, counters, drain, the shared loop.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "peppp/core/error.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/work_queue.hpp"

using namespace peppp;
using Kind = par::WorkQueue::Kind;

namespace {
// Every rank's items, gathered on every rank.
std::vector<int> all_items(const std::vector<int>& mine, MPI_Comm comm) {
  int count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(par::size(comm))), displs(counts.size());
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
  for (std::size_t i = 1; i < counts.size(); ++i) displs[i] = displs[i - 1] + counts[i - 1];
  std::vector<int> all(static_cast<std::size_t>(displs.back() + counts.back()));
  MPI_Allgatherv(mine.data(), count, MPI_INT, all.data(), counts.data(), displs.data(), MPI_INT, comm);
  return all;
}

class QueueKinds : public testing::TestWithParam<Kind> {};
}  // namespace

TEST_P(QueueKinds, EveryItemExactlyOnceOnEveryRankRootIncluded) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int n = 300, ranks = par::size(comm);
  std::vector<int> mine;
  {
    par::WorkQueue q(comm, n, GetParam());
    EXPECT_NE(q.kind(), Kind::automatic);
    if (GetParam() != Kind::automatic) {
      EXPECT_EQ(q.kind(), GetParam());
    }
    for (std::int64_t i; (i = q.next()) >= 0;) {
      mine.push_back(static_cast<int>(i));
      // Items take time, so no rank (root's local atomics included) can take them all.
      std::this_thread::sleep_for(std::chrono::microseconds(300));
      q.finished(i % 10 == 0);
    }
    MPI_Barrier(comm);
    const auto c = q.counts();
    EXPECT_EQ(c.taken, n);
    EXPECT_EQ(c.finished, n);
    EXPECT_EQ(c.failed, n / 10);
    EXPECT_EQ(q.next(), -1);
    EXPECT_EQ(q.counts().taken, n);  // capped at total after extra takes
  }
  const std::vector<int> all = all_items(mine, comm);
  EXPECT_EQ(all.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(std::set<int>(all.begin(), all.end()).size(), static_cast<std::size_t>(n));
  EXPECT_EQ(*std::set<int>(all.begin(), all.end()).rbegin(), n - 1);
  // Every rank, root included, took work (300 items of 0.3 ms over <= 4 ranks).
  const int took = mine.empty() ? 0 : 1;
  int everyone = 0;
  MPI_Allreduce(&took, &everyone, 1, MPI_INT, MPI_SUM, comm);
  EXPECT_EQ(everyone, ranks);
}

TEST_P(QueueKinds, DrainStopsEveryRankAndQueuesFollowOneAnother) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  for (int round = 0; round < 3; ++round) {  // LOOCV builds one queue after another
    par::WorkQueue q(comm, 1000, GetParam());
    if (par::rank(comm) == 0) q.drain();
    MPI_Barrier(comm);
    EXPECT_EQ(q.next(), -1);
    EXPECT_EQ(q.counts().taken, 1000);
    EXPECT_EQ(q.counts().finished, 0);
  }
}

TEST_P(QueueKinds, SharedLoopTakesEveryItemOnce) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  std::vector<int> mine;
  par::WorkQueue q(comm, 40, GetParam());
  auto r = par::for_each_item(q, [&](std::int64_t i) {
    mine.push_back(static_cast<int>(i));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return i == 7 ? par::ItemOutcome::failed : par::ItemOutcome::done;
  });
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(r.items, static_cast<std::int64_t>(mine.size()));
  const auto c = q.counts();
  EXPECT_EQ(c.finished, 40);
  EXPECT_EQ(c.failed, 1);
  const std::vector<int> all = all_items(mine, comm);
  EXPECT_EQ(std::set<int>(all.begin(), all.end()).size(), 40u);
  EXPECT_EQ(all.size(), 40u);
}

TEST_P(QueueKinds, FinishedAndNextIsFinishedThenNext) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int n = 200;
  std::vector<int> mine;
  par::WorkQueue q(comm, n, GetParam());
  for (std::int64_t i = q.next(); i >= 0;) {
    mine.push_back(static_cast<int>(i));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    i = q.finished_and_next(i % 4 == 0);
  }
  MPI_Barrier(comm);
  const auto c = q.counts();
  EXPECT_EQ(c.taken, n);
  EXPECT_EQ(c.finished, n);
  EXPECT_EQ(c.failed, n / 4);
  // After the end a combined call still counts the finished item and takes nothing.
  MPI_Barrier(comm);
  if (par::rank(comm) == 0) {
    EXPECT_EQ(q.finished_and_next(true), -1);
    const auto after = q.counts();
    EXPECT_EQ(after.finished, n + 1);
    EXPECT_EQ(after.failed, n / 4 + 1);
    EXPECT_EQ(after.taken, n);
  }
  MPI_Barrier(comm);
  const std::vector<int> all = all_items(mine, comm);
  EXPECT_EQ(all.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(std::set<int>(all.begin(), all.end()).size(), static_cast<std::size_t>(n));
}

// Queues one after another on one communicator share its cached duplicate
// (one generation of tags each): a rank that starts the next loop while rank
// 0 still stops the last one's service thread gets the next queue's items.
TEST_P(QueueKinds, LoopsOneAfterAnotherEachTakeTheirOwnItems) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  for (int round = 0; round < 6; ++round) {
    std::vector<int> mine;
    par::WorkQueue q(comm, 20 + round, GetParam());
    par::for_each_item(q, [&](std::int64_t i) {
      mine.push_back(static_cast<int>(i));
      if (par::rank(comm) == 0) std::this_thread::sleep_for(std::chrono::microseconds(500));
      return par::ItemOutcome::done;
    });
    const std::vector<int> all = all_items(mine, comm);
    EXPECT_EQ(all.size(), static_cast<std::size_t>(20 + round)) << "round " << round;
    EXPECT_EQ(std::set<int>(all.begin(), all.end()).size(), static_cast<std::size_t>(20 + round));
  }
}

// Two live queues on one communicator do not share a duplicate.
TEST_P(QueueKinds, TwoLiveQueuesAreIndependent) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  std::vector<int> a, b;
  {
    par::WorkQueue qa(comm, 30, GetParam());
    par::WorkQueue qb(comm, 40, GetParam());
    for (;;) {
      const std::int64_t i = qa.next(), j = qb.next();
      if (i >= 0) a.push_back(static_cast<int>(i));
      if (j >= 0) b.push_back(static_cast<int>(j));
      if (i < 0 && j < 0) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  const std::vector<int> all_a = all_items(a, comm), all_b = all_items(b, comm);
  EXPECT_EQ(all_a.size(), 30u);
  EXPECT_EQ(std::set<int>(all_a.begin(), all_a.end()).size(), 30u);
  EXPECT_EQ(all_b.size(), 40u);
  EXPECT_EQ(std::set<int>(all_b.begin(), all_b.end()).size(), 40u);
}

INSTANTIATE_TEST_SUITE_P(WorkQueue, QueueKinds, testing::Values(Kind::automatic, Kind::one_sided, Kind::messages),
                         [](const testing::TestParamInfo<Kind>& i) {
                           return i.param == Kind::automatic ? std::string("automatic")
                                  : i.param == Kind::one_sided ? std::string("one_sided")
                                                               : std::string("messages");
                         });

TEST(WorkQueue, OneNodeAutomaticIsOneSided) {
  // One node: Open MPI's osc sm gives a window, so auto needs no thread.
  if (std::getenv("PEPPP_WORK_QUEUE")) GTEST_SKIP() << "PEPPP_WORK_QUEUE set";
  par::WorkQueue q(MPI_COMM_WORLD, 10);
  EXPECT_EQ(q.kind(), Kind::one_sided);
  EXPECT_TRUE(q.fallback_reason().empty());
}

TEST(WorkQueue, EnvironmentChoosesTheKindAndBadValuesAreRefused) {
  EXPECT_EQ(par::parse_queue_kind("auto"), Kind::automatic);
  EXPECT_EQ(par::parse_queue_kind(""), Kind::automatic);
  EXPECT_EQ(par::parse_queue_kind("one-sided"), Kind::one_sided);
  EXPECT_EQ(par::parse_queue_kind("messages"), Kind::messages);
  try {
    par::parse_queue_kind("rma");
    ADD_FAILURE() << "no error for PEPPP_WORK_QUEUE=rma";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("PEPPP_WORK_QUEUE='rma'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("allowed auto, one-sided, messages"), std::string::npos) << e.what();
  }
  const char* old = std::getenv("PEPPP_WORK_QUEUE");
  const std::string saved = old ? old : "";
  ::setenv("PEPPP_WORK_QUEUE", "messages", 1);
  {
    par::WorkQueue q(MPI_COMM_WORLD, 5);
    EXPECT_EQ(q.kind(), Kind::messages);
  }
  if (old) ::setenv("PEPPP_WORK_QUEUE", saved.c_str(), 1); else ::unsetenv("PEPPP_WORK_QUEUE");
}

TEST(WorkQueue, SessionProvidesThreadMultipleForTheFallback) {
  int level = 0;
  MPI_Query_thread(&level);
  EXPECT_EQ(level, MPI_THREAD_MULTIPLE);
}
