#pragma once
// An independent reference for QUANT.md "Standard formats", written from the
// tables of that section in exact long double arithmetic (frexp/ldexp/floor)
// and in float64 where QUANT.md says nvfp4 computes in float64; it shares no
// code or constant with the kernels (not even FloatFormat's limits).
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "peppp/core/format.hpp"
#include "reference.hpp"

namespace sref {

/// One named format, as the QUANT.md tables give it.
struct Spec {
  std::string label;
  int m;             // element mantissa bits
  int emin;          // element smallest normal exponent
  int emax;          // element largest normal exponent (emax_elem)
  long double max;   // element largest finite value
  bool saturate;     // false: bf16 (overflow gives inf)
  int block;         // 1: elementwise; 32 MX; 16 nvfp4
  bool nvfp4;
};

inline const std::vector<Spec>& specs() {
  static const std::vector<Spec> s = {
      {"ocp-e4m3", 3, -6, 8, 448.0L, true, 1, false},
      {"ocp-e5m2", 2, -14, 15, 57344.0L, true, 1, false},
      {"fp16", 10, -14, 15, 65504.0L, true, 1, false},
      {"bf16", 7, -126, 127, std::ldexp(2.0L - std::ldexp(1.0L, -7), 127), false, 1, false},
      {"mxfp8-e4m3", 3, -6, 8, 448.0L, true, 32, false},
      {"mxfp8-e5m2", 2, -14, 15, 57344.0L, true, 32, false},
      {"mxfp6-e3m2", 2, -2, 4, 28.0L, true, 32, false},
      {"mxfp6-e2m3", 3, 0, 2, 7.5L, true, 32, false},
      {"mxfp4", 1, 0, 2, 6.0L, true, 32, false},
      {"nvfp4", 1, 0, 2, 6.0L, true, 16, true},
  };
  return s;
}

inline const Spec& spec(const std::string& label) {
  for (const auto& s : specs())
    if (s.label == label) return s;
  throw std::invalid_argument(label);
}

/// a >= 0 rounded to nearest, ties to even, onto the grid (m, emin), then
/// saturated at max (or beyond max: inf when not saturating).
inline long double rne(long double a, int m, int emin, long double max, bool saturate) {
  if (a == 0) return 0;
  int ex = 0;
  std::frexp(a, &ex);
  const long double u = std::ldexp(1.0L, std::max(ex - 1, emin) - m);
  const long double t = a / u, fl = std::floor(t), frac = t - fl;
  const bool up = frac > 0.5L || (frac == 0.5L && std::fmod(fl, 2.0L) == 1.0L);
  const long double r = (fl + (up ? 1 : 0)) * u;
  if (r > max) return saturate ? max : std::numeric_limits<long double>::infinity();
  return r;
}

/// An elementwise named format (ocp-e4m3, ocp-e5m2, fp16, bf16), default rounding.
inline float elementwise(float x, const Spec& s) {
  if (std::isnan(x)) return x;
  const long double inf = std::numeric_limits<long double>::infinity();
  const long double a = std::fabs(static_cast<long double>(x));
  const long double r = std::isinf(x) ? (s.saturate ? s.max : inf) : rne(a, s.m, s.emin, s.max, s.saturate);
  return static_cast<float>(std::copysign(r, static_cast<long double>(x)));
}

/// nvfp4's tensor scale over the finite elements of v.
inline float nvfp4_t(const std::vector<float>& v) {
  long double amax = 0;
  for (float x : v)
    if (std::isfinite(x)) amax = std::max(amax, std::fabs(static_cast<long double>(x)));
  if (amax == 0) return 1.0f;
  return static_cast<float>(amax / 2688.0L);
}

/// Any named format on rows of `row` elements (block rules 1-4, nvfp4), default rounding.
inline std::vector<float> reference(const std::vector<float>& v, std::size_t row, const Spec& s) {
  std::vector<float> out(v.size());
  if (s.block == 1) {
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = elementwise(v[i], s);
    return out;
  }
  const float t = s.nvfp4 ? nvfp4_t(v) : 1.0f;
  for (std::size_t r0 = 0; r0 < v.size(); r0 += row) {
    for (std::size_t b0 = r0; b0 < r0 + row; b0 += static_cast<std::size_t>(s.block)) {
      const std::size_t b1 = std::min(b0 + static_cast<std::size_t>(s.block), r0 + row);
      bool special = false;
      long double amax = 0;
      for (std::size_t i = b0; i < b1; ++i) {
        special = special || !std::isfinite(v[i]);
        if (std::isfinite(v[i])) amax = std::max(amax, std::fabs(static_cast<long double>(v[i])));
      }
      for (std::size_t i = b0; i < b1; ++i) {
        const long double x = v[i];
        if (special) {
          out[i] = std::numeric_limits<float>::quiet_NaN();
        } else if (amax == 0) {
          out[i] = v[i];
        } else if (!s.nvfp4) {
          int ex = 0;
          std::frexp(amax, &ex);
          const int sc = std::min(127, std::max(-127, ex - 1 - s.emax));
          const long double X = std::ldexp(1.0L, sc);
          const long double q = rne(std::fabs(x) / X, s.m, s.emin, s.max, true);
          out[i] = static_cast<float>(std::copysign(X * q, x));
        } else {
          // float64 as QUANT.md says: x_b = rne_e4m3(amax / 6 / t), X_b = x_b t.
          const double xb =
              static_cast<double>(rne(static_cast<double>(amax) / 6.0 / static_cast<double>(t), 3, -6, 448.0L, true));
          const double Xb = xb * static_cast<double>(t);
          if (Xb == 0) {
            out[i] = std::copysign(0.0f, v[i]);
            continue;
          }
          const double q = static_cast<double>(rne(std::fabs(static_cast<double>(v[i])) / Xb, 1, 0, 6.0L, true));
          out[i] = static_cast<float>(std::copysign(Xb * q, static_cast<double>(v[i])));
        }
      }
    }
  }
  return out;
}

/// Element exponent bits of a named format (for the input generators).
inline int exponent_bits(const Spec& s) {
  if (s.label == "ocp-e4m3" || s.label == "mxfp8-e4m3") return 4;
  if (s.label == "ocp-e5m2" || s.label == "mxfp8-e5m2" || s.label == "fp16") return 5;
  if (s.label == "bf16") return 8;
  if (s.label == "mxfp6-e3m2") return 3;
  return 2;
}

/// Conformance inputs of an elementwise format: every value of the eEmM grid
/// of the same E and M (a superset of the format's), the midpoints above
/// them, their float32 neighbours, both signs; random float32 bit patterns
/// (every binade, subnormals, NaN, inf); zeros and infinities.
inline std::vector<float> elementwise_inputs(const Spec& s, std::size_t random, unsigned seed) {
  std::vector<float> in = ref::edge_inputs(peppp::FloatFormat(exponent_bits(s), s.m), 1u << 16, seed);
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i < random; ++i) in.push_back(ref::from_bits(rng()));
  for (std::uint32_t b : {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x7f7fffffu,
                          0xff7fffffu, 0x00000001u, 0x80000001u, 0x007fffffu})
    in.push_back(ref::from_bits(b));
  return in;
}

