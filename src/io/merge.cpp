// peppp merge: several campaign.nc files combined into one (docs/merge.md).
#include "peppp/io/merge.hpp"

#include <netcdf.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "peppp/core/error.hpp"
#include "peppp/core/settings.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/core/task.hpp"
#include "peppp/io/merge_phases.hpp"
#include "peppp/io/netcdf.hpp"
#include "replicates.hpp"

namespace peppp::io {

namespace {

[[noreturn]] void refuse(const std::string& why) { throw InputError("merge: " + why); }

// A number as a message shows it (short, but enough to tell two apart).
std::string show(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// A number exactly (row keys, attribute values).
std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

const std::string* find_attr(const Campaign& c, const std::string& k) {
  const auto it = c.text_attributes.find(k);
  return it == c.text_attributes.end() ? nullptr : &it->second;
}

// Two attribute values alike: equal text, or equal numbers ("0.9" and "0.90").
bool same_value(const std::string& a, const std::string& b) {
  if (a == b) return true;
  double x = 0, y = 0;
  return parse_double(a, x) && parse_double(b, y) && x == y;
}

bool is_synthetic(const Campaign& c) {
  const std::string* v = find_attr(c, "synthetic");
  double x = 0;
  return v && parse_double(*v, x) && x == 1;
}

// The names of the non-text global attributes of `path` (a file read_campaign just read).
std::set<std::string> numeric_globals(const std::string& path) {
  std::set<std::string> out;
  int id = -1;
  if (nc_open(path.c_str(), NC_NOWRITE, &id) != NC_NOERR) return out;
  int n = 0;
  if (nc_inq_natts(id, &n) == NC_NOERR) {
    for (int a = 0; a < n; ++a) {
      char name[NC_MAX_NAME + 1] = {0};
      nc_type type = NC_NAT;
      if (nc_inq_attname(id, NC_GLOBAL, a, name) != NC_NOERR) continue;
      if (nc_inq_atttype(id, NC_GLOBAL, name, &type) != NC_NOERR) continue;
      if (type != NC_CHAR && type != NC_STRING) out.insert(name);
    }
  }
  nc_close(id);
  return out;
}

double at_or_nan(const std::vector<double>& v, std::size_t i) { return i < v.size() ? v[i] : kNcNaN; }

using merge_phase::ConfigBits;

ConfigBits config_bits(const Campaign& c, std::size_t j) {
  auto col = [&](const std::vector<int>& v, int absent) { return j < v.size() ? v[j] : absent; };
  return {c.a_exponent_bits.at(j), c.a_mantissa_bits.at(j), c.b_exponent_bits.at(j), c.b_mantissa_bits.at(j),
          col(c.a_block_size, 1),  col(c.a_scale_bits, 0),   col(c.b_block_size, 1),  col(c.b_scale_bits, 0)};
}

std::string describe(const ConfigBits& b) {
  auto [ae, am, be, bm, ab, as, bb, bs] = b;
  std::string s = "A e" + std::to_string(ae) + "m" + std::to_string(am) + ", B e" + std::to_string(be) + "m" +
                  std::to_string(bm);
  if (ab != 1 || as != 0 || bb != 1 || bs != 0)
    s += ", blocks " + std::to_string(ab) + "/" + std::to_string(bb) + " with " + std::to_string(as) + "/" +
         std::to_string(bs) + "-bit scales";
  return s;
}

int config_index(const Campaign& c, const std::string& label) {
  for (std::size_t j = 0; j < c.config.size(); ++j)
    if (c.config[j] == label) return static_cast<int>(j);
  return -1;
}

// The (task, model, learning rate) identity of row t.
std::string row_key(const Campaign& c, std::size_t t) {
  return c.row_task_of(t) + '\x1f' + c.row_model_of(t) + '\x1f' + exact(c.row_learning_rate_of(t));
}

// The label of a setting attribute in messages: the option key, or the attribute.
std::string setting_label(const std::string& attr) {
  return starts_with(attr, "option.") ? attr.substr(7) : attr;
}

// Attributes describing the run that wrote a file, or its plan: kept per
// source (source_<k>_*), never as the merged file's own.
bool run_specific(const std::string& k) {
  static const std::set<std::string> keys = {
      "Conventions",  "peppp_file", "command_line", "created",   "git_commit",    "peppp_version",
      "mpi_ranks",    "peppp_command", "config_file", "plan_fingerprint", "planned_cells", "complete",
      "replicates",   "model",      "learning_rate", "learning_rates", "merge_sources", "synthetic",
      "campaign_name", kTaskDefinitionsAttribute};
  return keys.count(k) > 0 || starts_with(k, "source_");
}

const std::string& file(const std::vector<MergeInput>& in, std::size_t k) { return in[k].path; }

void note(std::vector<std::string>* notes, const std::string& s) {
  if (notes) notes->push_back(s);
}

bool is_merge(const Campaign& c) { return find_attr(c, "merge_sources") || c.number_attributes.count("merge_sources"); }

// The trainings behind the attributes of `c` with `prefix` (a campaign: "", a source of a
// merge: "source_<k>_"): an earlier merge's are its sources' (recursively), a
// campaign's its seed ("campaign seed S"), or without one the run that made it
// ("run FINGERPRINT of CREATED").
void trainings(const Campaign& c, const std::string& prefix, std::set<std::string>& out, int depth = 0) {
  // A campaign read from a file has every attribute as text; one merged in memory has numbers too.
  std::string buf;
  auto find_any = [&](const std::string& k) -> const std::string* {
    if (const std::string* v = find_attr(c, k)) return v;
    const auto it = c.number_attributes.find(k);
    if (it == c.number_attributes.end()) return nullptr;
    buf = exact(it->second);
    return &buf;
  };
  const std::string* sources = find_any(prefix + "merge_sources");
  double n = 0;
  if (sources && parse_double(*sources, n) && n >= 1 && n < 1e6 && depth < 64) {
    for (int q = 0; q < static_cast<int>(n); ++q)
      trainings(c, prefix + "source_" + std::to_string(q) + "_", out, depth + 1);
    return;
  }
  double seed = 0;
  if (const std::string* s = find_any(prefix + "seed"); s && parse_double(*s, seed)) {
    out.insert("campaign seed " + exact(seed));
  } else if (const std::string* fp = find_attr(c, prefix + "plan_fingerprint")) {
    const std::string* created = find_attr(c, prefix + "created");
    out.insert("run " + *fp + (created ? " of " + *created : std::string()));
  }
}

// The trainings behind row t of `c`: a merge's row those of the sources that held it (row_source).
std::set<std::string> row_trainings(const Campaign& c, std::size_t t) {
  std::set<std::string> out;
  if (!is_merge(c) || t >= c.row_source.size()) {
    trainings(c, "", out);
    return out;
  }
  std::size_t at = 0;
  const std::string& list = c.row_source[t];
  while (at <= list.size()) {
    std::size_t end = list.find(',', at);
    if (end == std::string::npos) end = list.size();
    trainings(c, "source_" + list.substr(at, end - at) + "_", out, 1);
    at = end + 1;
  }
  return out;
}

// The first row inputs j and k share (its row in j: *tj); false when none.
bool shared_row(const std::vector<MergeInput>& in, const merge_phase::Rows& rows, std::size_t j, std::size_t k,
                std::size_t* tj) {
  for (std::size_t t = 0; t < in[j].campaign.n_tasks(); ++t)
    for (const auto& [kk, tk] : rows.rows[rows.out_row[j][t]].sources)
      if (kk == k) {
        *tj = t;
        return true;
      }
  return false;
}

// Row tj of input j crossed with the first of its configurations that input k has (messages).
std::string cell_name(const std::vector<MergeInput>& in, std::size_t j, std::size_t k, std::size_t tj) {
  const Campaign& a = in[j].campaign;
  std::string cfg = a.config.front();
  for (const auto& label : a.config)
    if (config_index(in[k].campaign, label) >= 0) {
      cfg = label;
      break;
    }
  return a.task[tj] + " x " + cfg;
}

// Every setting alike in inputs j and k: the option attributes first (their
// keys name the setting as the user gives it), then the others; the same epochs.
void check_setting_pair(const std::vector<MergeInput>& in, const merge_phase::Rows& rows, std::size_t j,
                        std::size_t k) {
  const Campaign &a = in[j].campaign, &b = in[k].campaign;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [key, va] : a.text_attributes) {
      if (!is_merge_setting(key) || starts_with(key, "option.") != (pass == 0)) continue;
      const std::string* vb = find_attr(b, key);
      if (!vb || same_value(va, *vb)) continue;
      const std::string what =
          setting_label(key) + " " + va + " in " + file(in, j) + ", " + *vb + " in " + file(in, k);
      std::size_t tj = 0;
      if (shared_row(in, rows, j, k, &tj))
        refuse("row '" + a.task[tj] + "' (cell " + cell_name(in, j, k, tj) + ") is in " + file(in, j) + " and " +
               file(in, k) + ", trained with different settings: " + what);
      refuse(file(in, j) + " and " + file(in, k) + " were trained with different settings: " + what +
             "; a merged matrix has one training protocol (its rows may differ in model and learning rate only)");
    }
  }
  if (!a.epoch.empty() && !b.epoch.empty() && a.epoch != b.epoch)
    refuse(file(in, j) + " and " + file(in, k) + " were trained with different epochs: " +
           std::to_string(a.epoch.back()) + " in " + file(in, j) + ", " + std::to_string(b.epoch.back()) + " in " +
           file(in, k) + " (dimension 'epoch'); a merged matrix has one training protocol");
}

// The task definitions an input records (attribute `task_definitions`, written by
// measure: "[task NAME]" then "KEY=VALUE" lines: classes, resolution, sizes,
// subsample seed, each dataset file's size and content hash): task -> key -> value.
using TaskDefinitions = std::map<std::string, std::map<std::string, std::string>>;

TaskDefinitions recorded_definitions(const Campaign& c, std::map<std::string, std::string>* lines = nullptr) {
  TaskDefinitions out;
  const std::string* text = find_attr(c, kTaskDefinitionsAttribute);
  if (!text) return out;
  std::map<std::string, std::string>* task = nullptr;
  std::string name;
  std::size_t at = 0;
  while (at <= text->size()) {
    std::size_t end = text->find('\n', at);
    if (end == std::string::npos) end = text->size();
    const std::string line = text->substr(at, end - at);
    at = end + 1;
    if (starts_with(line, "[task ") && line.size() > 7 && line.back() == ']') {
      name = line.substr(6, line.size() - 7);
      task = &out[name];
    } else if (task && line.find('=') != std::string::npos) {
      (*task)[line.substr(0, line.find('='))] = line.substr(line.find('=') + 1);
      if (lines) (*lines)[name] += line + "\n";  // as recorded, in its order
    }
  }
  return out;
}

// The first key of two task definitions that differs ("" when none): a key one lacks reads as "(none)".
std::string first_difference(const std::map<std::string, std::string>& x, const std::map<std::string, std::string>& y,
                             std::string* vx, std::string* vy) {
  std::set<std::string> keys;
  for (const auto& kv : x) keys.insert(kv.first);
  for (const auto& kv : y) keys.insert(kv.first);
  for (const auto& key : keys) {
    const auto ix = x.find(key), iy = y.find(key);
    *vx = ix == x.end() ? "(none)" : ix->second;
    *vy = iy == y.end() ? "(none)" : iy->second;
    if (*vx != *vy) return key;
  }
  return {};
}

// Row t of input k and row s of input j name the same task: their task columns agree.
void check_task_pair(const std::vector<MergeInput>& in, const std::vector<TaskDefinitions>& defs, std::size_t j,
                     std::size_t s, std::size_t k, std::size_t t) {
  const Campaign &a = in[j].campaign, &c = in[k].campaign;
  auto differ = [&](const char* name, const std::string& x, const std::string& y) {
    refuse("task '" + c.row_task_of(t) + "' has " + name + " " + x + " in " + file(in, j) + ", " + y + " in " +
           file(in, k) + "; a task name must mean the same task in every input");
  };
  if (s < a.task_dataset.size() && t < c.task_dataset.size() && a.task_dataset[s] != c.task_dataset[t])
    differ("task_dataset", "'" + a.task_dataset[s] + "'", "'" + c.task_dataset[t] + "'");
  const std::pair<const char*, const std::vector<int> Campaign::*> cols[] = {
      {"task_classes", &Campaign::task_classes},
      {"task_resolution", &Campaign::task_resolution},
      {"task_train_size", &Campaign::task_train_size},
      {"task_test_size", &Campaign::task_test_size}};
  for (const auto& [name, col] : cols) {
    const auto &x = a.*col, &y = c.*col;
    if (s < x.size() && t < y.size() && x[s] != y[t]) differ(name, std::to_string(x[s]), std::to_string(y[t]));
  }
  // The full definitions, where both inputs record them: class list, sizes, the dataset files' contents.
  const TaskDefinitions &da = defs[j], &dc = defs[k];
  const auto xa = da.find(a.row_task_of(s)), xc = dc.find(c.row_task_of(t));
  if (xa == da.end() || xc == dc.end()) return;
  std::string va, vc;
  const std::string key = first_difference(xa->second, xc->second, &va, &vc);
  if (!key.empty()) differ(key.c_str(), va, vc);
}

// The per-epoch record of the output: the first input's when every input has one, else none (and a note).
std::vector<int> output_epochs(const std::vector<MergeInput>& in, std::vector<std::string>* notes) {
  const std::size_t n = in.size();
  bool epochs_everywhere = true;
  for (std::size_t k = 0; k < n; ++k)
    epochs_everywhere = epochs_everywhere && in[k].campaign.n_epochs() > 0 && !in[k].campaign.error_by_epoch.empty();
  if (epochs_everywhere) return in[0].campaign.epoch;
  for (std::size_t k = 0; k < n; ++k)
    if (in[k].campaign.n_epochs() > 0) {
      std::string without;
      for (std::size_t q = 0; q < n; ++q)
        if (in[q].campaign.n_epochs() == 0 || in[q].campaign.error_by_epoch.empty()) {
          without = file(in, q);
          break;
        }
      note(notes, "merge: " + without +
                      " has no per-epoch record; the output has none (error_by_epoch and loss_by_epoch of the other "
                      "inputs dropped)");
      break;
    }
  return {};
}

// Memory of output cell o: the same cell costs the same in every input; its parts from the first that has them.
void merge_memory(const std::vector<MergeInput>& in, const std::vector<merge_phase::CellPart>& parts,
                  const std::string& label, std::size_t o, Campaign& out) {
  const Campaign& first = in[parts.front().k].campaign;
  const std::size_t fi = parts.front().i;
  out.memory[o] = first.memory[fi];
  for (const auto& p : parts) {
    const double m = in[p.k].campaign.memory[p.i];
    if (std::fabs(m - out.memory[o]) > 1e-9 * std::max(std::fabs(m), std::fabs(out.memory[o])))
      refuse("row '" + first.task[fi / first.n_configs()] + "' (cell " + first.task[fi / first.n_configs()] + " x " +
             label + ") is in " + file(in, parts.front().k) + " and " + file(in, p.k) +
             " with different memory: " + show(out.memory[o]) + " MiB in " + file(in, parts.front().k) + ", " +
             show(m) + " MiB in " + file(in, p.k) + "; the same task, model and configuration must cost the same");
  }
  const std::pair<std::vector<double> Campaign::*, std::vector<double>*> mem_parts[] = {
      {&Campaign::memory_weights, &out.memory_weights},
      {&Campaign::memory_activations, &out.memory_activations},
      {&Campaign::memory_optimizer, &out.memory_optimizer}};
  for (const auto& [col, dst] : mem_parts)
    for (const auto& p : parts) {
      const double v = at_or_nan(in[p.k].campaign.*col, p.i);
      if (!std::isnan(v)) {
        (*dst)[o] = v;
        break;
      }
    }
}

// Replicates of output cell o concatenated in input order, and its sampling
// probability; returns the parts that have a result for the cell.
std::vector<merge_phase::CellPart> concatenate_replicates(const std::vector<MergeInput>& in,
                                                          const std::vector<merge_phase::CellPart>& parts,
                                                          std::size_t o, Campaign& out) {
  const std::size_t R = out.n_replicates();
  std::vector<merge_phase::CellPart> results;
  std::size_t offset = 0;
  double not_drawn = 1;
  for (const auto& p : parts) {
    const Campaign& c = in[p.k].campaign;
    const std::size_t Rk = c.n_replicates();
    for (std::size_t q = 0; q < Rk; ++q) out.error_replicates[o * R + offset + q] = c.error_replicates[p.i * Rk + q];
    offset += Rk;
    const auto st = static_cast<CellStatus>(c.status[p.i]);
    const double prob = c.sampling_probability.empty() ? (st == CellStatus::not_planned ? 0.0 : 1.0)
                                                       : c.sampling_probability[p.i];
    not_drawn *= 1 - prob;
    if (st != CellStatus::not_planned) results.push_back(p);
  }
  if (parts.size() == 1) {
    const Campaign& c = in[parts.front().k].campaign;
    const std::size_t fi = parts.front().i;
    out.sampling_probability[o] = c.sampling_probability.empty()
                                      ? (c.status[fi] == static_cast<std::uint8_t>(CellStatus::not_planned) ? 0 : 1)
                                      : c.sampling_probability[fi];
  } else {
    out.sampling_probability[o] = 1 - not_drawn;
  }
  return results;
}

// One result for output cell o: its values as they are.
void copy_result(const Campaign& c, std::size_t i, std::size_t o, Campaign& out) {
  const std::size_t E = out.n_epochs();
  out.status[o] = c.status[i];
  out.error[o] = c.error[i];
  out.error_std[o] = at_or_nan(c.error_std, i);
  out.train_seconds[o] = at_or_nan(c.train_seconds, i);
  out.final_loss[o] = at_or_nan(c.final_loss, i);
  for (std::size_t e = 0; e < E; ++e) {
    out.error_by_epoch[o * E + e] = at_or_nan(c.error_by_epoch, i * E + e);
    out.loss_by_epoch[o * E + e] = at_or_nan(c.loss_by_epoch, i * E + e);
  }
}

// Sums over the results of one cell, each weighted by the replicates behind its means.
struct Weighted {
  bool diverged = false, any_seconds = false;
  std::size_t failed = 0;
  double seconds = 0, loss = 0, loss_w = 0;
  std::vector<double> se, sl, we, wl;  // per epoch: Σ w·error, Σ w·loss and their weights
};

Weighted weigh_results(const std::vector<MergeInput>& in, const std::vector<merge_phase::CellPart>& results,
                       std::size_t E) {
  Weighted s;
  s.se.assign(E, 0);
  s.sl.assign(E, 0);
  s.we.assign(E, 0);
  s.wl.assign(E, 0);
  for (const auto& p : results) {
    const Campaign& c = in[p.k].campaign;
    const auto st = static_cast<CellStatus>(c.status[p.i]);
    const double secs = at_or_nan(c.train_seconds, p.i);
    if (!std::isnan(secs)) {
      s.seconds += secs;
      s.any_seconds = true;
    }
    if (st == CellStatus::failed) {
      ++s.failed;
      continue;
    }
    s.diverged = s.diverged || st == CellStatus::diverged;
    // Weight: the replicates behind this input's means (its non-failed ones).
    const std::size_t Rk = c.n_replicates();
    double w = 0;
    for (std::size_t q = 0; q < Rk; ++q) w += std::isfinite(c.error_replicates[p.i * Rk + q]) ? 1 : 0;
    if (w == 0) w = 1;
    const double l = at_or_nan(c.final_loss, p.i);
    if (!std::isnan(l)) {
      s.loss += w * l;
      s.loss_w += w;
    }
    for (std::size_t e = 0; e < E; ++e) {
      const double ve = at_or_nan(c.error_by_epoch, p.i * E + e), vl = at_or_nan(c.loss_by_epoch, p.i * E + e);
      if (std::isfinite(ve)) {
        s.se[e] += w * ve;
        s.we[e] += w;
      }
      if (!std::isnan(vl)) {
        s.sl[e] += w * vl;
        s.wl[e] += w;
      }
    }
  }
  return s;
}

// Several results for output cell o: set_cell_replicates' rule over the concatenated replicates.
void combine_results(const std::vector<MergeInput>& in, const std::vector<merge_phase::CellPart>& results,
                     std::size_t o, Campaign& out) {
  const std::size_t R = out.n_replicates(), E = out.n_epochs();
  const Weighted s = weigh_results(in, results, E);
  out.train_seconds[o] = s.any_seconds ? s.seconds : kNcNaN;
  if (s.failed == results.size()) {
    out.status[o] = static_cast<std::uint8_t>(CellStatus::failed);
    return;
  }
  out.status[o] = static_cast<std::uint8_t>(s.diverged ? CellStatus::diverged : CellStatus::measured);
  out.final_loss[o] = s.loss_w > 0 ? s.loss / s.loss_w : kNcNaN;
  for (std::size_t e = 0; e < E; ++e) {
    out.error_by_epoch[o * E + e] = s.we[e] > 0 ? s.se[e] / s.we[e] : kNcNaN;
    out.loss_by_epoch[o * E + e] = s.wl[e] > 0 ? s.sl[e] / s.wl[e] : kNcNaN;
  }
  double sum = 0;
  std::size_t finite = 0;
  for (std::size_t q = 0; q < R; ++q) {
    const double e = out.error_replicates[o * R + q];
    if (std::isfinite(e)) {
      sum += e;
      ++finite;
    }
  }
  out.error[o] = finite > 0 ? sum / static_cast<double>(finite) : kNcNaN;
  if (finite >= 2) out.error_std[o] = detail::finite_std(&out.error_replicates[o * R], R, out.error[o], finite);
}

// A global attribute of the output: a number when the input had it as one (and it parses), else text.
void put_attribute(Campaign& out, const std::string& key, const std::string& value, bool numeric) {
  double v = 0;
  if (numeric && parse_double(value, v)) {
    out.number_attributes[key] = v;
  } else {
    out.text_attributes[key] = value;
  }
}

}  // namespace

