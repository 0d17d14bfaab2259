#include "peppp/meta/configuration_features.hpp"

#include <algorithm>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"

namespace peppp::meta {

namespace {

constexpr const char* kGrammar = "allowed: 'A/B' or 'A[role=F,...]/B' with role first, last, attention or norm";

[[noreturn]] void refuse(const std::string& label, const std::string& why) {
  throw InputError("configuration '" + label + "': " + why + " (" + kGrammar + ")");
}

FloatFormat parse_format(const std::string& label, const std::string& text) {
  try {
    return FloatFormat::parse(text);
  } catch (const InputError&) {
    refuse(label, "format '" + text + "' is not a float format");
  }
}

// Apply the overrides "first=e8m7,last=e8m7" to c.a.
void apply_overrides(const std::string& label, const std::string& list, RoleConfiguration& c) {
  std::array<bool, kConfigurationRoles.size()> seen{};
  for (const std::string& item : split(list, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) refuse(label, "override '" + item + "' is not role=format");
    const std::string role = trim(item.substr(0, eq));
    const auto at = std::find_if(kConfigurationRoles.begin() + 1, kConfigurationRoles.end(),
                                 [&](const char* r) { return role == r; });
    if (at == kConfigurationRoles.end()) refuse(label, "unknown role '" + role + "'");
    const auto r = static_cast<std::size_t>(at - kConfigurationRoles.begin());
    if (seen[r]) refuse(label, "role '" + role + "' is given twice");
    seen[r] = true;
    c.a[r] = parse_format(label, trim(item.substr(eq + 1)));
  }
}

}  // namespace

RoleConfiguration parse_role_configuration(const std::string& label) {
  const auto slash = label.rfind('/');
  if (slash == std::string::npos) refuse(label, "no '/' before Format B");
  const std::string a = trim(label.substr(0, slash));
  RoleConfiguration c;
  c.b = parse_format(label, trim(label.substr(slash + 1)));
  const auto open = a.find('[');
  const std::string body = trim(a.substr(0, open));
  c.a.fill(parse_format(label, body));
  if (open == std::string::npos) {
    if (a.find(']') != std::string::npos) refuse(label, "']' without '['");
    return c;
  }
  if (a.back() != ']' || a.find(']') != a.size() - 1) refuse(label, "the role list must end with the one ']'");
  const std::string list = a.substr(open + 1, a.size() - open - 2);
  if (trim(list).empty()) refuse(label, "empty role list");
  apply_overrides(label, list, c);
  c.uniform = false;
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
