#include "peppp/io/campaign.hpp"

#include <cmath>
#include <cstdio>
#include <set>

#include "peppp/core/error.hpp"
#include "peppp/io/netcdf.hpp"
#include "replicates.hpp"
#include "schema_io.hpp"

namespace peppp::io {

void Campaign::allocate() { detail::allocate(campaign_schema(), *this); }

std::string Campaign::row_model_of(std::size_t t) const {
  if (t < row_model.size()) return row_model[t];
  const auto it = text_attributes.find("model");
  return it == text_attributes.end() ? std::string() : it->second;
}

double Campaign::row_learning_rate_of(std::size_t t) const {
  if (t < row_learning_rate.size()) return row_learning_rate[t];
  const auto n = number_attributes.find("learning_rate");
  if (n != number_attributes.end()) return n->second;
  const auto it = text_attributes.find("learning_rate");
  double v = kNcNaN;
  if (it != text_attributes.end()) {
    try {
      v = std::stod(it->second);
    } catch (const std::exception&) {
    }
  }
  return v;
}

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Values, not only shapes: every cell's numbers must be possible.
void validate_values(const Campaign& c, const std::string& file) {
  const std::size_t d = c.n_configs(), R = c.n_replicates();
  auto cell = [&](std::size_t i) {
    return "task '" + c.task[i / d] + "', config '" + c.config[i % d] + "'";
  };
  std::set<std::string> seen;
  for (const auto& t : c.task)
    if (!seen.insert(t).second) throw InputError(file + ": variable 'task': the label '" + t + "' appears twice; task labels must be unique");
  seen.clear();
  for (const auto& k : c.config)
    if (!seen.insert(k).second)
      throw InputError(file + ": variable 'config': the label '" + k + "' appears twice; configuration labels must be unique");
  for (std::size_t i = 0; i < c.error.size(); ++i) {
    const double e = c.error[i];
    if (!std::isnan(e) && !(e >= 0 && e <= 1))
      throw InputError(file + ": variable 'error' at " + cell(i) + " holds " + num(e) +
                       "; allowed: a misclassification rate in [0, 1], or NaN where not measured");
  }
  for (std::size_t i = 0; i < c.error_replicates.size(); ++i) {
    const double e = c.error_replicates[i];
    if (!std::isnan(e) && !(e >= 0 && e <= 1))
      throw InputError(file + ": variable 'error_replicates' at " + cell(i / R) + ", replicate " +
                       std::to_string(i % R) + " holds " + num(e) + "; allowed: [0, 1], or NaN where not measured");
  }
  for (std::size_t i = 0; i < c.error_std.size(); ++i)
    if (!std::isnan(c.error_std[i]) && !(c.error_std[i] >= 0 && c.error_std[i] <= 1))
      throw InputError(file + ": variable 'error_std' at " + cell(i) + " holds " + num(c.error_std[i]) +
                       "; allowed: [0, 1], or NaN");
  for (std::size_t i = 0; i < c.memory.size(); ++i)
    if (!(std::isfinite(c.memory[i]) && c.memory[i] > 0))
      throw InputError(file + ": variable 'memory' at " + cell(i) + " holds " + num(c.memory[i]) +
                       "; allowed: a finite number of MiB > 0");
  const std::pair<const char*, const std::vector<double>*> parts[] = {
      {"memory_weights", &c.memory_weights}, {"memory_activations", &c.memory_activations},
      {"memory_optimizer", &c.memory_optimizer}};
  for (const auto& [name, v] : parts)
    for (std::size_t i = 0; i < v->size(); ++i)
      if (!std::isnan((*v)[i]) && !(std::isfinite((*v)[i]) && (*v)[i] >= 0))
        throw InputError(file + ": variable '" + name + "' at " + cell(i) + " holds " + num((*v)[i]) +
                         "; allowed: a finite number of MiB >= 0, or NaN where unknown");
  for (std::size_t i = 0; i < c.sampling_probability.size(); ++i) {
    const double p = c.sampling_probability[i];
    if (!std::isnan(p) && !(p >= 0 && p <= 1))
      throw InputError(file + ": variable 'sampling_probability' at " + cell(i) + " holds " + num(p) +
                       "; allowed: [0, 1]");
  }
  for (std::size_t t = 0; t < c.row_learning_rate.size(); ++t)
    if (!(std::isfinite(c.row_learning_rate[t]) && c.row_learning_rate[t] > 0))
      throw InputError(file + ": variable 'row_learning_rate' at row '" + c.task[t] + "' holds " +
                       num(c.row_learning_rate[t]) + "; allowed: a learning rate > 0");
  for (std::size_t e = 0; e < c.epoch.size(); ++e)
    if (c.epoch[e] < 1 || (e > 0 && c.epoch[e] <= c.epoch[e - 1]))
      throw InputError(file + ": variable 'epoch' holds " + std::to_string(c.epoch[e]) + " at index " +
                       std::to_string(e) + "; allowed: increasing epoch numbers >= 1");
  const std::size_t E = c.n_epochs();
  for (std::size_t i = 0; i < c.error_by_epoch.size(); ++i) {
    const double e = c.error_by_epoch[i];
    if (!std::isnan(e) && !(e >= 0 && e <= 1))
      throw InputError(file + ": variable 'error_by_epoch' at " + cell(i / E) + ", epoch " +
                       std::to_string(c.epoch[i % E]) + " holds " + num(e) + "; allowed: [0, 1], or NaN where not measured");
  }
  for (std::size_t i = 0; i < c.status.size() && i < c.error.size(); ++i) {
    const auto st = static_cast<CellStatus>(c.status[i]);
    const bool finite = std::isfinite(c.error[i]);
    if (st == CellStatus::measured && !finite)
      throw InputError(file + ": " + cell(i) + " has status 'measured' but error " + num(c.error[i]) +
                       "; a measured cell needs a finite error (status and error disagree)");
    if ((st == CellStatus::not_planned || st == CellStatus::planned || st == CellStatus::failed) && finite)
      throw InputError(file + ": " + cell(i) + " has status '" + label(st) + "' but error " + num(c.error[i]) +
                       "; only a measured or diverged cell has an error (status and error disagree)");
  }
}

}  // namespace