bool is_merge_setting(const std::string& name) {
  // option.KEY: the roles' table (core/settings.hpp), shared with the journal fingerprint.
  if (starts_with(name, "option.")) return must_agree_to_merge(std::string_view(name).substr(7));
  // What measure writes beside its option attributes (older files carry only these).
  static const std::set<std::string> legacy = {"epochs", "batch_size", "momentum", "weight_decay", "lr_schedule"};
  return legacy.count(name) > 0;
}

MergeInput read_merge_input(const std::string& path) {
  MergeInput in;
  in.path = path;
  {
    NcFile f = NcFile::open(path);  // missing, or not NetCDF: one line naming the file
    const auto attrs = f.global_attributes();
    const auto kind = attrs.find("peppp_file");
    if (kind != attrs.end() && kind->second != "campaign")
      throw InputError(path + ": a peppp " + kind->second +
                       " file, not a campaign; peppp merge takes campaign.nc files (peppp measure, peppp run, "
                       "a reference matrix, an earlier merge)");
    f.close();
  }
  in.campaign = read_campaign(path);
  in.numeric_attributes = numeric_globals(path);
  return in;
}


namespace merge_phase {

void check_inputs(const std::vector<MergeInput>& in) {
  const std::size_t n = in.size();
  for (std::size_t k = 1; k < n; ++k)
    if (is_synthetic(in[k].campaign) != is_synthetic(in[0].campaign)) {
      const std::size_t s = is_synthetic(in[0].campaign) ? 0 : k, r = s == 0 ? k : 0;
      refuse(file(in, s) + " is a synthetic campaign (synthetic = 1: fake errors) and " + file(in, r) +
             " a real one; synthetic and real campaigns are never merged");
    }
  for (std::size_t k = 0; k < n; ++k) {
    const Campaign& c = in[k].campaign;
    std::size_t planned = 0, first = 0;
    for (std::size_t i = 0; i < c.status.size(); ++i)
      if (c.status[i] == static_cast<std::uint8_t>(CellStatus::planned) && planned++ == 0) first = i;
    if (planned > 0)
      refuse(file(in, k) + " is incomplete: " + std::to_string(planned) +
             " planned cell(s) have no result (first: " + c.task[first / c.n_configs()] + " x " +
             c.config[first % c.n_configs()] + "); finish it (peppp measure --resume) before merging");
  }
}

Rows match_rows(const std::vector<MergeInput>& in) {
  Rows out;
  out.out_row.resize(in.size());
  std::map<std::string, std::size_t> row_of;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const Campaign& c = in[k].campaign;
    std::map<std::string, std::size_t> seen;
    for (std::size_t t = 0; t < c.n_tasks(); ++t) {
      const std::string key = row_key(c, t);
      if (!seen.emplace(key, t).second)
        refuse(file(in, k) + ": rows '" + c.task[seen[key]] + "' and '" + c.task[t] +
               "' are the same (task, model, learning rate)");
      auto [it, fresh] = row_of.emplace(key, out.rows.size());
      if (fresh) out.rows.push_back(Row{c.row_task_of(t), c.row_model_of(t), c.row_learning_rate_of(t), {}});
      out.rows[it->second].sources.emplace_back(k, t);
      out.out_row[k].push_back(it->second);
    }
  }
  return out;
}

