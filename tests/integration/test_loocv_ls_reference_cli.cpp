// `peppp loocv --prediction least-squares` against the committed numpy
// reference tests/golden/loocv-least-squares/synthetic-40x99.nc (written by
// tests/scripts/loocv_ls_reference.py from METHOD.md alone): the synthetic
// 40 × 99 matrix of benchmarks/loocv_synthetic.hpp, settings I and II,
// ED-MF, QR-MF and Random-MF with the paper's least squares (F6.2). Orders,
// picks and memory equal; every number to 1e-12 (relative where it exceeds
// 1: Random-MF's 3-measurement fits are ill-conditioned and reach ~20).
// The default (posterior) run differs from it, and the zero-shot default is
// the same either way.
#include <gtest/gtest.h>

#include <cmath>

#include "peppp/io/campaign.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/io/netcdf.hpp"
#include "test_util.hpp"

using namespace peppp;
using test::run_command;

namespace {

constexpr std::size_t kTasks = 40, kConfigs = 99, kMethods = 3;

// The reference's matrix as a fully measured campaign (bit counts as benchmarks/loocv_campaign.cpp writes them).
io::Campaign reference_campaign(const io::NcFile& ref) {
  io::Campaign c;
  for (std::size_t i = 0; i < kTasks; ++i) c.task.push_back("t" + std::to_string(i));
  for (std::size_t j = 0; j < kConfigs; ++j) {
    c.config.push_back("c" + std::to_string(j));
    c.a_exponent_bits.push_back(3);
    c.a_mantissa_bits.push_back(static_cast<int>(5 + (j / 9) % 5 - 4));
    c.b_exponent_bits.push_back(6);
    c.b_mantissa_bits.push_back(static_cast<int>(14 + j % 9 % 7 - 7));
  }
  c.allocate();
  c.error = ref.get_double("error", kTasks * kConfigs);
  c.memory = ref.get_double("memory", kTasks * kConfigs);
  for (auto& s : c.status) s = static_cast<std::uint8_t>(io::CellStatus::measured);
  c.text_attributes["campaign"] = "synthetic bench_loocv matrix (numpy reference)";
  return c;
}

std::string loocv(const std::string& campaign, const std::string& out, const std::string& prediction) {
  return test::mpi_launch(2) + test::peppp_exe() + " loocv --campaign " + campaign + " --output " + out +
         " --settings I,II --methods ed-mf,qr-mf,random-mf --cap 281 --summary false --prediction " + prediction +
         " 2>&1";
}

// got[s, m, ...] (its acquisition axis holds the baseline too) against want[s, m, ...] for the first kMethods.
template <typename T>
void expect_close(const std::vector<T>& want, const std::vector<T>& got, std::size_t settings, std::size_t inner,
                  std::size_t methods_got, const char* what, double tol) {
  ASSERT_EQ(want.size(), settings * kMethods * inner) << what;
  ASSERT_EQ(got.size(), settings * methods_got * inner) << what;
  double worst = 0;
  for (std::size_t s = 0; s < settings; ++s)
    for (std::size_t m = 0; m < kMethods; ++m)
      for (std::size_t q = 0; q < inner; ++q) {
        const double a = static_cast<double>(want[(s * kMethods + m) * inner + q]);
        const double b = static_cast<double>(got[(s * methods_got + m) * inner + q]);
        ASSERT_TRUE(std::isfinite(a) && std::isfinite(b)) << what;
        worst = std::max(worst, std::abs(a - b) / std::max(1.0, std::abs(a)));
      }
  EXPECT_LE(worst, tol) << what;
}

}  // namespace

TEST(LoocvLeastSquaresReference, EqualsTheNumpyReference) {
  const io::NcFile ref = io::NcFile::open(test::source_path("tests/golden/loocv-least-squares/synthetic-40x99.nc"));
  const std::string dir = test::scratch_dir();
  const std::string campaign = dir + "/synthetic.nc";
  io::write_campaign(campaign, reference_campaign(ref));
  auto r = run_command(loocv(campaign, dir + "/ls.nc", "least-squares"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Loocv l = io::read_loocv(dir + "/ls.nc");
  ASSERT_EQ(l.method, (std::vector<std::string>{"ed-mf", "qr-mf", "random-mf", "random-high-memory"}));
  EXPECT_EQ(l.text_attributes.at("prediction"), "least-squares");
  const std::size_t S = 2, L = l.n_counts(), F = l.n_folds(), M = l.n_methods(), P = l.n_steps();
  ASSERT_EQ(F, kTasks);
  EXPECT_EQ(l.measurements, ref.get_int("measurements"));
  const std::size_t n4 = S * kMethods * L * F;
  expect_close(ref.get_int("selection_order", S * kMethods * F * P), l.selection_order, S, F * P, M,
               "selection_order", 0.0);
  expect_close(ref.get_int("selected_config", n4), l.selected_config, S, L * F, M, "selected_config", 0.0);
  expect_close(ref.get_double("measured_memory", n4), l.measured_memory, S, L * F, M, "measured_memory", 0.0);
  for (const char* v : {"relative_error", "convergence", "hyperdiff", "selected_error", "regret"}) {
    const auto& got = v == std::string("relative_error") ? l.relative_error
                      : v == std::string("convergence")  ? l.convergence
                      : v == std::string("hyperdiff")    ? l.hyperdiff
                      : v == std::string("selected_error") ? l.selected_error
                                                           : l.regret;
    expect_close(ref.get_double(v, n4), got, S, L * F, M, v, 1e-12);
  }
  expect_close(ref.get_double("predicted_error", n4 * kConfigs), l.predicted_error, S, L * F * kConfigs, M,
               "predicted_error", 1e-12);
  // Unclipped: some least-squares predictions leave [0, 1] (the posterior's never do).
  double lo = 1, hi = 0;
  for (std::size_t s = 0; s < S; ++s)
    for (std::size_t m = 0; m < kMethods; ++m)
      for (std::size_t c = 0; c < L; ++c)
        for (std::size_t f = 0; f < F; ++f)
          for (std::size_t j = 0; j < kConfigs; ++j) {
            lo = std::min(lo, l.predicted_error[l.at(s, m, c, f, j)]);
            hi = std::max(hi, l.predicted_error[l.at(s, m, c, f, j)]);
          }
  EXPECT_TRUE(lo < 0 || hi > 1) << lo << " " << hi;

  // The default posterior run: same orders and zero-shot numbers, other predictions.
  r = run_command(loocv(campaign, dir + "/posterior.nc", "posterior"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Loocv p = io::read_loocv(dir + "/posterior.nc");
  EXPECT_EQ(p.text_attributes.at("prediction"), "posterior");
  EXPECT_EQ(p.selection_order, l.selection_order);
  EXPECT_NE(p.predicted_error, l.predicted_error);
  EXPECT_EQ(p.zero_shot_config, l.zero_shot_config);
  EXPECT_EQ(p.zero_shot_regret, l.zero_shot_regret);
}
