// draw_run_figures: Python optional, the report drawn when it is there.
#include <gtest/gtest.h>

#include <filesystem>

#include "peppp/app/figures.hpp"
#include "test_util.hpp"

using namespace peppp::app;
namespace fs = std::filesystem;

TEST(Figures, MissingPythonSaysHowToGetIt) {
  FiguresOptions o;
  o.python = "/nonexistent/python3";
  const auto dir = peppp::test::scratch_dir();
  const auto r = draw_run_figures(dir, o);
  EXPECT_FALSE(r.drawn);
  EXPECT_TRUE(r.report.empty());
  EXPECT_NE(r.message.find("figures skipped"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("apt-get install"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("report.py"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find('\n'), std::string::npos) << "one line: " << r.message;
}

TEST(Figures, MissingScriptsFolder) {
  FiguresOptions o;
  o.scripts_dir = "/nonexistent/scripts";
  const auto r = draw_run_figures(peppp::test::scratch_dir(), o);
  EXPECT_FALSE(r.drawn);
  EXPECT_NE(r.message.find("PEPPP_SCRIPTS_DIR"), std::string::npos) << r.message;
}

TEST(Figures, DrawsTheReportOfARunFolder) {
  const std::string python = "/usr/bin/python3";
  if (peppp::test::run_command(figures_package_check(python)).exit_code != 0) {
    GTEST_SKIP() << python << " lacks numpy/netCDF4/xarray/matplotlib";
  }
  const auto dir = peppp::test::scratch_dir();
  const auto fixtures = peppp::test::run_command(
      python + " " + peppp::test::source_path("tests/scripts/make_fixtures.py") + " " + dir);
  ASSERT_EQ(fixtures.exit_code, 0) << fixtures.output;
  // One small file keeps this test short; tests/scripts covers every figure.
  fs::create_directories(dir + "/small");
  fs::copy_file(dir + "/run/selection.nc", dir + "/small/selection.nc");
  FiguresOptions o;
  o.python = python;
  o.extra_args = {"--max-tasks", "1"};
  const auto r = draw_run_figures(dir + "/small", o);
  ASSERT_TRUE(r.drawn) << r.message;
  EXPECT_EQ(r.report, dir + "/small/report.md");
  EXPECT_TRUE(fs::exists(r.report));
  EXPECT_GT(fs::file_size(dir + "/small/figures/frontier_selection/frontier_new-task.png"), 8000u);

  // A broken file: the report is still written, the result says what failed.
  fs::create_directories(dir + "/broken");
  fs::copy_file(dir + "/edge/missing_regret_loocv.nc", dir + "/broken/loocv.nc");
  const auto broken = draw_run_figures(dir + "/broken", o);
  EXPECT_FALSE(broken.drawn);
  EXPECT_EQ(broken.report, dir + "/broken/report.md");
  EXPECT_NE(broken.message.find("'regret'"), std::string::npos) << broken.message;
  EXPECT_EQ(broken.message.find('\n'), std::string::npos) << broken.message;
}
