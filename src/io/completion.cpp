#include "peppp/io/completion.hpp"

#include "peppp/core/error.hpp"
#include "peppp/io/netcdf.hpp"
#include "schema_io.hpp"

namespace peppp::io {

void Completion::validate(const std::string& file) const {
  if (task.empty() || config.empty())
    throw InputError(file + ": completion needs at least one task and one configuration");
  detail::validate(completion_schema(), *this, file);
}

void write_completion(const std::string& path, const Completion& c) {
  c.validate(path);
  AtomicPath out(path);
  {
    NcFile f = NcFile::create(out.temp(), path);
    detail::write(f, completion_schema(), c, [&](NcFile& file) {
      file.put_att(-1, "Conventions", "CF-1.8");
      file.put_att(-1, "peppp_file", completion_schema().kind);
      file.put_att(-1, "lambda", std::vector<double>{c.lambda});
      file.put_att_int(-1, "rank", {c.rank});
      file.put_att_int(-1, "iterations", {c.iterations});
      file.put_att(-1, "objective", std::vector<double>{c.objective});
      file.put_att(-1, "gap", std::vector<double>{c.gap});
      file.put_extra_atts(c.text_attributes, c.number_attributes, {"lambda", "rank", "iterations", "objective", "gap"});
    });
    f.close();
  }
  out.commit();
}

Completion read_completion(const std::string& path) {
  NcFile f = NcFile::open(path);
  Completion c;
  detail::read(f, completion_schema(), c);
  auto attrs = f.global_attributes();
  auto number = [&](const char* key) { return detail::required_number_attribute(attrs, path, key); };
  c.lambda = number("lambda");
  c.rank = static_cast<int>(number("rank"));
  c.iterations = static_cast<int>(number("iterations"));
  c.objective = number("objective");
  c.gap = number("gap");
  c.text_attributes = attrs;
  c.validate(path);
  return c;
}

}  // namespace peppp::io
