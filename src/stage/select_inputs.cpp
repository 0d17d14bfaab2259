// The select stage's inputs: the new task, errors measured elsewhere, and what the new task
// inherits from the campaign (its rows' model and learning rate, its training settings).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/stage/select.hpp"

namespace peppp::stage {

TaskSpec read_task(const std::string& spec) {
  namespace fs = std::filesystem;
  std::string file = spec, name;
  const auto colon = spec.rfind(':');
  if (colon != std::string::npos && !fs::exists(spec)) {
    file = spec.substr(0, colon);
    name = spec.substr(colon + 1);
  }
  const data::Catalog cat = data::read_catalog(file);
  std::vector<std::string> names;
  for (const auto& t : cat.tasks) names.push_back(t.name);
  const TaskSpec* task = nullptr;
  if (name.empty()) {
    if (cat.tasks.size() != 1)
      throw InputError("--task '" + spec + "': the catalog declares " + std::to_string(cat.tasks.size()) +
                       " tasks; name one as CATALOG.ini:TASK (tasks: " + join(names, ", ") + ")");
    task = &cat.tasks.front();
  } else {
    task = cat.find(name);
    if (!task)
      throw InputError("--task '" + spec + "': no task '" + name + "' in " + file + "; allowed: " + join(names, ", "));
  }
  const auto missing = data::missing_files(*task);
  if (!missing.empty())
    throw InputError("--task '" + spec + "': task '" + task->name + "' (" + task->origin + "): dataset file " +
                     missing.front() + " not found");
  return *task;
}

// (config index, error) pairs of a --measured file, in file order.
namespace {

// "'NAME' (DATASET, C classes, R px, T/E images)" of a row, for messages.
std::string row_text(const TaskRow& r) {
  return "'" + r.task_name() + "' (" + (r.dataset.empty() ? std::string("?") : r.dataset) + ", " +
         std::to_string(r.classes) + " classes, " + std::to_string(r.resolution) + " px, " +
         std::to_string(r.train_size) + "/" + std::to_string(r.test_size) + " images)";
}

// A .nc file of measurements must be the new task's: same name and, where the
// file records them, the same dataset, classes, resolution and sizes.
void check_measured_task(const io::Campaign& m, const TaskSpec& task, const std::string& path) {
  const TaskRow got = io::task_rows(m).front(), want = TaskRow::of(task);
  const bool described = !got.dataset.empty() || got.classes > 0;
  if (got.task_name() != want.task_name() ||
      (described && (got.dataset != want.dataset || got.classes != want.classes ||
                     got.resolution != want.resolution || got.train_size != want.train_size ||
                     got.test_size != want.test_size)))
    throw InputError("--measured " + path + ": holds task " + row_text(got) + ", but --task is " + row_text(want) +
                     "; allowed: the measurements of the new task");
}

}  // namespace

std::vector<std::pair<int, double>> read_measured(const std::string& path, const std::vector<std::string>& config,
                                                  int epoch, const TaskSpec* task) {
  std::map<std::string, int> index;
  for (std::size_t j = 0; j < config.size(); ++j) index[config[j]] = static_cast<int>(j);
  std::vector<std::pair<int, double>> out;
  std::set<int> seen;
  auto add = [&](const std::string& label, double error, const std::string& where) {
    auto it = index.find(label);
    if (it == index.end()) {
      const std::string near = nearest(label, config);
      throw InputError("--measured " + where + ": unknown configuration '" + label + "'" +
                       (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                       "; allowed: the campaign's configurations (" + join(config, ", ") + ")");
    }
    if (!seen.insert(it->second).second)
      throw InputError("--measured " + where + ": configuration '" + label + "' is given twice");
    out.emplace_back(it->second, error);
  };
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".nc") {
    io::Campaign m = io::read_campaign(path);
    if (epoch > 0) {
      // Errors after epoch E: a file of an earlier select --epoch E as it is, else its per-epoch record.
      const auto used = m.number_attributes.find("epoch_used");
      if (used == m.number_attributes.end() || used->second != epoch)
        m = io::campaign_at_epoch(m, epoch, "--measured " + path);
    }
    if (m.n_tasks() != 1)
      throw InputError("--measured " + path + ": holds " + std::to_string(m.n_tasks()) +
                       " tasks; allowed: exactly one (the new task)");
    if (task) check_measured_task(m, *task, path);
    for (std::size_t j = 0; j < m.n_configs(); ++j) {
      const auto st = static_cast<CellStatus>(m.status[j]);
      if (st == CellStatus::not_planned || st == CellStatus::planned) continue;
      add(m.config[j], st == CellStatus::measured ? m.error[j] : std::numeric_limits<double>::quiet_NaN(),
          path);
    }
  } else {
    std::ifstream in(path);
    if (!in) throw InputError("--measured " + path + ": cannot be read");
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      // A spreadsheet's UTF-8 export starts with a byte-order mark: not part of the first label.
      if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
      if (!line.empty() && line.back() == '\r') line.pop_back();  // Windows line ends
      const auto hash = line.find('#');
      const std::string text = trim(hash == std::string::npos ? line : line.substr(0, hash));
      if (text.empty()) continue;
      const std::string where = path + ":" + std::to_string(line_no);
      const auto f = split(text, ',');
      if (f.size() != 2)
        throw InputError("--measured " + where + ": '" + text + "' is not 'config,error'");
      const std::string label = trim(f[0]), value = trim(f[1]);
      double e = 0;
      if (to_lower(value) == "nan") {
        e = std::numeric_limits<double>::quiet_NaN();
      } else if (!parse_double(value, e)) {
        if (out.empty() && seen.empty() && to_lower(label) == "config") continue;  // header
        throw InputError("--measured " + where + ": error '" + value + "' is not a number; allowed: [0, 1] or nan");
      } else if (!(e >= 0 && e <= 1)) {
        throw InputError("--measured " + where + ": error " + value + " is outside [0, 1]");
      }
      add(label, e, where);
    }
  }
  if (out.empty()) throw InputError("--measured " + path + ": no measured configuration in it");
  return out;
}

