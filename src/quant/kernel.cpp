// The fused CPU kernel: one pass over the float32 bits, every element through
// the same branch-free sequence (normal path, exact integer subnormal path,
// saturation, NaN, sign), so that the loop auto-vectorizes. The loop itself
// is kernel_impl.hpp, compiled once per instruction set; this file picks the
// variant once (best the CPU runs, or PEPPP_QUANT_ISA) and splits the work.
#include "peppp/quant/kernel.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "kernel_impl.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"

namespace peppp::quant {

namespace {

using detail::kGamma;
using detail::kInfBits;
using detail::Params;

// The element grid of `format` (itself for elementwise formats; the element
// format of a block format) as kernel constants. Standard formats differ
// from the eEmM grid of the same E and M only in their largest finite value
// (QUANT.md "Standard formats": same emin, subnormals kept), hence in `sat`.
Params make_params(FloatFormat format, std::uint64_t seed) {
  Params p{};
  const FloatFormat f = format.element_format();
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
    if (f.is_standard()) {  // ocp-e4m3: 448 (S.1111.111 is NaN), ocp-e5m2 57344, fp16 65504
      const float mx = static_cast<float>(f.max_finite());
      std::memcpy(&p.sat, &mx, 4);
    }
    p.minnorm = static_cast<std::uint32_t>(emin_b) << 23;
  } else {
    p.sat = kInfBits;  // e8mM and bf16: float32's range, overflow gives inf
    p.minnorm = 0;
  }
  p.sub_base = 23 - m + emin_b;
  const std::uint32_t pbits = e < 8 ? static_cast<std::uint32_t>(emin_b - m) << 23 : 0x00800000u;
  std::memcpy(&p.p, &pbits, 4);
  if (e < 8) {
    const std::uint32_t hbits = static_cast<std::uint32_t>(emin_b - m - 1) << 23;
    const std::uint32_t mbits = static_cast<std::uint32_t>(emin_b - m + 23) << 23;
    std::memcpy(&p.p_half, &hbits, 4);
    std::memcpy(&p.sub_magic, &mbits, 4);
  } else {  // no subnormal range of its own (minnorm = 0): any value, never selected
    p.p_half = 0.5f;
    p.sub_magic = 1.0f;
  }
  p.key = mix64(seed);
  p.block = static_cast<std::size_t>(format.block_size());
  p.emax_elem = format.emax();
  return p;
}

// ---------------------------------------------------------------- variants
struct Variant {
  const char* name;
  detail::KernelFn run;
  detail::BlockFn run_blocks;
  bool (*supported)();
};

bool always() { return true; }
#if defined(PEPPP_QUANT_HAVE_AVX2) || defined(PEPPP_QUANT_HAVE_AVX512)
// The psABI levels the variants are compiled for (GCC >= 12, Clang >= 16);
// libgcc also checks that the OS saves the AVX / AVX-512 registers.
bool cpu_x86_64_v3() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v3");
}
bool cpu_x86_64_v4() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v4");
}
#endif

// Every variant compiled into this build, best first.
constexpr Variant kVariants[] = {
#ifdef PEPPP_QUANT_HAVE_AVX512
    {"avx512", detail::run_avx512, detail::run_blocks_avx512, cpu_x86_64_v4},
#endif
#ifdef PEPPP_QUANT_HAVE_AVX2
    {"avx2", detail::run_avx2, detail::run_blocks_avx2, cpu_x86_64_v3},
#endif
    {"baseline", detail::run_baseline, detail::run_blocks_baseline, always},
};

std::string variant_names(bool supported_only) {
  std::string s;
  for (const auto& v : kVariants)
    if (!supported_only || v.supported()) s += std::string(s.empty() ? "" : ", ") + v.name;
  return s;
}

const Variant& find_variant(const std::string& name, const char* what) {
  for (const auto& v : kVariants) {
    if (name != v.name) continue;
    if (!v.supported())
      throw InputError(std::string(what) + "=" + name + ": this CPU cannot run that kernel variant; it runs " +
                       variant_names(true));
    return v;
  }
  throw InputError(std::string(what) + "=" + name + ": unknown kernel variant; this build has " +
                   variant_names(false) + " (this CPU runs " + variant_names(true) + ")");
}

// The first choice: PEPPP_QUANT_ISA when set (read once), else the best
// variant the CPU runs.
const Variant* initial_variant() {
  const char* env = std::getenv("PEPPP_QUANT_ISA");
  const Variant* v = nullptr;
  if (env && *env) {
    v = &find_variant(env, "PEPPP_QUANT_ISA");
  } else {
    for (const auto& c : kVariants)
      if (c.supported()) {
        v = &c;
        break;
      }
  }
  log::debug("quant: fused kernel variant ", v->name, env && *env ? " (PEPPP_QUANT_ISA)" : "", "; this CPU runs ",
             variant_names(true));
  return v;
}

