#include "peppp/io/selection.hpp"

#include "peppp/core/error.hpp"
#include "peppp/io/netcdf.hpp"
#include "schema_io.hpp"

namespace peppp::io {

void Selection::validate(const std::string& file) const {
  const std::size_t d = config.size();
  if (d == 0) throw InputError(file + ": selection has no configurations");
  detail::validate(selection_schema(), *this, file);
  if (recommended_index < -1 || recommended_index >= static_cast<int>(d))
    throw InputError(file + ": recommended_index " + std::to_string(recommended_index) + " outside -1.." +
                     std::to_string(d - 1));
}

void write_selection(const std::string& path, const Selection& s) {
  s.validate(path);
  AtomicPath out(path);
  {
    NcFile f = NcFile::create(out.temp(), path);
    detail::write(f, selection_schema(), s, [&](NcFile& file) {
      file.put_att(-1, "Conventions", "CF-1.8");
      file.put_att(-1, "peppp_file", selection_schema().kind);
      file.put_att(-1, "task", s.task);
      file.put_att(-1, "budget", std::vector<double>{s.budget});
      file.put_att(-1, "budget_units", "MiB");
      file.put_att(-1, "cap", std::vector<double>{s.cap});
      file.put_att(-1, "cap_units", "MiB");
      file.put_att(-1, "recommended_config", s.recommended_config);
      file.put_att_int(-1, "recommended_index", {s.recommended_index});
      file.put_att(-1, "expected_regret", std::vector<double>{s.expected_regret});
      file.put_att(-1, "acquisition", s.acquisition);
      file.put_extra_atts(s.text_attributes, s.number_attributes,
                          {"task", "budget", "budget_units", "cap", "cap_units", "recommended_config",
                           "recommended_index", "expected_regret", "acquisition"});
    });
    f.close();
  }
  out.commit();
}

Selection read_selection(const std::string& path) {
  NcFile f = NcFile::open(path);
  Selection s;
  detail::read(f, selection_schema(), s);
  auto attrs = f.global_attributes();
  auto number = [&](const char* key) { return detail::required_number_attribute(attrs, path, key); };
  s.budget = number("budget");
  s.cap = number("cap");
  s.recommended_index = static_cast<int>(number("recommended_index"));
  s.task = attrs.count("task") ? attrs["task"] : "";
  s.recommended_config = attrs.count("recommended_config") ? attrs["recommended_config"] : "";
  // Files written before sequential selection have neither.
  if (attrs.count("expected_regret")) s.expected_regret = number("expected_regret");
  s.acquisition = attrs.count("acquisition") ? attrs["acquisition"] : "ed-mf";
  s.text_attributes = attrs;
  s.validate(path);
  return s;
}

}  // namespace peppp::io
