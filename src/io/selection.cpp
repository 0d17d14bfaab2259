#include "peppp/io/selection.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "peppp/core/error.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/netcdf.hpp"
#include "schema_io.hpp"

namespace peppp::io {

void Selection::validate(const std::string& file) const {
  const std::size_t d = config.size();
  if (d == 0) throw InputError(file + ": selection has no configurations");
  detail::validate(selection_schema(), *this, file);
  if (recommended_index < -1 || recommended_index >= static_cast<int>(d))
    throw InputError(file + ": recommended_index " + std::to_string(recommended_index) + " outside -1.." +
                     std::to_string(d - 1));
  if (zero_shot_index < -1 || zero_shot_index >= static_cast<int>(d))
    throw InputError(file + ": zero_shot_index " + std::to_string(zero_shot_index) + " outside -1.." +
                     std::to_string(d - 1));
}

void write_selection(const std::string& path, const Selection& s) {
  s.validate(path);
  AtomicPath out(path);
  {
    NcFile f = NcFile::create(out.temp(), path);
    detail::write(f, selection_schema(), s, [&](NcFile& file) {
      file.put_att(-1, "Conventions", "CF-1.8");
      file.put_att(-1, "peppp_file", selection_schema().kind);
      file.put_att(-1, "task", s.task);
      file.put_att(-1, "budget", std::vector<double>{s.budget});
      file.put_att(-1, "budget_units", "MiB");
      file.put_att(-1, "cap", std::vector<double>{s.cap});
      file.put_att(-1, "cap_units", "MiB");
      file.put_att(-1, "recommended_config", s.recommended_config);
      file.put_att_int(-1, "recommended_index", {s.recommended_index});
      file.put_att(-1, "expected_regret", std::vector<double>{s.expected_regret});
      file.put_att(-1, "acquisition", s.acquisition);
      if (s.zero_shot_index >= 0) {
        file.put_att_int(-1, "zero_shot_index", {s.zero_shot_index});
        file.put_att(-1, "zero_shot_config", s.zero_shot_config);
        file.put_att(-1, "zero_shot_predicted_error", std::vector<double>{s.zero_shot_predicted_error});
        file.put_att(-1, "zero_shot_predicted_std", std::vector<double>{s.zero_shot_predicted_std});
        file.put_att(-1, "zero_shot_expected_regret", std::vector<double>{s.zero_shot_expected_regret});
      }
      file.put_extra_atts(s.text_attributes, s.number_attributes,
                          {"task", "budget", "budget_units", "cap", "cap_units", "recommended_config",
                           "recommended_index", "expected_regret", "acquisition", "zero_shot_index",
                           "zero_shot_config", "zero_shot_predicted_error", "zero_shot_predicted_std",
                           "zero_shot_expected_regret"});
    });
    f.close();
  }
  out.commit();
}

Selection read_selection(const std::string& path) {
  NcFile f = NcFile::open(path);
  Selection s;
  detail::read(f, selection_schema(), s);
  auto attrs = f.global_attributes();
  auto number = [&](const char* key) { return detail::required_number_attribute(attrs, path, key); };
  s.budget = number("budget");
  s.cap = number("cap");
  s.recommended_index = static_cast<int>(number("recommended_index"));
  s.task = attrs.count("task") ? attrs["task"] : "";
  s.recommended_config = attrs.count("recommended_config") ? attrs["recommended_config"] : "";
  // Files written before sequential selection have neither.
  if (attrs.count("expected_regret")) s.expected_regret = number("expected_regret");
  s.acquisition = attrs.count("acquisition") ? attrs["acquisition"] : "ed-mf";
  // Files written before the zero-shot pick was recorded have none of these.
  if (attrs.count("zero_shot_index")) {
    s.zero_shot_index = static_cast<int>(number("zero_shot_index"));
    s.zero_shot_config = attrs.count("zero_shot_config") ? attrs["zero_shot_config"] : "";
    s.zero_shot_predicted_error = number("zero_shot_predicted_error");
    s.zero_shot_predicted_std = number("zero_shot_predicted_std");
    s.zero_shot_expected_regret = number("zero_shot_expected_regret");
  }
  s.text_attributes = attrs;
  s.validate(path);
  return s;
}

}  // namespace peppp::io

namespace peppp::io {

namespace fs = std::filesystem;

std::string selection_conditions_path(const std::string& output) { return output + ".conditions"; }

void write_selection_conditions(const std::string& output, const std::string& text) {
  AtomicPath out(selection_conditions_path(output));
  write_file_durably(out.temp(), text.data(), text.size(), out.path());
  out.commit();
}

std::string read_selection_conditions(const std::string& output) {
  const std::string path = selection_conditions_path(output);
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (!fs::exists(st)) return {};
  if (!fs::is_regular_file(st))
    throw InputError(path + ": the conditions record of --output " + output +
                     " is not a regular file; allowed: a file peppp select wrote (move it away)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot be read");
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> selection_training_files(const std::string& output) {
  const fs::path out(output);
  const std::string base = out.filename().string();
  const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  // <base>.round-<digits>.nc, with or without the journal suffix.
  auto is_round = [&](const std::string& name) {
    const std::string head = base + ".round-";
    if (name.rfind(head, 0) != 0) return false;
    std::string rest = name.substr(head.size());
    const std::string journal_suffix = journal_dir("");  // what a journal folder adds to its output's name
    if (rest.size() > journal_suffix.size() && rest.compare(rest.size() - journal_suffix.size(), std::string::npos,
                                                            journal_suffix) == 0)
      rest.erase(rest.size() - journal_suffix.size());
    if (rest.size() < 4 || rest.compare(rest.size() - 3, 3, ".nc") != 0) return false;
    rest.erase(rest.size() - 3);
    return std::all_of(rest.begin(), rest.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  };
  std::vector<std::string> found;
  std::error_code ec;
  for (const std::string& p : {output + ".measured.nc", journal_dir(output + ".measured.nc"),
                               selection_conditions_path(output)})
    if (fs::exists(fs::symlink_status(p, ec))) found.push_back(p);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (is_round(it->path().filename().string()))
      found.push_back(out.has_parent_path() ? (dir / it->path().filename()).string() : it->path().filename().string());
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace peppp::io