std::atomic<const Variant*>& current_variant() {
  static std::atomic<const Variant*> current{initial_variant()};
  return current;
}

// Below this many elements per thread, starting a thread costs more than it saves.
constexpr std::size_t kMinPerThread = std::size_t{1} << 16;

float from_bits(std::uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

std::uint32_t to_bits(float x) {
  std::uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

// Largest |x| over [in, in + n) as float32 bits, NaN and ±inf included
// (bits >= kInfBits then).
std::uint32_t amax_bits(const float* in, std::size_t n) {
  std::uint32_t amax = 0;
  for (std::size_t j = 0; j < n; ++j) amax = std::max(amax, to_bits(in[j]) & 0x7fffffffu);
  return amax;
}

// A non-negative double a rounded onto the grid with M mantissa bits,
// smallest normal exponent emin and largest finite value max (saturating):
// ties to even, or stochastic with the 32 random bits rnd (up when rnd <
// frac·2^32). Exact: a/ulp and the floor are exact in double.
double grid_round(double a, int m, int emin, double max, Rounding r, std::uint32_t rnd) {
  if (a == 0) return 0;
  int ex = 0;
  std::frexp(a, &ex);  // a = f 2^ex, f in [0.5, 1)
  const double ulp = std::ldexp(1.0, std::max(ex - 1, emin) - m);
  const double t = a / ulp;  // < 2^(m+1) unless a is far beyond max (then capped: it saturates)
  const auto k = static_cast<std::int64_t>(std::min(t, 4611686018427387904.0));  // floor for t >= 0
  const double frac = t - static_cast<double>(k);
  bool up;
  if (r == Rounding::stochastic) up = static_cast<double>(rnd) < frac * 4294967296.0;
  else up = frac > 0.5 || (frac == 0.5 && (k & 1) == 1);
  return std::min(static_cast<double>(k + (up ? 1 : 0)) * ulp, max);
}

// grid_round onto E2M1 {0, 0.5, 1, 1.5, 2, 3, 4, 6} (M = 1, emin = 0, max 6)
// without frexp: the spacing is 0.5 below 2, 1 below 4, 2 above; ties to
// even (0.25 -> 0, 0.75 -> 1, 1.25 -> 1, 1.75 -> 2, 2.5 -> 2, 3.5 -> 4, 5 -> 4).
inline double e2m1_round(double y, Rounding r, std::uint32_t rnd) {
  const double u = y < 2.0 ? 0.5 : (y < 4.0 ? 1.0 : 2.0);
  // t >= 0; beyond 16 it saturates anyway (and the cast stays in range).
  const double t = std::min(y / u, 16.0);
  const auto k = static_cast<std::int64_t>(t);  // floor for t >= 0, no libm call
  const double frac = t - static_cast<double>(k);
  bool up;
  if (r == Rounding::stochastic) up = static_cast<double>(rnd) < frac * 4294967296.0;
  else up = frac > 0.5 || (frac == 0.5 && (k & 1) == 1);
  return std::min(static_cast<double>(k + (up ? 1 : 0)) * u, 6.0);
}

constexpr int kNvBlock = 16;

// nvfp4's block scale X_b = rne_e4m3(amax_block / 6 / t) · t in double
// (QUANT.md "Standard formats", nvfp4): x_b saturates at 448, keeps the
// ocp-e4m3 subnormals (down to 2^-9).
double nvfp4_block_scale(float amax_block, float t) {
  const double xb = grid_round(static_cast<double>(amax_block) / 6.0 / static_cast<double>(t), 3, -6, 448.0,
                               Rounding::nearest_even, 0);
  return xb * static_cast<double>(t);
}

// nvfp4 over [in, in + n), starting at column col0 (a block boundary) of a
// row of L elements; element i of it is element counter0 + i of the stream.
void nvfp4_blocks(const float* in, float* out, std::size_t n, std::size_t L, std::size_t col0, float t, Rounding r,
                  std::uint64_t key, std::uint64_t counter0) {
  std::size_t pos = 0, col = col0;
  while (pos < n) {
    const std::size_t len = std::min({static_cast<std::size_t>(kNvBlock), L - col, n - pos});
    const std::uint32_t amax = amax_bits(in + pos, len);
    if (amax >= kInfBits) {  // rule 1
      for (std::size_t j = 0; j < len; ++j) std::memcpy(out + pos + j, &detail::kBlockNaN, 4);
    } else {
      const double xs = nvfp4_block_scale(from_bits(amax), t);
      for (std::size_t j = 0; j < len; ++j) {
        const float v = in[pos + j];
        if (xs == 0) {  // x_b = 0 (or t underflowed to 0): signed zero
          out[pos + j] = std::copysign(0.0f, v);
          continue;
        }
        std::uint32_t rnd = 0;
        if (r == Rounding::stochastic) rnd = detail::splitmix_hi(key + (counter0 + pos + j) * kGamma);
        const double q = e2m1_round(std::fabs(static_cast<double>(v)) / xs, r, rnd);
        out[pos + j] = static_cast<float>(std::copysign(xs * q, static_cast<double>(v)));
      }
    }
    pos += len;
    col += len;
    if (col == L) col = 0;
  }
}

// The first block boundary at or after element p of rows of L, blocks of k.
std::size_t block_boundary(std::size_t p, std::size_t L, std::size_t k) {
  const std::size_t r = p / L, c = p % L;
  const std::size_t c2 = (c + k - 1) / k * k;
  return c2 >= L ? (r + 1) * L : r * L + c2;
}

std::size_t check_rows(std::size_t n, std::size_t row_length, FloatFormat format) {
  if (row_length == 0) return n;
  if (n % row_length != 0)
    throw InputError("quantize " + format.label() + ": " + std::to_string(n) + " elements are not whole rows of " +
                     std::to_string(row_length) + " (allowed: a multiple of the row length)");
  return row_length;
}

}  // namespace

void quantize_rows(const float* in, float* out, std::size_t n, std::size_t row_length, FloatFormat format,
                   Rounding rounding, std::uint64_t seed, std::uint64_t offset, int threads) {
  rounding = format.effective_rounding(rounding);
  if (!format.is_block()) {
    quantize_buffer(in, out, n, format, rounding, seed, offset, threads);
    return;
  }
  if (n == 0) return;
  const std::size_t L = check_rows(n, row_length, format);
  const Params prm = [&] {
    Params p = make_params(format, seed);
    p.row_length = L;
    return p;
  }();
  const bool nv = format.standard() == StandardFormat::nvfp4;
  const float t = nv ? nvfp4_tensor_scale(in, n) : 1.0f;
  const detail::BlockFn run = current_variant().load(std::memory_order_relaxed)->run_blocks;
  auto segment = [&, run](std::size_t begin, std::size_t end) {
    if (nv) nvfp4_blocks(in + begin, out + begin, end - begin, L, begin % L, t, rounding, prm.key, offset + begin);
    else run(in + begin, out + begin, end - begin, prm, rounding, offset + begin, begin % L);
  };
  std::size_t nt = threads > 1 ? static_cast<std::size_t>(threads) : 1;
  nt = std::min(nt, std::max<std::size_t>(1, n / kMinPerThread));
  if (nt == 1) {
    segment(0, n);
    return;
  }
  // Chunks on block boundaries (blocks never straddle rows); element i keeps counter offset + i.
  std::vector<std::size_t> cut{0};
  for (std::size_t j = 1; j < nt; ++j) cut.push_back(std::min(n, block_boundary(j * (n / nt), L, prm.block)));
  cut.push_back(n);
  std::vector<std::thread> pool;
  for (std::size_t j = 1; j + 1 < cut.size(); ++j)
    if (cut[j + 1] > cut[j]) pool.emplace_back(segment, cut[j], cut[j + 1]);
  segment(cut[0], cut[1]);
  for (auto& th : pool) th.join();
}

float nvfp4_tensor_scale(const float* in, std::size_t n) {
  std::uint32_t amax = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t b = to_bits(in[i]) & 0x7fffffffu;
    if (b < kInfBits) amax = std::max(amax, b);
  }
  if (amax == 0) return 1.0f;
  // One rounding: amax/2688 is never within 2^-30 (relative) of a float32
  // midpoint unless it is a float32 itself, so double then float is exact.
  return static_cast<float>(static_cast<double>(from_bits(amax)) / 2688.0);
}

