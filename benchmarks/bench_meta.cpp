// Meta-layer numerics (METHOD.md F3, F6, F7): SoftImpute to a duality gap of
// 1e-6·F at the paper's size and at two large sizes, greedy D-optimal
// selection, and one BO-full acquisition step. Data are synthetic rank-k
// error-like matrices, generated deterministically.
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "loocv_synthetic.hpp"
#include "peppp/meta/acquisition.hpp"
#include "peppp/meta/configuration_features.hpp"
#include "peppp/meta/design.hpp"
#include "peppp/meta/feature_completion.hpp"
#include "peppp/meta/loocv.hpp"
#include "peppp/meta/sampling.hpp"
#include "peppp/meta/softimpute.hpp"

namespace {
using Eigen::MatrixXd;
using namespace peppp::meta;

MatrixXd uniform(int n, int d, std::uint64_t seed, double lo, double hi) {
  MatrixXd m(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) m(i, j) = lo + (hi - lo) * CounterRng::uniform_at(seed, static_cast<std::uint64_t>(i) * d + j);
  return m;
}

// Rank-k errors in about [0, 1] plus 0.01 uniform noise.
MatrixXd errors(int n, int d, int k, std::uint64_t seed) {
  return uniform(n, k, seed, 0, 1) * uniform(k, d, seed + 1, 0, 1) / k + 0.01 * uniform(n, d, seed + 2, -1, 1);
}

// The timed loop of a SoftImpute benchmark: `solver` 0 proximal, 1 proximal
// accelerated, 2 factored; the result's rank, gap/F and convergence as counters.
SoftImputeResult solve_timed(benchmark::State& state, const MatrixXd& a, SoftImputeOptions o, std::int64_t solver) {
  o.accelerated = solver == 1;
  o.solver = solver == 2 ? SoftImputeSolver::factored : SoftImputeSolver::proximal;
  SoftImputeResult r;
  for (auto _ : state) {
    r = soft_impute(a, MatrixXd(), o);
    benchmark::DoNotOptimize(r.objective);
  }
  state.counters["rank"] = r.rank;
  state.counters["gap_over_F"] = r.gap / r.objective;
  state.counters["converged"] = r.converged;
  return r;
}

// args: n, d, sampling ratio in %, λ·100, solver: 0 proximal, 1 proximal
// accelerated (FISTA + restart), 2 factored (the default: L-BFGS on UVᵀ)
void BM_SoftImpute(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const double ratio = state.range(2) / 100.0, lambda = state.range(3) / 100.0;
  const MatrixXd a = apply_mask(errors(n, d, n < 100 ? 3 : 5, 1), sample_uniform(n, d, ratio, 2));
  SoftImputeOptions o;
  o.lambda = lambda;
  o.gap_tolerance = 1e-6;
  const SoftImputeResult r = solve_timed(state, a, o, state.range(4));
  state.counters["iterations"] = r.iterations;
}
BENCHMARK(BM_SoftImpute)
    ->Args({87, 99, 20, 10, 0})
    ->Args({87, 99, 20, 10, 1})
    ->Args({87, 99, 20, 10, 2})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SoftImpute)->Name("BM_SoftImpute_large")->Args({1000, 1000, 10, 500, 0})->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_SoftImpute)->Name("BM_SoftImpute_large")->Args({1000, 1000, 10, 500, 2})->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_SoftImpute)->Name("BM_SoftImpute_large")->Args({10000, 1000, 10, 1000, 0})->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_SoftImpute)->Name("BM_SoftImpute_large")->Args({10000, 1000, 10, 1000, 2})->Unit(benchmark::kSecond)->Iterations(1);