void check_settings(const std::vector<MergeInput>& in, const Rows& rows) {
  // Model and rate are row identity; everything else that decides a result must agree.
  for (std::size_t j = 0; j < in.size(); ++j)
    for (std::size_t k = j + 1; k < in.size(); ++k) check_setting_pair(in, rows, j, k);
}

ConfigMeanings config_meanings(const std::vector<MergeInput>& in) {
  ConfigMeanings meaning;  // label -> (bits, first input)
  for (std::size_t k = 0; k < in.size(); ++k) {
    const Campaign& c = in[k].campaign;
    for (std::size_t j = 0; j < c.n_configs(); ++j) {
      const ConfigBits bits = config_bits(c, j);
      auto [it, fresh] = meaning.emplace(c.config[j], std::make_pair(bits, k));
      if (!fresh && it->second.first != bits)
        refuse("configuration '" + c.config[j] + "' is " + describe(it->second.first) + " in " +
               file(in, it->second.second) + " but " + describe(bits) + " in " + file(in, k) +
               "; a configuration label must mean the same formats in every input");
    }
  }
  return meaning;
}

std::vector<std::string> output_configs(const std::vector<MergeInput>& in, MergeConfigs configs,
                                        std::vector<std::string>* notes) {
  const std::size_t n = in.size();
  std::vector<std::string> out_configs;
  if (configs == MergeConfigs::same) {
    const Campaign& a = in[0].campaign;
    for (std::size_t k = 1; k < n; ++k) {
      const Campaign& b = in[k].campaign;
      const char* allowed = "; allowed: the same configurations in every input (in any order), or --configs common "
                            "(their intersection)";
      for (const auto& label : a.config)
        if (config_index(b, label) < 0)
          refuse(file(in, k) + " lacks configuration '" + label + "' of " + file(in, 0) + allowed);
      for (const auto& label : b.config)
        if (config_index(a, label) < 0)
          refuse(file(in, k) + " has configuration '" + label + "' that " + file(in, 0) + " lacks" + allowed);
    }
    return a.config;
  }
  for (const auto& label : in[0].campaign.config) {
    bool everywhere = true;
    for (std::size_t k = 1; k < n && everywhere; ++k) everywhere = config_index(in[k].campaign, label) >= 0;
    if (everywhere) out_configs.push_back(label);
  }
  if (out_configs.empty()) refuse("--configs common: the inputs have no configuration in common");
  bool dropped_any = false;
  for (std::size_t k = 0; k < n; ++k) {
    const Campaign& c = in[k].campaign;
    std::vector<std::string> dropped;
    for (const auto& label : c.config)
      if (std::find(out_configs.begin(), out_configs.end(), label) == out_configs.end()) dropped.push_back(label);
    if (dropped.empty()) continue;
    dropped_any = true;
    note(notes, "merge: --configs common: dropped " + std::to_string(dropped.size()) + " of " +
                    std::to_string(c.n_configs()) + " configurations of " + file(in, k) +
                    " (not in every input; first: '" + dropped.front() + "')");
  }
  if (!dropped_any)
    note(notes, "merge: --configs common: every input has the same " + std::to_string(out_configs.size()) +
                    " configurations; none dropped");
  return out_configs;
}

