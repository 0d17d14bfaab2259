#include "peppp/io/loocv.hpp"

#include <algorithm>
#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/io/netcdf.hpp"
#include "schema_io.hpp"

namespace peppp::io {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

const std::vector<std::string>& loocv_metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& m : loocv_metric_info()) n.emplace_back(m.name);
    return n;
  }();
  return names;
}

std::size_t Loocv::n_steps() const {
  return measurements.empty() ? 0 : static_cast<std::size_t>(*std::max_element(measurements.begin(), measurements.end()));
}

void Loocv::allocate() { detail::allocate(loocv_schema(), *this); }

void Loocv::validate(const std::string& file) const {
  if (setting.empty() || method.empty() || measurements.empty() || fold.empty())
    throw InputError(file + ": loocv results need at least one setting, method, measurement count and fold");
  detail::validate(loocv_schema(), *this, file);
  for (int t : fold_task)
    if (t < 0 || static_cast<std::size_t>(t) >= task.size())
      throw InputError(file + ": fold_task value " + std::to_string(t) + " outside 0.." +
                       std::to_string(task.size() - 1));
}

void write_loocv(const std::string& path, const Loocv& l) {
  l.validate(path);
  AtomicPath out(path);
  {
    NcFile f = NcFile::create(out.temp(), path);
    detail::write(f, loocv_schema(), l, [&](NcFile& file) {
      file.put_att(-1, "Conventions", "CF-1.8");
      file.put_att(-1, "peppp_file", loocv_schema().kind);
      file.put_att(-1, "budget", std::vector<double>{l.budget});
      file.put_att(-1, "budget_units", "MiB");
      file.put_att(-1, "cap", std::vector<double>{l.cap});
      file.put_att(-1, "cap_units", "MiB");
      file.put_att_int(-1, "repeats", {l.repeats});
      file.put_extra_atts(l.text_attributes, l.number_attributes,
                          {"budget", "budget_units", "cap", "cap_units", "repeats"});
    });
    f.close();
  }
  out.commit();
}

Loocv read_loocv(const std::string& path) {
  NcFile f = NcFile::open(path);
  Loocv l;
  detail::read(f, loocv_schema(), l);
  auto attrs = f.global_attributes();
  auto number = [&](const char* key, double fallback) {
    return detail::number_attribute(attrs, path, key, fallback);
  };
  l.budget = number("budget", kNaN);
  l.cap = number("cap", kNaN);
  l.repeats = static_cast<int>(number("repeats", 1));
  for (auto& [k, v] : attrs) l.text_attributes[k] = v;
  l.validate(path);
  return l;
}

}  // namespace peppp::io
