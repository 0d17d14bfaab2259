#include "peppp/meta/configuration_features.hpp"

#include <algorithm>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"

namespace peppp::meta {

RoleConfiguration parse_role_configuration(const std::string& label) {
  // The one grammar is core's (docs/roles.md); this is its flat per-role view.
  Configuration parsed;
  try {
    parsed = parse_configuration(label);
  } catch (const InputError& e) {
    const std::string what = e.what();
    if (what.find("'" + label + "'") != std::string::npos) throw;
    throw InputError("configuration '" + label + "': " + what);
  }
  RoleConfiguration c;
  for (Role r : all_roles()) c.a[static_cast<std::size_t>(r)] = parsed.format(r);
  c.b = parsed.b;
  c.uniform = parsed.uniform();
  return c;
}

bool has_per_role_labels(const std::vector<std::string>& labels) {
  return std::any_of(labels.begin(), labels.end(), [](const std::string& l) { return l.find('[') != std::string::npos; });
}

std::vector<std::string> configuration_feature_names() {
  std::vector<std::string> names{"constant"};
  for (const char* role : kConfigurationRoles) {
    names.push_back(std::string(role) + ".exponent");
    names.push_back(std::string(role) + ".mantissa");
  }
  names.emplace_back("b.exponent");
  names.emplace_back("b.mantissa");
  return names;
}

Eigen::MatrixXd configuration_features(const std::vector<std::string>& labels) {
  Eigen::MatrixXd f(static_cast<Eigen::Index>(labels.size()), kConfigurationFeatureCount);
  for (std::size_t j = 0; j < labels.size(); ++j) {
    const RoleConfiguration c = parse_role_configuration(labels[j]);
    const auto row = static_cast<Eigen::Index>(j);
    f(row, 0) = 1.0;
    for (std::size_t r = 0; r < c.a.size(); ++r) {
      f(row, static_cast<Eigen::Index>(1 + 2 * r)) = c.a[r].exponent_bits();
      f(row, static_cast<Eigen::Index>(2 + 2 * r)) = c.a[r].mantissa_bits();
    }
    f(row, kConfigurationFeatureCount - 2) = c.b.exponent_bits();
    f(row, kConfigurationFeatureCount - 1) = c.b.mantissa_bits();
  }
  return f;
}

}  // namespace peppp::meta
