#pragma once
/// @file quantize.hpp
/// @brief Rounding float32 tensors onto a low-precision grid (QUANT.md),
/// bit-exact; a fused multithreaded CPU kernel and a device-generic path.

#include <torch/torch.h>

#include <cstdint>

#include "peppp/core/format.hpp"

namespace peppp {

/// Round every element of `x` (float32, any shape, any strides, any device)
/// onto `format` with `rounding`; returns a new contiguous tensor of the same
/// shape on the same device. Stochastic rounding draws element i's bits from
/// a counter-based generator keyed by (seed, offset + i) in row-major order,
/// so the result does not depend on threads or device. Block formats (MX,
/// nvfp4) cut the rows along the LAST dimension into blocks (QUANT.md
/// "Standard formats"; quant::quantize_rows); nvfp4's tensor scale is over x.
/// A CPU output of 64 KiB or more comes from a pool of recycled buffers (no
/// page faults when a size repeats; capped by PEPPP_QUANT_POOL_MB, default
/// 512 MiB, 0 = off); it is an ordinary tensor otherwise.
/// @throws InputError if `x` is not float32.
torch::Tensor quantize(const torch::Tensor& x, FloatFormat format, Rounding rounding = Rounding::nearest,
                       std::uint64_t seed = 0, std::uint64_t offset = 0);

/// `quantize(torch::relu(x), ...)` in one pass (CPU; other devices: those
/// two calls), bit for bit, same stream: relu as torch's (negative values
/// become +0; −0 and NaN are kept). A new contiguous tensor, from the output
/// pool as `quantize`.
/// @throws InputError if `x` is not float32.
torch::Tensor quantize_relu(const torch::Tensor& x, FloatFormat format, Rounding rounding = Rounding::nearest,
                            std::uint64_t seed = 0, std::uint64_t offset = 0);

/// In-place form of `quantize`: `x` is overwritten (non-contiguous `x` is
/// handled through a contiguous copy written back).
void quantize_(torch::Tensor& x, FloatFormat format, Rounding rounding = Rounding::nearest,
               std::uint64_t seed = 0, std::uint64_t offset = 0);

/// `quantize` written into a given tensor `out` (same shape and device,
/// float32), without allocating when both are CPU and `out` is contiguous
/// (the form for hot loops; `out` may be `x` itself). Element order and
/// random stream as in `quantize`.
/// @throws InputError if a dtype is not float32, or shapes or devices differ.
void quantize_into(const torch::Tensor& x, torch::Tensor& out, FloatFormat format,
                   Rounding rounding = Rounding::nearest, std::uint64_t seed = 0, std::uint64_t offset = 0);

/// The device-generic path of `quantize`, written with torch tensor
/// operations (int64 views of the float32 bits, masks, `where`); gives the
/// same bits as the fused CPU kernel on any device (used for non-CPU
/// tensors; exposed for tests). Needs about 10 int64 temporaries of x's size.
/// Block formats go through the CPU kernel (copied there and back).
/// @throws InputError if `x` is not float32.
torch::Tensor quantize_generic(const torch::Tensor& x, FloatFormat format, Rounding rounding = Rounding::nearest,
                               std::uint64_t seed = 0, std::uint64_t offset = 0);

}  // namespace peppp
