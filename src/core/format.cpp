#include "peppp/core/format.hpp"

#include <cmath>
#include <cstdint>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"

namespace peppp {

namespace {

constexpr const char* kAllowed =
    "allowed: 'eEmM' (e.g. e4m3) or 'S-E-M' (e.g. 1-4-3) with S = 1, E in 2..8, M in 1..23";

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

FloatFormat FloatFormat::parse(std::string_view label) {
  const std::string s = to_lower(trim(label));
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

std::string FloatFormat::label() const { return "e" + std::to_string(e_) + "m" + std::to_string(m_); }

int FloatFormat::emin() const { return 2 - (1 << (e_ - 1)); }

int FloatFormat::emax() const { return 1 << (e_ - 1); }

long double FloatFormat::min_subnormal() const { return std::ldexp(1.0L, emin() - m_); }

long double FloatFormat::min_normal() const { return std::ldexp(1.0L, emin()); }

long double FloatFormat::max_finite() const {
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

Configuration Configuration::parse(std::string_view label) {
  const auto parts = split(label, '/');
  if (parts.size() != 2) {
    throw InputError("configuration '" + std::string(label) +
                     "' is malformed (allowed: 'A/B' with two float formats, e.g. e4m3/e6m7)");
  }
  return Configuration{FloatFormat::parse(parts[0]), FloatFormat::parse(parts[1])};
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
