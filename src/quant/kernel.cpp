// The fused CPU kernel: one pass over the float32 bits, every element through
// the same branch-free sequence (normal path, exact integer subnormal path,
// saturation, NaN, sign), so that the loop auto-vectorizes. The loop itself
// is kernel_impl.hpp, compiled once per instruction set; this file picks the
// variant once (best the CPU runs, or PEPPP_QUANT_ISA) and splits the work.
#include "peppp/quant/kernel.hpp"

#include <algorithm>
#include <atomic>
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

// ---------------------------------------------------------------- variants
struct Variant {
  const char* name;
  detail::KernelFn run;
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
    {"avx512", detail::run_avx512, cpu_x86_64_v4},
#endif
#ifdef PEPPP_QUANT_HAVE_AVX2
    {"avx2", detail::run_avx2, cpu_x86_64_v3},
#endif
    {"baseline", detail::run_baseline, always},
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

}  // namespace

void quantize_buffer(const float* in, float* out, std::size_t n, FloatFormat format, Rounding rounding,
                     std::uint64_t seed, std::uint64_t offset, int threads) {
  if (n == 0) return;
  const Params prm = make_params(format, seed);
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
