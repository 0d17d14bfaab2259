#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "peppp/core/error.hpp"
#include "peppp/par/device.hpp"
#include "peppp/par/plan.hpp"
#include "peppp/par/progress.hpp"
#include "peppp/par/synthetic.hpp"

using namespace peppp;

namespace {
par::PlanSpec spec(int n_tasks, par::Scheme scheme) {
  par::PlanSpec s;
  std::vector<std::string> names;
  for (int i = 0; i < n_tasks; ++i) names.push_back("t" + std::to_string(i));
  s.tasks = par::synthetic_tasks(names);
  // Labels built here (the format parser lives in the quant layer).
  for (int ae : {3, 4, 5})
    for (int be : {6, 8}) {
      par::ConfigInfo c;
      c.a_exponent_bits = ae;
      c.a_mantissa_bits = 2;
      c.b_exponent_bits = be;
      c.b_mantissa_bits = 7;
      c.label = "e" + std::to_string(ae) + "m2/e" + std::to_string(be) + "m7";
      s.configs.push_back(c);
    }
  par::synthetic_memory(s);
  s.scheme = scheme;
  s.seed = 7;
  s.identity = "test";
  return s;
}
}  // namespace

TEST(ParPlan, FullPlanOrdersByTaskThenDescendingMemory) {
  par::Plan p = par::make_plan(spec(3, par::Scheme::full));
  ASSERT_EQ(p.order.size(), 18u);
  const std::size_t d = p.n_configs();
  for (std::size_t i = 1; i < p.order.size(); ++i) {
    const auto a = p.order[i - 1], b = p.order[i];
    ASSERT_LE(a / d, b / d);
    if (a / d == b / d) EXPECT_GE(p.spec.memory[a], p.spec.memory[b]);
  }
  EXPECT_EQ(std::set<std::uint64_t>(p.order.begin(), p.order.end()).size(), 18u);
  EXPECT_TRUE(std::all_of(p.probability.begin(), p.probability.end(), [](double x) { return x == 1.0; }));
}

TEST(ParPlan, UniformTakesTheExactFractionAndIsSeeded) {
  auto s = spec(5, par::Scheme::uniform);
  s.ratio = 0.4;
  par::Plan a = par::make_plan(s), b = par::make_plan(s);
  EXPECT_EQ(a.order.size(), 12u);  // round(0.4 * 30)
  EXPECT_EQ(a.mask, b.mask);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  s.seed = 8;
  par::Plan c = par::make_plan(s);
  EXPECT_NE(a.fingerprint, c.fingerprint);
}

TEST(ParPlan, NonuniformFavoursCheapCells) {
  auto s = spec(40, par::Scheme::nonuniform);
  s.p_max = 0.8;
  par::Plan p = par::make_plan(s);
  double cheap = 0, dear = 0;
  for (std::size_t i = 0; i < p.probability.size(); ++i) {
    EXPECT_LE(p.probability[i], 0.8 + 1e-12);
    if (p.spec.memory[i] == *std::min_element(p.spec.memory.begin(), p.spec.memory.end())) cheap = p.probability[i];
    if (p.spec.memory[i] == *std::max_element(p.spec.memory.begin(), p.spec.memory.end())) dear = p.probability[i];
  }
  EXPECT_DOUBLE_EQ(cheap, 0.8);
  EXPECT_LT(dear, 0.2);
  EXPECT_GT(p.order.size(), 0u);
  EXPECT_LT(p.order.size(), p.mask.size());
}

TEST(ParPlan, BadInputsAreRefusedWithTheKey) {
  auto s = spec(2, par::Scheme::uniform);
  s.ratio = 1.5;
  EXPECT_THROW(par::make_plan(s), InputError);
  s.ratio = 0;
  EXPECT_THROW(par::make_plan(s), InputError);
  auto e = spec(0, par::Scheme::full);
  try {
    par::make_plan(e);
    FAIL();
  } catch (const InputError& err) {
    EXPECT_NE(std::string(err.what()).find("task list is empty"), std::string::npos);
  }
  auto dup = spec(2, par::Scheme::full);
  dup.tasks[1].name = dup.tasks[0].name;
  EXPECT_THROW(par::make_plan(dup), InputError);
  EXPECT_THROW(par::parse_scheme("random"), InputError);
}

TEST(ParPlan, FingerprintDependsOnIdentityAndCellSeedsOnNames) {
  auto s = spec(2, par::Scheme::full);
  par::Plan a = par::make_plan(s);
  s.identity = "test epochs=3";
  EXPECT_NE(a.fingerprint, par::make_plan(s).fingerprint);
  EXPECT_EQ(a.cell_seed(1), par::cell_seed(7, "synthetic-t0", "e3m2/e8m7"));
  EXPECT_NE(a.cell_seed(1), a.cell_seed(2));
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
  EXPECT_EQ(a.error, b.error);
  EXPECT_GE(a.error, 0.05);
  EXPECT_LT(a.error, 0.95);
  const double sec = par::synthetic_seconds(s, 12345);
  EXPECT_GE(sec, 0.005);
  EXPECT_LE(sec, 0.015);
  w.should_stop = [] { return true; };
  EXPECT_THROW(t(w), Interrupted);
}