void check_seeds(const std::vector<MergeInput>& in, const Rows& rows) {
  // The same row twice from one campaign seed would be the same trainings twice; an
  // earlier merge holds the trainings of each of its sources (their seeds, kept as
  // source_<k>_seed), so a campaign merged again with a merge that contains it is caught too.
  for (const auto& r : rows.rows)
    for (std::size_t a = 0; a < r.sources.size(); ++a)
      for (std::size_t b = a + 1; b < r.sources.size(); ++b) {
        const auto [j, tj] = r.sources[a];
        const auto [k, tk] = r.sources[b];
        const std::set<std::string> sj = row_trainings(in[j].campaign, tj), sk = row_trainings(in[k].campaign, tk);
        const auto both = std::find_if(sj.begin(), sj.end(), [&](const std::string& x) { return sk.count(x) > 0; });
        if (both == sj.end()) continue;
        std::string via;
        for (const std::size_t q : {j, k})
          if (is_merge(in[q].campaign))
            via += " (" + file(in, q) + " is an earlier merge that already holds them)";
        refuse("row '" + in[j].campaign.task[tj] + "' is in " + file(in, j) + " and " + file(in, k) + ", both " +
               (starts_with(*both, "run ") ? "holding the trainings of " + *both : "measured with " + *both) + via +
               ": its cells would be the same trainings counted twice, not independent replicates; measure one "
               "of them with another --campaign.seed");
      }
}

