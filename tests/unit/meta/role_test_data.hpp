#pragma once
// Synthetic per-role campaigns for the feature-completion tests: labels of
// every role combination and an error matrix from the formats' bits through
// a known low-rank nonlinear map plus noise.
#include <cmath>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "peppp/meta/configuration_features.hpp"
#include "peppp/meta/sampling.hpp"

namespace peppp::test {

// Every combination of body × first × last × attention (empty list: the
// body's format) × B, labelled in the per-role grammar (only differing roles).
inline std::vector<std::string> role_labels(const std::vector<std::string>& body, const std::vector<std::string>& first,
                                            const std::vector<std::string>& last,
                                            const std::vector<std::string>& attention,
                                            const std::vector<std::string>& b) {
  std::vector<std::string> out;
  auto or_body = [](const std::vector<std::string>& l, const std::string& x) {
    return l.empty() ? std::vector<std::string>{x} : l;
  };
  for (const auto& bo : body)
    for (const auto& f : or_body(first, bo))
      for (const auto& l : or_body(last, bo))
        for (const auto& at : or_body(attention, bo))
          for (const auto& fb : b) {
            std::string over;
            const std::pair<const char*, const std::string*> roles[] = {{"first", &f}, {"last", &l}, {"attention", &at}};
            for (const auto& [name, fmt] : roles)
              if (*fmt != bo) over += std::string(over.empty() ? "" : ",") + name + "=" + *fmt;
            out.push_back(bo + (over.empty() ? "" : "[" + over + "]") + "/" + fb);
          }
  return out;
}

// n×d errors in (0, 1): e_ij = sigmoid(b_i + Σ_c a_ic h_c(f_j)) · (1 + noise·z),
// with nonlinear column functions h_c of the role bits (roundoff 2^-M per
// role weighted per role, a range penalty for few exponent bits, Format B's
// roundoff) and task loadings a_i, b_i drawn from the seed.
inline Eigen::MatrixXd role_errors(const std::vector<std::string>& labels, int n, double noise, std::uint64_t seed) {
  const Eigen::MatrixXd f = meta::configuration_features(labels);
  const auto d = static_cast<Eigen::Index>(labels.size());
  Eigen::MatrixXd h(d, 3);
  for (Eigen::Index j = 0; j < d; ++j) {
    // columns of f: 0 constant, 1+2r exponent and 2+2r mantissa of role r, 11/12 Format B
    const double body = std::exp2(-f(j, 2)), first = std::exp2(-f(j, 4)), last = std::exp2(-f(j, 6));
    const double att = std::exp2(-f(j, 8)), range = std::exp(-(f(j, 1) - 2.0)) + 0.5 * std::exp(-(f(j, 7) - 2.0));
    h(j, 0) = 8.0 * body + 3.0 * first + 2.0 * last + 2.0 * att;
    h(j, 1) = 2.0 * range + 4.0 * last;
    h(j, 2) = 30.0 * std::exp2(-f(j, 12)) + 1.5 * first;
  }
  meta::CounterRng rng(seed);
  Eigen::MatrixXd e(n, d);
  for (int i = 0; i < n; ++i) {
    const double b = -2.2 + 0.8 * rng.next_double();
    const double a0 = 0.5 + rng.next_double(), a1 = 0.2 + 0.8 * rng.next_double(), a2 = 0.3 * rng.next_double();
    for (Eigen::Index j = 0; j < d; ++j) {
      const double z = 2.0 * rng.next_double() - 1.0;
      const double x = b + a0 * h(j, 0) + a1 * h(j, 1) + a2 * h(j, 2);
      e(i, j) = (1.0 / (1.0 + std::exp(-x))) * (1.0 + noise * z);
    }
  }
  return e;
}

}  // namespace peppp::test