void Campaign::validate(const std::string& file) const {
  if (n_tasks() == 0) throw InputError(file + ": campaign has no tasks");
  if (n_configs() == 0) throw InputError(file + ": campaign has no configurations");
  detail::validate(campaign_schema(), *this, file);
  validate_values(*this, file);
}

void set_cell_replicates(Campaign& c, std::size_t i, const std::vector<ReplicateResult>& r) {
  const std::size_t R = c.n_replicates();
  if (r.size() != R || c.error_replicates.size() != c.error.size() * R)
    throw RuntimeError("campaign: cell " + std::to_string(i) + " has " + std::to_string(r.size()) +
                       " replicate results, expected " + std::to_string(R));
  bool finished = true, diverged = false;
  std::size_t failed = 0, finite = 0, kept = 0;
  double sum = 0, loss = 0, seconds = 0;
  for (std::size_t k = 0; k < R; ++k) {
    const ReplicateResult& x = r[k];
    const bool done = x.status == CellStatus::measured || x.status == CellStatus::diverged ||
                      x.status == CellStatus::failed;
    c.error_replicates[i * R + k] = done && x.status != CellStatus::failed ? x.error : kNcNaN;
    if (!done) {
      finished = false;
      continue;
    }
    seconds += x.seconds;
    if (x.status == CellStatus::failed) {
      ++failed;
      continue;
    }
    diverged = diverged || x.status == CellStatus::diverged;
    loss += x.loss;
    ++kept;
    if (std::isfinite(x.error)) {
      sum += x.error;
      ++finite;
    }
  }
  c.error_std[i] = kNcNaN;
  if (!finished) {
    c.status[i] = static_cast<std::uint8_t>(CellStatus::planned);
    c.error[i] = c.final_loss[i] = c.train_seconds[i] = kNcNaN;
    return;
  }
  c.train_seconds[i] = seconds;
  if (failed == R) {
    c.status[i] = static_cast<std::uint8_t>(CellStatus::failed);
    c.error[i] = c.final_loss[i] = kNcNaN;
    return;
  }
  const std::size_t E = c.n_epochs();
  if (E > 0 && c.error_by_epoch.size() == c.error.size() * E && c.loss_by_epoch.size() == c.error.size() * E) {
    for (std::size_t e = 0; e < E; ++e) {
      double se = 0, sl = 0;
      std::size_t ne = 0, nl = 0;
      for (std::size_t k = 0; k < R; ++k) {
        const ReplicateResult& x = r[k];
        if (x.status == CellStatus::failed) continue;
        if (e < x.error_by_epoch.size() && std::isfinite(x.error_by_epoch[e])) {
          se += x.error_by_epoch[e];
          ++ne;
        }
        if (e < x.loss_by_epoch.size() && !std::isnan(x.loss_by_epoch[e])) {
          sl += x.loss_by_epoch[e];
          ++nl;
        }
      }
      c.error_by_epoch[i * E + e] = ne ? se / static_cast<double>(ne) : kNcNaN;
      c.loss_by_epoch[i * E + e] = nl ? sl / static_cast<double>(nl) : kNcNaN;
    }
  }
  c.status[i] = static_cast<std::uint8_t>(diverged ? CellStatus::diverged : CellStatus::measured);
  c.final_loss[i] = loss / static_cast<double>(kept);
  c.error[i] = finite > 0 ? sum / static_cast<double>(finite) : kNcNaN;
  if (finite >= 2) c.error_std[i] = detail::finite_std(&c.error_replicates[i * R], R, c.error[i], finite);
}

