// The quantize stage: a raw float32 file rounded onto a format -> a raw float32 file and the counts.
#include "peppp/stage/quantize.hpp"

#include <algorithm>
#include <thread>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/io/raw_floats.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::stage {

QuantizeResult quantize(const QuantizeJob& job, MPI_Comm comm) {
  QuantizeResult result;
  if (par::rank(comm) != 0) return result;  // one rank does the work; the others have nothing to do

  const std::vector<float> in = io::read_raw_floats(job.input, "--input");
  const std::size_t n = in.size();
  const std::size_t row = job.row_length;
  if (row > 0 && n % row != 0)
    throw InputError("--row-length " + std::to_string(row) + ": " + job.input + " holds " + std::to_string(n) +
                     " values, not a whole number of rows (allowed: a divisor of the element count, or 0 = one row)");
  io::AtomicPath out_path(job.output);  // checks the folder before any work
  std::vector<float> out(n);
  const int threads = job.threads > 0 ? job.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  quant::quantize_rows(in.data(), out.data(), n, row == 0 ? n : row, job.format, job.rounding, job.seed, 0, threads);
  result.summary = quant::summarize(in.data(), out.data(), n, row == 0 ? n : row, job.format);
  io::write_raw_floats(out_path, out.data(), n, "--output");
  result.format = job.format;
  result.rounding = job.format.effective_rounding(job.rounding);
  return result;
}

}  // namespace peppp::stage
