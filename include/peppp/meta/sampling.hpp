#pragma once
/// @file sampling.hpp
/// @brief Sampling plans for the meta-training error matrix (METHOD.md F4)
/// and the small counter-based random generator every meta-layer draw uses.
///
/// All draws are derived from `peppp::mix64` (SplitMix64), never from
/// `std::` distributions, so a seed gives the same plan on every platform and
/// standard library. Masks are row-major `n·d` byte vectors: entry
/// `mask[i*d + j]` is 1 when (task i, configuration j) is measured.

#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace peppp::meta {

/// Counter-based generator: draw `c` of stream `seed` is
/// `mix64(mix64(seed) + c·golden)`. Cheap, splittable, platform independent.
class CounterRng {
 public:
  explicit CounterRng(std::uint64_t seed);
  /// The next 64 random bits.
  std::uint64_t next_u64();
  /// Uniform double in [0, 1) with 53 random bits.
  double next_double();
  /// Uniform integer in [0, n) (unbiased, by rejection); n > 0.
  std::uint64_t next_below(std::uint64_t n);
  /// Draw number `counter` of stream `seed`, without state (for per-entry draws).
  static std::uint64_t at(std::uint64_t seed, std::uint64_t counter);
  /// `at()` mapped to a uniform double in [0, 1).
  static double uniform_at(std::uint64_t seed, std::uint64_t counter);

 private:
  std::uint64_t key_;
  std::uint64_t counter_ = 0;
};

/// A uniformly random permutation of 0..n-1 (Fisher–Yates driven by
/// `CounterRng(seed)`). Deterministic across platforms.
std::vector<int> random_permutation(int n, std::uint64_t seed);

/// Uniform plan (F4.1): exactly `round(ratio·n·d)` entries of the n×d matrix,
/// drawn without replacement. Returns the row-major mask (size n·d).
/// Throws InputError unless n, d ≥ 1 and 0 ≤ ratio ≤ 1.
std::vector<std::uint8_t> sample_uniform(int n, int d, double ratio, std::uint64_t seed);

/// Non-uniform sampling probabilities (F4.2): `P_ij = p_min + (p_max − p_min)·F(1/M_ij)`
/// with `F` the empirical CDF (`≤` counting, ties share a value) of all the
/// inverse memories. Low-memory entries get the largest probability.
/// @param memory n×d memory matrix (MiB), every entry finite and > 0.
/// @param p_min  lower end of the interval (default method: 0).
/// @param p_max  upper end, 0 ≤ p_min ≤ p_max ≤ 1, p_max > 0 (default method: 0.4).
/// @return n×d probabilities in [p_min, p_max]. Throws InputError on bad input.
Eigen::MatrixXd nonuniform_probabilities(const Eigen::MatrixXd& memory, double p_min, double p_max);

/// Independent Bernoulli draws, one per entry: entry (i,j) is included iff
/// `uniform_at(seed, i*d + j) < P_ij`. Returns the row-major mask (size n·d).
/// Throws InputError if a probability is outside [0, 1] or NaN.
std::vector<std::uint8_t> sample_nonuniform(const Eigen::MatrixXd& probabilities, std::uint64_t seed);

/// `values` with NaN wherever `mask` (row-major, size n·d) is 0.
Eigen::MatrixXd apply_mask(const Eigen::MatrixXd& values, const std::vector<std::uint8_t>& mask);

/// Row-major mask of the finite (non-NaN) entries of `values`.
std::vector<std::uint8_t> observed_mask(const Eigen::MatrixXd& values);

}  // namespace peppp::meta
