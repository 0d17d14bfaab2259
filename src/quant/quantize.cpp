// Torch entry points: CPU tensors go through the fused kernel (split over
// torch's threads), other devices through the generic tensor-op path.
#include "peppp/quant/quantize.hpp"

#include <ATen/EmptyTensor.h>
#include <ATen/Parallel.h>
#include <c10/core/Allocator.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <list>
#include <mutex>
#include <new>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/quant/kernel.hpp"

namespace peppp {

namespace {

void check_float32(const torch::Tensor& x, const char* fn) {
  if (!x.defined() || x.scalar_type() != torch::kFloat32) {
    std::ostringstream os;
    os << fn << ": tensor dtype ";
    if (x.defined()) os << x.scalar_type(); else os << "(undefined)";
    os << " is not supported (allowed: float32)";
    throw InputError(os.str());
  }
}

// Elements per torch task: small tensors stay on the calling thread.
constexpr std::int64_t kGrain = std::int64_t{1} << 16;

// Rows of the block formats: the last dimension (QUANT.md "Standard formats").
std::size_t row_length(const torch::Tensor& x) {
  return x.dim() == 0 ? 1 : static_cast<std::size_t>(x.size(-1));
}

// `relu`: round relu(in) instead (quant::quantize_relu_rows/_buffer, one pass).
void cpu_kernel(const float* in, float* out, std::int64_t n, FloatFormat f, Rounding r, std::uint64_t seed,
                std::uint64_t offset, std::size_t row_len, bool relu = false) {
  if (f.is_block()) {  // blocks along rows, nvfp4's tensor scale: the kernel splits on block boundaries
    if (n > 0 && row_len > 0) {
      const auto rows = relu ? quant::quantize_relu_rows : quant::quantize_rows;
      rows(in, out, static_cast<std::size_t>(n), row_len, f, r, seed, offset, at::get_num_threads());
    }
    return;
  }
  const auto buffer = relu ? quant::quantize_relu_buffer : quant::quantize_buffer;
  at::parallel_for(0, n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    buffer(in + begin, out + begin, static_cast<std::size_t>(end - begin), f, r, seed,
           offset + static_cast<std::uint64_t>(begin), 1);
  });
}

// ------------------------------------------------------------ output pool
// The new-tensor form's output buffers, recycled: a freed output of
// kPoolMinBytes or more goes back to a cache keyed by its byte size (the
// least recently freed evicted beyond the cap) and the next output of that
// size takes it, already mapped: no page faults and no zeroing by the
// kernel, which is what a fresh large allocation costs (more than the
// rounding itself; torch's CPU allocator returns such blocks to the OS).
// The kernel writes every element, so a recycled buffer's old contents
// never show. Cap: PEPPP_QUANT_POOL_MB (MiB, read once; 0 turns the pool
// off), default 512.
constexpr std::size_t kPoolMinBytes = std::size_t{1} << 16;
constexpr std::size_t kPoolAlign = 64;

class OutputPool final : public c10::Allocator {
 public:
  OutputPool() {
    const char* env = std::getenv("PEPPP_QUANT_POOL_MB");
    cap_ = (env && *env ? std::strtoull(env, nullptr, 10) : 512ULL) << 20;
  }
  static OutputPool& get() {
    static OutputPool* pool = new OutputPool;  // never destroyed: outputs may outlive static destruction
    return *pool;
  }
  bool enabled() const { return cap_ > 0; }
  c10::DataPtr allocate(std::size_t n) const override { return const_cast<OutputPool*>(this)->take(n); }

 private:
  struct Block {
    OutputPool* pool;
    std::size_t bytes;
    void* data;
  };
  using Lru = std::list<Block*>;  // least recently freed first

  c10::DataPtr take(std::size_t n) {
    const std::size_t bytes = (std::max<std::size_t>(n, 1) + kPoolAlign - 1) / kPoolAlign * kPoolAlign;
    Block* b = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        const auto pos = it->second.back();
        it->second.pop_back();
        b = *pos;
        lru_.erase(pos);
        held_ -= bytes;
      }
    }
    if (!b) {
      void* data = std::aligned_alloc(kPoolAlign, bytes);
      if (!data) throw std::bad_alloc();
      b = new Block{this, bytes, data};
    }
    return {b->data, b, &OutputPool::give_back, c10::Device(c10::DeviceType::CPU)};
  }

  static void give_back(void* ctx) {
    auto* b = static_cast<Block*>(ctx);
    b->pool->put(b);
  }

  void put(Block* b) {
    std::vector<Block*> evicted;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (b->bytes > cap_) {
        evicted.push_back(b);
      } else {
        while (held_ + b->bytes > cap_ && !lru_.empty()) {
          Block* old = lru_.front();
          lru_.pop_front();
          auto& v = free_[old->bytes];
          for (auto it = v.begin(); it != v.end(); ++it)
            if (**it == old) {
              v.erase(it);
              break;
            }
          held_ -= old->bytes;
          evicted.push_back(old);
        }
        lru_.push_back(b);
        free_[b->bytes].push_back(std::prev(lru_.end()));
        held_ += b->bytes;
      }
    }
    for (Block* e : evicted) {
      std::free(e->data);
      delete e;
    }
  }

  std::size_t cap_ = 0, held_ = 0;
  std::mutex mutex_;
  Lru lru_;
  std::unordered_map<std::size_t, std::vector<Lru::iterator>> free_;
};

