#include "peppp/io/loocv.hpp"

#include <netcdf.h>

#include <algorithm>
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

struct MetricInfo {
  const char* name;
  const char* long_name;
  const char* units;
};
const MetricInfo kMetrics[] = {
    {"relative_error", "relative error of the estimated error vector of the held-out task (F8.5)", "1"},
    {"convergence", "convergence of the estimated Pareto frontier to the true one (F8.3)", "1"},
    {"hyperdiff", "absolute hypervolume difference of true and estimated frontiers (F8.4)", "1"},
    {"selected_error", "true test error of the configuration picked under the budget (F9)", "1"},
    {"best_feasible_error", "lowest true test error under the budget", "1"},
    {"regret", "selected_error minus best_feasible_error", "1"},
    {"measured_memory", "total memory of the configurations measured on the held-out task", "MiB"},
};

std::vector<double>* metric(Loocv& l, std::size_t i) {
  std::vector<double>* v[] = {&l.relative_error, &l.convergence,    &l.hyperdiff,      &l.selected_error,
                              &l.best_feasible_error, &l.regret, &l.measured_memory};
  return v[i];
}
}  // namespace

const std::vector<std::string>& loocv_metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& m : kMetrics) n.push_back(m.name);
    return n;
  }();
  return names;
}

std::size_t Loocv::n_steps() const {
  return measurements.empty() ? 0 : static_cast<std::size_t>(*std::max_element(measurements.begin(), measurements.end()));
}

void Loocv::allocate() {
  const std::size_t nm = n_settings() * n_methods() * n_counts() * n_folds();
  for (std::size_t i = 0; i < 7; ++i) metric(*this, i)->assign(nm, kNaN);
  selected_config.assign(nm, -1);
  selection_order.assign(n_settings() * n_methods() * n_folds() * n_steps(), -1);
  lambda.assign(n_settings() * n_folds(), kNaN);
  sampled_fraction.assign(n_settings() * n_folds(), kNaN);
  sampling_mask.assign(n_settings() * n_folds() * task.size() * config.size(), 0);
}

void Loocv::validate(const std::string& file) const {
  if (setting.empty() || method.empty() || measurements.empty() || fold.empty())
    throw InputError(file + ": loocv results need at least one setting, method, measurement count and fold");
  const std::size_t nm = n_settings() * n_methods() * n_counts() * n_folds();
  auto& self = const_cast<Loocv&>(*this);
  for (std::size_t i = 0; i < 7; ++i) need(file, kMetrics[i].name, *metric(self, i), nm);
  need(file, "selected_config", selected_config, nm);
  need(file, "fold_task", fold_task, n_folds());
  need(file, "selection_order", selection_order, n_settings() * n_methods() * n_folds() * n_steps());
  need(file, "lambda", lambda, n_settings() * n_folds());
  need(file, "sampled_fraction", sampled_fraction, n_settings() * n_folds());
  need(file, "sampling_mask", sampling_mask, n_settings() * n_folds() * task.size() * config.size());
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
    const int ds = f.def_dim("setting", l.n_settings());
    const int dm = f.def_dim("method", l.n_methods());
    const int dl = f.def_dim("measurements", l.n_counts());
    const int df = f.def_dim("fold", l.n_folds());
    const int dt = f.def_dim("task", l.task.size());
    const int dc = f.def_dim("config", l.config.size());
    const int dp = f.def_dim("step", l.n_steps());
    auto var = [&](const char* name, int type, const std::vector<int>& dims, const std::string& long_name,
                   const std::string& units) {
      int v = f.def_var(name, type, dims);
      f.put_att(v, "long_name", long_name);
      if (!units.empty()) f.put_att(v, "units", units);
      if (type == NC_DOUBLE) f.put_att(v, "_FillValue", std::vector<double>{kNaN});
      return v;
    };
    const int v_set = var("setting", NC_STRING, {ds}, "meta-LOOCV setting (METHOD.md F10)", "");
    const int v_met = var("method", NC_STRING, {dm}, "acquisition method", "");
    const int v_cnt = var("measurements", NC_INT, {dl}, "number of configurations measured on the held-out task", "1");
    const int v_fold = var("fold", NC_STRING, {df}, "held-out task", "");
    const int v_task = var("task", NC_STRING, {dt}, "task name", "");
    const int v_cfg = var("config", NC_STRING, {dc}, "configuration (Format A / Format B)", "");
    const int v_step = var("step", NC_INT, {dp}, "position in the nested selection order", "1");
    const int v_ft = var("fold_task", NC_INT, {df}, "row of the held-out task in the campaign", "1");
    const std::vector<int> m4{ds, dm, dl, df};
    int v_metric[7];
    for (int i = 0; i < 7; ++i) v_metric[i] = var(kMetrics[i].name, NC_DOUBLE, m4, kMetrics[i].long_name, kMetrics[i].units);
    const int v_sel = var("selected_config", NC_INT, m4, "index of the configuration picked under the budget (F9.1)", "1");
    f.put_att_int(v_sel, "_FillValue", {-1});
    const int v_ord = var("selection_order", NC_INT, {ds, dm, df, dp},
                          "configurations in the order the method measured them (nested in l)", "1");
    f.put_att_int(v_ord, "_FillValue", {-1});
    const int v_lam = var("lambda", NC_DOUBLE, {ds, df}, "SoftImpute lambda of the meta-training completion", "1");
    const int v_frac = var("sampled_fraction", NC_DOUBLE, {ds, df}, "observed fraction of the meta-training matrix", "1");
    const int v_mask = var("sampling_mask", NC_UBYTE, {ds, df, dt, dc}, "meta-training entries observed", "");
    f.put_att_ubyte(v_mask, "flag_values", {0, 1});
    f.put_att(v_mask, "flag_meanings", "not_observed observed");
    f.put_att(-1, "Conventions", "CF-1.8");
    f.put_att(-1, "peppp_file", "loocv");
    f.put_att(-1, "budget", std::vector<double>{l.budget});
    f.put_att(-1, "budget_units", "MiB");
    f.put_att(-1, "cap", std::vector<double>{l.cap});
    f.put_att(-1, "cap_units", "MiB");
    f.put_att_int(-1, "repeats", {l.repeats});
    f.put_extra_atts(l.text_attributes, l.number_attributes, {"budget", "budget_units", "cap", "cap_units", "repeats"});
    f.end_def();

    std::vector<int> steps(l.n_steps());
    for (std::size_t i = 0; i < steps.size(); ++i) steps[i] = static_cast<int>(i);
    f.put(v_set, l.setting);
    f.put(v_met, l.method);
    f.put(v_cnt, l.measurements);
    f.put(v_fold, l.fold);
    f.put(v_task, l.task);
    f.put(v_cfg, l.config);
    f.put(v_step, steps);
    f.put(v_ft, l.fold_task);
    auto& self = const_cast<Loocv&>(l);
    for (int i = 0; i < 7; ++i) f.put(v_metric[i], *metric(self, i));
    f.put(v_sel, l.selected_config);
    f.put(v_ord, l.selection_order);
    f.put(v_lam, l.lambda);
    f.put(v_frac, l.sampled_fraction);
    f.put(v_mask, l.sampling_mask);
    f.close();
  }
  out.commit();
}

