#include "peppp/app/options.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>
#include <stdexcept>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace peppp::app {

OptionSpec& OptionSet::add(const std::string& key, Kind kind, const std::string& default_value,
                           const std::string& unit, const std::string& example,
                           const std::string& help) {
  OptionSpec s;
  s.key = key;
  s.kind = kind;
  s.default_value = default_value;
  s.unit = unit;
  s.example = example;
  s.help = help;
  specs.push_back(s);
  return specs.back();
}

const OptionSpec* OptionSet::find(const std::string& key) const {
  for (const auto& s : specs)
    if (s.key == key) return &s;
  return nullptr;
}

OptionSpec& OptionSet::get(const std::string& key) {
  for (auto& s : specs)
    if (s.key == key) return s;
  throw std::logic_error("peppp " + command + ": option '" + key + "' is not declared");
}

namespace {

std::string fmt_num(double v) {
  std::ostringstream os;
  os << std::setprecision(12) << v;
  return os.str();
}

std::string range_text(const OptionSpec& s) {
  bool lo = std::isfinite(s.min), hi = std::isfinite(s.max);
  if (lo && hi) {
    return std::string(s.min_exclusive ? "in (" : "in [") + fmt_num(s.min) + ", " + fmt_num(s.max) + "]";
  }
  if (lo) return std::string(s.min_exclusive ? "> " : ">= ") + fmt_num(s.min);
  if (hi) return "<= " + fmt_num(s.max);
  return "";
}

bool in_range(const OptionSpec& s, double v) {
  if (s.min_exclusive ? !(v > s.min) : !(v >= s.min)) return false;
  return v <= s.max;
}

std::vector<std::string> config_keys(const OptionSet& set) {
  std::vector<std::string> keys;
  for (const auto& s : set.specs)
    if (s.in_config) keys.push_back(s.key);
  return keys;
}

}  // namespace

namespace {
std::string prefixed_text(const OptionSpec& s) {
  return s.prefix.empty() ? "" : ", or " + s.prefix + s.prefix_help;
}
bool is_prefixed(const OptionSpec& s, const std::string& value) {
  return !s.prefix.empty() && starts_with(value, s.prefix) && !trim(value.substr(s.prefix.size())).empty();
}
}  // namespace

std::string allowed_text(const OptionSpec& s) {
  std::string r = range_text(s);
  switch (s.kind) {
    case Kind::integer: return r.empty() ? "an integer" : "an integer " + r;
    case Kind::real: return r.empty() ? "a real number" : "a real number " + r;
    case Kind::text: return "a non-empty text";
    case Kind::flag: return "true or false";
    case Kind::choice: return "one of: " + join(s.choices, ", ") + prefixed_text(s);
    case Kind::list:
      return s.choices.empty() ? "a comma-separated list"
                               : "a comma-separated list of: " + join(s.choices, ", ") + prefixed_text(s);
  }
  return "";
}

std::string check_value(const OptionSpec& s, const std::string& value) {
  switch (s.kind) {
    case Kind::integer: {
      std::int64_t v = 0;
      if (!parse_int(value, v) || !in_range(s, static_cast<double>(v)))
        return "allowed: " + allowed_text(s);
      return "";
    }
    case Kind::real: {
      double v = 0;
      if (!parse_double(value, v) || !in_range(s, v)) return "allowed: " + allowed_text(s);
      return "";
    }
    case Kind::text:
      return trim(value).empty() ? "allowed: " + allowed_text(s) : "";
    case Kind::flag: {
      bool b = false;
      return parse_bool(value, b) ? "" : "allowed: " + allowed_text(s);
    }
    case Kind::choice:
      if (is_prefixed(s, trim(value))) return "";
      for (const auto& c : s.choices)
        if (c == trim(value)) return "";
      return "allowed: " + allowed_text(s);
    case Kind::list: {
      if (s.choices.empty()) return "";
      for (const auto& item : split(value, ',')) {
        bool ok = is_prefixed(s, item);
        for (const auto& c : s.choices) ok = ok || (c == item);
        if (!ok) return "element '" + item + "' is not allowed; allowed: " + join(s.choices, ", ") + prefixed_text(s);
      }
      return "";
    }
  }
  return "";
}