// A new contiguous float32 CPU tensor of the given shape, uninitialized;
// large ones from the output pool.
torch::Tensor new_output(at::IntArrayRef sizes, std::int64_t numel) {
  OutputPool& pool = OutputPool::get();
  if (!pool.enabled() || static_cast<std::size_t>(numel) * sizeof(float) < kPoolMinBytes)
    return torch::empty(sizes, torch::TensorOptions().dtype(torch::kFloat32));
  return at::detail::empty_generic(sizes, &pool, c10::DispatchKeySet(c10::DispatchKey::CPU), at::kFloat,
                                   c10::MemoryFormat::Contiguous);
}

std::int64_t as_i64(std::uint64_t v) {
  std::int64_t s;
  std::memcpy(&s, &v, sizeof s);
  return s;
}

// Logical right shift of int64 tensors holding 64-bit patterns.
torch::Tensor lsr(const torch::Tensor& z, int k) {
  return torch::bitwise_and(torch::bitwise_right_shift(z, k), (std::int64_t{1} << (64 - k)) - 1);
}

}  // namespace

torch::Tensor quantize_generic(const torch::Tensor& x, FloatFormat f, Rounding r, std::uint64_t seed,
                               std::uint64_t offset) {
  check_float32(x, "quantize");
  torch::NoGradGuard no_grad;
  if (f.is_block()) {  // block formats: through the CPU kernel (same bits), back to x's device
    const auto xc = x.detach().to(torch::kCPU).contiguous();
    auto out = torch::empty_like(xc);
    cpu_kernel(xc.data_ptr<float>(), out.data_ptr<float>(), xc.numel(), f, r, seed, offset, row_length(xc));
    return out.to(x.device());
  }
  r = f.effective_rounding(r);
  const auto xc = x.detach().contiguous();
  const auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(x.device());
  const int m = f.mantissa_bits();
  const int e = f.exponent_bits();
  const std::int64_t drop = 23 - m;
  const std::int64_t keep = std::int64_t{0xffffffff} & ~((std::int64_t{1} << drop) - 1);
  const std::int64_t half = drop > 0 ? std::int64_t{1} << (drop - 1) : 0;
  const std::int64_t emin_b = f.emin() + 127;
  std::int64_t sat = e < 8 ? ((f.emax() + std::int64_t{127}) << 23) | (std::int64_t{0x7fffff} & keep) : std::int64_t{0x7f800000};
  if (e < 8 && f.is_standard()) {  // the standard's own largest finite value (ocp-e4m3 448, fp16 65504, ...)
    const float mx = static_cast<float>(f.max_finite());
    std::uint32_t b;
    std::memcpy(&b, &mx, 4);
    sat = b;
  }
  const std::int64_t minnorm = e < 8 ? emin_b << 23 : 0;
  const std::int64_t sub_base = 23 - m + emin_b;
  const float p = e < 8 ? static_cast<float>(f.min_subnormal()) : 0.0f;

  const auto ub = torch::bitwise_and(xc.view(torch::kInt32).reshape({-1}).to(torch::kInt64), std::int64_t{0xffffffff});
  const auto sign = torch::bitwise_and(ub, std::int64_t{0x80000000});
  const auto a = torch::bitwise_and(ub, std::int64_t{0x7fffffff});

  torch::Tensor rnd;
  if (r == Rounding::stochastic) {
    const std::int64_t n = a.numel();
    const std::int64_t gamma = as_i64(0x9e3779b97f4a7c15ULL);
    // z = mix64(seed) + (offset + i) * gamma, wrapping mod 2^64 like the kernel.
    auto z = torch::arange(n, i64).add_(as_i64(offset)).mul_(gamma).add_(as_i64(mix64(seed)));
    z = torch::bitwise_xor(z, lsr(z, 30)).mul_(as_i64(0xbf58476d1ce4e5b9ULL));
    z = torch::bitwise_xor(z, lsr(z, 27)).mul_(as_i64(0x94d049bb133111ebULL));
    z = torch::bitwise_xor(z, lsr(z, 31));
    rnd = lsr(z, 32);
  }

  torch::Tensor qn;
  if (r == Rounding::nearest) {
    qn = torch::bitwise_and(a + half, keep);
  } else if (r == Rounding::nearest_even) {
    const auto odd = drop > 0 ? torch::bitwise_and(torch::bitwise_right_shift(a, drop), 1) : torch::zeros_like(a);
    qn = torch::bitwise_and(a + (drop > 0 ? half - 1 : 0) + odd, keep);
  } else {
    qn = torch::bitwise_and(a + torch::bitwise_right_shift(rnd, 32 - drop), keep);
  }
  qn = torch::clamp_max(qn, sat);

  const auto ebe = torch::clamp_min(torch::bitwise_right_shift(a, 23), 1);
  const auto sig = a - torch::bitwise_left_shift(ebe - 1, 23);
  auto sh = sub_base - ebe;
  torch::Tensor k;
  if (r == Rounding::stochastic) {
    sh = torch::clamp(sh, 1, 64);
    const auto lo = torch::bitwise_right_shift(sig, torch::clamp_max(sh, 31));
    const auto frac = torch::where(sh <= 32,
                                   torch::bitwise_and(torch::bitwise_left_shift(sig, torch::clamp_min(32 - sh, 0)),
                                                      std::int64_t{0xffffffff}),
                                   torch::bitwise_right_shift(sig, torch::clamp(sh - 32, 0, 31)));
    k = lo + torch::lt(rnd, frac).to(torch::kInt64);
  } else {
    sh = torch::clamp(sh, 1, 25);
    auto bias = torch::bitwise_left_shift(torch::ones_like(sh), sh - 1);
    if (r == Rounding::nearest_even) bias = bias - 1 + torch::bitwise_and(torch::bitwise_right_shift(sig, sh), 1);
    k = torch::bitwise_right_shift(sig + bias, sh);
  }
  const auto qsf = k.to(torch::kFloat32).mul_(p);
  const auto qs = torch::bitwise_and(qsf.view(torch::kInt32).to(torch::kInt64), std::int64_t{0xffffffff});

  auto q = torch::where(a < minnorm, qs, qn);
  q = torch::where(a > std::int64_t{0x7f800000}, a, q);
  q = torch::bitwise_or(q, sign);
  // Back to int32 bit patterns without relying on out-of-range conversion.
  q = q - torch::bitwise_left_shift(torch::bitwise_right_shift(q, 31), 32);
  return q.to(torch::kInt32).view(torch::kFloat32).view(x.sizes());
}

