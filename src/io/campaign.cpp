#include "peppp/io/campaign.hpp"

#include <netcdf.h>

#include <cmath>
#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/io/netcdf.hpp"

namespace peppp::io {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <typename T>
void need(const std::string& file, const char* field, const std::vector<T>& v, std::size_t n, bool optional) {
  if (optional && v.empty()) return;
  if (v.size() != n)
    throw InputError(file + ": field '" + field + "' has " + std::to_string(v.size()) + " values, expected " +
                     std::to_string(n));
}
}  // namespace

void Campaign::allocate() {
  const std::size_t n = n_tasks(), d = n_configs(), nd = n * d;
  for (auto* v : {&a_exponent_bits, &a_mantissa_bits, &b_exponent_bits, &b_mantissa_bits}) v->resize(d, 0);
  task_dataset.resize(n);
  for (auto* v : {&task_classes, &task_resolution, &task_train_size, &task_test_size}) v->resize(n, 0);
  for (auto* v : {&error, &memory, &memory_weights, &memory_activations, &memory_optimizer, &train_seconds,
                  &final_loss})
    v->assign(nd, kNaN);
  status.assign(nd, 0);
  sampling_probability.assign(nd, 0.0);
}

std::vector<TaskRow> task_rows(const Campaign& c) {
  std::vector<TaskRow> rows;
  rows.reserve(c.n_tasks());
  auto get = [](const std::vector<int>& v, std::size_t i) { return i < v.size() ? v[i] : 0; };
  for (std::size_t i = 0; i < c.n_tasks(); ++i) {
    TaskRow r = TaskRow::named(c.task[i]);
    if (i < c.task_dataset.size()) r.dataset = c.task_dataset[i];
    r.classes = get(c.task_classes, i);
    r.resolution = get(c.task_resolution, i);
    r.train_size = get(c.task_train_size, i);
    r.test_size = get(c.task_test_size, i);
    rows.push_back(std::move(r));
  }
  return rows;
}

void set_task_rows(Campaign& c, const std::vector<TaskRow>& rows) {
  c.task.clear();
  c.task_dataset.clear();
  for (auto* v : {&c.task_classes, &c.task_resolution, &c.task_train_size, &c.task_test_size}) v->clear();
  for (const auto& r : rows) {
    c.task.push_back(r.name);
    c.task_dataset.push_back(r.dataset);
    c.task_classes.push_back(r.classes);
    c.task_resolution.push_back(r.resolution);
    c.task_train_size.push_back(r.train_size);
    c.task_test_size.push_back(r.test_size);
  }
}

std::vector<Configuration> configurations(const Campaign& c) {
  std::vector<Configuration> out;
  out.reserve(c.n_configs());
  for (std::size_t j = 0; j < c.n_configs(); ++j)
    out.push_back({FloatFormat(c.a_exponent_bits.at(j), c.a_mantissa_bits.at(j)),
                   FloatFormat(c.b_exponent_bits.at(j), c.b_mantissa_bits.at(j))});
  return out;
}

void set_configurations(Campaign& c, const std::vector<Configuration>& configs) {
  c.config.clear();
  for (auto* v : {&c.a_exponent_bits, &c.a_mantissa_bits, &c.b_exponent_bits, &c.b_mantissa_bits}) v->clear();
  for (const auto& k : configs) {
    c.config.push_back(k.label());
    c.a_exponent_bits.push_back(k.a.exponent_bits());
    c.a_mantissa_bits.push_back(k.a.mantissa_bits());
    c.b_exponent_bits.push_back(k.b.exponent_bits());
    c.b_mantissa_bits.push_back(k.b.mantissa_bits());
  }
}

