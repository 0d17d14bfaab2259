#pragma once
/// @file allocator.hpp
/// @brief Process-wide malloc tuning for training: keep freed memory
/// instead of returning it to the operating system.
///
/// A training step allocates and frees the same 1–2 MiB activation and
/// gradient buffers every step. With glibc's defaults such buffers are
/// mmap'd and unmapped (or trimmed) each time, so every step page-faults
/// them in again: 2,000–4,800 faults per step, 17–27 % of an fp32 small-cnn
/// or resnet8 step on this machine (BENCHMARKS.md "Training step"). Called
/// first thing by `peppp` and the benchmarks.

namespace peppp {

/// Raise glibc's mmap threshold to 32 MiB and its trim threshold to 1 GiB
/// (`mallopt`), so freed buffers stay in the heap for the next step. The
/// environment variable `PEPPP_MALLOC_KEEP=0` leaves glibc's defaults.
/// Returns true when the tuning was applied. No-op on non-glibc systems.
bool keep_freed_memory();

}  // namespace peppp
