#pragma once
/// @file format.hpp
/// @brief Low-precision floating-point formats (`eEmM`), rounding modes and
/// configurations (Format A + Format B). Semantics: shared/docs QUANT.md.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace peppp {

/// A floating-point format with 1 sign bit, E exponent bits (2..8) and M
/// mantissa bits (1..23). No exponent code is reserved for inf/NaN
/// (emax = 2^(E-1), one binade more than IEEE); E < 8 saturates at max.
class FloatFormat {
 public:
  /// e8m23 (float32 itself: quantization is the identity).
  FloatFormat() = default;
  /// @throws InputError if E is outside 2..8 or M outside 1..23.
  FloatFormat(int exponent_bits, int mantissa_bits);
  /// Parse "e4m3" (case-insensitive) or the paper's "1-4-3".
  /// @throws InputError naming the label and the allowed forms/ranges.
  static FloatFormat parse(std::string_view label);
  /// Parse a comma-separated list of labels.
  static std::vector<FloatFormat> parse_list(std::string_view labels);

  int exponent_bits() const { return e_; }
  int mantissa_bits() const { return m_; }
  /// Total bits 1 + E + M.
  int bits() const { return 1 + e_ + m_; }
  /// "e4m3".
  std::string label() const;
  /// emin = 2 - 2^(E-1).
  int emin() const;
  /// emax = 2^(E-1).
  int emax() const;
  /// Smallest positive subnormal 2^(emin - M) (long double: exact for E = 8).
  long double min_subnormal() const;
  /// Smallest positive normal 2^emin.
  long double min_normal() const;
  /// Largest finite value 2^emax * (2 - 2^-M) (beyond float32 for E = 8).
  long double max_finite() const;

  friend bool operator==(const FloatFormat& a, const FloatFormat& b) { return a.e_ == b.e_ && a.m_ == b.m_; }
  friend bool operator!=(const FloatFormat& a, const FloatFormat& b) { return !(a == b); }

 private:
  int e_ = 8;
  int m_ = 23;
};

/// Rounding of a value onto a format's grid (QUANT.md).
enum class Rounding {
  nearest,       ///< round to nearest, ties away from zero (QPyTorch's rule; default)
  nearest_even,  ///< round to nearest, ties to even
  stochastic,    ///< up with probability equal to the fraction, 23-M random bits
};

/// Parse "nearest", "nearest_even" or "stochastic".
/// @throws InputError naming the value and the allowed ones.
Rounding parse_rounding(std::string_view label);
/// "nearest", "nearest_even", "stochastic".
std::string label(Rounding r);

/// A configuration: Format A (weights, activations, errors) and Format B
/// (optimizer: gradient, momentum, accumulator). Label "e4m3/e6m7".
struct Configuration {
  FloatFormat a;
  FloatFormat b;
  /// "e4m3/e6m7".
  std::string label() const { return a.label() + "/" + b.label(); }
  /// Parse "e4m3/e6m7" (either format in either label form).
  /// @throws InputError on a malformed label.
  static Configuration parse(std::string_view label);
  friend bool operator==(const Configuration& x, const Configuration& y) { return x.a == y.a && x.b == y.b; }
};

/// All (A, B) pairs, A-major: index j = |B|·a + b (METHOD.md F1).
std::vector<Configuration> all_configurations(const std::vector<FloatFormat>& formats_a,
                                              const std::vector<FloatFormat>& formats_b);

}  // namespace peppp
