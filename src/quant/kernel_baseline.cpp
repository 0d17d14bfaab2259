// The fused kernel's loop compiled with the build's own flags (x86-64 baseline, or -march=native);
// see src/quant/CMakeLists.txt and kernel.cpp (run-time choice).
#include "kernel_impl.hpp"

namespace peppp::quant::detail {

void run_baseline(const float* in, float* out, std::size_t n, const Params& prm, Rounding r, std::uint64_t counter0) {
  run_serial(in, out, n, prm, r, counter0);
}

void run_blocks_baseline(const float* in, float* out, std::size_t n, const Params& prm, Rounding r,
                   std::uint64_t counter0, std::size_t col0) {
  run_blocks_serial(in, out, n, prm, r, counter0, col0);
}

}  // namespace peppp::quant::detail
