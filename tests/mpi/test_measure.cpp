// The distributed campaign driver with synthetic cells, in process: queue,
// journals, the gathered campaign (root, or every rank), the stage's write
// at its edge, resume after a stop, refusal of another plan's journal.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <set>

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/meta/plan.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/measure.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/signals.hpp"
#include "peppp/par/synthetic.hpp"
#include "peppp/par/work_queue.hpp"
#include "peppp/stage/measure.hpp"
#include "test_util.hpp"

using namespace peppp;

namespace {
meta::Plan plan(std::uint64_t seed = 3) {
  meta::PlanSpec s;
  s.tasks = par::synthetic_tasks({"a", "b", "c"});
  for (int ae : {3, 4, 5, 6})
    for (int bm : {7, 9}) {
      s.configs.push_back({FloatFormat(ae, 3), FloatFormat(8, bm)});
    }
  par::synthetic_memory(s);
  s.seed = seed;
  s.identity = "mpi-test synthetic=1";
  return meta::make_plan(s);
}

// Equal, NaN equal to NaN.
bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

par::SyntheticSpec fast(bool failures = true) {
  par::SyntheticSpec s;
  s.seconds = 0.004;
  s.fail_fraction = failures ? 0.15 : 0;
  s.diverge_fraction = 0.15;
  return s;
}
}  // namespace

