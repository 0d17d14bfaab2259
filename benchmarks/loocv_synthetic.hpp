#pragma once
// The synthetic n × d meta-LOOCV matrix of bench_loocv (rank 3 around 0.3
// plus 0.005 noise, F2-shaped memory, every third task 4× the memory; d = 99
// by default), shared by bench_loocv and loocv_campaign (which writes it as a
// campaign file for `peppp loocv`, e.g. the growth curve's 40 × 99 …
// 320 × 800 matrices of BENCHMARKS.md).
#include <cmath>
#include <cstdint>
#include <string>

#include "peppp/core/strings.hpp"
#include "peppp/meta/loocv.hpp"

namespace peppp::bench {

inline double gauss(std::uint64_t seed, std::uint64_t k) {
  const double u1 = (static_cast<double>(peppp::mix64(peppp::mix64(seed) + 2 * k) >> 11) + 0.5) / 9007199254740992.0;
  const double u2 = (static_cast<double>(peppp::mix64(peppp::mix64(seed) + 2 * k + 1) >> 11) + 0.5) / 9007199254740992.0;
  return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

inline peppp::meta::LoocvData synthetic_loocv(int n, int d = 99) {
  peppp::meta::LoocvData data;
  for (int i = 0; i < n; ++i) data.task.push_back("t" + std::to_string(i));
  for (int j = 0; j < d; ++j) data.config.push_back("c" + std::to_string(j));
  for (int i = 0; i < n; ++i) {
    const double scale = i % 3 == 0 ? 4.0 : 1.0;  // "64x64" tasks fit few configurations under the cap
    for (int j = 0; j < d; ++j) {
      const int bits_a = 5 + (j / 9) % 5, bits_b = 14 + j % 9 % 7;
      data.memory.push_back(scale * (8.0 * bits_a + 1.5 * bits_b));
      double e = 0.3;
      for (int r = 0; r < 3; ++r) e += 0.05 * gauss(1, 100000 * r + i) * gauss(2, 100000 * r + j);
      data.error.push_back(e + 0.005 * gauss(3, static_cast<std::uint64_t>(i) * d + j));
    }
  }
  return data;
}

/// The cap bench_loocv uses: every task can measure 15 configurations.
constexpr double kSyntheticCap = 4.0 * (8.0 * 5 + 1.5 * 20) + 1;

}  // namespace peppp::bench
