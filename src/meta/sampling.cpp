#include "peppp/meta/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"

namespace peppp::meta {

namespace {
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

double to_unit(std::uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }
}  // namespace

CounterRng::CounterRng(std::uint64_t seed) : key_(mix64(seed)) {}

std::uint64_t CounterRng::next_u64() { return mix64(key_ + (counter_++) * kGolden); }

double CounterRng::next_double() { return to_unit(next_u64()); }

std::uint64_t CounterRng::next_below(std::uint64_t n) {
  if (n == 0) throw RuntimeError("CounterRng::next_below: n must be positive");
  // Reject the top partial block so every residue is equally likely.
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  for (;;) {
    const std::uint64_t x = next_u64();
    if (x < limit) return x % n;
  }
}

std::uint64_t CounterRng::at(std::uint64_t seed, std::uint64_t counter) { return mix64(mix64(seed) + counter * kGolden); }

double CounterRng::uniform_at(std::uint64_t seed, std::uint64_t counter) { return to_unit(at(seed, counter)); }

std::vector<int> random_permutation(int n, std::uint64_t seed) {
  if (n < 0) throw InputError("random_permutation: n = " + std::to_string(n) + " must be >= 0");
  std::vector<int> p(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) p[static_cast<std::size_t>(i)] = i;
  CounterRng rng(seed);
  for (int i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::size_t>(rng.next_below(static_cast<std::uint64_t>(i) + 1));
    std::swap(p[static_cast<std::size_t>(i)], p[j]);
  }
  return p;
}

std::vector<std::uint8_t> sample_uniform(int n, int d, double ratio, std::uint64_t seed) {
  if (n < 1 || d < 1)
    throw InputError("sample_uniform: matrix shape " + std::to_string(n) + "x" + std::to_string(d) +
                     " must have at least one row and one column");
  if (!(ratio >= 0.0 && ratio <= 1.0))
    throw InputError("sample_uniform: ratio = " + std::to_string(ratio) + " must be in [0, 1]");
  const std::uint64_t total = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(d);
  const auto count = static_cast<std::uint64_t>(std::llround(ratio * static_cast<double>(total)));
  // Partial Fisher–Yates: the first `count` positions of a random permutation.
  std::vector<std::uint64_t> idx(total);
  for (std::uint64_t k = 0; k < total; ++k) idx[k] = k;
  CounterRng rng(seed);
  for (std::uint64_t k = 0; k < count; ++k) {
    const std::uint64_t j = k + rng.next_below(total - k);
    std::swap(idx[k], idx[j]);
  }
  std::vector<std::uint8_t> mask(total, 0);
  for (std::uint64_t k = 0; k < count; ++k) mask[idx[k]] = 1;
  return mask;
}

Eigen::MatrixXd nonuniform_probabilities(const Eigen::MatrixXd& memory, double p_min, double p_max) {
  if (memory.size() == 0) throw InputError("nonuniform_probabilities: the memory matrix is empty");
  if (!(p_min >= 0.0 && p_max <= 1.0 && p_min <= p_max && p_max > 0.0))
    throw InputError("nonuniform_probabilities: p_min = " + std::to_string(p_min) + ", p_max = " +
                     std::to_string(p_max) + "; need 0 <= p_min <= p_max <= 1 and p_max > 0");
  const Eigen::Index n = memory.rows(), d = memory.cols();
  std::vector<double> inv;
  inv.reserve(static_cast<std::size_t>(memory.size()));
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < d; ++j) {
      const double m = memory(i, j);
      if (!(std::isfinite(m) && m > 0.0))
        throw InputError("nonuniform_probabilities: memory(" + std::to_string(i) + "," + std::to_string(j) +
                         ") = " + std::to_string(m) + " MiB; every memory must be finite and > 0");
      inv.push_back(1.0 / m);
    }
  std::vector<double> sorted = inv;
  std::sort(sorted.begin(), sorted.end());
  const double total = static_cast<double>(sorted.size());
  Eigen::MatrixXd p(n, d);
  std::size_t k = 0;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < d; ++j, ++k) {
      const auto le = std::upper_bound(sorted.begin(), sorted.end(), inv[k]) - sorted.begin();
      p(i, j) = p_min + (p_max - p_min) * (static_cast<double>(le) / total);
    }
  return p;
}

std::vector<std::uint8_t> sample_nonuniform(const Eigen::MatrixXd& probabilities, std::uint64_t seed) {
  const Eigen::Index n = probabilities.rows(), d = probabilities.cols();
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(n * d), 0);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < d; ++j) {
      const double p = probabilities(i, j);
      if (!(p >= 0.0 && p <= 1.0))
        throw InputError("sample_nonuniform: probability(" + std::to_string(i) + "," + std::to_string(j) +
                         ") = " + std::to_string(p) + "; must be in [0, 1]");
      const auto k = static_cast<std::uint64_t>(i * d + j);
      mask[k] = CounterRng::uniform_at(seed, k) < p ? 1 : 0;
    }
  return mask;
}

Eigen::MatrixXd apply_mask(const Eigen::MatrixXd& values, const std::vector<std::uint8_t>& mask) {
  const Eigen::Index n = values.rows(), d = values.cols();
  if (static_cast<Eigen::Index>(mask.size()) != n * d)
    throw InputError("apply_mask: mask has " + std::to_string(mask.size()) + " entries, matrix " +
                     std::to_string(n) + "x" + std::to_string(d) + " needs " + std::to_string(n * d));
  Eigen::MatrixXd out = values;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < d; ++j)
      if (!mask[static_cast<std::size_t>(i * d + j)]) out(i, j) = std::numeric_limits<double>::quiet_NaN();
  return out;
}

std::vector<std::uint8_t> observed_mask(const Eigen::MatrixXd& values) {
  const Eigen::Index n = values.rows(), d = values.cols();
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(n * d), 0);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < d; ++j) mask[static_cast<std::size_t>(i * d + j)] = std::isnan(values(i, j)) ? 0 : 1;
  return mask;
}

}  // namespace peppp::meta
