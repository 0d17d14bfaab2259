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
  FiguresOptions o;
  o.python = python;
  o.extra_args = {"--max-tasks", "0", "--memory-tasks", "1"};  // keep the test short
  const auto r = draw_run_figures(dir + "/run", o);
  ASSERT_TRUE(r.drawn) << r.message;
  EXPECT_EQ(r.report, dir + "/run/report.md");
  EXPECT_TRUE(fs::exists(r.report));
  EXPECT_GT(fs::file_size(dir + "/run/figures/tasks_kendall.png"), 8000u);
  EXPECT_GT(fs::file_size(dir + "/run/figures/pareto_counts.png"), 8000u);

  // A broken file: the report is still written, the result says what failed.
  fs::copy_file(dir + "/edge/missing_regret_loocv.nc", dir + "/run/loocv.nc",
                fs::copy_options::overwrite_existing);
  const auto broken = draw_run_figures(dir + "/run", o);
  EXPECT_FALSE(broken.drawn);
  EXPECT_EQ(broken.report, dir + "/run/report.md");
  EXPECT_NE(broken.message.find("regret"), std::string::npos) << broken.message;
}
