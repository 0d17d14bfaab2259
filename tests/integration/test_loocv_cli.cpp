// `peppp loocv` end to end on a campaign this test writes: a known
// low-rank-plus-noise error matrix with a memory matrix (no training).
// Same loocv.nc at 1, 2 and 3 ranks; ED-MF beats Random-MF and the
// random-high-memory baseline on it; a split run merges into the single
// run; bad inputs fail with exit 1 and write nothing.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/io/netcdf.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace peppp;
using test::run_command;

namespace {

double gauss(std::uint64_t seed, std::uint64_t k) {
  // Box–Muller on two counter-based uniforms: platform independent.
  const double u1 = (static_cast<double>(mix64(mix64(seed) + 2 * k) >> 11) + 0.5) / 9007199254740992.0;
  const double u2 = (static_cast<double>(mix64(mix64(seed) + 2 * k + 1) >> 11) + 0.5) / 9007199254740992.0;
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// n tasks × the paper's 99 configurations. Memory is affine in the bits of
// Format A and B with a per-task scale (F2's structure, so ties exist).
// Errors: rank 3 plus noise; most configurations look alike in the
// embedding and every 7th carries the task-specific factors, so which
// configurations are measured matters.
io::Campaign low_rank_campaign(int n, std::uint64_t seed = 11) {
  io::Campaign c;
  const int ea[] = {3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5}, ma[] = {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3};
  const int eb[] = {6, 6, 6, 7, 7, 7, 8, 8, 8}, mb[] = {7, 9, 11, 7, 9, 11, 7, 9, 11};
  for (int a = 0; a < 11; ++a)
    for (int b = 0; b < 9; ++b) {
      c.config.push_back("e" + std::to_string(ea[a]) + "m" + std::to_string(ma[a]) + "/e" + std::to_string(eb[b]) +
                         "m" + std::to_string(mb[b]));
      c.a_exponent_bits.push_back(ea[a]);
      c.a_mantissa_bits.push_back(ma[a]);
      c.b_exponent_bits.push_back(eb[b]);
      c.b_mantissa_bits.push_back(mb[b]);
    }
  for (int i = 0; i < n; ++i) c.task.push_back("lowrank-" + std::to_string(i));
  c.allocate();
  const int d = 99;
  for (int i = 0; i < n; ++i) {
    const double scale = i % 2 ? 1.25 : 1.0;  // "expensive" tasks fit fewer configurations under the cap
    const double x0 = 0.35 + 0.05 * gauss(seed, 1000 + i), x1 = gauss(seed, 2000 + i), x2 = gauss(seed, 3000 + i);
    for (int j = 0; j < d; ++j) {
      const int bits_a = 1 + c.a_exponent_bits[j] + c.a_mantissa_bits[j];
      const int bits_b = 1 + c.b_exponent_bits[j] + c.b_mantissa_bits[j];
      c.memory[c.at(i, j)] = scale * (8.0 * bits_a + 1.5 * bits_b);
      const bool special = j % 7 == 3;
      const double a = (special ? 0.6 : 0.02) * gauss(seed + 1, j), b = (special ? 0.6 : 0.02) * gauss(seed + 2, j);
      c.error[c.at(i, j)] = x0 + 0.08 * (x1 * a + x2 * b) + 0.002 * gauss(seed + 3, static_cast<std::uint64_t>(i) * d + j);
      c.status[c.at(i, j)] = static_cast<std::uint8_t>(io::CellStatus::measured);
    }
  }
  c.text_attributes["campaign"] = "synthetic low-rank test matrix";
  return c;
}

std::string loocv_cmd(int ranks, const std::string& campaign, const std::string& out, const std::string& extra) {
  return test::mpi_launch(ranks) + test::peppp_exe() + " loocv --campaign " + campaign +
         " --output " + out + " " + extra + " 2>&1";
}

void expect_same_doubles(const std::vector<double>& a, const std::vector<double>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    ASSERT_EQ(a[i], b[i]) << what << "[" << i << "]";
  }
}

void expect_same(const io::Loocv& a, const io::Loocv& b) {
  EXPECT_EQ(a.setting, b.setting);
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.measurements, b.measurements);
  EXPECT_EQ(a.fold, b.fold);
  expect_same_doubles(a.relative_error, b.relative_error, "relative_error");
  expect_same_doubles(a.convergence, b.convergence, "convergence");
  expect_same_doubles(a.hyperdiff, b.hyperdiff, "hyperdiff");
  expect_same_doubles(a.selected_error, b.selected_error, "selected_error");
  expect_same_doubles(a.best_feasible_error, b.best_feasible_error, "best_feasible_error");
  expect_same_doubles(a.regret, b.regret, "regret");
  expect_same_doubles(a.measured_memory, b.measured_memory, "measured_memory");
  expect_same_doubles(a.lambda, b.lambda, "lambda");
  expect_same_doubles(a.predicted_error, b.predicted_error, "predicted_error");
  expect_same_doubles(a.predicted_std, b.predicted_std, "predicted_std");
  expect_same_doubles(a.coverage, b.coverage, "coverage");
#define PEPPP_EXPECT_SAME_ZERO_SHOT_(member, units, long_name) expect_same_doubles(a.member, b.member, #member);
  PEPPP_LOOCV_ZERO_SHOT_METRICS(PEPPP_EXPECT_SAME_ZERO_SHOT_)
#undef PEPPP_EXPECT_SAME_ZERO_SHOT_
  expect_same_doubles(a.zero_shot_predicted_error, b.zero_shot_predicted_error, "zero_shot_predicted_error");
  expect_same_doubles(a.zero_shot_predicted_std, b.zero_shot_predicted_std, "zero_shot_predicted_std");
  EXPECT_EQ(a.zero_shot_config, b.zero_shot_config);
  EXPECT_EQ(a.selected_config, b.selected_config);
  EXPECT_EQ(a.selection_order, b.selection_order);
  EXPECT_EQ(a.sampling_mask, b.sampling_mask);
}