/// Conformance inputs of a block format: `rows` rows of `row` elements (row
/// not a multiple of the block: short last blocks). Each block is one of:
/// element-grid values, their midpoints (ties) and float32 neighbours times a
/// random power of two 2^-150..2^127 (every binade, scale clamping, float32
/// subnormals, element saturation above 448 etc.), mixed with zeros; all-zero
/// blocks of both signs; a NaN or an infinity among values; random float32
/// bit patterns; random finite magnitudes spanning many binades.
inline std::vector<float> block_inputs(const Spec& s, std::size_t rows, std::size_t row, unsigned seed) {
  std::mt19937_64 rng(seed);
  const peppp::FloatFormat grid(exponent_bits(s), s.m);
  const std::uint64_t codes = ref::grid_size(grid);
  std::vector<float> v(rows * row);
  auto uni = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  const std::size_t k = static_cast<std::size_t>(s.block);
  for (std::size_t r0 = 0; r0 < v.size(); r0 += row) {
    for (std::size_t b0 = r0; b0 < r0 + row; b0 += k) {
      const std::size_t b1 = std::min(b0 + k, r0 + row);
      const int kind = uni(10);
      const int p2 = uni(278) - 150;
      for (std::size_t i = b0; i < b1; ++i) {
        float x = 0;
        const std::uint64_t c = rng() % codes;
        long double g = ref::grid_value(grid, c);
        if (uni(3) == 0) g += ref::ulp_at(g, grid) / 2;  // a tie of the element grid
        const long double scaled = std::ldexp(g, p2);
        switch (kind) {
          case 0: case 1: case 2: case 3:
            x = scaled > std::numeric_limits<float>::max() ? std::numeric_limits<float>::max()
                                                           : static_cast<float>(scaled);
            if (uni(4) == 0) x = std::nextafter(x, uni(2) ? 0.0f : std::numeric_limits<float>::infinity());
            if (uni(8) == 0) x = 0;
            break;
          case 4: x = 0; break;
          case 5: x = ref::from_bits(static_cast<std::uint32_t>(rng())); break;
          case 6: x = std::ldexp(static_cast<float>(1 + uni(1 << 23)) / 8388608.0f, uni(60) - 30); break;
          case 7: x = std::ldexp(static_cast<float>(1 + uni(1 << 23)) / 8388608.0f, uni(30) - 149); break;
          default: x = static_cast<float>(ref::grid_value(grid, c)) * std::ldexp(1.0f, uni(20) - 10); break;
        }
        if (!std::isnan(x) && uni(2)) x = -x;
        v[i] = x;
      }
      if (kind == 8 && b1 > b0) v[b0 + static_cast<std::size_t>(uni(static_cast<int>(b1 - b0)))] =
                                    uni(3) == 0 ? std::numeric_limits<float>::quiet_NaN()
                                                : (uni(2) ? 1.0f : -1.0f) * std::numeric_limits<float>::infinity();
    }
  }
  return v;
}

