#pragma once
/// @file kernel.hpp
/// @brief The fused CPU quantization kernel on raw float32 buffers, usable
/// without torch (benchmarks, tests, other kernels). Semantics: QUANT.md.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

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

/// One value through `quantize_buffer` as element `counter` of the stream
/// keyed by `seed` (for scalars: hyper-parameters, tests, tools).
float quantize_value(float x, FloatFormat format, Rounding rounding = Rounding::nearest, std::uint64_t seed = 0,
                     std::uint64_t counter = 0);

/// @name Instruction-set variants of the fused kernel
/// The kernel's loop is compiled for several instruction sets and the best
/// one this CPU runs is chosen at the first call: `baseline` (the build's
/// flags: x86-64 baseline by default, this machine's with PEPPP_NATIVE) and,
/// on x86-64 portable builds, `avx2` (x86-64-v3: AVX2, FMA, BMI2) and
/// `avx512` (x86-64-v4: AVX-512 F/BW/CD/DQ/VL). All variants give
/// bit-identical results (integer arithmetic and exact float operations).
/// The environment variable `PEPPP_QUANT_ISA=baseline|avx2|avx512`, read
/// once at that first call, forces a variant; an unknown name, or one this
/// CPU cannot run, is an InputError naming what this build and CPU offer.
/// The choice is logged at debug level (`--verbose`).
/// @{

/// Name of the variant `quantize_buffer` uses now (chooses it if not yet chosen).
const char* kernel_isa();

/// The variants of this build that this CPU runs, baseline first, best last.
std::vector<std::string> kernel_isas();

/// Use variant `name` (one of kernel_isas()) from now on, for every thread
/// (tests, benchmarks); throws InputError otherwise. Calls of quantize_buffer
/// already running finish with the variant they started with.
void set_kernel_isa(const std::string& name);

/// @}

}  // namespace peppp::quant