std::string encode_task_definitions(const std::vector<std::string>& names,
                                    const std::vector<std::string>& definitions) {
  std::string out;
  for (std::size_t t = 0; t < names.size() && t < definitions.size(); ++t) {
    out += (out.empty() ? "" : "\n") + std::string("[task ") + names[t] + "]";
    std::size_t at = 0;
    while (at < definitions[t].size()) {
      std::size_t end = definitions[t].find('\n', at);
      if (end == std::string::npos) end = definitions[t].size();
      if (end > at) out += "\n" + definitions[t].substr(at, end - at);
      at = end + 1;
    }
  }
  return out;
}

std::vector<TaskRow> task_rows(const Campaign& c) {
  auto at = [](const auto& column, std::size_t i) {
    using T = typename std::decay_t<decltype(column)>::value_type;
    return i < column.size() ? column[i] : T{};
  };
  std::vector<TaskRow> rows;
  for (std::size_t i = 0; i < c.n_tasks(); ++i) {
    TaskRow r;
    r.name = c.task[i];
    r.dataset = at(c.task_dataset, i);
    r.classes = at(c.task_classes, i);
    r.resolution = at(c.task_resolution, i);
    r.train_size = at(c.task_train_size, i);
    r.test_size = at(c.task_test_size, i);
    if (c.has_row_columns()) {
      r.task = at(c.row_task, i);
      r.model = at(c.row_model, i);
      r.learning_rate = at(c.row_learning_rate, i);
    }
    rows.push_back(r);
  }
  return rows;
}

void set_task_rows(Campaign& c, const std::vector<TaskRow>& rows) {
  c.task.clear();
  c.task_dataset.clear();
  for (auto* v : {&c.task_classes, &c.task_resolution, &c.task_train_size, &c.task_test_size}) v->clear();
  c.row_task.clear();
  c.row_model.clear();
  c.row_learning_rate.clear();
  bool expanded = false;
  for (const auto& r : rows) expanded = expanded || r.expanded();
  for (const auto& r : rows) {
    if (expanded) {
      c.row_task.push_back(r.task_name());
      c.row_model.push_back(r.model);
      c.row_learning_rate.push_back(r.learning_rate);
    }
    c.task.push_back(r.name);
    c.task_dataset.push_back(r.dataset);
    c.task_classes.push_back(r.classes);
    c.task_resolution.push_back(r.resolution);
    c.task_train_size.push_back(r.train_size);
    c.task_test_size.push_back(r.test_size);
  }
}

std::vector<Configuration> configurations(const Campaign& c, const std::string& file) {
  const std::size_t d = c.n_configs();
  for (const auto* v : {&c.a_exponent_bits, &c.a_mantissa_bits, &c.b_exponent_bits, &c.b_mantissa_bits})
    if (v->size() != d)
      throw InputError(file + ": the bit counts have " + std::to_string(v->size()) + " values for " +
                       std::to_string(d) + " configurations");
  std::vector<Configuration> out;
  for (std::size_t j = 0; j < d; ++j) {
    try {
      Configuration k{FloatFormat(c.a_exponent_bits[j], c.a_mantissa_bits[j]),
                      FloatFormat(c.b_exponent_bits[j], c.b_mantissa_bits[j])};
      // Named formats (QUANT.md "Standard formats") share E and M with an
      // eEmM grid: the label says which, when its bits agree with the columns.
      if (j < c.config.size()) {
        try {
          const Configuration named = Configuration::parse(c.config[j]);
          auto same_bits = [](const FloatFormat& x, const FloatFormat& y) {
            return x.exponent_bits() == y.exponent_bits() && x.mantissa_bits() == y.mantissa_bits();
          };
          if (same_bits(named.a, k.a) && same_bits(named.b, k.b)) k = named;
        } catch (const InputError&) {
        }
      }
      out.push_back(k);
    } catch (const InputError& e) {
      throw InputError(file + ": configuration '" + c.config[j] + "' (index " + std::to_string(j) + "): " + e.what());
    }
  }
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
  for (auto* v : {&c.a_block_size, &c.a_scale_bits, &c.b_block_size, &c.b_scale_bits}) v->clear();
  bool named = false;
  for (const auto& k : configs) named = named || k.a.is_standard() || k.b.is_standard();
  if (!named) return;
  for (const auto& k : configs) {
    c.a_block_size.push_back(k.a.block_size());
    c.a_scale_bits.push_back(k.a.scale_bits());
    c.b_block_size.push_back(k.b.block_size());
    c.b_scale_bits.push_back(k.b.scale_bits());
  }
}

