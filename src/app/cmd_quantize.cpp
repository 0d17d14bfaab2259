// peppp quantize: round a raw little-endian float32 file onto a format (any
// label, eEmM or named; QUANT.md) and print what rounding did, one line.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/quant/kernel.hpp"

namespace peppp::app {

namespace {

struct QuantizeArgs {
  std::string format, rounding = "nearest", input, output;
  std::uint64_t seed = 0;
  long long row_length = 0;
};

OptionSet declare(QuantizeArgs& a) {
  OptionSet s;
  s.command = "quantize";
  s.summary = "round a raw float32 file onto a format and count saturated, flushed and NaN values";
  s.usage =
      "peppp quantize --format LABEL [--rounding nearest|nearest_even|stochastic] [--seed S]\n"
      "               --input in.f32 --output out.f32 [--row-length N]";
  s.takes_config = false;
  s.add("format", Kind::text, "", "", "mxfp8-e4m3",
        "Format to round onto: eEmM (e.g. e4m3; or 1-4-3) or a named one: ocp-e4m3, ocp-e5m2, fp16, bf16, "
        "mxfp8-e4m3, mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4, nvfp4 (semantics: docs/formats.md).")
      .command_line_only().mandatory().to(a.format);
  s.add("rounding", Kind::choice, "nearest", "", "stochastic",
        "nearest = the format's own nearest rule (eEmM: ties away from zero; named formats: ties to even), "
        "nearest_even, or stochastic (seeded, counter-based: element i uses stream position i).")
      .command_line_only().one_of({"nearest", "nearest_even", "stochastic"}).to(a.rounding);
  s.add("seed", Kind::integer, "0", "", "7", "Seed of stochastic rounding.")
      .command_line_only().at_least(0).to(a.seed);
  s.add("input", Kind::text, "", "path", "in.f32",
        "Raw little-endian float32 values (a multiple of 4 bytes), row-major.")
      .command_line_only().mandatory().to(a.input);
  s.add("output", Kind::text, "", "path", "out.f32",
        "Where the rounded values go (same layout; written atomically, may be the input).")
      .command_line_only().mandatory().to(a.output);
  s.add("row-length", Kind::integer, "0", "elements", "1024",
        "Elements per row (the last dimension); block formats cut each row into blocks (mx*: 32, nvfp4: 16) "
        "that never straddle rows. 0 = the whole file is one row. Must divide the element count.")
      .command_line_only().at_least(0).to(a.row_length);
  return s;
}

std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("--input " + path + ": cannot open the file (allowed: a readable raw float32 file)");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw RuntimeError("--input " + path + ": read error");
  if (bytes.size() % 4 != 0)
    throw InputError("--input " + path + ": " + std::to_string(bytes.size()) +
                     " bytes is not a whole number of float32 values (allowed: a multiple of 4 bytes)");
  std::vector<float> v(bytes.size() / 4);
  // Little-endian on disk; this code targets little-endian hosts (x86-64, aarch64).
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

}  // namespace

OptionSet quantize_options() {
  static QuantizeArgs unused;
  return declare(unused);
}

int run_quantize(const Options& o, MPI_Comm comm) {
  QuantizeArgs a;
  apply(declare(a), o);
  FloatFormat format;
  try {
    format = FloatFormat::parse(a.format);
  } catch (const InputError& e) {
    throw InputError(std::string("--format: ") + e.what());
  }
  const Rounding rounding = parse_rounding(a.rounding);
  if (par::rank(comm) != 0) return 0;  // one rank does the work; the others have nothing to do

  const std::vector<float> in = read_floats(a.input);
  const std::size_t n = in.size();
  const std::size_t row = static_cast<std::size_t>(a.row_length);
  if (row > 0 && n % row != 0)
    throw InputError("--row-length " + std::to_string(row) + ": " + a.input + " holds " + std::to_string(n) +
                     " values, not a whole number of rows (allowed: a divisor of the element count, or 0 = one row)");
  io::AtomicPath out_path(a.output);  // checks the folder before any work
  std::vector<float> out(n);
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  quant::quantize_rows(in.data(), out.data(), n, row == 0 ? n : row, format, rounding, a.seed, 0, threads);
  const quant::QuantizeSummary sum = quant::summarize(in.data(), out.data(), n, row == 0 ? n : row, format);

  {
    std::ofstream f(out_path.temp(), std::ios::binary | std::ios::trunc);
    if (!n || f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(4 * n))) f.flush();
    if (!f) throw RuntimeError("--output " + a.output + ": write error on " + out_path.temp());
  }
  out_path.commit();
  std::printf("quantize: format=%s rounding=%s elements=%zu saturated=%zu flushed_to_zero=%zu nan=%zu\n",
              format.label().c_str(), label(format.effective_rounding(rounding)).c_str(), sum.elements,
              sum.saturated, sum.flushed_to_zero, sum.nan);
  std::fflush(stdout);
  return 0;
}

}  // namespace peppp::app
