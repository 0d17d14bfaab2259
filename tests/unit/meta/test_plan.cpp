// The measurement plan (meta/plan.hpp): sampling, queue order, fingerprint
// and cell seeds, serially.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "peppp/core/error.hpp"
#include "peppp/meta/plan.hpp"

using namespace peppp;

namespace {
meta::PlanSpec spec(int n_tasks, meta::Scheme scheme) {
  meta::PlanSpec s;
  for (int i = 0; i < n_tasks; ++i) s.tasks.push_back(TaskRow::named("synthetic-t" + std::to_string(i)));
  for (int ae : {3, 4, 5})
    for (int be : {6, 8}) s.configs.push_back({FloatFormat(ae, 2), FloatFormat(be, 7)});
  // Memory grows with the bits of the formats (MiB), like par::synthetic_memory's stand-in.
  for (std::size_t t = 0; t < s.tasks.size(); ++t)
    for (const auto& c : s.configs) s.memory.push_back(0.25 * c.a.bits() + 0.01 * c.a.bits() * 28 + 0.75 * c.b.bits());
  s.scheme = scheme;
  s.seed = 7;
  s.identity = "test";
  return s;
}
}  // namespace

TEST(MetaPlan, FullPlanOrdersByTaskThenDescendingMemory) {
  meta::Plan p = meta::make_plan(spec(3, meta::Scheme::full));
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

TEST(MetaPlan, UniformTakesTheExactFractionAndIsSeeded) {
  auto s = spec(5, meta::Scheme::uniform);
  s.ratio = 0.4;
  meta::Plan a = meta::make_plan(s), b = meta::make_plan(s);
  EXPECT_EQ(a.order.size(), 12u);  // round(0.4 * 30)
  EXPECT_EQ(a.mask, b.mask);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  s.seed = 8;
  meta::Plan c = meta::make_plan(s);
  EXPECT_NE(a.fingerprint, c.fingerprint);
}

TEST(MetaPlan, NonuniformFavoursCheapCells) {
  auto s = spec(40, meta::Scheme::nonuniform);
  s.p_max = 0.8;
  meta::Plan p = meta::make_plan(s);
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

TEST(MetaPlan, BadInputsAreRefusedWithTheKey) {
  auto s = spec(2, meta::Scheme::uniform);
  s.ratio = 1.5;
  EXPECT_THROW(meta::make_plan(s), InputError);
  s.ratio = 0;
  EXPECT_THROW(meta::make_plan(s), InputError);
  auto e = spec(0, meta::Scheme::full);
  try {
    meta::make_plan(e);
    FAIL();
  } catch (const InputError& err) {
    EXPECT_NE(std::string(err.what()).find("task list is empty"), std::string::npos);
  }
  auto dup = spec(2, meta::Scheme::full);
  dup.tasks[1].name = dup.tasks[0].name;
  EXPECT_THROW(meta::make_plan(dup), InputError);
  EXPECT_THROW(meta::parse_scheme("random"), InputError);
}

TEST(MetaPlan, FingerprintDependsOnIdentityAndCellSeedsOnNames) {
  auto s = spec(2, meta::Scheme::full);
  meta::Plan a = meta::make_plan(s);
  s.identity = "test epochs=3";
  EXPECT_NE(a.fingerprint, meta::make_plan(s).fingerprint);
  EXPECT_EQ(a.cell_seed(1), meta::cell_seed(7, "synthetic-t0", "e3m2/e8m7"));
  EXPECT_NE(a.cell_seed(1), a.cell_seed(2));
}

TEST(MetaPlan, ReplicatesKeepReplicateZeroAndTheOneReplicateFingerprint) {
  const meta::Plan one = meta::make_plan(spec(3, meta::Scheme::full));
  meta::PlanSpec s2 = spec(3, meta::Scheme::full);
  s2.replicates = 2;
  const meta::Plan two = meta::make_plan(s2);
  EXPECT_EQ(one.replicates(), 1);
  EXPECT_EQ(one.work_items(), one.order);  // R = 1: the queue of before
  EXPECT_NE(one.fingerprint, two.fingerprint);
  s2.replicates = 3;
  EXPECT_NE(meta::make_plan(s2).fingerprint, two.fingerprint);
  const auto items = two.work_items();
  ASSERT_EQ(items.size(), 2 * two.order.size());
  for (std::size_t i = 0; i < two.order.size(); ++i) {  // replicates of a cell adjacent, in the plan's order
    EXPECT_EQ(items[2 * i], two.order[i] * 2);
    EXPECT_EQ(items[2 * i + 1], two.order[i] * 2 + 1);
  }
  std::set<std::uint64_t> seeds;
  for (std::uint64_t cell : two.order) {
    EXPECT_EQ(two.replicate_seed(cell, 0), one.cell_seed(cell));
    seeds.insert(two.replicate_seed(cell, 0));
    seeds.insert(two.replicate_seed(cell, 1));
  }
  EXPECT_EQ(seeds.size(), 2 * two.order.size());
  EXPECT_EQ(meta::replicate_seed(7, "t", "e4m3/e6m7", 0), meta::cell_seed(7, "t", "e4m3/e6m7"));
  s2.replicates = 0;
  EXPECT_THROW(meta::make_plan(s2), InputError);
}