/// What `peppp quantize` counts as saturated: non-NaN inputs beyond the
/// largest finite value of their grid (elementwise saturating formats: max,
/// ±inf included; bf16: finite inputs that overflow to inf; block formats:
/// beyond the block scale times the element max, in blocks without NaN/inf).
inline std::size_t saturated(const std::vector<float>& v, std::size_t row, const Spec& s) {
  std::size_t n = 0;
  if (s.block == 1) {
    const auto q = reference(v, v.size(), s);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (std::isnan(v[i])) continue;
      if (s.saturate ? std::fabs(static_cast<long double>(v[i])) > s.max : (std::isfinite(v[i]) && std::isinf(q[i])))
        ++n;
    }
    return n;
  }
  const float t = s.nvfp4 ? nvfp4_t(v) : 1.0f;
  for (std::size_t r0 = 0; r0 < v.size(); r0 += row)
    for (std::size_t b0 = r0; b0 < r0 + row; b0 += static_cast<std::size_t>(s.block)) {
      const std::size_t b1 = std::min(b0 + static_cast<std::size_t>(s.block), r0 + row);
      long double amax = 0;
      bool special = false;
      for (std::size_t i = b0; i < b1; ++i) {
        special = special || !std::isfinite(v[i]);
        if (std::isfinite(v[i])) amax = std::max(amax, std::fabs(static_cast<long double>(v[i])));
      }
      if (special || amax == 0) continue;
      long double cap;
      if (s.nvfp4) {
        cap = 6.0L * rne(static_cast<double>(amax) / 6.0 / static_cast<double>(t), 3, -6, 448.0L, true) *
              static_cast<long double>(t);
      } else {
        int ex = 0;
        std::frexp(amax, &ex);
        cap = std::ldexp(s.max, std::min(127, std::max(-127, ex - 1 - s.emax)));
      }
      for (std::size_t i = b0; i < b1; ++i)
        if (std::fabs(static_cast<long double>(v[i])) > cap) ++n;
    }
  return n;
}

/// Equal as the tests compare: same bits, or both NaN.
inline bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || ref::bits(a) == ref::bits(b); }

}  // namespace sref
