// peppp quantize: round a raw little-endian float32 file onto a format (any
// label, eEmM or named; QUANT.md) and print what rounding did, one line.
#include <cstdint>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/stage/quantize.hpp"
#include "report.hpp"

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

}  // namespace

OptionSet quantize_options() {
  static QuantizeArgs unused;
  return declare(unused);
}

int run_quantize(const Options& o, MPI_Comm comm) {
  QuantizeArgs a;
  apply(declare(a), o);
  stage::QuantizeJob job;
  try {
    job.format = FloatFormat::parse(a.format);
  } catch (const InputError& e) {
    throw InputError(std::string("--format: ") + e.what());
  }
  job.rounding = parse_rounding(a.rounding);
  job.seed = a.seed;
  job.input = a.input;
  job.output = a.output;
  job.row_length = static_cast<std::size_t>(a.row_length);
  const stage::QuantizeResult r = stage::quantize(job, comm);
  if (par::rank(comm) == 0) report::quantize_summary(r);
  return 0;
}

}  // namespace peppp::app