double mean_regret(const io::Loocv& l, const std::string& setting, const std::string& method, int count) {
  const std::size_t s = std::find(l.setting.begin(), l.setting.end(), setting) - l.setting.begin();
  const std::size_t m = std::find(l.method.begin(), l.method.end(), method) - l.method.begin();
  const std::size_t c = std::find(l.measurements.begin(), l.measurements.end(), count) - l.measurements.begin();
  EXPECT_LT(s, l.n_settings());
  EXPECT_LT(m, l.n_methods());
  EXPECT_LT(c, l.n_counts());
  double sum = 0;
  for (std::size_t f = 0; f < l.n_folds(); ++f) sum += l.regret[l.at(s, m, c, f)];
  return sum / l.n_folds();
}

const char* kOptions = "--settings I,IV,VI --measurements 3,5,8 --lambda 0.02 --summary false";

}  // namespace

TEST(LoocvCli, SameFileAtOneTwoThreeRanksAndEdMfWins) {
  const std::string dir = test::scratch_dir();
  const std::string campaign = dir + "/campaign.nc";
  io::write_campaign(campaign, low_rank_campaign(14));
  std::vector<io::Loocv> runs;
  for (int ranks : {1, 2, 3}) {
    const std::string out = dir + "/loocv-" + std::to_string(ranks) + ".nc";
    auto r = run_command(loocv_cmd(ranks, campaign, out, kOptions));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    runs.push_back(io::read_loocv(out));
  }
  expect_same(runs[0], runs[1]);
  expect_same(runs[0], runs[2]);

  const io::Loocv& l = runs[0];
  EXPECT_EQ(l.method, (std::vector<std::string>{"ed-mf", "qr-mf", "random-mf", "bo-mf", "bo-full", "ei-mf",
                                                "random-high-memory"}));
  // Every method, setting and count: predictions in [0, 1] with a finite std,
  // mean relative error below 2.
  {
    const std::size_t d = l.config.size();
    for (std::size_t s = 0; s < l.n_settings(); ++s)
      for (std::size_t m = 0; m + 1 < l.n_methods(); ++m)
        for (std::size_t c = 0; c < l.n_counts(); ++c) {
          double rel = 0;
          for (std::size_t f = 0; f < l.n_folds(); ++f) {
            rel += l.relative_error[l.at(s, m, c, f)] / l.n_folds();
            for (std::size_t j = 0; j < d; ++j) {
              const double pe = l.predicted_error[l.at(s, m, c, f, j)], ps = l.predicted_std[l.at(s, m, c, f, j)];
              ASSERT_TRUE(pe >= 0 && pe <= 1) << l.method[m] << " " << pe;
              ASSERT_TRUE(ps >= 0 && std::isfinite(ps)) << l.method[m] << " " << ps;
            }
          }
          EXPECT_LT(rel, 2.0) << l.setting[s] << " " << l.method[m] << " l=" << l.measurements[c];
        }
  }
  EXPECT_EQ(l.fold.size(), 14u);
  {
    io::NcFile f = io::NcFile::open(dir + "/loocv-1.nc");
    for (const auto& [dim, len] : f.dims()) EXPECT_TRUE(f.has_var(dim)) << dim;
    for (const auto& v : io::loocv_metric_names()) EXPECT_TRUE(f.has_var(v)) << v;
    EXPECT_TRUE(f.has_var("selected_config"));
    EXPECT_TRUE(f.has_var("predicted_error"));
    EXPECT_TRUE(f.has_var("predicted_std"));
  }
  // The zero-shot default: a feasible pick per (setting, fold), its regret >= 0, its prior predictive in [0, 1];
  // coverage in [0, 1] for every method, NaN for the baseline.
  {
    const auto c = io::read_campaign(campaign);
    for (std::size_t s = 0; s < l.n_settings(); ++s)
      for (std::size_t f = 0; f < l.n_folds(); ++f) {
        const int j = l.zero_shot_config[l.at(s, f)];
        ASSERT_TRUE(j >= 0 && j < static_cast<int>(l.config.size()));
        EXPECT_LE(c.memory[c.at(l.fold_task[f], j)], l.budget);
        EXPECT_GE(l.zero_shot_regret[l.at(s, f)], 0.0);
        EXPECT_TRUE(l.zero_shot_coverage[l.at(s, f)] >= 0 && l.zero_shot_coverage[l.at(s, f)] <= 1);
        for (std::size_t q = 0; q < l.config.size(); ++q) {
          const double pe = l.zero_shot_predicted_error[l.at(s, f) * l.config.size() + q];
          EXPECT_TRUE(pe >= 0 && pe <= 1) << pe;
        }
        for (std::size_t m = 0; m < l.n_methods(); ++m)
          for (std::size_t k = 0; k < l.n_counts(); ++k) {
            const double cov = l.coverage[l.at(s, m, k, f)];
            if (l.method[m] == "random-high-memory") EXPECT_TRUE(std::isnan(cov));
            else EXPECT_TRUE(cov >= 0 && cov <= 1) << l.method[m] << " " << cov;
          }
      }
  }
  // Capped settings measure only configurations under the cap.
  const auto c = io::read_campaign(campaign);
  const std::size_t P = l.n_steps(), F = l.n_folds(), M = l.n_methods();
  for (std::size_t s = 0; s < l.n_settings(); ++s) {
    if (l.setting[s] == "I") continue;
    for (std::size_t m = 0; m + 1 < M; ++m)
      for (std::size_t f = 0; f < F; ++f)
        for (std::size_t q = 0; q < P; ++q) {
          const int j = l.selection_order[((s * M + m) * F + f) * P + q];
          ASSERT_GE(j, 0);
          EXPECT_LE(c.memory[c.at(l.fold_task[f], j)], l.cap);
        }
  }
  // On the full meta-training matrix (setting I) ED-MF's picks beat random measurements and the baseline.
  const double ed = mean_regret(l, "I", "ed-mf", 5);
  EXPECT_LT(ed, mean_regret(l, "I", "random-mf", 5));
  EXPECT_LT(ed, mean_regret(l, "I", "random-high-memory", 5));
}

