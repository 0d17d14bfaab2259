// stage::quantize at one rank: the output file is quantize_rows of the
// input bit for bit, the counts are summarize's, and bad inputs are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/quant/kernel.hpp"
#include "peppp/stage/quantize.hpp"
#include "test_util.hpp"

using namespace peppp;

namespace {

void write_floats(const std::string& path, const std::vector<float>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(4 * v.size()));
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<float> v(b.size() / 4);
  if (!v.empty()) std::memcpy(v.data(), b.data(), b.size());
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), 4 * a.size()) == 0);
}

}  // namespace

TEST(QuantizeStage, OutputIsTheKernelsAndCountsAreSummarized) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::vector<float> in = {1.0f, 0.3f, 1e6f, -1e6f, 1e-12f, std::numeric_limits<float>::quiet_NaN(),
                                 -0.7f, 2.5f};
  write_floats(dir + "/in.f32", in);
  stage::QuantizeJob job;
  job.format = FloatFormat::parse("e4m3");
  job.rounding = Rounding::nearest;
  job.input = dir + "/in.f32";
  job.output = dir + "/out.f32";
  job.row_length = 4;
  job.threads = 1;
  const stage::QuantizeResult r = stage::quantize(job, MPI_COMM_SELF);

  std::vector<float> want(in.size());
  quant::quantize_rows(in.data(), want.data(), in.size(), 4, job.format, job.rounding, 0, 0, 1);
  EXPECT_TRUE(same_bits(read_floats(job.output), want));
  const quant::QuantizeSummary s = quant::summarize(in.data(), want.data(), in.size(), 4, job.format);
  EXPECT_EQ(r.summary.elements, in.size());
  EXPECT_EQ(r.summary.saturated, s.saturated);
  EXPECT_EQ(r.summary.flushed_to_zero, s.flushed_to_zero);
  EXPECT_EQ(r.summary.nan, 1u);
  EXPECT_GE(r.summary.saturated, 2u);        // ±1e6 is beyond e4m3's largest value
  EXPECT_GE(r.summary.flushed_to_zero, 1u);  // 1e-12 is below its smallest
  EXPECT_EQ(r.format.label(), job.format.label());
  EXPECT_EQ(r.rounding, job.format.effective_rounding(job.rounding));

  // The output may be the input: rounded in place, the same values.
  job.output = job.input;
  stage::quantize(job, MPI_COMM_SELF);
  EXPECT_TRUE(same_bits(read_floats(job.input), want));
}

TEST(QuantizeStage, RefusesWhatIsNotWholeValuesOrRows) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  write_floats(dir + "/five.f32", {1, 2, 3, 4, 5});
  stage::QuantizeJob job;
  job.format = FloatFormat::parse("e5m2");
  job.input = dir + "/five.f32";
  job.output = dir + "/out.f32";
  job.row_length = 2;
  try {
    stage::quantize(job, MPI_COMM_SELF);
    FAIL() << "not refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--row-length 2: " + job.input + " holds 5 values"), std::string::npos)
        << e.what();
  }
  { std::ofstream(dir + "/odd.f32", std::ios::binary) << "abcde"; }
  job.input = dir + "/odd.f32";
  job.row_length = 0;
  EXPECT_THROW(stage::quantize(job, MPI_COMM_SELF), InputError);
  job.input = dir + "/missing.f32";
  EXPECT_THROW(stage::quantize(job, MPI_COMM_SELF), InputError);
  job.input = dir + "/five.f32";
  job.output = dir + "/no-such-folder/out.f32";
  EXPECT_THROW(stage::quantize(job, MPI_COMM_SELF), InputError);
  EXPECT_FALSE(std::ifstream(dir + "/out.f32").good());  // nothing written by a refused job
}
