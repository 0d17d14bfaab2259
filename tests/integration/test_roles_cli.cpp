// Per-role configurations through the executable (docs/roles.md): `peppp measure` on the ci
// catalog with campaign.formats_first/last writes the mixed labels into campaign.nc; `peppp
// memory` prints the memory per role and reads campaign.configurations; a role the network
// lacks and malformed labels are refused with one line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "peppp/core/format.hpp"
#include "peppp/io/campaign.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using peppp::test::run_command;

namespace {

std::string exe() { return peppp::test::peppp_exe(); }
std::string ci() { return peppp::test::source_path("inputs/ci.ini"); }

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST(Roles, MeasureWritesTheMixedLabels) {
  const std::string dir = peppp::test::scratch_dir();
  const auto r = run_command(exe() + " measure --config " + ci() +
                             " --campaign.formats_a e3m1,e4m2 --campaign.formats_b e6m7"
                             " --campaign.formats_first e3m1,e8m7 --campaign.formats_last e8m7 --output " + dir +
                             "/campaign.nc 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto c = peppp::io::read_campaign(dir + "/campaign.nc");
  const std::vector<std::string> expected = {"e3m1[last=e8m7]/e6m7", "e3m1[first=e8m7,last=e8m7]/e6m7",
                                             "e4m2[first=e3m1,last=e8m7]/e6m7", "e4m2[first=e8m7,last=e8m7]/e6m7"};
  EXPECT_EQ(c.config, expected);
  // Read back as configurations, the overrides included.
  const auto configs = peppp::io::configurations(c, dir + "/campaign.nc");
  ASSERT_EQ(configs.size(), 4u);
  EXPECT_EQ(configs[2].format(peppp::Role::first), peppp::FloatFormat(3, 1));
  EXPECT_EQ(configs[2].a, peppp::FloatFormat(4, 2));
  ASSERT_EQ(c.memory.size(), 16u);
  for (std::size_t t = 0; t < 4; ++t) {
    EXPECT_LT(c.memory[4 * t], c.memory[4 * t + 1]);      // a wider first layer costs memory
    EXPECT_LT(c.memory[4 * t + 2], c.memory[4 * t + 3]);
    for (std::size_t j = 0; j < 4; ++j) EXPECT_TRUE(std::isfinite(c.error[4 * t + j])) << t << " " << j;
  }
  // peppp info reads it back.
  const auto info = run_command(exe() + " info " + dir + "/campaign.nc 2>&1");
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("4 tasks x 4 configurations"), std::string::npos) << info.output;
}

TEST(Roles, MemoryPrintsRolesAndReadsAConfigurationsFile) {
  const std::string dir = peppp::test::scratch_dir();
  {
    std::ofstream f(dir + "/configs.txt");
    f << "# two configurations of the vit\ne4m3/e6m7\n\n"
         "e4m3[first=e8m7,last=e8m7,attention=bf16,norm=bf16]/e6m7   # wide where it matters\n";
  }
  const auto r = run_command(exe() + " memory --config " + ci() + " --campaign.model vit-tiny "
                             "--campaign.configurations " + dir + "/configs.txt --output " + dir + "/memory.nc 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("# memory per role of vit-tiny on shirt-coat"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("e4m3[first=e8m7,last=e8m7,attention=bf16,norm=bf16]/e6m7 attention  bf16"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find("attention"), std::string::npos) << r.output;
  EXPECT_EQ(peppp::io::read_campaign(dir + "/memory.nc").config,
            (std::vector<std::string>{"e4m3/e6m7", "e4m3[first=e8m7,last=e8m7,attention=bf16,norm=bf16]/e6m7"}));
}

TEST(Roles, RefusalsAreOneLine) {
  const std::string dir = peppp::test::scratch_dir();
  { std::ofstream(dir + "/bad.txt") << "e4m3/e6m7\ne4m3[last=e8m7,first=e8m7]/e6m7\n"; }
  { std::ofstream(dir + "/norm.txt") << "e4m3[norm=e8m7]/e6m7\n"; }
  const struct {
    std::string args;
    std::vector<std::string> needles;
  } cases[] = {
      {"--campaign.model mlp --campaign.formats_norm e8m7,e5m2",
       {"campaign.formats_norm", "e8m7,e5m2", "mlp", "no norm role", "allowed: the roles of mlp (body, first, last)"}},
      {"--campaign.model small-cnn --campaign.formats_attention e8m7", {"campaign.formats_attention", "attention"}},
      {"--campaign.model mlp --campaign.configurations " + dir + "/norm.txt",
       {"campaign.configurations", "e4m3[norm=e8m7]/e6m7", "allowed"}},
      {"--campaign.configurations " + dir + "/bad.txt", {"bad.txt", "line 2", "in that order"}},
      {"--campaign.configurations " + dir + "/bad.txt --campaign.formats_first e8m7",
       {"campaign.configurations", "campaign.formats_first", "give one of them"}},
      {"--campaign.formats_a e4m3 --campaign.formats_first e8m7 --campaign.configurations " + dir + "/norm.txt",
       {"campaign.configurations", "campaign.formats_a", "give one of them"}},
      {"--campaign.formats_first e9m1", {"campaign.formats_first", "e9m1"}},
  };
  for (const auto& c : cases) {
    const auto r = run_command(exe() + " memory --config " + ci() + " " + c.args + " 2>&1");
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.output;
    EXPECT_EQ(lines(r.output), 1u) << c.args << "\n" << r.output;
    for (const auto& n : c.needles) EXPECT_NE(r.output.find(n), std::string::npos) << n << "\n" << r.output;
  }
  // The role's list holding only the body's format: the uniform configurations, accepted.
  const auto ok = run_command(exe() + " memory --config " + ci() +
                              " --campaign.model mlp --campaign.formats_a e4m3 --campaign.formats_norm e4m3 2>&1");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("e4m3/e6m7"), std::string::npos) << ok.output;
}