TEST(WorkQueue, EveryItemExactlyOnce) {
  const int n = 200;
  std::vector<int> mine;
  {
    par::WorkQueue q(MPI_COMM_WORLD, n);
    for (std::int64_t i; (i = q.next()) >= 0;) {
      mine.push_back(static_cast<int>(i));
      q.finished(i % 10 == 0);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    auto c = q.counts();
    EXPECT_EQ(c.taken, n);
    EXPECT_EQ(c.finished, n);
    EXPECT_EQ(c.failed, 20);
    EXPECT_EQ(q.next(), -1);
  }
  int count = static_cast<int>(mine.size()), total = 0;
  MPI_Allreduce(&count, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(total, n);
  std::vector<int> counts(static_cast<std::size_t>(par::size(MPI_COMM_WORLD))), displs(counts.size());
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, MPI_COMM_WORLD);
  for (std::size_t i = 1; i < counts.size(); ++i) displs[i] = displs[i - 1] + counts[i - 1];
  std::vector<int> all(static_cast<std::size_t>(total));
  MPI_Allgatherv(mine.data(), count, MPI_INT, all.data(), counts.data(), displs.data(), MPI_INT, MPI_COMM_WORLD);
  EXPECT_EQ(std::set<int>(all.begin(), all.end()).size(), static_cast<std::size_t>(n));
}

TEST(Measure, ResultsAreTheTrainersWhicheverRank) {
  const std::string out = test::scratch_dir() + "/campaign.nc";
  meta::Plan p = plan();
  par::MeasureSettings st;
  st.output = out;
  st.text_attributes["synthetic"] = "1";
  const par::MeasureResults res = par::measure(p, par::synthetic_trainer(fast()), st, MPI_COMM_WORLD);
  const par::MeasureSummary& s = res.summary;
  EXPECT_EQ(s.planned, 24);
  EXPECT_EQ(s.missing, 0);
  EXPECT_EQ(s.trained, 24);
  EXPECT_EQ(s.measured + s.diverged + s.failed, 24);
  EXPECT_GT(s.failed, 0);
  EXPECT_LE(s.failed_cells.size(), 3u);
  EXPECT_FALSE(s.interrupted);
  // par moves records and hands back the campaign; writing it is the stage's.
  EXPECT_FALSE(std::filesystem::exists(out));
  if (par::rank(MPI_COMM_WORLD) == 0) {
    ASSERT_TRUE(res.lock);
    EXPECT_TRUE(std::filesystem::exists(io::lock_path(out)));
    const io::Campaign& c = res.campaign;
    ASSERT_EQ(c.status.size(), 24u);
    auto trainer = par::synthetic_trainer(fast());
    for (std::uint64_t cell = 0; cell < 24; ++cell) {
      par::CellWork w;
      w.seed = p.cell_seed(cell);
      const auto st_ = c.status[cell];
      try {
        auto r = trainer(w);
        EXPECT_EQ(c.error[cell], r.test_error) << cell;
        EXPECT_EQ(st_, static_cast<std::uint8_t>(r.status)) << cell;
      } catch (const std::runtime_error&) {
        EXPECT_EQ(st_, static_cast<std::uint8_t>(CellStatus::failed)) << cell;
        EXPECT_TRUE(std::isnan(c.error[cell]));
      }
      EXPECT_GT(c.train_seconds[cell], 0.0);
    }
    EXPECT_EQ(c.text_attributes.at("synthetic"), "1");
    EXPECT_EQ(c.number_attributes.at("complete"), 1);
    auto jc = io::read_journals(io::journal_dir(out), p.fingerprint);
    EXPECT_EQ(jc.records.size(), 24u);
  } else {
    EXPECT_FALSE(res.lock);
    EXPECT_TRUE(res.campaign.status.empty());
  }
}

TEST(Measure, StageWritesTheCampaignEveryRankHolds) {
  const std::string out = test::scratch_dir() + "/campaign.nc";
  meta::Plan p = plan(5);
  par::MeasureSettings st;
  st.output = out;
  st.text_attributes["title"] = "every rank";
  const par::MeasureResults res = stage::measure_plan(p, par::synthetic_trainer(fast()), st, MPI_COMM_WORLD);
  EXPECT_FALSE(res.lock);
  EXPECT_FALSE(std::filesystem::exists(io::lock_path(out)));  // released after the write
  ASSERT_EQ(res.campaign.status.size(), 24u);
  EXPECT_EQ(res.campaign.text_attributes.at("title"), "every rank");
  // Every rank holds the root's campaign, bit for bit.
  std::vector<double> errors = res.campaign.error, seconds = res.campaign.train_seconds;
  std::vector<std::uint8_t> status = res.campaign.status;
  par::broadcast(errors, MPI_COMM_WORLD);
  par::broadcast(seconds, MPI_COMM_WORLD);
  par::broadcast(status, MPI_COMM_WORLD);
  EXPECT_EQ(status, res.campaign.status);
  EXPECT_TRUE(same(errors, res.campaign.error));
  EXPECT_TRUE(same(seconds, res.campaign.train_seconds));
  // The file holds what was handed back.
  const io::Campaign f = io::read_campaign(out);
  EXPECT_EQ(f.status, res.campaign.status);
  EXPECT_TRUE(same(f.train_seconds, res.campaign.train_seconds));
  EXPECT_TRUE(same(f.error, res.campaign.error));
  EXPECT_EQ(f.text_attributes.at("title"), "every rank");
  std::int64_t measured = 0;
  for (auto v : f.status) measured += v == static_cast<std::uint8_t>(CellStatus::measured);
  EXPECT_EQ(measured, res.summary.measured);
}

TEST(Measure, StopThenResumeTrainsEveryCellOnce) {
  const std::string out = test::scratch_dir() + "/campaign.nc";
  meta::Plan p = plan();
  par::MeasureSettings st;
  st.output = out;
  // No failures: failed cells are trained again on resume, which "every cell once" excludes.
  auto base = par::synthetic_trainer(fast(false));
  // Rank 0 asks to stop after its third cell (as a SIGTERM would).
  std::atomic<int> n{0};
  const bool root = par::rank(MPI_COMM_WORLD) == 0;
  par::CellTrainer stopping = [&](const par::CellWork& w) {
    if (root && ++n == 3) par::request_stop(15);
    return base(w);
  };
  auto first = stage::measure_plan(p, stopping, st, MPI_COMM_WORLD).summary;
  par::clear_stop();
  EXPECT_TRUE(first.interrupted);
  EXPECT_GT(first.missing, 0);
  EXPECT_EQ(first.missing + first.trained, 24);
  if (root) {
    io::Campaign c = io::read_campaign(out);  // a readable partial file
    int planned = 0;
    for (auto v : c.status) planned += v == 1;
    EXPECT_EQ(planned, first.missing);
    EXPECT_EQ(c.text_attributes.at("complete"), "0");
  }
  st.resume = true;
  auto second = stage::measure_plan(p, base, st, MPI_COMM_WORLD).summary;
  EXPECT_FALSE(second.interrupted);
  EXPECT_EQ(second.missing, 0);
  EXPECT_EQ(second.resumed, first.trained);
  EXPECT_EQ(second.trained, first.missing);
  if (root) {
    auto jc = io::read_journals(io::journal_dir(out), p.fingerprint);
    EXPECT_EQ(jc.records.size(), 24u);  // nothing trained twice
    std::set<std::uint64_t> cells;
    for (const auto& r : jc.records) cells.insert(r.cell);
    EXPECT_EQ(cells.size(), 24u);
  }
}

TEST(Measure, JournalOfAnotherPlanIsRefusedOnEveryRank) {
  const std::string out = test::scratch_dir() + "/campaign.nc";
  par::MeasureSettings st;
  st.output = out;
  par::measure(plan(3), par::synthetic_trainer(fast()), st, MPI_COMM_WORLD);
  bool refused = false;
  try {
    par::measure(plan(4), par::synthetic_trainer(fast()), st, MPI_COMM_WORLD);
  } catch (const InputError& e) {
    refused = std::string(e.what()).find("another plan") != std::string::npos;
  }
  EXPECT_TRUE(refused);
  st.output = test::scratch_dir() + "/missing-folder/campaign.nc";
  EXPECT_THROW(par::measure(plan(3), par::synthetic_trainer(fast()), st, MPI_COMM_WORLD), InputError);
}

namespace {
// A campaign of synthetic rows of mixed cost (14 px, 28 px and a costlier
// network, as issue 32's), 2 replicates with per-epoch records, failures and
// divergences injected, measured in `order` over the world's ranks.
par::MeasureResults mixed_campaign(const std::string& out, const std::string& order) {
  stage::MeasureJob job;
  job.campaign.synthetic_tasks = {"a", "b", "c", "d", "e", "f"};
  for (int ae : {3, 4, 5})
    for (int bm : {7, 9}) job.campaign.configs.push_back({FloatFormat(ae, 3), FloatFormat(8, bm)});
  job.campaign.replicates = 2;
  job.campaign.train.epochs = 3;
  job.campaign.identity = "mpi-test mixed";
  job.output = out;
  job.resources.device = "cpu";
  job.resources.threads = 1;
  job.resources.progress_interval_s = 0;
  job.resources.queue_order = order;
  job.synthetic = fast();
  job.synthetic.epochs = 3;
  job.synthetic.row_scale = {1.0, 2.2, 8.0};
  job.synthetic.fail_fraction = 0.4;  // some cells fail on both replicates
  return stage::measure_results(job, MPI_COMM_WORLD);
}
}  // namespace

// The queue's order decides who trains a cell and when, never what it gives:
// the campaign measured most expensive first equals the plan-order one bit
// for bit (errors, losses, statuses, per-epoch records, replicates).
TEST(Measure, CostOrderGivesThePlanOrdersCampaignBitForBit) {
  const std::string dir = test::scratch_dir();
  par::MeasureResults by_plan, by_cost;
  try {
    by_plan = mixed_campaign(dir + "/plan.nc", "plan");
  } catch (const RuntimeError&) {  // injected failures: the campaign is written, the stage reports them
  }
  try {
    by_cost = mixed_campaign(dir + "/cost.nc", "cost");
  } catch (const RuntimeError&) {
  }
  if (par::rank(MPI_COMM_WORLD) != 0) return;
  const io::Campaign a = io::read_campaign(dir + "/plan.nc"), b = io::read_campaign(dir + "/cost.nc");
  ASSERT_EQ(a.status.size(), 36u);
  EXPECT_EQ(a.status, b.status);
  EXPECT_TRUE(same(a.error, b.error));
  EXPECT_TRUE(same(a.final_loss, b.final_loss));
  EXPECT_TRUE(same(a.error_replicates, b.error_replicates));
  EXPECT_TRUE(same(a.error_by_epoch, b.error_by_epoch));
  EXPECT_TRUE(same(a.error_std, b.error_std));
  std::int64_t failed = 0;
  for (auto v : a.status) failed += v == static_cast<std::uint8_t>(CellStatus::failed);
  EXPECT_GT(failed, 0);  // the comparison covers failed cells too
}

// Each rank takes its cells most expensive first under a cost order, and the
// cells of equal cost in the plan's order; every cell once.
TEST(Measure, CostOrderHandsOutTheMostExpensiveCellsFirst) {
  const std::string out = test::scratch_dir() + "/campaign.nc";
  const meta::Plan p = plan(11);
  const std::vector<double> cost = {1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5, 5, 5, 3, 3, 3, 3, 3, 3, 3, 3};
  ASSERT_EQ(cost.size(), p.mask.size());
  std::vector<std::uint64_t> mine;
  auto inner = par::synthetic_trainer(fast(false));
  par::MeasureSettings st;
  st.output = out;
  st.cell_cost = [&](const std::vector<io::JournalRecord>& done) {
    EXPECT_TRUE(done.empty());
    return cost;
  };
  const par::MeasureResults res = par::measure(
      p,
      [&](const par::CellWork& w) {
        mine.push_back(w.cell);
        return inner(w);
      },
      st, MPI_COMM_WORLD);
  EXPECT_EQ(res.summary.trained, 24);
  const std::vector<std::uint64_t> lpt = par::longest_first(p.work_items(), [&] {
    std::vector<double> c;
    for (auto item : p.work_items()) c.push_back(cost[item]);
    return c;
  }());
  // This rank's cells come in the queue's order: a subsequence of the LPT order.
  std::size_t k = 0;
  for (auto cell : mine) {
    while (k < lpt.size() && lpt[k] != cell) ++k;
    EXPECT_LT(k, lpt.size()) << "cell " << cell << " out of the longest-first order";
  }
  const std::vector<std::uint64_t> all = par::gatherv(mine, MPI_COMM_WORLD);
  if (par::rank(MPI_COMM_WORLD) == 0) {
    EXPECT_EQ(std::set<std::uint64_t>(all.begin(), all.end()).size(), 24u);
    EXPECT_EQ(all.size(), 24u);
  }
}