// One setting-IV fold of meta-LOOCV on bench_loocv's 40 × 99 matrix: the
// 39 × 99 meta-training matrix at 20 % (fold 0's mask), completed at the
// smallest grid λ of each CV — the paper's completion at λ = 0.03 and
// ei-mf's centered log-scale residual at λ = 0.01 (gap_absolute 1e-8) —
// to the final tolerance 1e-7. args: centered (0/1), solver as above.
void BM_SoftImputeLoocvFold(benchmark::State& state) {
  const auto data = peppp::bench::synthetic_loocv(40);
  LoocvSpec spec;
  spec.settings = {"I", "IV"};
  spec.cap = peppp::bench::kSyntheticCap;
  spec = validate_loocv(spec, data);
  const auto mask = meta_training_mask(spec, data, 1, 0, 0);
  MatrixXd e(39, 99);
  for (int i = 1; i < 40; ++i)
    for (int j = 0; j < 99; ++j) e(i - 1, j) = mask[static_cast<std::size_t>(i) * 99 + j] ? data.error[static_cast<std::size_t>(i) * 99 + j] : NAN;
  const bool centered = state.range(0) != 0;
  const MatrixXd a = centered ? center_errors(e).residual : e;
  SoftImputeOptions o;
  o.lambda = centered ? 0.01 : 0.03;
  o.gap_tolerance = 1e-7;
  if (centered) o.gap_absolute = kCenteredGapAbsolute;
  const SoftImputeResult r = solve_timed(state, a, o, state.range(1));
  state.counters["iterations"] = r.total_iterations;
}
BENCHMARK(BM_SoftImputeLoocvFold)
    ->ArgNames({"centered", "solver"})
    ->ArgsProduct({{0, 1}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond);

// Greedy ED selection of 15 out of d configurations (k = 3), no cap.
void BM_GreedyEd(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  const MatrixXd y = uniform(3, d, 5, -1, 1);
  std::vector<int> t(static_cast<std::size_t>(d));
  for (int j = 0; j < d; ++j) t[static_cast<std::size_t>(j)] = j;
  for (auto _ : state) benchmark::DoNotOptimize(greedy_d_optimal(y, t, 15));
}
BENCHMARK(BM_GreedyEd)->Arg(99)->Arg(10000)->Unit(benchmark::kMicrosecond);

// One BO-full step at the paper's size: fit the GP on 14 measured columns of
// an 86×99 meta-training matrix and take the log-EI argmax over the other 85.
void BM_BoFullStep(benchmark::State& state) {
  const MatrixXd train = errors(86, 99, 3, 7);
  const Eigen::VectorXd target = errors(1, 99, 3, 8).row(0).transpose();
  std::vector<int> s, cand;
  for (int j = 0; j < 99; ++j) (j % 7 == 0 ? s : cand).push_back(j);
  MatrixXd fs(86, static_cast<Eigen::Index>(s.size())), fc(86, static_cast<Eigen::Index>(cand.size()));
  Eigen::VectorXd v(static_cast<Eigen::Index>(s.size()));
  for (std::size_t i = 0; i < s.size(); ++i) {
    fs.col(static_cast<Eigen::Index>(i)) = train.col(s[i]);
    v[static_cast<Eigen::Index>(i)] = target[s[i]];
  }
  for (std::size_t i = 0; i < cand.size(); ++i) fc.col(static_cast<Eigen::Index>(i)) = train.col(cand[i]);
  for (auto _ : state) {
    GaussianProcess gp(3.0, 1e-3);
    gp.fit(fs, v);
    Eigen::VectorXd mu, sd;
    gp.predict(fc, mu, sd);
    int best = 0;
    double best_v = -INFINITY;
    for (Eigen::Index q = 0; q < mu.size(); ++q) {
      const double le = log_expected_improvement(mu[q], sd[q], v.minCoeff(), 0.01);
      if (le > best_v) {
        best_v = le;
        best = static_cast<int>(q);
      }
    }
    benchmark::DoNotOptimize(best);
  }
}
BENCHMARK(BM_BoFullStep)->Unit(benchmark::kMicrosecond);

// Per-role labels: body × first × last × attention × norm (a role with an
// empty list keeps the body's format) × Format B, in the label grammar.
std::vector<std::string> role_space(const std::vector<std::vector<std::string>>& roles, const std::vector<std::string>& b) {
  static const char* names[] = {"first", "last", "attention", "norm"};
  std::vector<std::string> out;
  std::vector<std::size_t> at(roles.size(), 0);
  for (;;) {
    const std::string& body = roles[0][at[0]];
    std::string over;
    for (std::size_t r = 1; r < roles.size(); ++r)
      if (!roles[r].empty() && roles[r][at[r]] != body)
        over += std::string(over.empty() ? "" : ",") + names[r - 1] + "=" + roles[r][at[r]];
    for (const auto& fb : b) out.push_back(body + (over.empty() ? "" : "[" + over + "]") + "/" + fb);
    std::size_t r = 0;  // the next combination: an odometer over the non-empty lists
    for (; r < roles.size(); ++r) {
      if (roles[r].empty()) continue;
      if (++at[r] < roles[r].size()) break;
      at[r] = 0;
    }
    if (r == roles.size()) break;
  }
  return out;
}

// args: n tasks, d role combinations (1000 or 2000), sampling ratio in %.
// Errors: a rank-3 sigmoid of the role roundoffs 2^-M and ranges plus noise;
// the whole feature_complete (CV over rank × ridge and the final fit) is timed.
void BM_FeatureCompletion(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::vector<std::string> five = {"e3m2", "e4m3", "e5m2", "e8m7", "e5m10"}, two = {"e4m3", "e8m7"};
  const auto labels = role_space({five, five, five, two, state.range(1) > 1000 ? two : std::vector<std::string>{}},
                                 {"e6m7", "e8m23", "e5m10", "e8m10"});
  const int d = static_cast<int>(labels.size());
  const MatrixXd f = configuration_features(labels);
  MatrixXd h(d, 3);
  for (int j = 0; j < d; ++j)
    h.row(j) << std::exp2(-f(j, 2)) * 8 + std::exp2(-f(j, 4)) * 3 + std::exp2(-f(j, 10)),
        std::exp(2.0 - f(j, 1)) + 3 * std::exp2(-f(j, 6)), 20 * std::exp2(-f(j, 12)) + std::exp2(-f(j, 8));
  const MatrixXd logit = (uniform(n, 3, 5, 0.2, 1.2) * h.transpose()).array() - 2.0;
  const MatrixXd e = (1.0 / (1.0 + (-logit.array()).exp())).matrix() + 0.01 * uniform(n, d, 6, -1, 1);
  const MatrixXd a = apply_mask(e, sample_uniform(n, d, state.range(2) / 100.0, 7));
  FeatureCompletionResult r;
  for (auto _ : state) {
    r = feature_complete(a, MatrixXd(), f, FeatureCompletionOptions{});
    benchmark::DoNotOptimize(r.objective);
  }
  state.counters["d"] = d;
  state.counters["rank"] = r.rank;
  state.counters["features"] = r.expanded_features;
  state.counters["relative_error"] = (r.estimate - e).norm() / e.norm();
}
BENCHMARK(BM_FeatureCompletion)->Args({40, 1000, 20})->Args({160, 2000, 20})->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
