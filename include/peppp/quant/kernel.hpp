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
///
/// Standard formats (QUANT.md "Standard formats"): `nearest` is their own
/// rule, ties to even (FloatFormat::effective_rounding). A block format
/// (MX, nvfp4) treats the buffer as ONE row: `quantize_rows` with
/// row_length = n.
void quantize_buffer(const float* in, float* out, std::size_t n, FloatFormat format,
                     Rounding rounding = Rounding::nearest, std::uint64_t seed = 0, std::uint64_t offset = 0,
                     int threads = 1);

/// `quantize_buffer` on a tensor viewed as rows of `row_length` contiguous
/// elements (the last dimension; 0 = one row of n). For the block formats
/// (QUANT.md "Standard formats", block rules 1-4 and nvfp4) each row is cut
/// into blocks of FloatFormat::block_size() elements (the last block of a
/// row may be shorter; blocks never straddle rows): a block with a NaN or an
/// infinity becomes NaN (0x7fc00000); otherwise the MX block shares the
/// scale X = 2^s, s = floor(log2 amax) − emax_elem clamped to [−127, 127],
/// and each element becomes X · q(V_i / X) on the element grid (ties to even
/// saturating, or stochastic). nvfp4's per-tensor scale t is over all n
/// elements (their largest FINITE magnitude; the float32 nearest to
/// amax/2688, 1 when it is 0); its arithmetic is float64 as QUANT.md says.
/// Stochastic rounding: element i uses `random_bits(seed, offset + i)` on
/// the element grid after scaling (MX: as the elementwise kernel; nvfp4: up
/// with probability ⌈frac·2^32⌉/2^32). Elementwise formats ignore
/// `row_length`. The result does not depend on `threads`.
/// @throws InputError for a block format when n is not a multiple of row_length.
void quantize_rows(const float* in, float* out, std::size_t n, std::size_t row_length, FloatFormat format,
                   Rounding rounding = Rounding::nearest, std::uint64_t seed = 0, std::uint64_t offset = 0,
                   int threads = 1);

/// `quantize_rows` of relu(in) in one pass over the buffer (block formats:
/// two), with relu as torch's CPU relu on float32 bits: a negative value
/// (−inf included) becomes +0; +0, −0, positive values and NaN are kept.
/// Bit for bit `quantize_rows` of `torch::relu` of the buffer, same random
/// stream; `in == out` is allowed.
void quantize_relu_rows(const float* in, float* out, std::size_t n, std::size_t row_length, FloatFormat format,
                        Rounding rounding = Rounding::nearest, std::uint64_t seed = 0, std::uint64_t offset = 0,
                        int threads = 1);

/// `quantize_relu_rows` with the buffer as one row (as `quantize_buffer`).
void quantize_relu_buffer(const float* in, float* out, std::size_t n, FloatFormat format,
                          Rounding rounding = Rounding::nearest, std::uint64_t seed = 0, std::uint64_t offset = 0,
                          int threads = 1);

/// nvfp4's per-tensor scale t of [in, in + n) (QUANT.md "Standard formats"):
/// the float32 nearest to (largest finite |x|) / 2688, 1 when that is 0.
float nvfp4_tensor_scale(const float* in, std::size_t n);

/// What rounding did to a buffer (`peppp quantize`'s summary line).
struct QuantizeSummary {
  std::size_t elements = 0;
  /// Non-NaN inputs beyond the largest finite value of the grid they were
  /// rounded onto: the format's max (±inf included) for saturating
  /// elementwise formats; finite inputs that became ±inf for e8mM and bf16;
  /// |x| > X · element max for the block formats (X the block's scale).
  std::size_t saturated = 0;
  std::size_t flushed_to_zero = 0;  ///< finite non-zero inputs that became ±0
  std::size_t nan = 0;              ///< NaN outputs
};

/// Count, for `out` = `in` rounded onto `format` with rows of `row_length`
/// (as `quantize_rows`), the saturated, flushed and NaN elements.
QuantizeSummary summarize(const float* in, const float* out, std::size_t n, std::size_t row_length,
                          FloatFormat format);

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
