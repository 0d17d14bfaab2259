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

}  // namespace peppp::io