QuantizeSummary summarize(const float* in, const float* out, std::size_t n, std::size_t row_length,
                          FloatFormat format) {
  QuantizeSummary s;
  s.elements = n;
  if (n == 0) return s;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(out[i])) ++s.nan;
    else if (out[i] == 0 && in[i] != 0 && std::isfinite(in[i])) ++s.flushed_to_zero;
  }
  if (!format.is_block()) {
    const long double mx = format.max_finite();
    for (std::size_t i = 0; i < n; ++i) {
      if (std::isnan(in[i])) continue;
      if (format.saturates() ? std::fabs(static_cast<long double>(in[i])) > mx
                             : (std::isfinite(in[i]) && std::isinf(out[i])))
        ++s.saturated;
    }
    return s;
  }
  const std::size_t L = check_rows(n, row_length, format);
  const std::size_t k = static_cast<std::size_t>(format.block_size());
  const bool nv = format.standard() == StandardFormat::nvfp4;
  const float t = nv ? nvfp4_tensor_scale(in, n) : 1.0f;
  for (std::size_t pos = 0; pos < n;) {
    const std::size_t len = std::min(k, L - pos % L);
    const std::uint32_t amax = amax_bits(in + pos, len);
    if (amax < kInfBits) {
      // The block's largest finite value: X · element max.
      const double cap = nv ? nvfp4_block_scale(from_bits(amax), t) * 6.0
                            : std::ldexp(static_cast<double>(format.max_finite()),
                                         detail::mx_scale_exponent(amax, format.emax()));
      for (std::size_t j = 0; j < len; ++j)
        if (std::fabs(static_cast<double>(in[pos + j])) > cap) ++s.saturated;
    }
    pos += len;
  }
  return s;
}

