#include "peppp/io/selection.hpp"

#include <netcdf.h>

#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/io/netcdf.hpp"

namespace peppp::io {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
template <typename T>
void need(const std::string& file, const char* field, const std::vector<T>& v, std::size_t n) {
  if (v.size() != n)
    throw InputError(file + ": field '" + field + "' has " + std::to_string(v.size()) + " values, expected " +
                     std::to_string(n));
}
}  // namespace

void Selection::validate(const std::string& file) const {
  const std::size_t d = config.size();
  if (d == 0) throw InputError(file + ": selection has no configurations");
  need(file, "memory", memory, d);
  need(file, "predicted_error", predicted_error, d);
  need(file, "predicted_std", predicted_std, d);
  need(file, "measured", measured, d);
  need(file, "measured_error", measured_error, d);
  need(file, "pareto_estimate", pareto_estimate, d);
  if (recommended_index < -1 || recommended_index >= static_cast<int>(d))
    throw InputError(file + ": recommended_index " + std::to_string(recommended_index) + " outside -1.." +
                     std::to_string(d - 1));
}

void write_selection(const std::string& path, const Selection& s) {
  s.validate(path);
  AtomicPath out(path);
  {
    NcFile f = NcFile::create(out.temp(), path);
    const int dc = f.def_dim("config", s.config.size());
    const int dp = f.def_dim("step", s.selection_order.size());
    auto var = [&](const char* name, int type, int dim, const std::string& long_name, const std::string& units) {
      int v = f.def_var(name, type, {dim});
      f.put_att(v, "long_name", long_name);
      if (!units.empty()) f.put_att(v, "units", units);
      if (type == NC_DOUBLE) f.put_att(v, "_FillValue", std::vector<double>{kNaN});
      return v;
    };
    const int v_cfg = var("config", NC_STRING, dc, "configuration (Format A / Format B)", "");
    const int v_mem = var("memory", NC_DOUBLE, dc, "theoretical training memory on the task", "MiB");
    const int v_pe = var("predicted_error", NC_DOUBLE, dc, "predicted test error (least squares on the embedding)", "1");
    const int v_ps = var("predicted_std", NC_DOUBLE, dc, "standard deviation of the predicted error", "1");
    const int v_m = var("measured", NC_UBYTE, dc, "configuration measured on the task", "");
    f.put_att_ubyte(v_m, "flag_values", {0, 1});
    f.put_att(v_m, "flag_meanings", "predicted measured");
    const int v_me = var("measured_error", NC_DOUBLE, dc, "measured test error", "1");
    const int v_pa = var("pareto_estimate", NC_UBYTE, dc, "on the estimated Pareto frontier", "");
    f.put_att_ubyte(v_pa, "flag_values", {0, 1});
    f.put_att(v_pa, "flag_meanings", "dominated pareto_optimal");
    const int v_step = var("step", NC_INT, dp, "position in the selection order", "1");
    const int v_ord = var("selection_order", NC_INT, dp, "measured configurations in the order ED-MF chose them", "1");
    f.put_att(-1, "Conventions", "CF-1.8");
    f.put_att(-1, "peppp_file", "selection");
    f.put_att(-1, "task", s.task);
    f.put_att(-1, "budget", std::vector<double>{s.budget});
    f.put_att(-1, "budget_units", "MiB");
    f.put_att(-1, "cap", std::vector<double>{s.cap});
    f.put_att(-1, "cap_units", "MiB");
    f.put_att(-1, "recommended_config", s.recommended_config);
    f.put_att_int(-1, "recommended_index", {s.recommended_index});
    f.put_extra_atts(s.text_attributes, s.number_attributes,
                     {"task", "budget", "budget_units", "cap", "cap_units", "recommended_config", "recommended_index"});
    f.end_def();
    f.put(v_cfg, s.config);
    f.put(v_mem, s.memory);
    f.put(v_pe, s.predicted_error);
    f.put(v_ps, s.predicted_std);
    f.put(v_m, s.measured);
    f.put(v_me, s.measured_error);
    f.put(v_pa, s.pareto_estimate);
    std::vector<int> steps(s.selection_order.size());
    for (std::size_t i = 0; i < steps.size(); ++i) steps[i] = static_cast<int>(i);
    f.put(v_step, steps);
    f.put(v_ord, s.selection_order);
    f.close();
  }
  out.commit();
}

Selection read_selection(const std::string& path) {
  NcFile f = NcFile::open(path);
  Selection s;
  s.config = f.get_strings("config");
  const std::size_t d = s.config.size();
  s.memory = f.get_double("memory", d);
  s.predicted_error = f.get_double("predicted_error", d);
  s.predicted_std = f.get_double("predicted_std", d);
  s.measured = f.get_ubyte("measured", d);
  s.measured_error = f.get_double("measured_error", d);
  s.pareto_estimate = f.get_ubyte("pareto_estimate", d);
  if (f.has_var("selection_order")) s.selection_order = f.get_int("selection_order");
  auto attrs = f.global_attributes();
  auto number = [&](const char* key) {
    auto it = attrs.find(key);
    if (it == attrs.end()) throw InputError(path + ": attribute '" + key + "' missing");
    try {
      return std::stod(it->second);
    } catch (const std::exception&) {
      throw InputError(path + ": attribute '" + key + "' is '" + it->second + "', not a number");
    }
  };
  s.budget = number("budget");
  s.cap = number("cap");
  s.recommended_index = static_cast<int>(number("recommended_index"));
  s.task = attrs.count("task") ? attrs["task"] : "";
  s.recommended_config = attrs.count("recommended_config") ? attrs["recommended_config"] : "";
  s.text_attributes = attrs;
  s.validate(path);
  return s;
}

}  // namespace peppp::io
