// Internal to the quant layer: the fused loop of the CPU kernel, compiled
// once per instruction set (kernel_baseline.cpp, kernel_avx2.cpp,
// kernel_avx512.cpp) and chosen at run time by kernel.cpp.
//
// Everything with code is in an anonymous namespace: each variant's
// translation unit gets its own copy, compiled with its own -march, and the
// linker can never swap an AVX-512 copy into the baseline (ODR). Include
// nothing here that the variants would instantiate out of line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "peppp/core/format.hpp"

namespace peppp::quant::detail {

inline constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ULL;
inline constexpr std::uint32_t kInfBits = 0x7f800000u;

// Per-call constants (hoisted out of the loop).
struct Params {
  std::uint32_t keep;      // clears the 23-M dropped mantissa bits
  std::uint32_t half;      // nearest: 2^(22-M) (0 for M = 23)
  std::uint32_t halfm1;    // nearest_even: half - 1 (0 for M = 23)
  std::uint32_t odd_mask;  // nearest_even: 1 if bits are dropped
  std::uint32_t drop;      // 23 - M
  std::uint32_t sat;       // bits of max (E < 8) or of inf (E = 8)
  std::uint32_t minnorm;   // bits of 2^emin (E < 8); 0 for E = 8: float32's own subnormals are on the grid
  std::int32_t sub_base;   // 23 - M + biased emin: shift of the significand in the subnormal range
  float p;                 // 2^(emin - M), the subnormal spacing
  float p_half;            // P / 2 (E < 8)
  float sub_magic;         // 2^23 · P (E < 8): a + sub_magic rounds a to a multiple of P
  std::uint64_t key;       // stream key of the stochastic generator
  // MX block formats (QUANT.md "Standard formats", block rules 1-4): the
  // element grid is the fields above; these give the block structure.
  std::size_t row_length;  // elements per row (blocks never straddle rows)
  std::size_t block;       // k, elements per block (32)
  std::int32_t emax_elem;  // exponent of the element format's largest normal
  // Elementwise kernel only: round relu(x) instead of x (relu_bits below),
  // one pass for an activation quantized after a ReLU.
  bool relu;
};

// One variant of the kernel: the loop over [in, in + n) for one rounding.
using KernelFn = void (*)(const float* in, float* out, std::size_t n, const Params& prm, Rounding r,
                          std::uint64_t counter0);
// One variant of the MX block kernel: [in, in + n) starts at column `col0`
// of its row, a block boundary, and ends at one.
using BlockFn = void (*)(const float* in, float* out, std::size_t n, const Params& prm, Rounding r,
                         std::uint64_t counter0, std::size_t col0);

void run_baseline(const float* in, float* out, std::size_t n, const Params& prm, Rounding r, std::uint64_t counter0);
void run_avx2(const float* in, float* out, std::size_t n, const Params& prm, Rounding r, std::uint64_t counter0);
void run_avx512(const float* in, float* out, std::size_t n, const Params& prm, Rounding r, std::uint64_t counter0);
void run_blocks_baseline(const float* in, float* out, std::size_t n, const Params& prm, Rounding r,
                         std::uint64_t counter0, std::size_t col0);
void run_blocks_avx2(const float* in, float* out, std::size_t n, const Params& prm, Rounding r,
                     std::uint64_t counter0, std::size_t col0);
void run_blocks_avx512(const float* in, float* out, std::size_t n, const Params& prm, Rounding r,
                       std::uint64_t counter0, std::size_t col0);

namespace {

// The MX shared scale exponent of a block whose largest magnitude has the
// float32 bits `amax_bits` (finite): s = floor(log2 amax) - emax_elem clamped
// to [-127, 127] (QUANT.md block rule 3; amax = 0 or a float32 subnormal
// gives -127; floor(log2 amax) <= 127 and emax_elem >= 2 keep s <= 125).
inline std::int32_t mx_scale_exponent(std::uint32_t amax_bits, std::int32_t emax_elem) {
  const std::int32_t s = static_cast<std::int32_t>(amax_bits >> 23) - 127 - emax_elem;
  return s < -127 ? -127 : s;
}

// 2^s as a float32 for s in [-127, 127] (2^-127 is a float32 subnormal).
inline float pow2f(std::int32_t s) {
  const std::uint32_t b = s >= -126 ? static_cast<std::uint32_t>(s + 127) << 23 : 0x00400000u;
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

// The canonical quiet NaN a block with a NaN or an infinity becomes (rule 1).
inline constexpr std::uint32_t kBlockNaN = 0x7fc00000u;


// Value min/max (no references) so that if-conversion sees plain selects.
inline std::uint32_t umin(std::uint32_t x, std::uint32_t y) { return x < y ? x : y; }
inline std::uint32_t umax(std::uint32_t x, std::uint32_t y) { return x > y ? x : y; }
inline std::int32_t imin(std::int32_t x, std::int32_t y) { return x < y ? x : y; }
inline std::int32_t imax(std::int32_t x, std::int32_t y) { return x > y ? x : y; }

// torch's relu on float32 bits (its CPU kernel: max(x, 0) keeping x when it
// compares equal to 0 or is NaN): a negative value, -inf included, becomes
// +0; -0, +0, positive values and NaN of either sign are kept. The
// patterns 0x80000001..0xff800000 are exactly the negative non-NaN nonzero
// values. (unit_nn_quantizer_relu checks this against torch::relu.)
inline std::uint32_t relu_bits(std::uint32_t b) { return b - 0x80000001u < 0x7f800000u ? 0u : b; }

inline std::uint32_t splitmix_hi(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<std::uint32_t>(z >> 32);
}

// `in == out` (in place) is allowed despite __restrict: element i is read
// once and written once, at the same index, after the read (tested).
// Scaled (MX block formats, QUANT.md block rule 4): element i is in[i]·inv[i]
// (inv[i] = 1/X of its block, exact: a power of two; a float32-subnormal quotient can only
// lose bits far below the element grid's half spacing, so it still rounds to
// ±0), rounded onto the element grid, and written times scale[i] = X (exact: grid
// values times a power of two within float32's range).
template <Rounding R, bool Scaled = false, bool Relu = false>
void kernel(const float* __restrict in, float* __restrict out, std::size_t n, const Params& prm,
            std::uint64_t counter0, const float* __restrict inv = nullptr,
            const float* __restrict scale = nullptr) {
  const std::uint32_t keep = prm.keep, half = prm.half, halfm1 = prm.halfm1, odd_mask = prm.odd_mask;
  const std::uint32_t drop = prm.drop, sat = prm.sat, minnorm = prm.minnorm;
  const std::int32_t sub_base = prm.sub_base;
  const float p = prm.p;
  const std::uint32_t rshift = 31u - drop;
  // The generator's state of element i, key + (counter0 + i)·gamma, as an
  // induction variable (an add per element instead of a 64-bit multiply;
  // the same bits mod 2^64).
  std::uint64_t z = prm.key + counter0 * kGamma;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t b;
    if constexpr (Scaled) {
      const float xs = in[i] * inv[i];
      std::memcpy(&b, &xs, 4);
    } else {
      std::memcpy(&b, in + i, 4);
    }
    if constexpr (Relu) b = relu_bits(b);
    const std::uint32_t sign = b & 0x80000000u;
    const std::uint32_t a = b ^ sign;
    std::uint32_t rnd = 0;
    if constexpr (R == Rounding::stochastic) {
      rnd = splitmix_hi(z);
      z += kGamma;
    }

    // Normal range: rounding on the bits, a carry moves into the exponent.
    std::uint32_t qn;
    if constexpr (R == Rounding::nearest) {
      qn = (a + half) & keep;
    } else if constexpr (R == Rounding::nearest_even) {
      qn = (a + halfm1 + ((a >> drop) & odd_mask)) & keep;
    } else {
      qn = (a + ((rnd >> 1) >> rshift)) & keep;
    }
    qn = umin(qn, sat);

    // Subnormal range of the format (a < 2^emin).
    std::uint32_t qs;
    if constexpr (R == Rounding::stochastic) {
      // Round the 24-bit significand to a multiple of 2^sh exactly in
      // integers, then k * P (exact: power of two).
      const std::uint32_t ebe = umax(a >> 23, 1u);
      const std::uint32_t sig = a - ((ebe - 1u) << 23);
      std::int32_t sh = sub_base - static_cast<std::int32_t>(ebe);
      sh = imin(imax(sh, 1), 64);
      const std::uint32_t lo = sig >> imin(sh, 31);
      const std::uint32_t frac =
          sh <= 32 ? sig << imax(32 - sh, 0) : sig >> imin(imax(sh - 32, 0), 31);
      const std::uint32_t k = lo + (rnd < frac ? 1u : 0u);
      const float qsf = static_cast<float>(static_cast<std::int32_t>(k)) * p;
      std::memcpy(&qs, &qsf, 4);
    } else {
      // One float rounding, exact: a + 2^23·P lies in [2^23·P, 2^24·P)
      // (a < 2^emin = 2^M·P, M <= 23), whose spacing is P, so the sum is a
      // rounded to a multiple of P, ties to even, and subtracting 2^23·P
      // again is exact (Sterbenz). nearest then moves the ties that went
      // down (d = a - r = P/2, exact: |d| <= P/2 on a's own spacing) up
      // by P: ties away from zero. Five float operations instead of the
      // integer path's fourteen; the results are multiples of P >= 2^-85
      // (normal), an input below float32's normal range rounds to 0 (it is
      // below P/2) even with denormals-are-zero. Needs IEEE round-to-nearest
      // and no reassociation (no -ffast-math on the kernel sources).
      float fa;
      std::memcpy(&fa, &a, 4);
      float r = (fa + prm.sub_magic) - prm.sub_magic;
      if constexpr (R == Rounding::nearest) r = (fa - r == prm.p_half) ? r + p : r;
      std::memcpy(&qs, &r, 4);
    }

    std::uint32_t q = a < minnorm ? qs : qn;
    q = a > kInfBits ? a : q;  // NaN stays NaN (payload kept)
    q |= sign;
    if constexpr (Scaled) {
      float qf;
      std::memcpy(&qf, &q, 4);
      out[i] = qf * scale[i];
    } else {
      std::memcpy(out + i, &q, 4);
    }
  }
}

// The normal-range path alone: exact for elements that are 0, ±inf or of
// magnitude >= the format's smallest normal (for E = 8 every non-NaN
// float32, its subnormals included: minnorm = 0), where the full kernel's
// result is its normal-range branch (0 rounds to 0 there as well).
// It works on the signed bits b directly, without taking the sign off and
// putting it back: for a non-NaN b = sign | a, b + (anything below 2^23)
// does not carry into the sign (a <= 0x7f800000), and keep holds the sign
// bit, so the rounding gives sign | round(a). Saturation on sign |
// magnitude: the unsigned min with sign-bit | sat clamps the negative
// patterns (>= 2^31) and leaves the positive ones, the signed min with sat
// then clamps the positive ones and leaves the negative ones (< 0 as int32).
// Four vector operations per element for nearest (five before, as compiled).
template <Rounding R, bool Relu = false>
void kernel_normal(const float* __restrict in, float* __restrict out, std::size_t n, const Params& prm,
                   std::uint64_t counter0) {
  const std::uint32_t keep = prm.keep, half = prm.half, halfm1 = prm.halfm1, odd_mask = prm.odd_mask;
  const std::uint32_t drop = prm.drop;
  const std::uint32_t sat_neg = prm.sat | 0x80000000u;
  const auto sat_pos = static_cast<std::int32_t>(prm.sat);
  const std::uint32_t rshift = 31u - drop;
  std::uint64_t z = prm.key + counter0 * kGamma;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t b;
    std::memcpy(&b, in + i, 4);
    if constexpr (Relu) b = relu_bits(b);
    std::uint32_t q;
    if constexpr (R == Rounding::nearest) {
      q = (b + half) & keep;
    } else if constexpr (R == Rounding::nearest_even) {
      q = (b + halfm1 + ((b >> drop) & odd_mask)) & keep;  // bit 0 of b >> drop: drop >= 1 when odd_mask is set
    } else {
      const std::uint32_t rnd = splitmix_hi(z);
      z += kGamma;
      q = (b + ((rnd >> 1) >> rshift)) & keep;
    }
    q = umin(q, sat_neg);
    q = static_cast<std::uint32_t>(imin(static_cast<std::int32_t>(q), sat_pos));
    std::memcpy(out + i, &q, 4);
  }
}

// The elementwise kernel in tiles of 512: a tile whose every element is 0,
// ±inf or normal for the format (no NaN, nothing in the format's subnormal
// range) takes kernel_normal, any other the full kernel. Same bits either
// way; typical tensors skip the subnormal path's work. The tile is read
// twice (the check, then the rounding, from L1); the compiler barrier
// between the two keeps GCC from carrying the check's 32 loaded vectors
// (bits and magnitudes) into the rounding loop, which spilled them to the
// stack: an extra store and load per vector, and the in-place form then
// fell below its read+write limit (BENCHMARKS.md, issue #18). 512 rather
// than 256: half the horizontal min/max reductions per element. Relu: the
// check is on the input itself (relu only turns elements into ±0, which
// the normal path rounds exactly).
template <Rounding R, bool Relu = false>
void kernel_tiled(const float* in, float* out, std::size_t n, const Params& prm, std::uint64_t counter0) {
  constexpr std::size_t kTile = 512;
  std::size_t i = 0;
  for (; i + kTile <= n; i += kTile) {
    // lo = min over the tile of |x| - 1 in wrapping arithmetic (0 gives
    // 0xffffffff: zeros never force the full path), hi = max |x|.
    std::uint32_t lo = 0xffffffffu, hi = 0;
    for (std::size_t j = 0; j < kTile; ++j) {
      std::uint32_t b;
      std::memcpy(&b, in + i + j, 4);
      const std::uint32_t a = b & 0x7fffffffu;
      lo = umin(lo, a - 1u);
      hi = umax(hi, a);
    }
    const bool normal = (prm.minnorm == 0 || lo >= prm.minnorm - 1u) && hi <= kInfBits;
#if defined(__GNUC__)
    __asm__ __volatile__("" ::: "memory");
#endif
    if (normal) kernel_normal<R, Relu>(in + i, out + i, kTile, prm, counter0 + i);
    else kernel<R, false, Relu>(in + i, out + i, kTile, prm, counter0 + i);
  }
  if (i < n) kernel<R, false, Relu>(in + i, out + i, n - i, prm, counter0 + i);
}

// The largest |x| of a block as float32 bits (NaN and inf give >= kInfBits).
template <std::size_t K>
inline std::uint32_t block_amax(const float* in, std::size_t len) {
  std::uint32_t amax = 0;
  const std::size_t m = K ? K : len;  // a compile-time trip count for full blocks
  for (std::size_t j = 0; j < m; ++j) {
    std::uint32_t b;
    std::memcpy(&b, in + j, 4);
    amax = umax(amax, b & 0x7fffffffu);
  }
  return amax;
}

// The MX block loop (QUANT.md block rules 1-4) over [in, in + n), which
// starts at column col0 (a block boundary) of a row of prm.row_length.
// Runs of up to kChunk full blocks of 32 go through one vectorized pass of
// the scaled kernel with each element's 1/X and X laid out beside it (pass
// 1: block maxima and scales, pass 2: the elements); a short last block of
// a row, and any other block size, one block at a time.
template <Rounding R>
void blocks(const float* in, float* out, std::size_t n, const Params& prm, std::uint64_t counter0,
            std::size_t col0) {
  constexpr std::size_t kK = 32, kChunk = 8;
  float inv[kChunk * kK], scale[kChunk * kK];
  bool poisoned[kChunk];
  const std::size_t L = prm.row_length, k = prm.block;
  std::size_t pos = 0, col = col0;
  while (pos < n) {
    const std::size_t left = (L - col < n - pos) ? L - col : n - pos;
    std::size_t nb = k == kK ? left / kK : 0;
    nb = nb < kChunk ? nb : kChunk;
    std::size_t len;
    if (nb > 0) {
      len = nb * kK;
      for (std::size_t b = 0; b < nb; ++b) {
        const std::uint32_t amax = block_amax<kK>(in + pos + b * kK, kK);
        poisoned[b] = amax >= kInfBits;
        const std::int32_t s = mx_scale_exponent(poisoned[b] ? 0u : amax, prm.emax_elem);
        const float iv = pow2f(-s), x = pow2f(s);
        for (std::size_t j = 0; j < kK; ++j) {
          inv[b * kK + j] = iv;
          scale[b * kK + j] = x;
        }
      }
      kernel<R, true>(in + pos, out + pos, len, prm, counter0 + pos, inv, scale);
      for (std::size_t b = 0; b < nb; ++b)  // rule 1: a NaN or an infinity poisons the block
        if (poisoned[b])
          for (std::size_t j = 0; j < kK; ++j) std::memcpy(out + pos + b * kK + j, &kBlockNaN, 4);
    } else {
      len = left < k ? left : k;
      const std::uint32_t amax = block_amax<0>(in + pos, len);
      if (amax >= kInfBits) {
        for (std::size_t j = 0; j < len; ++j) std::memcpy(out + pos + j, &kBlockNaN, 4);
      } else {  // rules 2-4 (amax = 0: zeros times anything stay signed zeros)
        const std::int32_t s = mx_scale_exponent(amax, prm.emax_elem);
        const float iv = pow2f(-s), x = pow2f(s);
        for (std::size_t j = 0; j < len; ++j) {
          inv[j] = iv;
          scale[j] = x;
        }
        kernel<R, true>(in + pos, out + pos, len, prm, counter0 + pos, inv, scale);
      }
    }
    pos += len;
    col += len;
    if (col == L) col = 0;
  }
}

inline void run_blocks_serial(const float* in, float* out, std::size_t n, const Params& prm, Rounding r,
                              std::uint64_t counter0, std::size_t col0) {
  switch (r) {
    case Rounding::nearest: blocks<Rounding::nearest>(in, out, n, prm, counter0, col0); break;
    case Rounding::nearest_even: blocks<Rounding::nearest_even>(in, out, n, prm, counter0, col0); break;
    case Rounding::stochastic: blocks<Rounding::stochastic>(in, out, n, prm, counter0, col0); break;
  }
}

inline void run_serial(const float* in, float* out, std::size_t n, const Params& prm, Rounding r,
                       std::uint64_t counter0) {
  if (prm.relu) {
    switch (r) {
      case Rounding::nearest: kernel_tiled<Rounding::nearest, true>(in, out, n, prm, counter0); break;
      case Rounding::nearest_even: kernel_tiled<Rounding::nearest_even, true>(in, out, n, prm, counter0); break;
      case Rounding::stochastic: kernel_tiled<Rounding::stochastic, true>(in, out, n, prm, counter0); break;
    }
    return;
  }
  switch (r) {
    case Rounding::nearest: kernel_tiled<Rounding::nearest>(in, out, n, prm, counter0); break;
    case Rounding::nearest_even: kernel_tiled<Rounding::nearest_even>(in, out, n, prm, counter0); break;
    case Rounding::stochastic: kernel_tiled<Rounding::stochastic>(in, out, n, prm, counter0); break;
  }
}

}  // namespace

}  // namespace peppp::quant::detail
