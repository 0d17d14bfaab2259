#include "peppp/core/format.hpp"

#include <cmath>
#include <cstdint>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"

namespace peppp {

namespace {

constexpr const char* kAllowed =
    "allowed: 'eEmM' (e.g. e4m3) or 'S-E-M' (e.g. 1-4-3) with S = 1, E in 2..8, M in 1..23, or a named format: "
    "ocp-e4m3, ocp-e5m2, fp16, bf16, mxfp8-e4m3, mxfp8-e5m2, mxfp6-e3m2, mxfp6-e2m3, mxfp4, nvfp4";

// QUANT.md "Standard formats": label, element E and M, emax (largest normal
// exponent), largest finite value, block size, scale bits, saturating.
struct StandardInfo {
  StandardFormat id;
  const char* label;
  int e, m, emax;
  long double max;
  int block, scale_bits;
  bool saturates;
  StandardFormat element;  // the element grid (none: the eEmM grid e, m)
};

// bf16's largest finite (2 - 2^-7) 2^127 = 3.3895314e38.
const StandardInfo kStandards[] = {
    {StandardFormat::ocp_e4m3, "ocp-e4m3", 4, 3, 8, 448.0L, 1, 0, true, StandardFormat::ocp_e4m3},
    {StandardFormat::ocp_e5m2, "ocp-e5m2", 5, 2, 15, 57344.0L, 1, 0, true, StandardFormat::ocp_e5m2},
    {StandardFormat::fp16, "fp16", 5, 10, 15, 65504.0L, 1, 0, true, StandardFormat::fp16},
    {StandardFormat::bf16, "bf16", 8, 7, 127, 0x1.fep127L, 1, 0, false, StandardFormat::bf16},
    {StandardFormat::mxfp8_e4m3, "mxfp8-e4m3", 4, 3, 8, 448.0L, 32, 8, true, StandardFormat::ocp_e4m3},
    {StandardFormat::mxfp8_e5m2, "mxfp8-e5m2", 5, 2, 15, 57344.0L, 32, 8, true, StandardFormat::ocp_e5m2},
    {StandardFormat::mxfp6_e3m2, "mxfp6-e3m2", 3, 2, 4, 28.0L, 32, 8, true, StandardFormat::none},
    {StandardFormat::mxfp6_e2m3, "mxfp6-e2m3", 2, 3, 2, 7.5L, 32, 8, true, StandardFormat::none},
    {StandardFormat::mxfp4, "mxfp4", 2, 1, 2, 6.0L, 32, 8, true, StandardFormat::none},
    {StandardFormat::nvfp4, "nvfp4", 2, 1, 2, 6.0L, 16, 8, true, StandardFormat::none},
};

const StandardInfo* info(StandardFormat s) {
  for (const auto& i : kStandards)
    if (i.id == s) return &i;
  return nullptr;
}

void check_range(int e, int m, std::string_view what) {
  if (e < 2 || e > 8 || m < 1 || m > 23) {
    throw InputError("float format '" + std::string(what) + "': exponent bits " + std::to_string(e) +
                     ", mantissa bits " + std::to_string(m) + " out of range (" + kAllowed + ")");
  }
}

// Whole-string non-negative decimal of at most 3 digits (bit counts).
bool parse_small(std::string_view s, int& out) {
  if (s.empty() || s.size() > 3) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

FloatFormat::FloatFormat(int exponent_bits, int mantissa_bits) : e_(exponent_bits), m_(mantissa_bits) {
  check_range(e_, m_, "e" + std::to_string(e_) + "m" + std::to_string(m_));
}

FloatFormat::FloatFormat(StandardFormat standard) {
  if (const StandardInfo* i = info(standard)) {
    e_ = i->e;
    m_ = i->m;
    std_ = standard;
  }
}

std::vector<std::string> FloatFormat::standard_labels() {
  std::vector<std::string> out;
  for (const auto& i : kStandards) out.push_back(i.label);
  return out;
}

FloatFormat FloatFormat::parse(std::string_view label) {
  const std::string s = to_lower(trim(label));
  for (const auto& i : kStandards)
    if (s == i.label) return FloatFormat(i.id);
  int e = -1;
  int m = -1;
  bool ok = false;
  if (!s.empty() && s[0] == 'e') {
    const auto pm = s.find('m');
    ok = pm != std::string::npos && parse_small(std::string_view(s).substr(1, pm - 1), e) &&
         parse_small(std::string_view(s).substr(pm + 1), m);
  } else if (s.find('-') != std::string::npos) {
    const auto parts = split(s, '-');
    int sign = -1;
    ok = parts.size() == 3 && parse_small(parts[0], sign) && sign == 1 && parse_small(parts[1], e) &&
         parse_small(parts[2], m);
  }
  if (!ok) throw InputError("float format '" + std::string(label) + "' is malformed (" + kAllowed + ")");
  check_range(e, m, label);
  return FloatFormat(e, m);
}

std::vector<FloatFormat> FloatFormat::parse_list(std::string_view labels) {
  std::vector<FloatFormat> out;
  for (const auto& piece : split(labels, ',')) {
    if (piece.empty()) throw InputError("float format list '" + std::string(labels) + "' has an empty entry (" + kAllowed + ")");
    out.push_back(parse(piece));
  }
  return out;
}

std::string FloatFormat::label() const {
  if (const StandardInfo* i = info(std_)) return i->label;
  return "e" + std::to_string(e_) + "m" + std::to_string(m_);
}

int FloatFormat::emin() const { return 2 - (1 << (e_ - 1)); }

int FloatFormat::emax() const {
  if (const StandardInfo* i = info(std_)) return i->emax;
  return 1 << (e_ - 1);
}

int FloatFormat::block_size() const {
  const StandardInfo* i = info(std_);
  return i ? i->block : 1;
}

int FloatFormat::scale_bits() const {
  const StandardInfo* i = info(std_);
  return i ? i->scale_bits : 0;
}

bool FloatFormat::saturates() const {
  if (const StandardInfo* i = info(std_)) return i->saturates;
  return e_ < 8;
}

FloatFormat FloatFormat::element_format() const {
  const StandardInfo* i = info(std_);
  if (!i) return *this;
  if (i->element == StandardFormat::none) return FloatFormat(i->e, i->m);
  return FloatFormat(i->element);
}

Rounding FloatFormat::effective_rounding(Rounding r) const {
  return is_standard() && r == Rounding::nearest ? Rounding::nearest_even : r;
}

std::int64_t FloatFormat::code() const { return 1024 * static_cast<std::int64_t>(std_) + 32 * e_ + m_; }

FloatFormat FloatFormat::from_code(std::int64_t code) {
  if (code >= 0) {
    const std::int64_t st = code / 1024, e = (code % 1024) / 32, m = code % 32;
    if (st == 0 && e >= 2 && e <= 8 && m >= 1 && m <= 23) return FloatFormat(static_cast<int>(e), static_cast<int>(m));
    if (st > 0 && info(static_cast<StandardFormat>(st)) && FloatFormat(static_cast<StandardFormat>(st)).code() == code)
      return FloatFormat(static_cast<StandardFormat>(st));
  }
  throw InputError("float format code " + std::to_string(code) + " is no format's code");
}

long double FloatFormat::min_subnormal() const { return std::ldexp(1.0L, emin() - m_); }

long double FloatFormat::min_normal() const { return std::ldexp(1.0L, emin()); }

long double FloatFormat::max_finite() const {
  if (const StandardInfo* i = info(std_)) return i->max;
  return std::ldexp(2.0L - std::ldexp(1.0L, -m_), emax());
}

Rounding parse_rounding(std::string_view label) {
  const std::string s = to_lower(trim(label));
  if (s == "nearest") return Rounding::nearest;
  if (s == "nearest_even") return Rounding::nearest_even;
  if (s == "stochastic") return Rounding::stochastic;
  throw InputError("rounding '" + std::string(label) + "' is not known (allowed: nearest, nearest_even, stochastic)");
}

std::string label(Rounding r) {
  switch (r) {
    case Rounding::nearest: return "nearest";
    case Rounding::nearest_even: return "nearest_even";
    case Rounding::stochastic: return "stochastic";
  }
  return "unknown";
}

std::vector<Configuration> all_configurations(const std::vector<FloatFormat>& formats_a,
                                              const std::vector<FloatFormat>& formats_b) {
  std::vector<Configuration> out;
  out.reserve(formats_a.size() * formats_b.size());
  for (const auto& a : formats_a)
    for (const auto& b : formats_b) out.push_back(Configuration{a, b});
  return out;
}

}  // namespace peppp