void Campaign::validate(const std::string& file) const {
  const std::size_t n = n_tasks(), d = n_configs(), nd = n * d;
  if (n == 0) throw InputError(file + ": campaign has no tasks");
  if (d == 0) throw InputError(file + ": campaign has no configurations");
  need(file, "a_exponent_bits", a_exponent_bits, d, false);
  need(file, "a_mantissa_bits", a_mantissa_bits, d, false);
  need(file, "b_exponent_bits", b_exponent_bits, d, false);
  need(file, "b_mantissa_bits", b_mantissa_bits, d, false);
  need(file, "error", error, nd, false);
  need(file, "memory", memory, nd, false);
  need(file, "task_dataset", task_dataset, n, true);
  need(file, "task_classes", task_classes, n, true);
  need(file, "task_resolution", task_resolution, n, true);
  need(file, "task_train_size", task_train_size, n, true);
  need(file, "task_test_size", task_test_size, n, true);
  need(file, "memory_weights", memory_weights, nd, true);
  need(file, "memory_activations", memory_activations, nd, true);
  need(file, "memory_optimizer", memory_optimizer, nd, true);
  need(file, "status", status, nd, true);
  need(file, "train_seconds", train_seconds, nd, true);
  need(file, "final_loss", final_loss, nd, true);
  need(file, "sampling_probability", sampling_probability, nd, true);
}

void write_campaign(const std::string& path, const Campaign& c) {
  c.validate(path);
  AtomicPath out(path);
  {
    NcFile f = NcFile::create(out.temp(), path);
    const int dt = f.def_dim("task", c.n_tasks());
    const int dc = f.def_dim("config", c.n_configs());
    const std::vector<int> td{dt}, cd{dc}, m{dt, dc};
    auto var = [&](const char* name, int type, const std::vector<int>& dims, const std::string& long_name,
                   const std::string& units) {
      int v = f.def_var(name, type, dims);
      f.put_att(v, "long_name", long_name);
      if (!units.empty()) f.put_att(v, "units", units);
      if (type == NC_DOUBLE) f.put_att(v, "_FillValue", std::vector<double>{kNaN});
      return v;
    };
    const int v_task = var("task", NC_STRING, td, "task name", "");
    const int v_config = var("config", NC_STRING, cd, "configuration (Format A / Format B)", "");
    const int v_ae = var("a_exponent_bits", NC_INT, cd, "Format A exponent bits (weights, activations, errors)", "bit");
    const int v_am = var("a_mantissa_bits", NC_INT, cd, "Format A mantissa bits (weights, activations, errors)", "bit");
    const int v_be = var("b_exponent_bits", NC_INT, cd, "Format B exponent bits (optimizer)", "bit");
    const int v_bm = var("b_mantissa_bits", NC_INT, cd, "Format B mantissa bits (optimizer)", "bit");
    const bool has_tasks = !c.task_dataset.empty();
    int v_ds = -1, v_cl = -1, v_res = -1, v_tr = -1, v_te = -1;
    if (has_tasks) {
      v_ds = var("task_dataset", NC_STRING, td, "source dataset of the task", "");
      v_cl = var("task_classes", NC_INT, td, "number of classes", "1");
      v_res = var("task_resolution", NC_INT, td, "image height = width", "pixel");
      v_tr = var("task_train_size", NC_INT, td, "training examples", "1");
      v_te = var("task_test_size", NC_INT, td, "test examples", "1");
    }
    const int v_err = var("error", NC_DOUBLE, m, "test misclassification rate", "1");
    const int v_mem = var("memory", NC_DOUBLE, m, "theoretical training memory", "MiB");
    auto opt = [&](const std::vector<double>& v, const char* name, const char* ln, const char* units) {
      return v.empty() ? -1 : var(name, NC_DOUBLE, m, ln, units);
    };
    const int v_mw = opt(c.memory_weights, "memory_weights", "training memory: weights", "MiB");
    const int v_ma = opt(c.memory_activations, "memory_activations", "training memory: activations", "MiB");
    const int v_mo = opt(c.memory_optimizer, "memory_optimizer", "training memory: optimizer", "MiB");
    int v_st = -1;
    if (!c.status.empty()) {
      v_st = var("status", NC_UBYTE, m, "cell status", "");
      f.put_att_ubyte(v_st, "flag_values", {0, 1, 2, 3, 4});
      f.put_att(v_st, "flag_meanings", "not_planned planned measured diverged failed");
    }
    const int v_sec = opt(c.train_seconds, "train_seconds", "wall time of the cell", "s");
    const int v_loss = opt(c.final_loss, "final_loss", "last training loss", "1");
    const int v_p = opt(c.sampling_probability, "sampling_probability",
                        "probability with which the sampling plan drew the cell", "1");
    f.put_att(-1, "Conventions", "CF-1.8");
    f.put_att(-1, "peppp_file", "campaign");
    for (const auto& [k, v] : c.text_attributes)
      if (k != "Conventions" && k != "peppp_file") f.put_att(-1, k, v);
    for (const auto& [k, v] : c.number_attributes) f.put_att(-1, k, std::vector<double>{v});
    f.end_def();

    f.put(v_task, c.task);
    f.put(v_config, c.config);
    f.put(v_ae, c.a_exponent_bits);
    f.put(v_am, c.a_mantissa_bits);
    f.put(v_be, c.b_exponent_bits);
    f.put(v_bm, c.b_mantissa_bits);
    if (has_tasks) {
      f.put(v_ds, c.task_dataset);
      f.put(v_cl, c.task_classes);
      f.put(v_res, c.task_resolution);
      f.put(v_tr, c.task_train_size);
      f.put(v_te, c.task_test_size);
    }
    f.put(v_err, c.error);
    f.put(v_mem, c.memory);
    if (v_mw >= 0) f.put(v_mw, c.memory_weights);
    if (v_ma >= 0) f.put(v_ma, c.memory_activations);
    if (v_mo >= 0) f.put(v_mo, c.memory_optimizer);
    if (v_st >= 0) f.put(v_st, c.status);
    if (v_sec >= 0) f.put(v_sec, c.train_seconds);
    if (v_loss >= 0) f.put(v_loss, c.final_loss);
    if (v_p >= 0) f.put(v_p, c.sampling_probability);
    f.close();
  }
  out.commit();
}