void check_task_columns(const std::vector<MergeInput>& in) {
  std::map<std::string, std::pair<std::size_t, std::size_t>> task_first;  // task -> (input, row)
  std::vector<TaskDefinitions> defs;
  for (const auto& x : in) defs.push_back(recorded_definitions(x.campaign));
  for (std::size_t k = 0; k < in.size(); ++k) {
    const Campaign& c = in[k].campaign;
    for (std::size_t t = 0; t < c.n_tasks(); ++t) {
      auto [it, fresh] = task_first.emplace(c.row_task_of(t), std::make_pair(k, t));
      if (!fresh) check_task_pair(in, defs, it->second.first, it->second.second, k, t);
    }
  }
}

Shape output_shape(const std::vector<MergeInput>& in, const Rows& rows, std::vector<std::string>* notes) {
  Shape shape;
  for (const auto& r : rows.rows) {
    if (std::find(shape.models.begin(), shape.models.end(), r.model) == shape.models.end())
      shape.models.push_back(r.model);
    if (std::none_of(shape.rates.begin(), shape.rates.end(),
                     [&](double x) { return exact(x) == exact(r.learning_rate); }))
      shape.rates.push_back(r.learning_rate);
  }
  shape.models_vary = shape.models.size() > 1;
  shape.rates_vary = shape.rates.size() > 1;
  if (shape.row_campaign())
    for (const auto& r : rows.rows) {
      const auto [k, t] = r.sources.front();
      if (r.model.empty())
        refuse(file(in, k) + " does not record the model of row '" + in[k].campaign.task[t] +
               "' (attribute 'model' or variable 'row_model'), and the merged rows differ in model or learning "
               "rate: every row needs its model");
      if (!(std::isfinite(r.learning_rate) && r.learning_rate > 0))
        refuse(file(in, k) + " does not record the learning rate of row '" + in[k].campaign.task[t] +
               "' (attribute 'learning_rate' or variable 'row_learning_rate'), and the merged rows differ in model "
               "or learning rate: every row needs its rate");
    }
  for (const auto& r : rows.rows) {
    std::size_t total = 0;
    for (const auto& [k, t] : r.sources) total += in[k].campaign.n_replicates();
    shape.replicates = std::max(shape.replicates, total);
  }
  shape.epochs = output_epochs(in, notes);
  return shape;
}

