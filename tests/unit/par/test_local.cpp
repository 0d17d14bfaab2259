#include <gtest/gtest.h>

#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/par/device.hpp"
#include "peppp/par/progress.hpp"
#include "peppp/par/synthetic.hpp"
#include "peppp/par/work_queue.hpp"

using namespace peppp;

namespace {
meta::PlanSpec spec(int n_tasks, meta::Scheme scheme) {
  meta::PlanSpec s;
  std::vector<std::string> names;
  for (int i = 0; i < n_tasks; ++i) names.push_back("t" + std::to_string(i));
  s.tasks = par::synthetic_tasks(names);
  for (int ae : {3, 4, 5})
    for (int be : {6, 8}) {
      s.configs.push_back({FloatFormat(ae, 2), FloatFormat(be, 7)});
    }
  par::synthetic_memory(s);
  s.scheme = scheme;
  s.seed = 7;
  s.identity = "test";
  return s;
}
}  // namespace

TEST(ParSynthetic, SyntheticTasksAndMemoryMakeAPlan) {
  const meta::Plan p = meta::make_plan(spec(3, meta::Scheme::full));
  EXPECT_EQ(p.order.size(), 18u);
  EXPECT_EQ(p.spec.tasks[0].name, "synthetic-t0");
  EXPECT_EQ(p.spec.tasks[0].dataset, "synthetic");
  for (double m : p.spec.memory) EXPECT_GT(m, 0);
  EXPECT_EQ(p.spec.memory_weights.size(), p.spec.memory.size());
}

TEST(ParDevice, BindingAndThreads) {
  EXPECT_EQ(par::select_device("auto", 3, 0), "cpu");
  EXPECT_EQ(par::select_device("auto", 3, 2), "cuda:1");
  EXPECT_EQ(par::select_device("cuda", 4, 4), "cuda:0");
  EXPECT_EQ(par::select_device("cpu", 1, 8), "cpu");
  EXPECT_THROW(par::select_device("cuda", 0, 0), InputError);
  EXPECT_EQ(par::select_threads(3, "8", 16, 2), 3);
  EXPECT_EQ(par::select_threads(0, "8", 16, 2), 8);
  EXPECT_EQ(par::select_threads(0, "junk", 16, 3), 5);
  EXPECT_EQ(par::select_threads(0, nullptr, 2, 4), 1);
}

TEST(ParProgress, LineHasCountRateEtaFailures) {
  par::Progress p("measure", 40, 10, false, 0);
  // 2 cells in 36 s since start: 200 cells/hour; 28 left -> 504 s.
  EXPECT_EQ(p.line(12, 1, 36.0), "measure: 12/40 cells (30.0%), 200 cells/hour, ETA 8m24s, 1 failed");
  EXPECT_EQ(par::format_duration(3725), "1h02m");
}

TEST(ParSynthetic, DeterministicTimesAndErrors) {
  par::SyntheticSpec s;
  s.seconds = 0.01;
  s.spread = 0.5;
  auto t = par::synthetic_trainer(s);
  par::CellWork w;
  w.seed = 12345;
  auto a = t(w), b = t(w);
  EXPECT_EQ(a.test_error, b.test_error);
  EXPECT_GE(a.test_error, 0.05);
  EXPECT_LT(a.test_error, 0.95);
  const double sec = par::synthetic_seconds(s, 12345);
  EXPECT_GE(sec, 0.005);
  EXPECT_LE(sec, 0.015);
  w.should_stop = [] { return true; };
  EXPECT_THROW(t(w), Interrupted);
}

TEST(ParQueueOrder, LongestFirstIsLptWithTiesInGivenOrder) {
  const std::vector<std::uint64_t> items = {10, 11, 12, 13, 14, 15, 16};
  const std::vector<double> cost = {2, 5, 2, std::nan(""), 5, 1, 2};
  const std::vector<std::uint64_t> want = {11, 14, 10, 12, 16, 15, 13};
  EXPECT_EQ(par::longest_first(items, cost), want);
  // Deterministic: the same plan gives the same order, whatever order it is asked in.
  EXPECT_EQ(par::longest_first(items, cost), par::longest_first(items, cost));
  // Non-increasing cost along the order: what LPT is.
  std::vector<std::uint64_t> many;
  std::vector<double> c;
  for (std::uint64_t i = 0; i < 500; ++i) {
    many.push_back(i);
    c.push_back(static_cast<double>((i * 7919) % 13));
  }
  const auto order = par::longest_first(many, c);
  ASSERT_EQ(order.size(), many.size());
  for (std::size_t k = 1; k < order.size(); ++k) {
    EXPECT_GE(c[order[k - 1]], c[order[k]]);
    if (c[order[k - 1]] == c[order[k]]) EXPECT_LT(order[k - 1], order[k]);  // ties by plan index
  }
  EXPECT_THROW(par::longest_first(items, {1.0}), InputError);
  EXPECT_TRUE(par::longest_first({}, {}).empty());
}