std::vector<std::string> campaign_models(const io::Campaign& c) {
  std::vector<std::string> out;
  for (std::size_t t = 0; t < c.n_tasks(); ++t)
    // A `model` attribute listing several ("a,b": rows without a row_model column) names them all.
    for (const std::string& part : split(c.row_model_of(t), ',')) {
      const std::string m = trim(part);
      if (!m.empty() && std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
    }
  return out;
}

std::vector<double> campaign_learning_rates(const io::Campaign& c) {
  std::vector<double> out;
  for (std::size_t t = 0; t < c.n_tasks(); ++t) {
    const double r = c.row_learning_rate_of(t);
    if (std::isfinite(r) && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

std::string round_trip_text(double v) {
  char buf[40];
  for (int digits : {15, 16, 17}) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    double back = 0;
    if (parse_double(buf, back) && back == v) break;
  }
  return buf;
}

std::map<std::string, std::string> inherited_settings(const io::Campaign& c, const std::string& path,
                                                      bool model_given, bool rate_given) {
  // The rows' model and rate (row_model / row_learning_rate, or the `model` / `learning_rate`
  // attributes), not option.campaign.model / option.train.learning_rate: those keep their
  // defaults when the campaign was measured with campaign.models / train.learning_rates.
  std::map<std::string, std::string> attributes = c.text_attributes;
  const std::vector<std::string> models = campaign_models(c);
  const std::vector<double> rates = campaign_learning_rates(c);
  if (models.size() > 1 && !model_given)
    throw InputError("--campaign " + path + ": its rows train several models (" + join(models, ", ") +
                     "); give --campaign.model NAME for the new task (one of them, or another network)");
  if (rates.size() > 1 && !rate_given) {
    std::vector<std::string> text;
    for (double r : rates) text.push_back(round_trip_text(r));
    throw InputError("--campaign " + path + ": its rows train with several learning rates (" + join(text, ", ") +
                     "); give --train.learning_rate X for the new task");
  }
  if (models.size() == 1) attributes["option.campaign.model"] = models.front();
  if (rates.size() == 1) {
    auto it = attributes.find("option.train.learning_rate");
    double recorded = 0;
    if (it == attributes.end() || !parse_double(it->second, recorded) || recorded != rates.front())
      attributes["option.train.learning_rate"] = round_trip_text(rates.front());
  }
  return attributes;
}

bool inherits_setting(const std::string& key) {
  return key == "campaign.model" || key == "campaign.seed" ||
         (starts_with(key, "train.") && key != "train.learning_rates");
}

}  // namespace peppp::stage