Campaign output_skeleton(const std::vector<MergeInput>& in, const Rows& rows, const Shape& shape,
                         const ConfigMeanings& meanings, const std::vector<std::string>& configs) {
  Campaign out;
  std::map<std::string, std::size_t> label_row;
  for (std::size_t r = 0; r < rows.rows.size(); ++r) {
    const Row& row = rows.rows[r];
    const std::string label =
        shape.row_campaign()
            ? row_label(row.task, row.model, row.learning_rate, shape.models_vary, shape.rates_vary)
            : row.task;
    auto [it, fresh] = label_row.emplace(label, r);
    if (!fresh) {
      const Row& other = rows.rows[it->second];
      refuse("rows (" + other.task + ", " + other.model + ", lr " + exact(other.learning_rate) + ") and (" +
             row.task + ", " + row.model + ", lr " + exact(row.learning_rate) + ") would both be labelled '" + label +
             "' (learning rates equal to 6 digits); merge inputs with rates that differ in the label");
    }
    out.task.push_back(label);
    if (shape.row_campaign()) {
      out.row_task.push_back(row.task);
      out.row_model.push_back(row.model);
      out.row_learning_rate.push_back(row.learning_rate);
    }
    std::string src;
    for (const auto& [k, t] : row.sources) src += (src.empty() ? "" : ",") + std::to_string(k);
    out.row_source.push_back(src);
  }
  // Block columns as the first input has them (named formats: written; elementwise only: absent).
  const bool block_columns = !in[0].campaign.a_block_size.empty();
  for (const auto& label : configs) {
    const ConfigBits& b = meanings.at(label).first;
    out.config.push_back(label);
    out.a_exponent_bits.push_back(std::get<0>(b));
    out.a_mantissa_bits.push_back(std::get<1>(b));
    out.b_exponent_bits.push_back(std::get<2>(b));
    out.b_mantissa_bits.push_back(std::get<3>(b));
    if (!block_columns) continue;
    out.a_block_size.push_back(std::get<4>(b));
    out.a_scale_bits.push_back(std::get<5>(b));
    out.b_block_size.push_back(std::get<6>(b));
    out.b_scale_bits.push_back(std::get<7>(b));
  }
  for (std::size_t q = 0; q < shape.replicates; ++q) out.replicate.push_back(static_cast<int>(q));
  out.epoch = shape.epochs;
  out.allocate();
  return out;
}

