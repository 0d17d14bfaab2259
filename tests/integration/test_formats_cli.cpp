// The named formats through the executable: `peppp quantize` bit for bit
// against the written semantics (tests/unit/quant/standard_reference.hpp,
// QUANT.md "Standard formats") for every label with its default rounding,
// its summary line and bad input; inputs/hardware.ini end to end at ci size
// on Fashion-MNIST; `peppp memory` of mxfp8-e4m3/bf16 on ResNet-18.
#include <gtest/gtest.h>
#include <netcdf.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "../unit/quant/standard_reference.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using peppp::test::run_command;

namespace {

std::string exe() { return peppp::test::peppp_exe(); }

void write_f32(const std::string& path, const std::vector<float>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(4 * v.size()));
}

std::vector<float> read_f32(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<float> v(b.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), b.data(), 4 * v.size());
  return v;
}

std::size_t count(const std::string& out, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(key + "=([0-9]+)"))) return static_cast<std::size_t>(-1);
  return std::stoul(m[1]);
}

std::vector<std::string> strings(int nc, const char* name) {
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

template <class T>
std::vector<T> values(int nc, const char* name, std::size_t n) {
  int id = 0;
  std::vector<T> v(n);
  if (nc_inq_varid(nc, name, &id) != NC_NOERR) return {};
  if constexpr (std::is_same_v<T, int>) nc_get_var_int(nc, id, v.data());
  else nc_get_var_double(nc, id, v.data());
  return v;
}

}  // namespace

TEST(Quantize, EveryNamedFormatIsBitExactWithItsDefaultRounding) {
  const std::string dir = peppp::test::scratch_dir();
  for (const auto& s : sref::specs()) {
    // Elementwise: every grid value, tie and neighbour plus 300k random bit
    // patterns; block formats: 600 rows of 1000 (short last blocks), 600k values.
    const std::size_t row = s.block == 1 ? 0 : 1000;
    const auto in = s.block == 1 ? sref::elementwise_inputs(s, 300000, 17) : sref::block_inputs(s, 600, 1000, 17);
    ASSERT_GE(in.size(), 300000u);
    write_f32(dir + "/in.f32", in);
    fs::remove(dir + "/out.f32");
    const auto r = run_command(exe() + " quantize --format " + s.label + " --input " + dir + "/in.f32 --output " + dir +
                               "/out.f32" + (row ? " --row-length " + std::to_string(row) : std::string()));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto got = read_f32(dir + "/out.f32");
    const auto want = sref::reference(in, row ? row : in.size(), s);
    ASSERT_EQ(got.size(), in.size()) << s.label;
    std::size_t bad = 0, nan = 0, flushed = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (!sref::same(got[i], want[i]) && ++bad <= 5)
        ADD_FAILURE() << s.label << " element " << i << ": in " << std::hexfloat << in[i] << " got " << got[i]
                      << " want " << want[i];
      nan += std::isnan(want[i]);
      flushed += !std::isnan(want[i]) && want[i] == 0 && in[i] != 0 && std::isfinite(in[i]);
    }
    EXPECT_EQ(bad, 0u) << s.label;
    // The one-line summary.
    EXPECT_NE(r.output.find("format=" + s.label + " rounding=nearest_even"), std::string::npos) << r.output;
    EXPECT_EQ(count(r.output, "elements"), in.size()) << r.output;
    EXPECT_EQ(count(r.output, "nan"), nan) << r.output;
    EXPECT_EQ(count(r.output, "flushed_to_zero"), flushed) << r.output;
    EXPECT_EQ(count(r.output, "saturated"), sref::saturated(in, row ? row : in.size(), s)) << r.output;
    EXPECT_GT(flushed + nan, 0u) << s.label;  // the inputs reach the edges
  }
}