TEST(LoocvCli, SplitRunMergesIntoTheSingleRun) {
  const std::string dir = test::scratch_dir();
  const std::string campaign = dir + "/campaign.nc";
  io::write_campaign(campaign, low_rank_campaign(7));
  const std::string opts = "--settings I,IV --methods ed-mf,random-mf --measurements 3,5 --lambda 0.02 --summary false";
  auto r = run_command(loocv_cmd(2, campaign, dir + "/whole.nc", opts));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int k = 1; k <= 3; ++k) {
    r = run_command(loocv_cmd(1, campaign, dir + "/part" + std::to_string(k) + ".nc",
                              opts + " --part " + std::to_string(k) + "/3"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  r = run_command(test::mpi_launch(1) + test::peppp_exe() + " loocv --merge " + dir + "/part3.nc," + dir + "/part1.nc," +
                  dir + "/part2.nc --output " + dir + "/merged.nc 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Setting IV"), std::string::npos) << r.output;  // the summary table
  EXPECT_NE(r.output.find("zero-shot"), std::string::npos) << r.output;   // with the zero-shot default
  EXPECT_NE(r.output.find("±2σ cover"), std::string::npos) << r.output;   // and the calibration
  expect_same(io::read_loocv(dir + "/whole.nc"), io::read_loocv(dir + "/merged.nc"));
  r = run_command(test::mpi_launch(2) + test::peppp_exe() + " loocv --merge " + dir + "/part1.nc," + dir +
                  "/part2.nc --output " + dir + "/incomplete.nc 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_FALSE(fs::exists(dir + "/incomplete.nc"));
}

TEST(LoocvCli, BadInputsFailCleanlyWithoutOutput) {
  const std::string dir = test::scratch_dir();
  const std::string good = dir + "/campaign.nc", tiny = dir + "/tiny.nc";
  io::write_campaign(good, low_rank_campaign(5));
  io::write_campaign(tiny, low_rank_campaign(2));
  const std::string out = dir + "/loocv.nc";
  struct Case {
    std::string campaign, extra, needle;
  };
  const std::vector<Case> cases = {
      {tiny, "", "at least 3"},
      {good, "--methods ed-mf,oracle", "oracle"},
      {good, "--settings I,VII", "VII"},
      {good, "--cap 1", "below every configuration"},
      {good, "--settings II --measurements 3,90", "under the cap"},
      {good, "--measurements 3,100", "exceeds the 99 configurations"},
      {good, "--part 3/2", "--part"},
      {good, "--lambda-cv-folds 6",
       "--lambda-cv-folds 6 is not allowed; allowed: 0 (a lambda CV per fold) or 1..5 (blocks of the 5 held-out rows)"},
      {good, "--lambda-cv-folds -1", "--lambda-cv-folds"},
  };
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    // Two ranks where a rank-consistent failure matters most (input file, cap); one elsewhere (mpirun is slow here).
    for (int ranks : (k == 0 || k == 3) ? std::vector<int>{1, 2} : std::vector<int>{1}) {
      auto r = run_command(loocv_cmd(ranks, c.campaign, out, c.extra));
      EXPECT_EQ(r.exit_code, 1) << c.extra << "\n" << r.output;
      EXPECT_NE(r.output.find(c.needle), std::string::npos) << c.extra << "\n" << r.output;
      EXPECT_FALSE(fs::exists(out)) << c.extra;
    }
  }
}

// --lambda-cv-folds B: every fold of a block completes at the block's λ, the
// same file at 1 and 2 ranks and from a split run; B = F is the per-fold CV.
TEST(LoocvCli, LambdaCvFoldsGiveEachBlockOneLambdaAtAnyRankCount) {
  const std::string dir = test::scratch_dir();
  const std::string campaign = dir + "/campaign.nc";
  io::write_campaign(campaign, low_rank_campaign(7));
  const std::string opts = "--settings I,IV --methods ed-mf,ei-mf --measurements 3,5 --summary false";
  auto run = [&](int ranks, const std::string& name, const std::string& extra) {
    const auto r = run_command(loocv_cmd(ranks, campaign, dir + "/" + name, opts + " " + extra));
    EXPECT_EQ(r.exit_code, 0) << extra << "\n" << r.output;
    return io::read_loocv(dir + "/" + name);
  };
  const io::Loocv plain = run(1, "plain.nc", "");
  const io::Loocv one = run(1, "one.nc", "--lambda-cv-folds 3");
  const io::Loocv two = run(2, "two.nc", "--lambda-cv-folds 3");
  expect_same(one, two);
  ASSERT_EQ(one.n_folds(), 7u);
  const std::size_t iv = 1;  // setting IV; blocks of the 7 rows: [0, 2), [2, 4), [4, 7)
  const std::vector<std::vector<std::size_t>> blocks = {{0, 1}, {2, 3}, {4, 5, 6}};
  for (const auto& b : blocks)
    for (std::size_t f : b) {
      EXPECT_FALSE(std::isnan(one.lambda[iv * 7 + f]));
      EXPECT_EQ(one.lambda[iv * 7 + f], one.lambda[iv * 7 + b.front()]) << "fold " << f;
    }
  EXPECT_NE(one.text_attributes.count("lambda_choice"), 0u);
  EXPECT_EQ(plain.text_attributes.count("lambda_choice"), 0u);
  // A split run's parts use the blocks of the whole run: merged, the same file.
  run(1, "part1.nc", "--lambda-cv-folds 3 --part 1/2");
  run(2, "part2.nc", "--lambda-cv-folds 3 --part 2/2");
  const auto r = run_command(test::mpi_launch(1) + test::peppp_exe() + " loocv --merge " + dir + "/part1.nc," + dir +
                             "/part2.nc --output " + dir + "/merged.nc --summary false 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_same(one, io::read_loocv(dir + "/merged.nc"));
  // One fold per block: each fold's own CV, the default's numbers.
  expect_same(plain, run(2, "per_fold.nc", "--lambda-cv-folds 7"));
  // --lambda-warm: the final solves start from the block's completion, shared
  // by phase 0: the same λ, and the same file at 1 and 2 ranks.
  const io::Loocv warm1 = run(1, "warm1.nc", "--lambda-cv-folds 3 --lambda-warm");
  expect_same(warm1, run(2, "warm2.nc", "--lambda-cv-folds 3 --lambda-warm"));
  ASSERT_EQ(warm1.lambda.size(), one.lambda.size());
  for (std::size_t i = 0; i < one.lambda.size(); ++i)  // NaN for setting I
    EXPECT_TRUE(warm1.lambda[i] == one.lambda[i] || (std::isnan(warm1.lambda[i]) && std::isnan(one.lambda[i]))) << i;
  EXPECT_NE(warm1.text_attributes.at("lambda_warm").find("block"), std::string::npos);
  EXPECT_EQ(one.text_attributes.count("lambda_warm"), 0u);
}

TEST(CompleteCli, CompletesASampledCampaignAndFeedsLoocv) {
  const std::string dir = test::scratch_dir();
  io::Campaign c = low_rank_campaign(8);
  // Keep about 40% of the cells, at least one per task.
  for (std::size_t i = 0; i < c.n_tasks(); ++i)
    for (std::size_t j = 0; j < c.n_configs(); ++j)
      if (j != i && (mix64(i * 1000 + j) % 10) >= 4) {
        c.error[c.at(i, j)] = std::nan("");
        c.status[c.at(i, j)] = static_cast<std::uint8_t>(io::CellStatus::not_planned);
      }
  const std::string campaign = dir + "/campaign.nc", completed = dir + "/completed.nc";
  io::write_campaign(campaign, c);
  auto r = run_command(test::mpi_launch(2) + test::peppp_exe() + " complete --campaign " + campaign + " --output " +
                       completed + " --lambda 0.02 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Completion k = io::read_completion(completed);
  EXPECT_EQ(k.task, c.task);
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < k.error_estimate.size(); ++i) {
    ASSERT_TRUE(std::isfinite(k.error_estimate[i]));
    if (std::isfinite(c.error[i])) {
      diff += std::pow(k.error_estimate[i] - c.error[i], 2);
      norm += c.error[i] * c.error[i];
    }
  }
  EXPECT_LT(std::sqrt(diff / norm), 0.1);  // the fit on the observed entries
  EXPECT_TRUE(k.pareto_true.empty());       // the truth is unknown for a sampled campaign
  EXPECT_GT(k.iterations, 0);

  // loocv refuses a sampled campaign alone, and runs with the completion standing in.
  const std::string opts = "--settings I --methods ed-mf --measurements 3 --summary false";
  r = run_command(loocv_cmd(1, campaign, dir + "/loocv.nc", opts));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--completed"), std::string::npos) << r.output;
  r = run_command(loocv_cmd(1, campaign, dir + "/loocv.nc", opts + " --completed " + completed));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(io::read_loocv(dir + "/loocv.nc").text_attributes.at("truth"),
            "measured, SoftImpute estimates where unmeasured");
}