Campaign read_campaign(const std::string& path) {
  NcFile f = NcFile::open(path);
  Campaign c;
  c.task = f.get_strings("task");
  c.config = f.get_strings("config");
  const std::size_t n = c.task.size(), d = c.config.size(), nd = n * d;
  auto check_matrix = [&](const std::string& name) {
    auto dims = f.var_dims(name);
    if (dims.size() != 2 || dims[0] != "task" || dims[1] != "config")
      throw InputError(path + ": variable '" + name + "' must have dimensions (task, config)");
  };
  c.a_exponent_bits = f.get_int("a_exponent_bits", d);
  c.a_mantissa_bits = f.get_int("a_mantissa_bits", d);
  c.b_exponent_bits = f.get_int("b_exponent_bits", d);
  c.b_mantissa_bits = f.get_int("b_mantissa_bits", d);
  check_matrix("error");
  c.error = f.get_double("error", nd);
  check_matrix("memory");
  c.memory = f.get_double("memory", nd);
  if (f.has_var("task_dataset")) c.task_dataset = f.get_strings("task_dataset", n);
  auto opt_int = [&](const char* name, std::vector<int>& v) {
    if (f.has_var(name)) v = f.get_int(name, n);
  };
  opt_int("task_classes", c.task_classes);
  opt_int("task_resolution", c.task_resolution);
  opt_int("task_train_size", c.task_train_size);
  opt_int("task_test_size", c.task_test_size);
  auto opt_mat = [&](const char* name, std::vector<double>& v) {
    if (!f.has_var(name)) return;
    check_matrix(name);
    v = f.get_double(name, nd);
  };
  opt_mat("memory_weights", c.memory_weights);
  opt_mat("memory_activations", c.memory_activations);
  opt_mat("memory_optimizer", c.memory_optimizer);
  opt_mat("train_seconds", c.train_seconds);
  opt_mat("final_loss", c.final_loss);
  opt_mat("sampling_probability", c.sampling_probability);
  if (f.has_var("status")) {
    check_matrix("status");
    c.status = f.get_ubyte("status", nd);
    for (auto s : c.status)
      if (s > 4) throw InputError(path + ": variable 'status' holds " + std::to_string(s) + "; allowed 0..4");
  } else {
    c.status.resize(nd);
    for (std::size_t i = 0; i < nd; ++i)
      c.status[i] = static_cast<std::uint8_t>(std::isfinite(c.error[i]) ? CellStatus::measured : CellStatus::not_planned);
  }
  for (auto& [k, v] : f.global_attributes()) c.text_attributes[k] = v;
  c.validate(path);
  return c;
}

}  // namespace peppp::io