std::map<std::string, IniEntry> read_ini(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": configuration file not found");
  if (fs::is_directory(path, ec)) throw InputError(path + ": is a folder, expected a configuration file");
  // A FIFO would block the read forever (a device never ends): only a regular file is read.
  if (!fs::is_regular_file(path, ec))
    throw InputError(path + ": is not a regular file (a FIFO, device or socket); allowed: a configuration file");
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot read the configuration file");
  std::map<std::string, IniEntry> out;
  std::string line, section;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = line;
    auto hash = t.find_first_of("#;");
    if (hash != std::string::npos) t = t.substr(0, hash);
    t = trim(t);
    if (t.empty()) continue;
    std::string where = path + ":" + std::to_string(lineno) + ": ";
    if (t.front() == '[') {
      if (t.back() != ']' || t.size() < 3)
        throw InputError(where + "malformed section header '" + t + "'; expected [section]");
      section = trim(t.substr(1, t.size() - 2));
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string::npos)
      throw InputError(where + "malformed line '" + t + "'; expected key = value");
    std::string key = trim(t.substr(0, eq));
    std::string value = trim(t.substr(eq + 1));
    if (key.empty()) throw InputError(where + "missing key before '='");
    std::string full = section.empty() ? key : section + "." + key;
    if (out.count(full))
      throw InputError(where + "key '" + full + "' repeated (first on line " +
                       std::to_string(out[full].line) + ")");
    out[full] = IniEntry{value, lineno};
  }
  return out;
}

