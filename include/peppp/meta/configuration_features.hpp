#pragma once
/// @file configuration_features.hpp
/// @brief Column features of per-role configurations (docs/feature-completion.md):
/// the exponent and mantissa bits of each role's Format A and of Format B,
/// parsed from the configuration labels. The completion that generalises
/// across configurations (`feature_completion.hpp`) builds on them.
///
/// Label grammar: uniform `e4m3/e6m7` (Format A / Format B); per role
/// `e4m3[first=e8m7,last=e8m7]/e6m7`: the body's Format A, then in brackets
/// the roles whose Format A differs (`first`, `last`, `attention`, `norm`,
/// comma separated, each at most once), then `/` and Format B. Any format
/// label `FloatFormat::parse` accepts (eEmM, 1-E-M, named standard formats).

#include <array>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "peppp/core/format.hpp"

namespace peppp::meta {

/// The roles of a per-role configuration, in feature order.
inline constexpr std::array<const char*, 5> kConfigurationRoles = {"body", "first", "last", "attention", "norm"};

/// A parsed configuration label: Format A per role (index as
/// `kConfigurationRoles`; a role the label does not name has the body's
/// format) and Format B.
struct RoleConfiguration {
  std::array<FloatFormat, kConfigurationRoles.size()> a;
  FloatFormat b;
  bool uniform = true;  ///< no role override in the label (no `[...]`)
};

/// Parse one label (core's `parse_configuration`, docs/roles.md) into the flat per-role view. @throws InputError with one line
/// naming the label and what is wrong (unknown role, role twice, missing `]`
/// or `/`, a format `FloatFormat::parse` refuses).
RoleConfiguration parse_role_configuration(const std::string& label);

/// True when at least one label carries role overrides (`[`): the campaign
/// has per-role configurations and its completion uses the column features.
/// Uniform campaigns (and an empty list) give false.
bool has_per_role_labels(const std::vector<std::string>& labels);

/// Number of columns of `configuration_features`: 1 + 2·5 + 2 = 13.
inline constexpr int kConfigurationFeatureCount = 1 + 2 * static_cast<int>(kConfigurationRoles.size()) + 2;

/// The names of the feature columns: "constant", "body.exponent",
/// "body.mantissa", "first.exponent", ..., "norm.mantissa", "b.exponent",
/// "b.mantissa".
std::vector<std::string> configuration_feature_names();

/// d×13 features, one row per label: 1, then per role (body, first, last,
/// attention, norm) Format A's exponent and mantissa bits (of the element
/// format for block formats), then Format B's exponent and mantissa bits.
/// @throws InputError naming the first unparsable label.
Eigen::MatrixXd configuration_features(const std::vector<std::string>& labels);

}  // namespace peppp::meta