Campaign campaign_at_epoch(const Campaign& c, int epoch, const std::string& file) {
  const std::size_t E = c.n_epochs();
  if (E == 0 || c.error_by_epoch.empty())
    throw InputError("--epoch " + std::to_string(epoch) + ": " + file +
                     " has no per-epoch errors (variable 'error_by_epoch'; measured before peppp recorded them, "
                     "or an external matrix); allowed: no --epoch");
  std::size_t e = E;
  for (std::size_t k = 0; k < E; ++k)
    if (c.epoch[k] == epoch) e = k;
  if (e == E)
    throw InputError("--epoch " + std::to_string(epoch) + ": " + file + " records the errors after epochs " +
                     std::to_string(c.epoch.front()) + ".." + std::to_string(c.epoch.back()) +
                     "; allowed: one of them");
  Campaign out = c;
  const std::size_t nd = c.n_tasks() * c.n_configs();
  out.replicate = {0};
  out.error.assign(nd, kNcNaN);
  out.error_std.assign(nd, kNcNaN);
  for (std::size_t i = 0; i < nd; ++i) {
    const double v = c.error_by_epoch[i * E + e];
    const auto st = static_cast<CellStatus>(c.status[i]);
    const bool result = st == CellStatus::measured || st == CellStatus::diverged;
    if (result && std::isfinite(v)) {
      out.error[i] = v;
    } else if (result) {
      out.status[i] = static_cast<std::uint8_t>(CellStatus::planned);
    }
    if (!c.loss_by_epoch.empty() && i < out.final_loss.size()) out.final_loss[i] = c.loss_by_epoch[i * E + e];
  }
  out.error_replicates = out.error;
  out.number_attributes["epoch_used"] = epoch;
  return out;
}

void write_campaign(const std::string& path, const Campaign& c) {
  c.validate(path);
  AtomicPath out(path);
  {
    NcFile f = NcFile::create(out.temp(), path);
    detail::write(f, campaign_schema(), c, [&](NcFile& file) {
      file.put_att(-1, "Conventions", "CF-1.8");
      file.put_att(-1, "peppp_file", campaign_schema().kind);
      for (const auto& [k, v] : c.text_attributes)
        if (k != "Conventions" && k != "peppp_file") file.put_att(-1, k, v);
      for (const auto& [k, v] : c.number_attributes) file.put_att(-1, k, std::vector<double>{v});
    });
    f.close();
  }
  out.commit();
}

Campaign read_campaign(const std::string& path) {
  NcFile f = NcFile::open(path);
  Campaign c;
  detail::read(f, campaign_schema(), c);
  const std::size_t nd = c.n_tasks() * c.n_configs();
  if (f.has_var("status")) {
    for (auto s : c.status)
      if (s > 4) throw InputError(path + ": variable 'status' holds " + std::to_string(s) + "; allowed 0..4");
  } else {
    c.status.resize(nd);
    for (std::size_t i = 0; i < nd; ++i)
      c.status[i] = static_cast<std::uint8_t>(std::isfinite(c.error[i]) ? peppp::CellStatus::measured : peppp::CellStatus::not_planned);
  }
  if (c.replicate.empty() || c.error_replicates.empty()) {  // before replicates, or a minimal file: R = 1
    c.replicate = {0};
    c.error_replicates = c.error;
  }
  if (c.error_std.empty()) c.error_std.assign(nd, kNcNaN);
  for (auto& [k, v] : f.global_attributes()) c.text_attributes[k] = v;
  c.validate(path);
  return c;
}

}  // namespace peppp::io