Options parse_options(const OptionSet& set, const std::vector<std::string>& args) {
  Options o;
  o.command_line_ = "peppp " + set.command;
  for (const auto& a : args) o.command_line_ += " " + a;

  // ---- command line through Boost.Program_options
  po::options_description desc;
  desc.add_options()("help,h", "")("quiet,q", "")("verbose,v", "")("log-ranks", po::value<std::string>(), "");
  if (set.takes_config) desc.add_options()("config", po::value<std::string>(), "");
  std::string positional_key;
  bool positional_list = false;
  for (const auto& s : set.specs) {
    if (s.kind == Kind::flag) {
      desc.add_options()(s.key.c_str(), po::value<std::string>()->implicit_value("true"), "");
    } else if (s.positional && s.kind == Kind::list) {
      // A positional list takes every positional argument (peppp merge A.nc B.nc ...).
      desc.add_options()(s.key.c_str(), po::value<std::vector<std::string>>()->multitoken(), "");
    } else {
      desc.add_options()(s.key.c_str(), po::value<std::string>(), "");
    }
    if (s.positional) {
      positional_key = s.key;
      positional_list = s.kind == Kind::list;
    }
  }
  po::positional_options_description pos;
  if (!positional_key.empty()) pos.add(positional_key.c_str(), positional_list ? -1 : 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos)
                  .style(po::command_line_style::unix_style ^ po::command_line_style::allow_guessing)
                  .run(), vm);
  } catch (const po::unknown_option& e) {
    std::string name = e.get_option_name();
    std::string bare = name;
    while (!bare.empty() && bare.front() == '-') bare.erase(0, 1);
    std::vector<std::string> keys;
    for (const auto& s : set.specs) keys.push_back(s.key);
    std::string near = nearest(bare, keys);
    throw InputError("command line: unknown option '" + name + "' for 'peppp " + set.command + "'" +
                     (near.empty() ? "" : " (did you mean --" + near + "?)") +
                     "; see 'peppp " + set.command + " --help'");
  } catch (const po::too_many_positional_options_error&) {
    throw InputError("command line: too many arguments for 'peppp " + set.command +
                     "'; see 'peppp " + set.command + " --help'");
  } catch (const po::error& e) {
    throw InputError(std::string("command line: ") + e.what() + "; see 'peppp " + set.command + " --help'");
  }

  if (vm.count("help")) {
    o.help_ = true;
    return o;
  }
  if (vm.count("quiet") && vm.count("verbose"))
    throw InputError("command line: --quiet and --verbose exclude each other");
  if (vm.count("quiet")) log::set_level(log::Level::warn);
  if (vm.count("verbose")) log::set_level(log::Level::debug);
  if (vm.count("log-ranks")) {
    std::string v = vm["log-ranks"].as<std::string>();
    if (v != "root" && v != "all")
      throw InputError("command line: --log-ranks '" + v + "'; allowed: root, all");
    log::set_all_ranks(v == "all");
  }

  // ---- config file
  if (set.takes_config && vm.count("config")) {
    o.config_file_ = vm["config"].as<std::string>();
    auto entries = read_ini(o.config_file_);
    auto keys = config_keys(set);
    for (const auto& [key, entry] : entries) {
      std::string where = o.config_file_ + ":" + std::to_string(entry.line) + ": ";
      const OptionSpec* spec = set.find(key);
      const auto dot_pos = key.find('.');
      if (!spec && dot_pos != std::string::npos &&
          std::find(set.other_stage_sections.begin(), set.other_stage_sections.end(), key.substr(0, dot_pos)) !=
              set.other_stage_sections.end())
        continue;  // another stage's key (checked by `peppp run`)
      if (!spec || !spec->in_config) {
        std::string near = nearest(key, keys);
        auto dot = key.find('.');
        std::vector<std::string> same_section;
        for (const auto& k : keys)
          if (dot != std::string::npos && starts_with(k, key.substr(0, dot + 1))) same_section.push_back(k);
        throw InputError(where + "unknown key '" + key + "' for 'peppp " + set.command + "'" +
                         (near.empty() ? "" : " (did you mean '" + near + "'?)") + "; allowed keys: " +
                         join(same_section.empty() ? keys : same_section, ", "));
      }
      std::string why = check_value(*spec, entry.value);
      if (!why.empty())
        throw InputError(where + "key '" + key + "' = '" + entry.value + "' is invalid; " + why);
      o.values_[key] = trim(entry.value);
      o.sources_[key] = o.config_file_ + ":" + std::to_string(entry.line);
    }
  }

  // ---- command line values win
  for (const auto& s : set.specs) {
    if (!vm.count(s.key)) continue;
    std::string v = s.positional && s.kind == Kind::list ? join(vm[s.key].as<std::vector<std::string>>(), ",")
                                                         : vm[s.key].as<std::string>();
    std::string why = check_value(s, v);
    if (!why.empty())
      throw InputError("command line: --" + s.key + " '" + v + "' is invalid; " + why);
    o.values_[s.key] = trim(v);
    o.sources_[s.key] = "command line";
  }

  // ---- defaults and required keys
  for (const auto& s : set.specs) {
    if (o.values_.count(s.key)) continue;
    if (s.required)
      throw InputError("missing required option --" + s.key + " (" + s.help + "); see 'peppp " +
                       set.command + " --help'");
    if (!s.default_value.empty()) {
      o.values_[s.key] = s.default_value;
      o.sources_[s.key] = "default";
    }
  }
  return o;
}

Options overlay_options(const OptionSet& set, const Options& user,
                        const std::map<std::string, std::string>& attributes,
                        const std::function<bool(const std::string&)>& inherit, bool* inherited) {
  std::vector<std::string> args;
  bool any = false;
  for (const auto& s : set.specs) {
    if (user.given(s.key)) {
      args.push_back("--" + s.key + "=" + (s.unit == "path" ? user.path(s.key) : user.text(s.key)));
    } else if (inherit(s.key)) {
      auto it = attributes.find("option." + s.key);
      if (it != attributes.end()) {
        args.push_back("--" + s.key + "=" + it->second);
        any = true;
      }
    }
  }
  if (inherited) *inherited = any;
  return parse_options(set, args);
}

