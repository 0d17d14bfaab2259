// The fused CPU kernel: one pass over the float32 bits, every element through
// the same branch-free sequence (normal path, exact integer subnormal path,
// saturation, NaN, sign), so that the loop auto-vectorizes.
#include "peppp/quant/kernel.hpp"

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "peppp/core/strings.hpp"

namespace peppp::quant {

namespace {

constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ULL;
constexpr std::uint32_t kInfBits = 0x7f800000u;

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
  std::uint64_t key;       // stream key of the stochastic generator
};

Params make_params(FloatFormat f, std::uint64_t seed) {
  Params p{};
  const int m = f.mantissa_bits();
  const int e = f.exponent_bits();
  p.drop = static_cast<std::uint32_t>(23 - m);
  p.keep = ~((1u << p.drop) - 1u);
  p.half = p.drop > 0 ? 1u << (p.drop - 1) : 0u;
  p.halfm1 = p.drop > 0 ? p.half - 1u : 0u;
  p.odd_mask = p.drop > 0 ? 1u : 0u;
  const int emin_b = f.emin() + 127;
  if (e < 8) {
    p.sat = (static_cast<std::uint32_t>(f.emax() + 127) << 23) | (0x7fffffu & p.keep);
    p.minnorm = static_cast<std::uint32_t>(emin_b) << 23;
  } else {
    p.sat = kInfBits;
    p.minnorm = 0;
  }
  p.sub_base = 23 - m + emin_b;
  const std::uint32_t pbits = e < 8 ? static_cast<std::uint32_t>(emin_b - m) << 23 : 0x00800000u;
  std::memcpy(&p.p, &pbits, 4);
  p.key = mix64(seed);
  return p;
}

// Value min/max (no references) so that if-conversion sees plain selects.
inline std::uint32_t umin(std::uint32_t x, std::uint32_t y) { return x < y ? x : y; }
inline std::uint32_t umax(std::uint32_t x, std::uint32_t y) { return x > y ? x : y; }
inline std::int32_t imin(std::int32_t x, std::int32_t y) { return x < y ? x : y; }
inline std::int32_t imax(std::int32_t x, std::int32_t y) { return x > y ? x : y; }

inline std::uint32_t splitmix_hi(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<std::uint32_t>(z >> 32);
}

template <Rounding R>
void kernel(const float* __restrict in, float* __restrict out, std::size_t n, const Params& prm,
            std::uint64_t counter0) {
  const std::uint32_t keep = prm.keep, half = prm.half, halfm1 = prm.halfm1, odd_mask = prm.odd_mask;
  const std::uint32_t drop = prm.drop, sat = prm.sat, minnorm = prm.minnorm;
  const std::int32_t sub_base = prm.sub_base;
  const float p = prm.p;
  const std::uint32_t rshift = 31u - drop;
  const std::uint64_t z0 = prm.key + counter0 * kGamma;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t b;
    std::memcpy(&b, in + i, 4);
    const std::uint32_t sign = b & 0x80000000u;
    const std::uint32_t a = b ^ sign;
    std::uint32_t rnd = 0;
    if constexpr (R == Rounding::stochastic) rnd = splitmix_hi(z0 + static_cast<std::uint64_t>(i) * kGamma);

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

    // Subnormal range of the format: round the 24-bit significand to a
    // multiple of 2^sh exactly in integers, then k * P (exact: power of two).
    const std::uint32_t ebe = umax(a >> 23, 1u);
    const std::uint32_t sig = a - ((ebe - 1u) << 23);
    std::int32_t sh = sub_base - static_cast<std::int32_t>(ebe);
    std::uint32_t k;
    if constexpr (R == Rounding::nearest) {
      sh = imin(imax(sh, 1), 25);
      k = (sig + (1u << (sh - 1))) >> sh;
    } else if constexpr (R == Rounding::nearest_even) {
      sh = imin(imax(sh, 1), 25);
      k = (sig + (1u << (sh - 1)) - 1u + ((sig >> sh) & 1u)) >> sh;
    } else {
      sh = imin(imax(sh, 1), 64);
      const std::uint32_t lo = sig >> imin(sh, 31);
      const std::uint32_t frac =
          sh <= 32 ? sig << imax(32 - sh, 0) : sig >> imin(imax(sh - 32, 0), 31);
      k = lo + (rnd < frac ? 1u : 0u);
    }
    const float qsf = static_cast<float>(static_cast<std::int32_t>(k)) * p;
    std::uint32_t qs;
    std::memcpy(&qs, &qsf, 4);

    std::uint32_t q = a < minnorm ? qs : qn;
    q = a > kInfBits ? a : q;  // NaN stays NaN (payload kept)
    q |= sign;
    std::memcpy(out + i, &q, 4);
  }
}

void run_serial(const float* in, float* out, std::size_t n, const Params& prm, Rounding r, std::uint64_t counter0) {
  switch (r) {
    case Rounding::nearest: kernel<Rounding::nearest>(in, out, n, prm, counter0); break;
    case Rounding::nearest_even: kernel<Rounding::nearest_even>(in, out, n, prm, counter0); break;
    case Rounding::stochastic: kernel<Rounding::stochastic>(in, out, n, prm, counter0); break;
  }
}

// Below this many elements per thread, starting a thread costs more than it saves.
constexpr std::size_t kMinPerThread = std::size_t{1} << 16;

}  // namespace

void quantize_buffer(const float* in, float* out, std::size_t n, FloatFormat format, Rounding rounding,
                     std::uint64_t seed, std::uint64_t offset, int threads) {
  if (n == 0) return;
  const Params prm = make_params(format, seed);
  std::size_t t = threads > 1 ? static_cast<std::size_t>(threads) : 1;
  t = std::min(t, std::max<std::size_t>(1, n / kMinPerThread));
  if (t == 1) {
    run_serial(in, out, n, prm, rounding, offset);
    return;
  }
  // Chunks on 64-element (cache line) boundaries; element i keeps counter offset + i.
  const std::size_t chunk = ((n + t - 1) / t + 63) / 64 * 64;
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  for (std::size_t j = 1; j < t; ++j) {
    const std::size_t begin = j * chunk;
    if (begin >= n) break;
    const std::size_t len = std::min(chunk, n - begin);
    pool.emplace_back([=, &prm] { run_serial(in + begin, out + begin, len, prm, rounding, offset + begin); });
  }
  run_serial(in, out, std::min(chunk, n), prm, rounding, offset);
  for (auto& th : pool) th.join();
}

std::uint32_t random_bits(std::uint64_t seed, std::uint64_t counter) {
  return splitmix_hi(mix64(seed) + counter * kGamma);
}

float quantize_value(float x, FloatFormat format, Rounding rounding, std::uint64_t seed, std::uint64_t counter) {
  float y;
  quantize_buffer(&x, &y, 1, format, rounding, seed, counter, 1);
  return y;
}

}  // namespace peppp::quant