TEST(Quantize, EemmLabelsKeepTheirSemanticsAndStochasticIsSeeded) {
  const std::string dir = peppp::test::scratch_dir();
  const auto in = sref::elementwise_inputs(sref::spec("ocp-e4m3"), 20000, 5);
  write_f32(dir + "/in.f32", in);
  for (const char* label : {"e4m3", "1-5-2", "e8m7"}) {
    const auto f = peppp::FloatFormat::parse(label);
    auto r = run_command(exe() + " quantize --format " + label + " --input " + dir + "/in.f32 --output " + dir +
                         "/out.f32");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("rounding=nearest "), std::string::npos) << r.output;  // ties away, QPyTorch's
    const auto got = read_f32(dir + "/out.f32");
    for (std::size_t i = 0; i < in.size(); ++i)
      ASSERT_TRUE(sref::same(got[i], ref::round(in[i], f, false))) << label << " " << std::hexfloat << in[i];
  }
  auto stoch = [&](int seed) {
    const auto r = run_command(exe() + " quantize --format mxfp6-e3m2 --rounding stochastic --seed " +
                               std::to_string(seed) + " --input " + dir + "/in.f32 --output " + dir + "/s.f32");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return read_f32(dir + "/s.f32");
  };
  const auto a = stoch(3), b = stoch(3), c = stoch(4);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), 4 * a.size()), 0);
  EXPECT_NE(std::memcmp(a.data(), c.data(), 4 * a.size()), 0);
}

TEST(Quantize, BadInputIsOneLineExitOneAndNoOutput) {
  const std::string dir = peppp::test::scratch_dir();
  write_f32(dir + "/in.f32", std::vector<float>(96, 1.5f));
  {
    std::ofstream f(dir + "/odd.f32", std::ios::binary);
    f << "1234567";
  }
  const struct {
    std::string args, needle;
  } cases[] = {
      {"--format mxfp5 --input " + dir + "/in.f32", "'mxfp5'"},
      {"--format e4m3 --input " + dir + "/odd.f32", "7 bytes"},
      {"--format mxfp4 --row-length 40 --input " + dir + "/in.f32", "--row-length 40"},
      {"--format mxfp4 --input " + dir + "/missing.f32", "missing.f32"},
      {"--format mxfp4 --rounding up --input " + dir + "/in.f32", "up"},
  };
  for (const auto& c : cases) {
    fs::remove(dir + "/out.f32");
    const auto r = run_command(exe() + " quantize " + c.args + " --output " + dir + "/out.f32");
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.needle), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("allowed"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir + "/out.f32")) << c.args;
  }
  const auto r = run_command(exe() + " quantize --format mxfp4 --input " + dir + "/in.f32 --output " + dir +
                             "/no/such/dir/out.f32");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const auto h = run_command(exe() + " quantize --help");
  EXPECT_EQ(h.exit_code, 0);
  for (const char* k : {"--format", "--rounding", "--seed", "--input", "--output", "--row-length", "nvfp4"})
    EXPECT_NE(h.output.find(k), std::string::npos) << k;
  EXPECT_NE(run_command(exe() + " --help").output.find("  quantize "), std::string::npos);
}

TEST(Memory, Mxfp8E4m3Bf16OnResnet18IsTheFormula) {
  const std::string dir = peppp::test::scratch_dir();
  const auto r = run_command(exe() + " memory --config " + peppp::test::source_path("inputs/hardware.ini") +
                             " --campaign.tasks " + peppp::test::source_path("inputs/tasks/fashion-ci.ini") +
                             " --campaign.model resnet18 --campaign.formats_a mxfp8-e4m3 --campaign.formats_b bf16"
                             " --output " + dir + "/memory.nc");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("shirt-coat: .*; ([0-9]+) parameters, ([0-9]+) activations")))
      << r.output;
  const double nw = std::stod(m[1]), nact = std::stod(m[2]), batch = 32, mib = 8.0 * 1024 * 1024;
  int nc = 0;
  ASSERT_EQ(nc_open((dir + "/memory.nc").c_str(), NC_NOWRITE, &nc), NC_NOERR);
  EXPECT_EQ(strings(nc, "config"), std::vector<std::string>{"mxfp8-e4m3/bf16"});
  const auto w = values<double>(nc, "memory_weights", 4), a = values<double>(nc, "memory_activations", 4),
             o = values<double>(nc, "memory_optimizer", 4), t = values<double>(nc, "memory", 4);
  EXPECT_DOUBLE_EQ(w[0], 8.25 * nw / mib);             // 8 element bits + 8/32 of the E8M0 scale
  EXPECT_DOUBLE_EQ(a[0], 8.25 * batch * nact / mib);
  EXPECT_DOUBLE_EQ(o[0], 16.0 * 3.0 * nw / mib);       // gradient, momentum, accumulator in bf16
  EXPECT_DOUBLE_EQ(t[0], w[0] + a[0] + o[0]);
  EXPECT_EQ(values<int>(nc, "a_block_size", 1), std::vector<int>{32});
  EXPECT_EQ(values<int>(nc, "a_scale_bits", 1), std::vector<int>{8});
  EXPECT_EQ(values<int>(nc, "b_block_size", 1), std::vector<int>{1});
  EXPECT_EQ(values<int>(nc, "b_scale_bits", 1), std::vector<int>{0});
  nc_close(nc);
}