void apply(const OptionSet& set, const Options& o) {
  for (const auto& s : set.specs)
    if (s.store && o.has(s.key)) s.store(o);
}

const std::string& Options::text(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw InputError("option --" + key + " has no value and no default");
  return it->second;
}

std::int64_t Options::integer(const std::string& key) const {
  std::int64_t v = 0;
  if (!parse_int(text(key), v)) throw InputError("option --" + key + " = '" + text(key) + "' is not an integer");
  return v;
}

double Options::real(const std::string& key) const {
  double v = 0;
  if (!parse_double(text(key), v)) throw InputError("option --" + key + " = '" + text(key) + "' is not a number");
  return v;
}

bool Options::flag(const std::string& key) const {
  if (!has(key)) return false;
  bool b = false;
  if (!parse_bool(text(key), b)) throw InputError("option --" + key + " = '" + text(key) + "' is not true/false");
  return b;
}

std::string Options::path(const std::string& key) const {
  std::string p = text(key);
  if (fs::path(p).is_absolute() || !starts_with(source(key), config_file_ + ":") || config_file_.empty())
    return p;
  fs::path base = fs::path(config_file_).parent_path();
  return (base / p).lexically_normal().string();
}

std::vector<std::string> Options::list(const std::string& key) const {
  const std::string& v = text(key);
  if (trim(v).empty()) return {};
  return split(v, ',');
}

bool Options::has(const std::string& key) const { return values_.count(key) > 0; }

bool Options::given(const std::string& key) const {
  auto it = sources_.find(key);
  return it != sources_.end() && it->second != "default";
}

std::string Options::source(const std::string& key) const {
  auto it = sources_.find(key);
  return it == sources_.end() ? "" : it->second;
}

std::string help_text(const OptionSet& set) {
  std::ostringstream os;
  os << "peppp " << set.command << " - " << set.summary << "\n\n";
  os << "Usage:\n  " << set.usage << "\n\n";
  if (set.takes_config) {
    os << "Every [section] key = value of the --config INI file can also be given on the\n"
          "command line as --section.key VALUE (the command line wins). Relative paths in\n"
          "the file are taken relative to the file's folder.\n\n";
    os << "  --config FILE\n      INI file with the options below.\n";
  }
  std::string section = "\x01";
  for (const auto& s : set.specs) {
    auto dot = s.key.find('.');
    std::string sec = dot == std::string::npos ? "" : s.key.substr(0, dot);
    if (sec != section) {
      section = sec;
      os << "\n" << (sec.empty() ? std::string("Options:") : "[" + sec + "]") << "\n";
    }
    os << "  --" << s.key;
    if (s.kind != Kind::flag) os << " " << (s.kind == Kind::list ? "LIST" : s.kind == Kind::integer ? "N" : s.kind == Kind::real ? "X" : "VALUE");
    os << "\n      " << s.help << "\n      ";
    os << "default: " << (s.required ? "(required)" : s.default_value.empty() ? "(none)" : s.default_value);
    if (!s.unit.empty()) os << "; unit: " << s.unit;
    os << "; allowed: " << allowed_text(s);
    if (!s.example.empty()) os << "; e.g. --" << s.key << " " << s.example;
    if (!s.in_config) os << " (command line only)";
    os << "\n";
  }
  os << "\nLogging:\n  --quiet, -q   warnings and errors only\n  --verbose, -v debug messages\n"
        "  --log-ranks root|all   print from rank 0 only (default) or from every rank, rank-prefixed\n"
        "  --help, -h    this text\n";
  return os.str();
}

}  // namespace peppp::app
