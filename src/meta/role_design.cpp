#include "peppp/meta/role_design.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/meta/configuration_features.hpp"
#include "peppp/meta/sampling.hpp"

namespace peppp::meta {

namespace {

// Per configuration, the ids of its role-format levels: (role, format) for
// the five roles of Format A and Format B (role index 5).
std::vector<std::vector<int>> level_ids(const std::vector<RoleConfiguration>& configs, int& levels) {
  std::map<std::pair<std::size_t, std::int64_t>, int> id;
  std::vector<std::vector<int>> out;
  for (const RoleConfiguration& c : configs) {
    std::vector<int> ids;
    for (std::size_t r = 0; r <= c.a.size(); ++r) {
      const std::int64_t code = r < c.a.size() ? c.a[r].code() : c.b.code();
      ids.push_back(id.emplace(std::make_pair(r, code), static_cast<int>(id.size())).first->second);
    }
    out.push_back(std::move(ids));
  }
  levels = static_cast<int>(id.size());
  return out;
}

}  // namespace

std::vector<std::uint8_t> sample_role_design(const std::vector<std::string>& labels, int n, double ratio,
                                             std::uint64_t seed) {
  if (n < 1) throw InputError("sampling.scheme = design: " + std::to_string(n) + " tasks; need at least one");
  if (!(ratio >= 0.0 && ratio <= 1.0))
    throw InputError("sampling.ratio = " + std::to_string(ratio) + "; allowed: [0, 1] with sampling.scheme = design");
  const std::size_t d = labels.size();
  std::vector<RoleConfiguration> configs;
  std::vector<int> mixed;
  for (std::size_t j = 0; j < d; ++j) {
    configs.push_back(parse_role_configuration(labels[j]));
    if (!configs.back().uniform) mixed.push_back(static_cast<int>(j));
  }
  int levels = 0;
  const std::vector<std::vector<int>> ids = level_ids(configs, levels);
  const auto per_task = static_cast<std::size_t>(std::llround(ratio * static_cast<double>(mixed.size())));
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(n) * d, 0);
  std::vector<double> across(static_cast<std::size_t>(levels), 0.0);
  for (int t = 0; t < n; ++t) {
    std::uint8_t* row = mask.data() + static_cast<std::size_t>(t) * d;
    for (std::size_t j = 0; j < d; ++j) row[j] = configs[j].uniform ? 1 : 0;
    std::vector<double> within(static_cast<std::size_t>(levels), 0.0);
    const std::vector<int> order = random_permutation(static_cast<int>(mixed.size()), mix64(seed + 0x9E37u * t));
    for (std::size_t pick = 0; pick < per_task; ++pick) {
      int best = -1;
      double best_within = std::numeric_limits<double>::infinity(), best_across = best_within;
      for (int q : order) {
        const auto j = static_cast<std::size_t>(mixed[static_cast<std::size_t>(q)]);
        if (row[j]) continue;
        double w = 0, a = 0;
        for (int l : ids[j]) w += within[static_cast<std::size_t>(l)], a += across[static_cast<std::size_t>(l)];
        if (w < best_within || (w == best_within && a < best_across)) {
          best = static_cast<int>(j);
          best_within = w;
          best_across = a;
        }
      }
      row[best] = 1;
      for (int l : ids[static_cast<std::size_t>(best)]) {
        within[static_cast<std::size_t>(l)] += 1;
        across[static_cast<std::size_t>(l)] += 1;
      }
    }
  }
  return mask;
}

}  // namespace peppp::meta
