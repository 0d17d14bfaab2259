#include "peppp/io/fidelity.hpp"

#include "peppp/core/error.hpp"
#include "peppp/io/netcdf.hpp"
#include "schema_io.hpp"

namespace peppp::io {

void Fidelity::allocate() { detail::allocate(fidelity_schema(), *this); }

void Fidelity::validate(const std::string& file) const {
  if (row.empty() || epoch.empty()) throw InputError(file + ": fidelity results need at least one row and one epoch");
  detail::validate(fidelity_schema(), *this, file);
}

void write_fidelity(const std::string& path, const Fidelity& f) {
  f.validate(path);
  AtomicPath out(path);
  {
    NcFile file = NcFile::create(out.temp(), path);
    detail::write(file, fidelity_schema(), f, [&](NcFile& nc) {
      nc.put_att(-1, "Conventions", "CF-1.8");
      nc.put_att(-1, "peppp_file", fidelity_schema().kind);
      nc.put_extra_atts(f.text_attributes, f.number_attributes, {});
    });
    file.close();
  }
  out.commit();
}

Fidelity read_fidelity(const std::string& path) {
  NcFile file = NcFile::open(path);
  Fidelity f;
  detail::read(file, fidelity_schema(), f);
  for (auto& [k, v] : file.global_attributes()) f.text_attributes[k] = v;
  f.validate(path);
  return f;
}

}  // namespace peppp::io