Loocv read_loocv(const std::string& path) {
  NcFile f = NcFile::open(path);
  Loocv l;
  l.setting = f.get_strings("setting");
  l.method = f.get_strings("method");
  l.measurements = f.get_int("measurements");
  l.fold = f.get_strings("fold");
  l.task = f.get_strings("task");
  l.config = f.get_strings("config");
  const std::size_t nm = l.n_settings() * l.n_methods() * l.n_counts() * l.n_folds();
  auto check_dims = [&](const std::string& name, const std::vector<std::string>& want) {
    if (f.var_dims(name) != want) {
      std::string w;
      for (const auto& s : want) w += (w.empty() ? "" : ", ") + s;
      throw InputError(path + ": variable '" + name + "' must have dimensions (" + w + ")");
    }
  };
  l.fold_task = f.get_int("fold_task", l.n_folds());
  const std::vector<std::string> m4{"setting", "method", "measurements", "fold"};
  for (std::size_t i = 0; i < 7; ++i) {
    check_dims(kMetrics[i].name, m4);
    *metric(l, i) = f.get_double(kMetrics[i].name, nm);
  }
  check_dims("selected_config", m4);
  l.selected_config = f.get_int("selected_config", nm);
  const std::size_t steps = f.dim_len("step");
  if (steps != l.n_steps())
    throw InputError(path + ": dimension 'step' has length " + std::to_string(steps) + ", expected the largest count " +
                     std::to_string(l.n_steps()));
  l.selection_order = f.get_int("selection_order", l.n_settings() * l.n_methods() * l.n_folds() * steps);
  l.lambda = f.get_double("lambda", l.n_settings() * l.n_folds());
  l.sampled_fraction = f.get_double("sampled_fraction", l.n_settings() * l.n_folds());
  l.sampling_mask = f.get_ubyte("sampling_mask", l.n_settings() * l.n_folds() * l.task.size() * l.config.size());
  auto attrs = f.global_attributes();
  auto number = [&](const char* key, double fallback) {
    auto it = attrs.find(key);
    double v = fallback;
    if (it != attrs.end()) {
      try {
        v = std::stod(it->second);
      } catch (const std::exception&) {
        throw InputError(path + ": attribute '" + key + "' is '" + it->second + "', not a number");
      }
    }
    return v;
  };
  l.budget = number("budget", kNaN);
  l.cap = number("cap", kNaN);
  l.repeats = static_cast<int>(number("repeats", 1));
  for (auto& [k, v] : attrs) l.text_attributes[k] = v;
  l.validate(path);
  return l;
}

}  // namespace peppp::io
