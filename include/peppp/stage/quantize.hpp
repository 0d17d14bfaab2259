#pragma once
/// @file quantize.hpp
/// @brief The quantize stage: a raw little-endian float32 file rounded onto a
/// format (QUANT.md), written atomically, with what the rounding did
/// (saturated, flushed, NaN counts). One rank works. Plain structs in and out.

#include <mpi.h>

#include <cstdint>
#include <string>

#include "peppp/core/format.hpp"
#include "peppp/quant/kernel.hpp"

namespace peppp::stage {

/// Everything `peppp quantize` does.
struct QuantizeJob {
  FloatFormat format;                     ///< the grid to round onto
  Rounding rounding = Rounding::nearest;  ///< as asked (the format may use its own nearest rule)
  std::uint64_t seed = 0;                 ///< stochastic rounding: element i uses stream position i
  std::string input;                      ///< raw float32 file, row-major
  std::string output;                     ///< where the rounded values go (same layout; may be the input)
  std::size_t row_length = 0;             ///< elements per row (block formats); 0 = the whole file is one row
  int threads = 0;                        ///< threads of the kernel; 0 = the cores of the machine
};

/// What the rounding did (on the root; default values on the other ranks).
struct QuantizeResult {
  FloatFormat format;                     ///< the format rounded onto
  Rounding rounding = Rounding::nearest;  ///< the rounding used (`FloatFormat::effective_rounding`)
  quant::QuantizeSummary summary;         ///< elements, saturated, flushed to zero, NaN
};

/// Round `job.input` onto `job.format` into `job.output` on rank 0 of
/// `comm`; the other ranks return at once. Not collective.
/// @throws InputError (rank 0) on an unreadable input, a size that is not
/// whole float32 values or rows, or an output folder that is not writable;
/// RuntimeError on a read or write error.
QuantizeResult quantize(const QuantizeJob& job, MPI_Comm comm);

}  // namespace peppp::stage
