// Drives the peppp executable: help, version, and bad input (exit 1, one
// clear line, no output file).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.hpp"

namespace fs = std::filesystem;
using peppp::test::run_command;

namespace {
std::string exe() { return peppp::test::peppp_exe(); }
int count_lines(const std::string& s, const std::string& needle) {
  int n = 0;
  for (std::size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}
}  // namespace

TEST(Cli, VersionPrintsVersionAndCommit) {
  auto r = run_command(exe() + " --version");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("peppp 0."), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(git "), std::string::npos) << r.output;
}

TEST(Cli, HelpListsCommandsAndEveryKey) {
  auto r = run_command(exe() + " --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (auto c : {"run", "measure", "complete", "loocv", "select", "memory", "tasks", "info"})
    EXPECT_NE(r.output.find(std::string("  ") + c + " "), std::string::npos) << c;
  r = run_command(exe() + " measure --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (auto k : {"--campaign.tasks", "--train.epochs", "--sampling.ratio", "--output", "--resume"})
    EXPECT_NE(r.output.find(k), std::string::npos) << k;
  EXPECT_NE(r.output.find("default: 10; unit: epochs"), std::string::npos) << r.output;
  // No command: usage and exit 1.
  r = run_command(exe());
  EXPECT_EQ(r.exit_code, 1);
}

TEST(Cli, HelpPrintsOnceUnderMpi) {
  auto r = run_command(peppp::test::mpi_launch(2) + exe() + " --help");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count_lines(r.output, "Commands:"), 1) << r.output;
}

TEST(Cli, MissingConfigFileIsBadInput) {
  auto dir = peppp::test::scratch_dir();
  std::string out = dir + "/campaign.nc";
  auto r = run_command(exe() + " measure --config " + dir + "/nosuch.ini --output " + out);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(r.output, "error: " + dir + "/nosuch.ini: configuration file not found\n");
  EXPECT_FALSE(fs::exists(out));
}

TEST(Cli, UnknownKeyAndBadValueAreBadInput) {
  auto dir = peppp::test::scratch_dir();
  std::string out = dir + "/campaign.nc";
  std::ofstream(dir + "/unknown.ini") << "[campaign]\ntasks = t.ini\n[train]\nepochz = 3\n";
  auto r = run_command(exe() + " measure --config " + dir + "/unknown.ini --output " + out);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(count_lines(r.output, "\n"), 1) << r.output;
  EXPECT_NE(r.output.find("unknown.ini:4: unknown key 'train.epochz'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did you mean 'train.epochs'"), std::string::npos) << r.output;

  std::ofstream(dir + "/bad.ini") << "[campaign]\ntasks = t.ini\n[sampling]\nscheme = everything\n";
  r = run_command(exe() + " measure --config " + dir + "/bad.ini --output " + out);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(count_lines(r.output, "\n"), 1) << r.output;
  EXPECT_NE(r.output.find("bad.ini:4: key 'sampling.scheme' = 'everything' is invalid; allowed: one of: full, uniform, nonuniform"),
            std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out));

  // Under MPI every rank agrees: one message, exit 1, no hang.
  r = run_command(peppp::test::mpi_launch(2) + exe() + " measure --config " + dir + "/bad.ini --output " + out);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(count_lines(r.output, "error: "), 1) << r.output;
  EXPECT_FALSE(fs::exists(out));
}

TEST(Cli, UnknownCommandAndOption) {
  auto r = run_command(exe() + " mesure");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("unknown command 'mesure' (did you mean 'measure'?)"), std::string::npos) << r.output;
  r = run_command(exe() + " measure --campaign.taks x --output y.nc");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("did you mean --campaign.tasks"), std::string::npos) << r.output;
}
