// docs/formats.md, the conformance table of every format × rounding, is
// generated here FROM THE IMPLEMENTATION (every cell is the kernel's output
// for a probe input) and must equal the committed file. After a deliberate
// change: PEPPP_UPDATE_DOCS=1 build/tests/unit_quant_conformance rewrites it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "peppp/quant/kernel.hpp"
#include "test_util.hpp"

using peppp::FloatFormat;
using peppp::Rounding;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

// The kernel's result for x as one element of a context whose block scale
// is 1: alone (elementwise formats), next to 2^emax_elem in a block of 32
// (MX: X = 2^0), or next to 6 in the second block of 16 of a tensor whose
// largest value is 2688 (nvfp4: t = 1, x_b = 1). Also says whether the
// anchor of the block became NaN (rule 1: the whole block).
struct Probe {
  float q;
  bool block_nan;
};

Probe probe(float x, FloatFormat f, Rounding r, std::uint64_t seed = 0) {
  if (!f.is_block()) return {peppp::quant::quantize_value(x, f, r, seed, 0), false};
  std::vector<float> v(32, 0.0f), out(32);
  std::size_t at = 1, anchor = 0;
  if (f.standard() == peppp::StandardFormat::nvfp4) {
    v[0] = 2688.0f;
    anchor = 16;
    at = 17;
    v[anchor] = 6.0f;
  } else {
    v[anchor] = std::ldexp(1.0f, f.emax());
  }
  v[at] = x;
  peppp::quant::quantize_rows(v.data(), out.data(), v.size(), v.size(), f, r, seed, 0, 1);
  return {out[at], std::isnan(out[anchor])};
}

std::string num(float v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+inf" : "−inf";
  if (v == 0) return std::signbit(v) ? "−0" : "0";
  int e = 0;
  const float m = std::frexp(std::fabs(v), &e);
  std::string s;
  char buf[64];
  if (m == 0.5f && (e - 1 < -4 || e - 1 > 16)) std::snprintf(buf, sizeof buf, "2^%d", e - 1);
  else std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(std::fabs(v)));
  return (v < 0 ? "−" : "") + std::string(buf);
}

// Deterministic roundings: the one output. Stochastic: the outputs over
// 4000 seeds with the share of the larger one.
std::string cell(float x, FloatFormat f, Rounding r, bool show_block_nan = false) {
  if (r != Rounding::stochastic) {
    const Probe p = probe(x, f, r);
    return num(p.q) + (show_block_nan && p.block_nan ? " (block)" : "");
  }
  std::map<std::uint32_t, int> seen;
  bool block_nan = false;
  const int n = 4000;
  for (int s = 0; s < n; ++s) {
    const Probe p = probe(x, f, r, static_cast<std::uint64_t>(s) + 1);
    std::uint32_t b;
    std::memcpy(&b, &p.q, 4);
    if (std::isnan(p.q)) b = 0x7fc00000u;
    ++seen[b];
    block_nan = block_nan || p.block_nan;
  }
  auto val = [](std::uint32_t b) {
    float v;
    std::memcpy(&v, &b, 4);
    return v;
  };
  if (seen.size() == 1) return num(val(seen.begin()->first)) + (show_block_nan && block_nan ? " (block)" : "");
  std::string s;
  float hi = 0;
  int hi_count = 0;
  for (const auto& [b, c] : seen) {
    s += (s.empty() ? "" : " or ") + num(val(b));
    if (std::fabs(val(b)) >= std::fabs(hi)) {
      hi = val(b);
      hi_count = c;
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, " (%.2f)", static_cast<double>(hi_count) / n);
  return s + buf;
}

std::string table() {
  std::vector<FloatFormat> formats = {FloatFormat(4, 3), FloatFormat(5, 2), FloatFormat(8, 7)};
  for (const auto& l : FloatFormat::standard_labels()) formats.push_back(FloatFormat::parse(l));
  std::ostringstream os;
  os << "| format | rounding | max | min normal | min subnormal | NaN | +inf | −inf | overflow | −0 | −tiny | "
        "tie above 1 | tie at P/2 |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& f : formats) {
    const float mx = static_cast<float>(std::min<long double>(f.max_finite(), std::numeric_limits<float>::max()));
    const float mn = static_cast<float>(f.min_normal()), ms = static_cast<float>(f.min_subnormal());
    // Overflow probe: 2·max (elementwise; float32's max for E = 8), or inside
    // the top binade above max (block formats keep the scale).
    float over = f.exponent_bits() == 8 ? std::numeric_limits<float>::max() : 2 * mx;
    if (f.is_block()) over = (mx + std::ldexp(1.0f, f.emax() + 1)) / 2;
    const float tie1 = 1.0f + std::ldexp(1.0f, -(f.mantissa_bits() + 1));
    for (Rounding r : {Rounding::nearest, Rounding::nearest_even, Rounding::stochastic}) {
      std::string rl = peppp::label(r);
      if (f.is_standard() && r == Rounding::nearest) rl += " (= nearest_even)";
      os << "| `" << f.label() << "` | " << rl << " | " << cell(mx, f, r) << " | " << cell(mn, f, r) << " | "
         << cell(ms, f, r) << " | " << cell(std::numeric_limits<float>::quiet_NaN(), f, r, true) << " | "
         << cell(kInf, f, r, true) << " | " << cell(-kInf, f, r, true) << " | " << num(over) << " → "
         << cell(over, f, r) << " | " << cell(-0.0f, f, r) << " | " << cell(-ms / 4, f, r) << " | " << num(tie1)
         << " → " << cell(tie1, f, r) << " | " << cell(ms / 2, f, r) << " |\n";
    }
  }
  return os.str();
}