void fill_task_columns(const std::vector<MergeInput>& in, const Rows& rows, Campaign& out) {
  std::vector<int> Campaign::*const cols[] = {&Campaign::task_classes, &Campaign::task_resolution,
                                              &Campaign::task_train_size, &Campaign::task_test_size};
  for (std::size_t r = 0; r < rows.rows.size(); ++r) {
    bool dataset = false;
    bool ints[4] = {false, false, false, false};
    for (const auto& [k, t] : rows.rows[r].sources) {
      const Campaign& c = in[k].campaign;
      if (!dataset && t < c.task_dataset.size()) {
        out.task_dataset[r] = c.task_dataset[t];
        dataset = true;
      }
      for (int q = 0; q < 4; ++q)
        if (!ints[q] && t < (c.*cols[q]).size()) {
          (out.*cols[q])[r] = (c.*cols[q])[t];
          ints[q] = true;
        }
    }
  }
}

void merge_cell(const std::vector<MergeInput>& in, const std::vector<CellPart>& parts, const std::string& label,
                std::size_t o, Campaign& out) {
  merge_memory(in, parts, label, o, out);
  const std::vector<CellPart> results = concatenate_replicates(in, parts, o, out);
  if (results.empty()) return;  // not planned anywhere: status 0, values NaN (allocate)
  if (results.size() == 1) {
    copy_result(in[results.front().k].campaign, results.front().i, o, out);
    return;
  }
  combine_results(in, results, o, out);
}

void merge_cells(const std::vector<MergeInput>& in, const Rows& rows, const std::vector<std::string>& configs,
                 Campaign& out) {
  const std::size_t n = in.size(), d = configs.size();
  std::vector<int> cfg_index(n * d);  // input k, output config j -> config in input k
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t j = 0; j < d; ++j) cfg_index[k * d + j] = config_index(in[k].campaign, configs[j]);
  for (std::size_t r = 0; r < rows.rows.size(); ++r)
    for (std::size_t j = 0; j < d; ++j) {
      std::vector<CellPart> parts;
      for (const auto& [k, t] : rows.rows[r].sources)
        parts.push_back({k, in[k].campaign.at(t, static_cast<std::size_t>(cfg_index[k * d + j]))});
      merge_cell(in, parts, configs[j], r * d + j, out);
    }
}

