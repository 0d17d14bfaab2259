#pragma once
/// @file format.hpp
/// @brief Low-precision floating-point formats (`eEmM`), rounding modes and
/// configurations (Format A + Format B). Semantics: shared/docs QUANT.md.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace peppp {

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

/// The named formats of QUANT.md "Standard formats" (published standards
/// instead of QPyTorch's grid). `none` = a plain `eEmM` format.
enum class StandardFormat : std::uint8_t {
  none = 0,
  ocp_e4m3,    ///< "ocp-e4m3": OCP OFP8 E4M3 (e4m3fn), max 448, no inf
  ocp_e5m2,    ///< "ocp-e5m2": OCP OFP8 E5M2 (IEEE-like), max 57344
  fp16,        ///< "fp16": IEEE binary16, max 65504
  bf16,        ///< "bf16": bfloat16 (as float32 -> bf16 RNE; overflow gives inf)
  mxfp8_e4m3,  ///< "mxfp8-e4m3": OCP MX, 32 OCP-E4M3 elements + an E8M0 scale
  mxfp8_e5m2,  ///< "mxfp8-e5m2": OCP MX, 32 OCP-E5M2 elements + an E8M0 scale
  mxfp6_e3m2,  ///< "mxfp6-e3m2": OCP MX, 32 E3M2 elements (no inf/NaN) + an E8M0 scale
  mxfp6_e2m3,  ///< "mxfp6-e2m3": OCP MX, 32 E2M3 elements (no inf/NaN) + an E8M0 scale
  mxfp4,       ///< "mxfp4": OCP MX, 32 E2M1 elements + an E8M0 scale
  nvfp4,       ///< "nvfp4": NVIDIA, 16 E2M1 elements + an ocp-e4m3 scale, a float32 tensor scale
};

/// A floating-point format: either a plain `eEmM` grid (1 sign bit, E
/// exponent bits 2..8, M mantissa bits 1..23, no exponent code reserved for
/// inf/NaN: emax = 2^(E-1), one binade more than IEEE; E < 8 saturates at
/// max), or one of the named standard formats (QUANT.md "Standard formats":
/// their own exponent range, ties-to-even nearest rounding, and for the
/// block formats a shared per-block scale). For a block format E, M, emin,
/// emax and the limits are those of the ELEMENT format (in units of the
/// block's scale).
class FloatFormat {
 public:
  /// e8m23 (float32 itself: quantization is the identity).
  FloatFormat() = default;
  /// @throws InputError if E is outside 2..8 or M outside 1..23.
  FloatFormat(int exponent_bits, int mantissa_bits);
  /// A named standard format (`none` gives e8m23).
  explicit FloatFormat(StandardFormat standard);
  /// Parse "e4m3" (case-insensitive), the paper's "1-4-3", or a named
  /// standard format ("ocp-e4m3", "ocp-e5m2", "fp16", "bf16", "mxfp8-e4m3",
  /// "mxfp8-e5m2", "mxfp6-e3m2", "mxfp6-e2m3", "mxfp4", "nvfp4").
  /// @throws InputError naming the label and the allowed forms/ranges.
  static FloatFormat parse(std::string_view label);
  /// Parse a comma-separated list of labels.
  static std::vector<FloatFormat> parse_list(std::string_view labels);
  /// The labels of every named standard format, in enum order.
  static std::vector<std::string> standard_labels();

  /// Exponent bits E (of the element format for block formats).
  int exponent_bits() const { return e_; }
  /// Mantissa bits M (of the element format for block formats).
  int mantissa_bits() const { return m_; }
  /// Bits of one element 1 + E + M (without a block scale's share).
  int bits() const { return 1 + e_ + m_; }
  /// "e4m3", or the standard's label ("mxfp8-e4m3").
  std::string label() const;
  /// Smallest normal exponent: 2 - 2^(E-1) (also every standard format's).
  int emin() const;
  /// Largest normal exponent: 2^(E-1) for `eEmM`; the standard's own
  /// (ocp-e4m3 8, ocp-e5m2 / fp16 15, bf16 127; a block format's element
  /// emax_elem: 8, 15, 4, 2, 2, nvfp4 2).
  int emax() const;
  /// Smallest positive subnormal 2^(emin - M) (long double: exact for E = 8).
  long double min_subnormal() const;
  /// Smallest positive normal 2^emin.
  long double min_normal() const;
  /// Largest finite value: 2^emax * (2 - 2^-M) for `eEmM` (beyond float32
  /// for E = 8); the standard's own (448, 57344, 65504, 3.3895314e38; block
  /// formats: the element's, 448, 57344, 28, 7.5, 6, 6).
  long double max_finite() const;