namespace {

// quantize_buffer and quantize_relu_buffer: the elementwise kernel split over threads.
void elementwise(const float* in, float* out, std::size_t n, FloatFormat format, Rounding rounding,
                 std::uint64_t seed, std::uint64_t offset, int threads, bool relu) {
  rounding = format.effective_rounding(rounding);
  if (n == 0) return;
  const Params prm = [&] {
    Params p = make_params(format, seed);
    p.relu = relu;
    return p;
  }();
  const detail::KernelFn run = current_variant().load(std::memory_order_relaxed)->run;
  std::size_t t = threads > 1 ? static_cast<std::size_t>(threads) : 1;
  t = std::min(t, std::max<std::size_t>(1, n / kMinPerThread));
  if (t == 1) {
    run(in, out, n, prm, rounding, offset);
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
    pool.emplace_back([=, &prm] { run(in + begin, out + begin, len, prm, rounding, offset + begin); });
  }
  run(in, out, std::min(chunk, n), prm, rounding, offset);
  for (auto& th : pool) th.join();
}

}  // namespace

void quantize_buffer(const float* in, float* out, std::size_t n, FloatFormat format, Rounding rounding,
                     std::uint64_t seed, std::uint64_t offset, int threads) {
  if (format.is_block()) {
    quantize_rows(in, out, n, n, format, rounding, seed, offset, threads);
    return;
  }
  elementwise(in, out, n, format, rounding, seed, offset, threads, false);
}

void quantize_relu_rows(const float* in, float* out, std::size_t n, std::size_t row_length, FloatFormat format,
                        Rounding rounding, std::uint64_t seed, std::uint64_t offset, int threads) {
  if (!format.is_block()) {
    elementwise(in, out, n, format, rounding, seed, offset, threads, true);
    return;
  }
  // Block formats: relu into out, then the block kernel in place (two passes; rare).
  check_rows(n, row_length, format);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t b;
    std::memcpy(&b, in + i, 4);
    b = detail::relu_bits(b);
    std::memcpy(out + i, &b, 4);
  }
  quantize_rows(out, out, n, row_length, format, rounding, seed, offset, threads);
}

void quantize_relu_buffer(const float* in, float* out, std::size_t n, FloatFormat format, Rounding rounding,
                          std::uint64_t seed, std::uint64_t offset, int threads) {
  quantize_relu_rows(in, out, n, n, format, rounding, seed, offset, threads);
}

std::uint32_t random_bits(std::uint64_t seed, std::uint64_t counter) {
  return detail::splitmix_hi(mix64(seed) + counter * kGamma);
}

const char* kernel_isa() { return current_variant().load(std::memory_order_relaxed)->name; }

std::vector<std::string> kernel_isas() {
  std::vector<std::string> names;
  for (const auto& v : kVariants)
    if (v.supported()) names.insert(names.begin(), v.name);
  return names;
}

void set_kernel_isa(const std::string& name) {
  current_variant().store(&find_variant(name, "kernel variant"), std::memory_order_relaxed);
}

float quantize_value(float x, FloatFormat format, Rounding rounding, std::uint64_t seed, std::uint64_t counter) {
  float y;
  quantize_buffer(&x, &y, 1, format, rounding, seed, counter, 1);
  return y;
}

}  // namespace peppp::quant
