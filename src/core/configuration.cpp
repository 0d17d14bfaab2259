// Configurations with a Format A per role: the roles, the label grammar and its parser (docs/roles.md).
#include <algorithm>

#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"
#include "peppp/core/strings.hpp"

namespace peppp {

namespace {
const char* kRoleNames[] = {"body", "first", "last", "attention", "norm"};
const char* kAllowedLabel =
    "allowed: 'A/B' or 'A[role=F,...]/B' with two float formats and the roles first, last, attention, norm in "
    "that order, each at most once and with a format other than A's, e.g. e4m3/e6m7 or "
    "e4m3[first=e8m7,last=e8m7]/e6m7";

[[noreturn]] void malformed(std::string_view label, const std::string& why) {
  throw InputError("configuration '" + std::string(label) + "' is malformed (" + why + "; " + kAllowedLabel + ")");
}

// The overrides "first=e8m7,last=e8m7" of `label` onto `c` (whose body is set).
void parse_overrides(std::string_view label, const std::string& text, Configuration& c) {
  int previous = 0;
  for (const auto& item : split(text, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) malformed(label, "override '" + item + "' is not role=format");
    const std::string name = trim(item.substr(0, eq));
    const Role r = parse_role(name);
    if (r == Role::body) malformed(label, "the body's format is the one before '['");
    if (static_cast<int>(r) <= previous) malformed(label, "role '" + name + "' is out of order or repeated");
    previous = static_cast<int>(r);
    const FloatFormat f = FloatFormat::parse(item.substr(eq + 1));
    if (f == c.a) malformed(label, "role '" + name + "' has the body's format " + c.a.label());
    c.set(r, f);
  }
}
}  // namespace

std::string label(Role r) { return kRoleNames[static_cast<int>(r)]; }

Role parse_role(std::string_view label) {
  for (Role r : all_roles())
    if (label == kRoleNames[static_cast<int>(r)]) return r;
  throw InputError("role '" + std::string(label) + "' is not known (allowed: body, first, last, attention, norm)");
}

const std::vector<Role>& all_roles() {
  static const std::vector<Role> roles = {Role::body, Role::first, Role::last, Role::attention, Role::norm};
  return roles;
}

const std::vector<Role>& override_roles() {
  static const std::vector<Role> roles = {Role::first, Role::last, Role::attention, Role::norm};
  return roles;
}

const FloatFormat& Configuration::format(Role r) const {
  const auto it = roles.find(r);
  return it == roles.end() ? a : it->second;
}

bool Configuration::uniform() const {
  return std::all_of(roles.begin(), roles.end(), [this](const auto& kv) { return kv.second == a; });
}

Configuration& Configuration::set(Role r, const FloatFormat& f) {
  if (r == Role::body) {
    a = f;
  } else if (f == a) {
    roles.erase(r);
  } else {
    roles[r] = f;
  }
  return *this;
}

std::string Configuration::label() const {
  std::string overrides;
  for (Role r : override_roles()) {
    const FloatFormat& f = format(r);
    if (f != a) overrides += (overrides.empty() ? "" : ",") + peppp::label(r) + "=" + f.label();
  }
  return a.label() + (overrides.empty() ? "" : "[" + overrides + "]") + "/" + b.label();
}

bool operator==(const Configuration& x, const Configuration& y) {
  if (x.a != y.a || x.b != y.b) return false;
  for (Role r : override_roles())
    if (x.format(r) != y.format(r)) return false;
  return true;
}

Configuration Configuration::parse(std::string_view label) { return parse_configuration(label); }

Configuration parse_configuration(std::string_view label) {
  const auto parts = split(label, '/');
  if (parts.size() != 2) malformed(label, "not two formats separated by one '/'");
  Configuration c;
  c.b = FloatFormat::parse(parts[1]);
  const std::string& a = parts[0];
  const auto open = a.find('[');
  if (open == std::string::npos) {
    if (a.find(']') != std::string::npos) malformed(label, "']' without '['");
    c.a = FloatFormat::parse(a);
    return c;
  }
  if (a.back() != ']' || a.find('[', open + 1) != std::string::npos || a.find(']') != a.size() - 1)
    malformed(label, "the overrides are not one '[...]' right after Format A");
  c.a = FloatFormat::parse(a.substr(0, open));
  const std::string inside = a.substr(open + 1, a.size() - open - 2);
  if (trim(inside).empty()) malformed(label, "'[]' lists no override");
  parse_overrides(label, inside, c);
  return c;
}

}  // namespace peppp