TEST(Hardware, CampaignEndToEndAtCiSize) {
  const std::string dir = peppp::test::scratch_dir() + "/run";
  const auto r = run_command(peppp::test::mpi_launch(2) + exe() + " run --config " +
                             peppp::test::source_path("inputs/hardware.ini") + " --campaign.tasks " +
                             peppp::test::source_path("inputs/tasks/fashion-ci.ini") +
                             " --train.epochs 1 --sampling.scheme full --figures false --output-dir " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 tasks x 28 configurations, 112 cells measured (100%)"), std::string::npos) << r.output;
  int nc = 0;
  ASSERT_EQ(nc_open((dir + "/campaign.nc").c_str(), NC_NOWRITE, &nc), NC_NOERR);
  const auto config = strings(nc, "config");
  ASSERT_EQ(config.size(), 28u);
  EXPECT_EQ(config.front(), "mxfp4/bf16");
  EXPECT_EQ(config[3], "mxfp4/e8m23");
  EXPECT_EQ(config.back(), "bf16/e8m23");
  const auto ab = values<int>(nc, "a_block_size", 28), as = values<int>(nc, "a_scale_bits", 28),
             bb = values<int>(nc, "b_block_size", 28), ae = values<int>(nc, "a_exponent_bits", 28),
             am = values<int>(nc, "a_mantissa_bits", 28);
  ASSERT_EQ(ab.size(), 28u);
  for (std::size_t j = 0; j < 28; ++j) {
    const auto k = peppp::Configuration::parse(config[j]);
    EXPECT_EQ(ab[j], k.a.block_size()) << config[j];
    EXPECT_EQ(as[j], k.a.scale_bits()) << config[j];
    EXPECT_EQ(bb[j], k.b.block_size()) << config[j];
    EXPECT_EQ(ae[j], k.a.exponent_bits()) << config[j];
    EXPECT_EQ(am[j], k.a.mantissa_bits()) << config[j];
  }
  EXPECT_EQ(ab[0], 32);
  EXPECT_EQ(ab[20], 1);  // ocp-e4m3
  // Memory: affine in the bits per element; mxfp4/bf16 (4.25, 16) below ocp-e4m3/bf16 (8, 16) below bf16/bf16.
  const auto mem = values<double>(nc, "memory", 112);
  EXPECT_LT(mem[0], mem[20]);
  EXPECT_LT(mem[20], mem[24]);
  // Learning is real in the MX cells too.
  const auto err = values<double>(nc, "error", 112);
  double best_mx = 1;
  for (std::size_t i = 0; i < 112; ++i)
    if (i % 28 < 20 && std::isfinite(err[i])) best_mx = std::min(best_mx, err[i]);
  EXPECT_LT(best_mx, 0.2);
  nc_close(nc);
  for (const char* f : {"completed.nc", "loocv.nc"}) EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  const auto info = run_command(exe() + " info " + dir + "/campaign.nc");
  EXPECT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("mxfp6-e2m3"), std::string::npos) << info.output;
}