  /// @name Standard formats (QUANT.md "Standard formats")
  /// @{
  StandardFormat standard() const { return std_; }
  bool is_standard() const { return std_ != StandardFormat::none; }
  /// Elements sharing one scale: 32 (MX), 16 (nvfp4), 1 (elementwise formats).
  int block_size() const;
  /// Bits of the per-block scale: 8 (E8M0 for MX, ocp-e4m3 for nvfp4), 0 (elementwise).
  int scale_bits() const;
  /// Memory bits per element, the scale's share included: bits() +
  /// scale_bits() / block_size() (8.25, 6.25, 4.25, 4.5; elementwise: bits()).
  double bits_per_element() const { return bits() + static_cast<double>(scale_bits()) / block_size(); }
  /// True for the block formats (MX and nvfp4).
  bool is_block() const { return block_size() > 1; }
  /// True when a value beyond the largest finite value (and ±inf) becomes
  /// ±max (E < 8 `eEmM`, ocp-e4m3, ocp-e5m2, fp16, the block formats'
  /// elements); false for E = 8 `eEmM` and bf16 (overflow gives ±inf).
  bool saturates() const;
  /// The element grid a block format's elements are rounded onto, in units
  /// of the block scale: ocp-e4m3, ocp-e5m2, e3m2, e2m3, e2m1 (the last three
  /// reserve no code: exactly the `eEmM` grid). Elementwise formats: itself.
  FloatFormat element_format() const;
  /// The rounding actually applied for `r`: a standard format's nearest rule
  /// is ties to even, so `nearest` means `nearest_even` for it; `eEmM`
  /// formats keep `r` (nearest = ties away from zero, QPyTorch's rule).
  Rounding effective_rounding(Rounding r) const;
  /// @}

  /// An integer that identifies the format (for autograd arguments):
  /// 1024·standard + 32·E + M. `from_code(code())` gives the format back.
  std::int64_t code() const;
  /// @throws InputError when `code` is no format's code.
  static FloatFormat from_code(std::int64_t code);

  friend bool operator==(const FloatFormat& a, const FloatFormat& b) {
    return a.e_ == b.e_ && a.m_ == b.m_ && a.std_ == b.std_;
  }
  friend bool operator!=(const FloatFormat& a, const FloatFormat& b) { return !(a == b); }

 private:
  int e_ = 8;
  int m_ = 23;
  StandardFormat std_ = StandardFormat::none;
};

/// The role of a quantizer point of a network (docs/roles.md): `first` (the
/// input and the first conv/linear layer's output), `last` (the classifier
/// head), `attention` (attention scores and softmax), `norm` (batch/layer/
/// group norm outputs), `body` (every other point). A layer's weights have
/// its role. The enum order is the label order of the overrides.
enum class Role : std::uint8_t { body = 0, first, last, attention, norm };

/// "body", "first", "last", "attention", "norm".
std::string label(Role r);
/// Parse a role name (exact, lower case).
/// @throws InputError naming the value and the allowed names.
Role parse_role(std::string_view label);
/// Every role, body first: body, first, last, attention, norm.
const std::vector<Role>& all_roles();
/// The roles a configuration may give their own Format A, in label order:
/// first, last, attention, norm.
const std::vector<Role>& override_roles();

/// A configuration: Format A (weights, activations, errors) for the body,
/// an optional Format A per role (docs/roles.md), and Format B (optimizer:
/// gradient, momentum, accumulator, of every parameter whatever its role).
/// Label "e4m3/e6m7" when every role has the body's format (or with named
/// formats, "mxfp8-e4m3/bf16"); "e4m3[first=e8m7,last=e8m7]/e6m7" when
/// roles differ: the overrides in the order first, last, attention, norm,
/// only those whose format differs from the body's.
struct Configuration {
  FloatFormat a;  ///< Format A of the body (and of every role without an override)
  FloatFormat b;  ///< Format B
  /// Per-role Format A overrides (never `Role::body`); an entry equal to `a`
  /// is the same configuration as no entry (label, ==, format()).
  std::map<Role, FloatFormat> roles{};

  /// Format A of role `r`: its override, else `a`.
  const FloatFormat& format(Role r) const;
  /// True when every role has Format `a` (the paper's configurations).
  bool uniform() const;
  /// Give role `r` Format A `f` (`Role::body`: sets `a`); an override equal
  /// to `a` is dropped. Returns *this.
  Configuration& set(Role r, const FloatFormat& f);
  /// "e4m3/e6m7" or "e4m3[first=e8m7,last=e8m7]/e6m7" (see above).
  std::string label() const;
  /// Parse a label (`parse_configuration`).
  static Configuration parse(std::string_view label);
  friend bool operator==(const Configuration& x, const Configuration& y);
  friend bool operator!=(const Configuration& x, const Configuration& y) { return !(x == y); }
};

/// Parse "A/B" or "A[role=F,...]/B": every format in any form FloatFormat::
/// parse takes, the overrides in the order first, last, attention, norm, each
/// role at most once and different from A (so that a configuration has one
/// label: `parse_configuration(c.label()) == c` and the label round-trips).
/// @throws InputError on a malformed label, naming it and the allowed form.
Configuration parse_configuration(std::string_view label);

/// All (A, B) pairs, A-major: index j = |B|·a + b (METHOD.md F1).
std::vector<Configuration> all_configurations(const std::vector<FloatFormat>& formats_a,
                                              const std::vector<FloatFormat>& formats_b);

}  // namespace peppp