namespace {

// quantize and quantize_relu: a new tensor from the output pool (CPU).
torch::Tensor quantize_new(const torch::Tensor& x, FloatFormat f, Rounding r, std::uint64_t seed,
                           std::uint64_t offset, bool relu) {
  check_float32(x, relu ? "quantize_relu" : "quantize");
  if (!x.device().is_cpu()) return quantize_generic(relu ? torch::relu(x) : x, f, r, seed, offset);
  torch::NoGradGuard no_grad;
  const auto xc = x.detach().contiguous();
  auto out = new_output(x.sizes(), xc.numel());
  cpu_kernel(xc.data_ptr<float>(), out.data_ptr<float>(), xc.numel(), f, r, seed, offset, row_length(xc), relu);
  return out;
}

}  // namespace

torch::Tensor quantize(const torch::Tensor& x, FloatFormat f, Rounding r, std::uint64_t seed, std::uint64_t offset) {
  return quantize_new(x, f, r, seed, offset, false);
}

torch::Tensor quantize_relu(const torch::Tensor& x, FloatFormat f, Rounding r, std::uint64_t seed,
                            std::uint64_t offset) {
  return quantize_new(x, f, r, seed, offset, true);
}

void quantize_into(const torch::Tensor& x, torch::Tensor& out, FloatFormat f, Rounding r, std::uint64_t seed,
                   std::uint64_t offset) {
  check_float32(x, "quantize_into (input)");
  check_float32(out, "quantize_into (output)");
  if (x.sizes() != out.sizes() || x.device() != out.device()) {
    std::ostringstream os;
    os << "quantize_into: output shape " << out.sizes() << " on " << out.device() << " does not match input shape "
       << x.sizes() << " on " << x.device() << " (allowed: the same shape and device)";
    throw InputError(os.str());
  }
  torch::NoGradGuard no_grad;
  if (x.device().is_cpu() && out.is_contiguous()) {
    const auto xc = x.detach().contiguous();
    cpu_kernel(xc.data_ptr<float>(), out.data_ptr<float>(), xc.numel(), f, r, seed, offset, row_length(xc));
    return;
  }
  out.copy_(quantize(x, f, r, seed, offset));
}

void quantize_(torch::Tensor& x, FloatFormat f, Rounding r, std::uint64_t seed, std::uint64_t offset) {
  check_float32(x, "quantize_");
  torch::NoGradGuard no_grad;
  if (x.device().is_cpu() && x.is_contiguous()) {
    float* d = x.data_ptr<float>();
    cpu_kernel(d, d, x.numel(), f, r, seed, offset, row_length(x));
    return;
  }
  x.copy_(quantize(x, f, r, seed, offset));
}

}  // namespace peppp
