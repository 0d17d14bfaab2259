#pragma once
// An independent reference for QUANT.md, written in exact long double
// arithmetic (frexp/ldexp/floor), not on bit patterns like the kernels.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "peppp/core/format.hpp"

namespace ref {

inline std::uint32_t bits(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}
inline float from_bits(std::uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

/// The grid spacing at |a| (QUANT.md step 1).
inline long double ulp_at(long double a, const peppp::FloatFormat& f) {
  int ex = 0;
  std::frexp(a, &ex);  // a = m 2^ex, m in [0.5, 1): floor(log2 a) = ex - 1
  const int e = a == 0 ? f.emin() : std::max(ex - 1, f.emin());
  return std::ldexp(1.0L, e - f.mantissa_bits());
}

/// Saturation / overflow of a non-negative grid value (QUANT.md step 3).
inline long double clip(long double r, const peppp::FloatFormat& f) {
  if (f.exponent_bits() < 8) return std::min(r, f.max_finite());
  if (r > static_cast<long double>(std::numeric_limits<float>::max())) return std::numeric_limits<long double>::infinity();
  return r;
}

/// Deterministic rounding (nearest: ties away; nearest_even: ties to even).
inline float round(float x, const peppp::FloatFormat& f, bool ties_even) {
  if (std::isnan(x)) return x;
  const long double inf = std::numeric_limits<long double>::infinity();
  if (std::isinf(x)) {
    const long double r = f.exponent_bits() < 8 ? f.max_finite() : inf;
    return static_cast<float>(std::copysign(r, static_cast<long double>(x)));
  }
  const long double a = std::fabs(static_cast<long double>(x));
  const long double u = ulp_at(a, f);
  const long double t = a / u;
  const long double fl = std::floor(t);
  const long double frac = t - fl;
  bool up = frac > 0.5L || (frac == 0.5L && (!ties_even || std::fmod(fl, 2.0L) == 1.0L));
  const long double r = clip((fl + (up ? 1 : 0)) * u, f);
  return static_cast<float>(std::copysign(r, static_cast<long double>(x)));
}

/// Stochastic rounding neighbours: lo (toward zero) and hi = lo + ulp, both
/// saturated, with the sign of x.
inline void neighbours(float x, const peppp::FloatFormat& f, float& lo, float& hi) {
  const long double a = std::fabs(static_cast<long double>(x));
  const long double u = ulp_at(a, f);
  const long double l = std::floor(a / u) * u;
  const long double h = l == a ? l : l + u;
  lo = static_cast<float>(std::copysign(clip(l, f), static_cast<long double>(x)));
  hi = static_cast<float>(std::copysign(clip(h, f), static_cast<long double>(x)));
}

/// Number of non-negative grid codes: 2^M subnormals + 2^M per binade.
inline std::uint64_t grid_size(const peppp::FloatFormat& f) {
  return (std::uint64_t{1} << f.mantissa_bits()) * static_cast<std::uint64_t>(f.emax() - f.emin() + 2);
}

/// The i-th non-negative grid value, ascending: subnormals i P, then
/// (2^M + j) 2^(e-M) for each binade e = emin..emax.
inline long double grid_value(const peppp::FloatFormat& f, std::uint64_t i) {
  const int m = f.mantissa_bits();
  const std::uint64_t per = std::uint64_t{1} << m;
  if (i < per) return std::ldexp(static_cast<long double>(i), f.emin() - m);
  const int e = f.emin() + static_cast<int>(i / per) - 1;
  return std::ldexp(static_cast<long double>(per + i % per), e - m);
}

/// Test inputs for a format: each representable value, each midpoint above
/// it, the float32 neighbours of both, both signs (only values float32
/// holds). Formats with more than `sample` codes: a random sample of codes
/// plus the bottom and top of the grid.
inline std::vector<float> edge_inputs(const peppp::FloatFormat& f, std::uint64_t sample = 1u << 16,
                                      unsigned seed = 1) {
  const std::uint64_t n = grid_size(f);
  std::vector<std::uint64_t> codes;
  if (n <= sample) {
    for (std::uint64_t i = 0; i < n; ++i) codes.push_back(i);
  } else {
    std::mt19937_64 rng(seed);
    const std::uint64_t per = std::uint64_t{1} << f.mantissa_bits();
    for (std::uint64_t i = 0; i < 64; ++i) codes.push_back(i);                  // bottom subnormals
    for (std::uint64_t i = per - 64; i < per + 64; ++i) codes.push_back(i);     // subnormal/normal border
    for (std::uint64_t i = 0; i < sample; ++i) codes.push_back(rng() % n);
  }
  std::vector<float> in;
  auto push = [&](long double v) {
    if (v > std::numeric_limits<float>::max()) return;
    const float x = static_cast<float>(v);
    if (static_cast<long double>(x) != v) return;  // not a float32
    for (float y : {x, std::nextafter(x, 0.0f), std::nextafter(x, std::numeric_limits<float>::infinity())}) {
      in.push_back(y);
      in.push_back(-y);
    }
  };
  // For sampled formats also the top of the grid (saturation, overflow).
  if (n > sample)
    for (std::uint64_t i = n - 64; i < n; ++i) codes.push_back(i);
  for (std::uint64_t c : codes) {
    const long double v = grid_value(f, c);
    push(v);
    push(v + ulp_at(v, f) / 2);  // the midpoint above v (above max: the saturation tie)
  }
  return in;
}

}  // namespace ref