void drop_absent_columns(const std::vector<MergeInput>& in, Campaign& out) {
  auto any_input = [&](auto member) {
    for (const auto& x : in)
      if (!(x.campaign.*member).empty()) return true;
    return false;
  };
  if (!any_input(&Campaign::task_dataset)) out.task_dataset.clear();
  for (auto col : {&Campaign::task_classes, &Campaign::task_resolution, &Campaign::task_train_size,
                   &Campaign::task_test_size})
    if (!any_input(col)) (out.*col).clear();
  for (auto col : {&Campaign::memory_weights, &Campaign::memory_activations, &Campaign::memory_optimizer,
                   &Campaign::train_seconds, &Campaign::final_loss, &Campaign::sampling_probability})
    if (!any_input(col)) (out.*col).clear();
}

void merge_attributes(const std::vector<MergeInput>& in, const Shape& shape, Campaign& out) {
  const std::size_t n = in.size();
  for (const auto& [key, value] : in[0].campaign.text_attributes) {
    if (run_specific(key)) continue;
    bool shared = true;
    for (std::size_t k = 1; k < n && shared; ++k) {
      const std::string* v = find_attr(in[k].campaign, key);
      shared = v && *v == value;
    }
    if (shared) put_attribute(out, key, value, in[0].numeric_attributes.count(key) > 0);
  }
  std::vector<std::string> names;
  for (std::size_t k = 0; k < n; ++k) {
    const std::string prefix = "source_" + std::to_string(k) + "_";
    out.text_attributes[prefix + "path"] = in[k].path;
    for (const auto& [key, value] : in[k].campaign.text_attributes)
      if (key != "Conventions" && key != "peppp_file")
        put_attribute(out, prefix + key, value, in[k].numeric_attributes.count(key) > 0);
    // An input merged in memory (not read from a file) may hold numbers as numbers.
    for (const auto& [key, value] : in[k].campaign.number_attributes)
      if (!find_attr(in[k].campaign, key)) out.number_attributes[prefix + key] = value;
    const std::string* name = find_attr(in[k].campaign, "campaign_name");
    if (name && std::find(names.begin(), names.end(), *name) == names.end()) names.push_back(*name);
  }
  if (!names.empty()) out.text_attributes["campaign_name"] = join(names, " + ");
  // Each output task's definition from the first input recording it (a later merge compares them).
  std::vector<std::string> def_names, defs;
  for (std::size_t t = 0; t < out.n_tasks(); ++t) {
    const std::string task = out.row_task_of(t);
    if (std::find(def_names.begin(), def_names.end(), task) != def_names.end()) continue;
    for (std::size_t k = 0; k < n; ++k) {
      std::map<std::string, std::string> lines;
      recorded_definitions(in[k].campaign, &lines);
      const auto it = lines.find(task);
      if (it == lines.end()) continue;
      def_names.push_back(task);
      defs.push_back(it->second);
      break;
    }
  }
  if (!def_names.empty()) out.text_attributes[kTaskDefinitionsAttribute] = encode_task_definitions(def_names, defs);
  out.number_attributes["merge_sources"] = static_cast<double>(n);
  out.number_attributes["synthetic"] = is_synthetic(in[0].campaign) ? 1 : 0;
  out.number_attributes["replicates"] = static_cast<double>(shape.replicates);
  std::size_t planned = 0;
  for (auto s : out.status) planned += s != static_cast<std::uint8_t>(CellStatus::not_planned) ? 1 : 0;
  out.number_attributes["planned_cells"] = static_cast<double>(planned);
  out.number_attributes["complete"] = 1;  // every input finished (check_inputs)
  if (!(shape.models.size() == 1 && shape.models.front().empty()))
    out.text_attributes["model"] = join(shape.models, ",");
  if (shape.rates_vary) {
    out.text_attributes["learning_rates"] = join_g(shape.rates, ",");
  } else if (std::isfinite(shape.rates.front())) {
    out.number_attributes["learning_rate"] = shape.rates.front();
  }
}

}  // namespace merge_phase

Campaign merge_campaigns(const std::vector<MergeInput>& in, MergeConfigs configs, std::vector<std::string>* notes) {
  if (in.size() < 2) refuse("needs at least 2 campaigns, got " + std::to_string(in.size()));
  using namespace merge_phase;
  check_inputs(in);
  const Rows rows = match_rows(in);
  check_settings(in, rows);
  const ConfigMeanings meanings = config_meanings(in);
  const std::vector<std::string> out_configs = output_configs(in, configs, notes);
  check_seeds(in, rows);
  check_task_columns(in);
  const Shape shape = output_shape(in, rows, notes);
  Campaign out = output_skeleton(in, rows, shape, meanings, out_configs);
  fill_task_columns(in, rows, out);
  merge_cells(in, rows, out_configs, out);
  drop_absent_columns(in, out);
  merge_attributes(in, shape, out);
  return out;
}

}  // namespace peppp::io
