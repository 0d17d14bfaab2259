#include "peppp/io/schema.hpp"

#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/fidelity.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/io/selection.hpp"
#include "schema_io.hpp"

namespace peppp::io {

namespace {
template <class S>
void add_dims(std::vector<std::pair<std::string, std::string>>& out, const Schema<S>& schema) {
  detail::check_schema(schema);
  for (const auto& d : schema.dims) out.emplace_back(schema.kind, d.name);
}
}  // namespace

std::vector<std::pair<std::string, std::string>> all_schema_dimensions() {
  std::vector<std::pair<std::string, std::string>> out;
  add_dims(out, campaign_schema());
  add_dims(out, completion_schema());
  add_dims(out, loocv_schema());
  add_dims(out, selection_schema());
  add_dims(out, fidelity_schema());
  return out;
}

namespace detail {

double number_attribute(const std::map<std::string, std::string>& attrs, const std::string& path, const char* key,
                        double fallback) {
  const auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  try {
    return std::stod(it->second);
  } catch (const std::exception&) {
    throw InputError(path + ": attribute '" + key + "' is '" + it->second + "', not a number");
  }
}

double required_number_attribute(const std::map<std::string, std::string>& attrs, const std::string& path,
                                 const char* key) {
  if (!attrs.count(key)) throw InputError(path + ": attribute '" + key + "' missing");
  return number_attribute(attrs, path, key, 0);
}

}  // namespace detail

}  // namespace peppp::io
