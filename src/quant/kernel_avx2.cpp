// The fused kernel's loop compiled with -march=x86-64-v3 (AVX2, FMA, BMI2);
// see src/quant/CMakeLists.txt and kernel.cpp (run-time choice).
#include "kernel_impl.hpp"

namespace peppp::quant::detail {

void run_avx2(const float* in, float* out, std::size_t n, const Params& prm, Rounding r, std::uint64_t counter0) {
  run_serial(in, out, n, prm, r, counter0);
}

void run_blocks_avx2(const float* in, float* out, std::size_t n, const Params& prm, Rounding r,
                   std::uint64_t counter0, std::size_t col0) {
  run_blocks_serial(in, out, n, prm, r, counter0, col0);
}

}  // namespace peppp::quant::detail