std::string document() {
  std::ostringstream os;
  os << R"md(# Number formats: the conformance table

<!-- Generated by tests/unit/quant/test_conformance.cpp from the implementation; do not edit.
     Regenerate: PEPPP_UPDATE_DOCS=1 build/tests/unit_quant_conformance -->

Every label peppp accepts as Format A or Format B (`campaign.formats_a`,
`campaign.formats_b`, `peppp memory`, `peppp quantize --format`): the
QPyTorch-style `eEmM` grid (QUANT.md "The format") and the named standard
formats (QUANT.md "Standard formats"). Every cell below is what the kernel
returned for the probe input, not a value typed in: this page is rewritten by
the test `unit_quant_conformance`, which fails when the page and the
implementation disagree. `peppp quantize` gives the same bits (the test
`integration_formats` checks it against an independent reference on
hundreds of thousands of values and blocks).

| label | element | max | block (k) | scale | bits per element (memory model) |
|---|---|---|---|---|---|
| `eEmM` | 1 + E + M bits, no code reserved | 2^(2^(E−1)) · (2 − 2^−M) | 1 | — | 1 + E + M |
| `ocp-e4m3` | OCP OFP8 E4M3 (e4m3fn) | 448 | 1 | — | 8 |
| `ocp-e5m2` | OCP OFP8 E5M2 | 57344 | 1 | — | 8 |
| `fp16` | IEEE binary16 | 65504 | 1 | — | 16 |
| `bf16` | bfloat16 | 3.3895314e38 | 1 | — | 16 |
| `mxfp8-e4m3` | OCP E4M3 | 448 · X | 32 | E8M0 | 8.25 |
| `mxfp8-e5m2` | OCP E5M2 | 57344 · X | 32 | E8M0 | 8.25 |
| `mxfp6-e3m2` | E3M2, bias 3, no inf/NaN | 28 · X | 32 | E8M0 | 6.25 |
| `mxfp6-e2m3` | E2M3, bias 1, no inf/NaN | 7.5 · X | 32 | E8M0 | 6.25 |
| `mxfp4` | E2M1 {0, .5, 1, 1.5, 2, 3, 4, 6} | 6 · X | 32 | E8M0 | 4.25 |
| `nvfp4` | E2M1 | 6 · X_b | 16 | ocp-e4m3 (+ float32 per tensor) | 4.5 |

## Semantics in brief

- `nearest` is each format's own rule: ties **away from zero** for `eEmM`
  (QPyTorch's), ties **to even** for every named format (so `nearest` and
  `nearest_even` are the same there). `stochastic` rounds up with
  probability equal to the fraction of the spacing, from the counter-based
  generator keyed by (seed, stream offset + element index): reproducible
  whatever the threads or device.
- Saturating formats (`eEmM` with E < 8, `ocp-e4m3`, `ocp-e5m2`, `fp16`, the
  block formats' elements) turn a value that rounds beyond the largest
  finite value, and ±inf, into ±max (CUDA's `__NV_SATFINITE`). `e8mM` and
  `bf16` do not saturate: such values become ±inf, ±inf stays.
- NaN stays NaN (elementwise: payload and sign kept). Subnormals are kept;
  −0 is kept, and a negative value that rounds to zero gives −0.
- Block formats view a tensor as rows along its last dimension (`peppp
  quantize --row-length N`; default one row), cut into blocks of k that never
  straddle rows (the last block of a row may be shorter). A block holding a
  NaN or an infinity becomes NaN (the quiet NaN 0x7fc00000) in every
  element. An all-zero block stays (signed) zero. MX: X = 2^s with s =
  floor(log2 amax) − emax_elem clamped to [−127, 127], each element X ·
  q(V/X). nvfp4: t = the float32 nearest to amax/2688 over the tensor's
  **finite** values (1 when 0), x_b = rne_e4m3(amax_block / 6 / t), X_b = x_b
  · t, each element X_b · q_e2m1(V/X_b) rounded once to float32, all in
  float64; x_b = 0 (or t underflowed to 0 below amax ≈ 2^−138.6) gives signed
  zeros. Stochastic nvfp4 draws 32 random bits per element (probability
  ⌈frac · 2^32⌉ / 2^32).

## The table

Columns: the kernel's output for the format's max (for `e8mM`, whose grid
reaches beyond float32, the probe is float32's max, which rounds to +inf),
smallest normal and smallest subnormal P; for NaN and ±inf ("(block)": the whole block became
NaN); for an overflowing input (elementwise: 2 · max, or float32's max for
E = 8; block formats: inside the top binade above max, where the scale stays
1); for −0 and −P/4; for the tie between 1 and its upper neighbour; for the
tie P/2 between 0 and P. Block formats are probed as one element of a block
whose scale is 1 (MX: next to 2^emax_elem; nvfp4: next to 6 in a tensor whose
largest value is 2688, so t = 1 and x_b = 1). Stochastic cells list the
outcomes over 4000 seeds with the share of the larger magnitude in
parentheses.

)md";
  os << table();
  os << R"md(
## Differences from QPyTorch, CPFloat and chop

The same name means different grids in the reference simulators; peppp's
named formats follow the published standards, its `eEmM` formats QPyTorch's
grid, and both are written down above.

| | peppp `eEmM` | peppp named | QPyTorch `float_quantize` | CPFloat | chop (Higham & Pranesh) |
|---|---|---|---|---|---|
| "e4m3" largest value | 480 (no code reserved) | `ocp-e4m3`: 448 (S.1111.111 = NaN) | 480 | 448 (OCP, since 0.6) | `fp8-e4m3`/`q43`: t = 4, emax = 7: 240 (IEEE-like) |
| "e5m2" largest value | 114688 | `ocp-e5m2`: 57344 | 114688 | 57344 | `fp8-e5m2`: 57344 |
| nearest ties | away from zero | to even | away from zero | a choice of modes | to even (round = 1, the default) |
| overflow | saturate (E < 8) | saturate (bf16: inf) | saturate | an option | inf |
| NaN | NaN | NaN | ±max for E < 8 (hides divergence) | NaN | NaN |
| subnormals | kept, one exact rounding | kept | kept, computed as fl32(x + 2^emin) − 2^emin (rounds twice below a tie) | kept unless switched off | kept; bfloat16: flushed by default |
| stochastic generator | counter-based, seeded, thread-independent | same | CPU path not seedable; biased in the subnormal range | parallel path races on its generator state | MATLAB's global `rand` |
| block formats (MX, nvfp4) | — | MX v1.0 rules and nvfp4 | `block_quantize` is block floating point (shared exponent, integer mantissas), not MX | — | — |

Sources: QUANT.md (peppp's written semantics, QPyTorch and CPFloat notes),
the chop sources (`chop.m`, `float_params.m`: `q43` t = 4, emax = 7; bfloat16
subnormals off by default; overflow to inf beyond 2^emax · (2 − 2^−t/2)),
OCP OFP8 v1.0 and OCP Microscaling v1.0.
)md";
  return os.str();
}

}  // namespace

TEST(Conformance, DocsFormatsMdIsGeneratedFromTheImplementation) {
  const std::string path = peppp::test::source_path("docs/formats.md");
  const std::string want = document();
  if (const char* u = std::getenv("PEPPP_UPDATE_DOCS"); u && std::string(u) == "1") {
    std::ofstream(path, std::ios::binary) << want;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing: run PEPPP_UPDATE_DOCS=1 build/tests/unit_quant_conformance";
  const std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, want) << path << " differs from the implementation: run PEPPP_UPDATE_DOCS=1 "
                       << "build/tests/unit_quant_conformance, review the diff, commit it";
}

TEST(Conformance, TheTableShowsTheWrittenSemantics) {
  // A few cells against QUANT.md directly, so the page cannot drift into a
  // self-consistent but wrong state.
  const auto f = [](const char* l) { return FloatFormat::parse(l); };
  EXPECT_EQ(cell(464.0f, f("ocp-e4m3"), Rounding::nearest), "448");
  EXPECT_EQ(cell(kInf, f("ocp-e4m3"), Rounding::nearest), "448");
  EXPECT_EQ(cell(kInf, f("bf16"), Rounding::nearest), "+inf");
  EXPECT_EQ(cell(kInf, f("mxfp4"), Rounding::nearest, true), "NaN (block)");
  EXPECT_EQ(cell(-0.0f, f("mxfp6-e2m3"), Rounding::nearest), "−0");
  EXPECT_EQ(cell(1.0625f, FloatFormat(4, 3), Rounding::nearest), "1.125");  // ties away
  EXPECT_EQ(cell(1.0625f, f("mxfp8-e4m3"), Rounding::nearest), "1");       // ties to even
  EXPECT_EQ(cell(0.25f, f("nvfp4"), Rounding::nearest), "0");
  EXPECT_EQ(cell(0.75f, f("nvfp4"), Rounding::nearest), "1");
  EXPECT_EQ(cell(0.25f, f("mxfp4"), Rounding::stochastic).substr(0, 8), "0 or 0.5");
}
