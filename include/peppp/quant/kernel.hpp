#pragma once
/// @file kernel.hpp
/// @brief The fused CPU quantization kernel on raw float32 buffers, usable
/// without torch (benchmarks, tests, other kernels). Semantics: QUANT.md.

#include <cstddef>
#include <cstdint>

#include "peppp/core/format.hpp"

namespace peppp::quant {

/// Round `n` float32 values from `in` onto `format` with `rounding` and write
/// them to `out` (`out == in` is allowed: in place; other overlaps are not).
/// Bit-exact per QUANT.md: nearest = ties away from zero, NaN kept (payload
/// and sign), ±inf and values beyond max saturate to ±max for E < 8, the sign
/// of zero is kept; an exact integer path for the format's subnormal range.
///
/// Stochastic rounding: element i (0-based within this buffer) uses the
/// 32 random bits `random_bits(seed, offset + i)`; in the normal range the
/// top 23-M of them decide (probability of rounding up = the fraction,
/// exactly); in the format's subnormal range all 32 are used (exact while
/// the fraction has at most 32 bits, i.e. |x| >= 2^-8 of the smallest
/// subnormal). The result does not depend on `threads`.
///
/// @param threads number of threads to split the buffer over (std::thread);
///        <= 1 runs on the calling thread. Small buffers use fewer threads.
/// Not collective; thread-safe for disjoint outputs.
void quantize_buffer(const float* in, float* out, std::size_t n, FloatFormat format,
                     Rounding rounding = Rounding::nearest, std::uint64_t seed = 0, std::uint64_t offset = 0,
                     int threads = 1);

/// The counter-based generator behind stochastic rounding: 32 random bits
/// for element `counter` of the stream keyed by `seed` (the high half of
/// SplitMix64 at state mix64(seed) + counter·0x9e3779b97f4a7c15).
std::uint32_t random_bits(std::uint64_t seed, std::uint64_t counter);

/// Scalar reference of the kernel's rule for one value (same bits as
/// `quantize_buffer` for element `counter`); slow, for tests and tools.
float quantize_value(float x, FloatFormat format, Rounding rounding = Rounding::nearest, std::uint64_t seed = 0,
                     std::uint64_t counter = 0);

}  // namespace peppp::quant
