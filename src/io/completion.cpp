#include "peppp/io/completion.hpp"

#include <netcdf.h>

#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/io/netcdf.hpp"

namespace peppp::io {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
template <typename T>
void need(const std::string& file, const char* field, const std::vector<T>& v, std::size_t n, bool optional = false) {
  if (optional && v.empty()) return;
  if (v.size() != n)
    throw InputError(file + ": field '" + field + "' has " + std::to_string(v.size()) + " values, expected " +
                     std::to_string(n));
}
}  // namespace

void Completion::validate(const std::string& file) const {
  const std::size_t n = task.size(), d = config.size(), nd = n * d;
  if (n == 0 || d == 0) throw InputError(file + ": completion needs at least one task and one configuration");
  need(file, "error_observed", error_observed, nd);
  need(file, "error_estimate", error_estimate, nd);
  need(file, "memory", memory, nd);
  need(file, "pareto_estimate", pareto_estimate, nd);
  need(file, "pareto_true", pareto_true, nd, true);
  need(file, "convergence", convergence, n, true);
  need(file, "hyperdiff", hyperdiff, n, true);
  need(file, "relative_error", relative_error, n, true);
  const std::size_t r = sweep_ratio.size();
  need(file, "sweep_convergence", sweep_convergence, r);
  need(file, "sweep_hyperdiff", sweep_hyperdiff, r);
  need(file, "sweep_relative_error", sweep_relative_error, r);
}

void write_completion(const std::string& path, const Completion& c) {
  c.validate(path);
  AtomicPath out(path);
  {
    NcFile f = NcFile::create(out.temp(), path);
    const int dt = f.def_dim("task", c.task.size());
    const int dc = f.def_dim("config", c.config.size());
    const bool sweep = !c.sweep_ratio.empty();
    const int dr = sweep ? f.def_dim("ratio", c.sweep_ratio.size()) : -1;
    auto var = [&](const char* name, int type, const std::vector<int>& dims, const std::string& long_name,
                   const std::string& units) {
      int v = f.def_var(name, type, dims);
      f.put_att(v, "long_name", long_name);
      if (!units.empty()) f.put_att(v, "units", units);
      if (type == NC_DOUBLE) f.put_att(v, "_FillValue", std::vector<double>{kNaN});
      return v;
    };
    auto flag = [&](const char* name, const std::string& long_name) {
      int v = var(name, NC_UBYTE, {dt, dc}, long_name, "");
      f.put_att_ubyte(v, "flag_values", {0, 1});
      f.put_att(v, "flag_meanings", "dominated pareto_optimal");
      return v;
    };
    const std::vector<int> m{dt, dc};
    const int v_task = var("task", NC_STRING, {dt}, "task name", "");
    const int v_cfg = var("config", NC_STRING, {dc}, "configuration (Format A / Format B)", "");
    const int v_obs = var("error_observed", NC_DOUBLE, m, "observed test error", "1");
    const int v_est = var("error_estimate", NC_DOUBLE, m, "SoftImpute estimate of the test error", "1");
    const int v_mem = var("memory", NC_DOUBLE, m, "theoretical training memory", "MiB");
    const int v_pe = flag("pareto_estimate", "on the estimated Pareto frontier of the task");
    const int v_pt = c.pareto_true.empty() ? -1 : flag("pareto_true", "on the true Pareto frontier of the task");
    auto per_task = [&](const std::vector<double>& v, const char* name, const char* ln) {
      return v.empty() ? -1 : var(name, NC_DOUBLE, {dt}, ln, "1");
    };
    const int v_conv = per_task(c.convergence, "convergence", "convergence of the estimated frontier (F8.3)");
    const int v_hd = per_task(c.hyperdiff, "hyperdiff", "hypervolume difference of the frontiers (F8.4)");
    const int v_re = per_task(c.relative_error, "relative_error", "relative error of the task's estimate (F8.5)");
    int v_sr = -1, v_sc = -1, v_sh = -1, v_se = -1;
    if (sweep) {
      v_sr = var("ratio", NC_DOUBLE, {dr}, "uniform sampling ratio of the sweep", "1");
      v_sc = var("sweep_convergence", NC_DOUBLE, {dr}, "mean convergence over tasks at each ratio", "1");
      v_sh = var("sweep_hyperdiff", NC_DOUBLE, {dr}, "mean hyperdiff over tasks at each ratio", "1");
      v_se = var("sweep_relative_error", NC_DOUBLE, {dr}, "relative error of the completion at each ratio", "1");
    }
    f.put_att(-1, "Conventions", "CF-1.8");
    f.put_att(-1, "peppp_file", "completion");
    f.put_att(-1, "lambda", std::vector<double>{c.lambda});
    f.put_att_int(-1, "rank", {c.rank});
    f.put_att_int(-1, "iterations", {c.iterations});
    f.put_att(-1, "objective", std::vector<double>{c.objective});
    f.put_att(-1, "gap", std::vector<double>{c.gap});
    f.put_extra_atts(c.text_attributes, c.number_attributes, {"lambda", "rank", "iterations", "objective", "gap"});
    f.end_def();
    f.put(v_task, c.task);
    f.put(v_cfg, c.config);
    f.put(v_obs, c.error_observed);
    f.put(v_est, c.error_estimate);
    f.put(v_mem, c.memory);
    f.put(v_pe, c.pareto_estimate);
    if (v_pt >= 0) f.put(v_pt, c.pareto_true);
    if (v_conv >= 0) f.put(v_conv, c.convergence);
    if (v_hd >= 0) f.put(v_hd, c.hyperdiff);
    if (v_re >= 0) f.put(v_re, c.relative_error);
    if (sweep) {
      f.put(v_sr, c.sweep_ratio);
      f.put(v_sc, c.sweep_convergence);
      f.put(v_sh, c.sweep_hyperdiff);
      f.put(v_se, c.sweep_relative_error);
    }
    f.close();
  }
  out.commit();
}

Completion read_completion(const std::string& path) {
  NcFile f = NcFile::open(path);
  Completion c;
  c.task = f.get_strings("task");
  c.config = f.get_strings("config");
  const std::size_t n = c.task.size(), nd = n * c.config.size();
  c.error_observed = f.get_double("error_observed", nd);
  c.error_estimate = f.get_double("error_estimate", nd);
  c.memory = f.get_double("memory", nd);
  c.pareto_estimate = f.get_ubyte("pareto_estimate", nd);
  if (f.has_var("pareto_true")) c.pareto_true = f.get_ubyte("pareto_true", nd);
  if (f.has_var("convergence")) c.convergence = f.get_double("convergence", n);
  if (f.has_var("hyperdiff")) c.hyperdiff = f.get_double("hyperdiff", n);
  if (f.has_var("relative_error")) c.relative_error = f.get_double("relative_error", n);
  if (f.has_var("ratio")) {
    c.sweep_ratio = f.get_double("ratio");
    const std::size_t r = c.sweep_ratio.size();
    c.sweep_convergence = f.get_double("sweep_convergence", r);
    c.sweep_hyperdiff = f.get_double("sweep_hyperdiff", r);
    c.sweep_relative_error = f.get_double("sweep_relative_error", r);
  }
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
