// End to end: peppp run --config inputs/ci.ini at 2 MPI ranks on real
// Fashion-MNIST cells: measure -> complete -> loocv (+ figures), every file
// with every variable, all five methods and the baseline present.
#include <gtest/gtest.h>
#include <netcdf.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace fs = std::filesystem;
using peppp::test::run_command;

namespace {
bool has_var(int nc, const char* name) {
  int id = 0;
  return nc_inq_varid(nc, name, &id) == NC_NOERR;
}

std::vector<std::string> string_coordinate(int nc, const char* name) {
  int id = 0, dim = 0;
  std::vector<std::string> out;
  if (nc_inq_varid(nc, name, &id) != NC_NOERR) return out;
  nc_inq_vardimid(nc, id, &dim);
  size_t n = 0;
  nc_inq_dimlen(nc, dim, &n);
  std::vector<char*> s(n, nullptr);
  if (nc_get_var_string(nc, id, s.data()) != NC_NOERR) return out;
  for (auto* p : s) out.emplace_back(p ? p : "");
  nc_free_string(n, s.data());
  return out;
}
}  // namespace

TEST(Run, CiPipelineEndToEnd) {
  const std::string dir = peppp::test::scratch_dir() + "/run";
  const auto r = run_command(peppp::test::mpi_launch(2) + peppp::test::peppp_exe() + " run --config " +
                             peppp::test::source_path("inputs/ci.ini") + " --output-dir " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* f : {"campaign.nc", "completed.nc", "loocv.nc"}) EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  EXPECT_NE(r.output.find("peppp run finished"), std::string::npos) << r.output;

  int nc = 0;
  ASSERT_EQ(nc_open((dir + "/campaign.nc").c_str(), NC_NOWRITE, &nc), NC_NOERR);
  for (const char* v : {"task", "config", "error", "memory", "status", "memory_weights", "memory_activations",
                        "memory_optimizer", "train_seconds", "final_loss"})
    EXPECT_TRUE(has_var(nc, v)) << "campaign.nc: " << v;
  // Learning is real: the cells are not at chance everywhere.
  int id = 0;
  nc_inq_varid(nc, "error", &id);
  std::vector<double> err(36);
  ASSERT_EQ(nc_get_var_double(nc, id, err.data()), NC_NOERR);
  double best = 1;
  for (double e : err) if (std::isfinite(e)) best = std::min(best, e);
  EXPECT_LT(best, 0.2);
  nc_close(nc);

  ASSERT_EQ(nc_open((dir + "/loocv.nc").c_str(), NC_NOWRITE, &nc), NC_NOERR);
  for (const char* v : {"setting", "acquisition", "measurements", "fold", "relative_error", "convergence", "hyperdiff",
                        "selected_config", "selected_error", "best_feasible_error", "regret", "measured_memory"})
    EXPECT_TRUE(has_var(nc, v)) << "loocv.nc: " << v;
  const auto methods = string_coordinate(nc, "acquisition");
  for (const char* m : {"ed-mf", "qr-mf", "random-mf", "bo-mf", "bo-full", "random-high-memory"})
    EXPECT_NE(std::find(methods.begin(), methods.end(), m), methods.end()) << m;
  EXPECT_EQ(string_coordinate(nc, "fold").size(), 4u);
  nc_close(nc);

  ASSERT_EQ(nc_open((dir + "/completed.nc").c_str(), NC_NOWRITE, &nc), NC_NOERR);
  for (const char* v : {"error_observed", "error_estimate", "pareto_estimate"})
    EXPECT_TRUE(has_var(nc, v)) << "completed.nc: " << v;
  nc_close(nc);
}
