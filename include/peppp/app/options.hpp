#pragma once
/// @file options.hpp
/// @brief Declarative options of the `peppp` subcommands: every key declared
/// once with type, default, unit, example and help; values from an INI file
/// (`--config`) and the command line (`--section.key value`, which wins);
/// every value checked up front with messages naming the file, line, key,
/// value and what is allowed. Boost.Program_options is used only in the
/// implementation.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

namespace peppp::app {

class Options;

/// What a value must look like.
enum class Kind {
  integer,  ///< whole number (range checked)
  real,     ///< finite real number (range checked)
  text,     ///< any non-empty text (a path, a name)
  flag,     ///< boolean: true/false/yes/no/on/off/1/0; on the command line `--key` alone means true
  choice,   ///< one of `choices`
  list,     ///< comma-separated list; each element checked against `choices` when given
};

/// One declared option.
struct OptionSpec {
  std::string key;            ///< "train.epochs" (INI `[train] epochs = ...`) or a plain name ("output")
  Kind kind = Kind::text;
  std::string default_value;  ///< empty: no default
  std::string unit;           ///< "epochs", "MiB", ... (empty when dimensionless)
  std::string example;        ///< value shown in --help
  std::string help;           ///< one or two sentences
  std::vector<std::string> choices;  ///< allowed values (choice; list elements)
  /// Also allowed beside `choices`: a value "PREFIX" + non-empty rest (e.g.
  /// "torchscript:" for `torchscript:PATH`); empty: none.
  std::string prefix;
  std::string prefix_help;    ///< what the rest is, for the allowed text ("PATH")
  double min = -std::numeric_limits<double>::infinity();  ///< numeric lower bound
  double max = std::numeric_limits<double>::infinity();   ///< numeric upper bound
  bool min_exclusive = false;  ///< lower bound is exclusive (e.g. ratio in (0, 1])
  bool in_config = true;       ///< may appear in an INI file (false: command line only)
  bool required = false;       ///< must be given (file or command line)
  bool positional = false;     ///< may be given as the (single) positional argument; a list: every positional argument
  /// Stores the parsed value into a typed field (set by `to()`); called by
  /// `apply()` once the value is known (given or defaulted).
  std::function<void(const Options&)> store;

  // Fluent declaration: `s.add(...).command_line_only().mandatory().at_least(1).to(args.count)`.
  /// Numeric value >= lo.
  OptionSpec& at_least(double lo) { min = lo; min_exclusive = false; return *this; }
  /// Numeric value > lo.
  OptionSpec& above(double lo) { min = lo; min_exclusive = true; return *this; }
  /// Numeric value <= hi.
  OptionSpec& at_most(double hi) { max = hi; return *this; }
  /// Allowed values of a choice, or of each element of a list.
  OptionSpec& one_of(std::vector<std::string> allowed) { choices = std::move(allowed); return *this; }
  /// Beside `choices`, any value `pre` + non-empty rest, shown as `pre` + `rest_help`.
  OptionSpec& or_prefixed(std::string pre, std::string rest_help) {
    prefix = std::move(pre);
    prefix_help = std::move(rest_help);
    return *this;
  }
  /// Only on the command line, not in a --config file.
  OptionSpec& command_line_only() { in_config = false; return *this; }
  /// Must be given (file or command line).
  OptionSpec& mandatory(bool yes = true) { required = yes; return *this; }
  /// May be given as the (single) positional argument; a list option takes
  /// every positional argument (joined with commas, as `--key a,b` gives).
  OptionSpec& as_positional() { positional = true; return *this; }
  /// Store the value into `target` on `apply()`: integers into any integral
  /// type, reals into double, flags into bool, lists into a vector of
  /// strings, text into a string — a path (unit "path") resolved as
  /// `Options::path` does. The field must outlive the set's `apply()`.
  template <class T>
  OptionSpec& to(T& target);
  /// Store `convert(text)` into `target` (e.g. an enum parser).
  template <class T, class Convert>
  OptionSpec& to(T& target, Convert convert);
};

/// The options of one subcommand.
struct OptionSet {
  std::string command;                 ///< "measure"
  std::string summary;                 ///< one line for `peppp --help`
  std::string usage;                   ///< usage line(s) for `peppp <cmd> --help`
  std::vector<OptionSpec> specs;       ///< declared options, in help order
  bool takes_config = true;            ///< accepts `--config FILE`
  /// Config-file sections that belong to other stages of the pipeline (e.g.
  /// `[loocv]` in a `peppp run` file given to `peppp measure`): skipped, not
  /// errors. `peppp run` itself checks them.
  std::vector<std::string> other_stage_sections;

  /// Declare an option; returns it for fluent setting of the rest.
  OptionSpec& add(const std::string& key, Kind kind, const std::string& default_value,
                  const std::string& unit, const std::string& example, const std::string& help);
  /// The spec of `key`, or nullptr.
  const OptionSpec* find(const std::string& key) const;
  /// The spec of `key`, to change a shared declaration (e.g. its default)
  /// for one command. @throws std::logic_error when `key` is not declared.
  OptionSpec& get(const std::string& key);
};

/// Parsed and validated values of one subcommand invocation.
class Options {
 public:
  /// Raw value text of `key` (the default when not given). Throws
  /// `InputError` if the key has no value and no default.
  const std::string& text(const std::string& key) const;
  /// Integer value of `key`.
  std::int64_t integer(const std::string& key) const;
  /// Real value of `key`.
  double real(const std::string& key) const;
  /// Boolean value of `key`.
  bool flag(const std::string& key) const;
  /// Path value of `key`. A relative path that came from the config file is
  /// taken relative to that file's folder (so an input file can name its
  /// catalog beside it); from the command line, relative to the working
  /// folder.
  std::string path(const std::string& key) const;
  /// Comma-separated list value of `key` (empty list for an empty value).
  std::vector<std::string> list(const std::string& key) const;
  /// True if `key` has a value (given or defaulted).
  bool has(const std::string& key) const;
  /// True if `key` was given in the config file or on the command line.
  bool given(const std::string& key) const;
  /// Where the value came from: "FILE:LINE", "command line" or "default".
  std::string source(const std::string& key) const;
  /// Every key with a value, for provenance attributes.
  const std::map<std::string, std::string>& values() const { return values_; }
  /// The config file used (empty if none).
  const std::string& config_file() const { return config_file_; }
  /// The whole command line, space-joined.
  const std::string& command_line() const { return command_line_; }
  /// True when `--help` was asked for.
  bool help() const { return help_; }

 private:
  friend Options parse_options(const OptionSet&, const std::vector<std::string>&);
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> sources_;
  std::string config_file_;
  std::string command_line_;
  bool help_ = false;
};

/// Store every value of `o` (given or defaulted) into the fields the specs
/// of `set` were bound to with `OptionSpec::to`. Specs without a binding and
/// keys without a value are left alone.
void apply(const OptionSet& set, const Options& o);

template <class T>
OptionSpec& OptionSpec::to(T& target) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    // A value the field cannot hold is refused by the range check, before
    // any work, instead of wrapping (2^32 epochs must not become 0).
    // (64-bit fields: parse_int already refuses what int64 cannot hold.)
    if constexpr (sizeof(T) < sizeof(std::int64_t)) {
      max = std::min(max, static_cast<double>(std::numeric_limits<T>::max()));
      min = std::max(min, static_cast<double>(std::numeric_limits<T>::lowest()));
    }
    if constexpr (std::is_unsigned_v<T>) min = std::max(min, 0.0);
  }
  const std::string k = key;
  const bool is_path = unit == "path";
  store = [k, is_path, &target](const Options& o) {
    if constexpr (std::is_same_v<T, bool>) {
      target = o.flag(k);
    } else if constexpr (std::is_integral_v<T>) {
      target = static_cast<T>(o.integer(k));
    } else if constexpr (std::is_floating_point_v<T>) {
      target = static_cast<T>(o.real(k));
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      target = o.list(k);
    } else {
      static_assert(std::is_same_v<T, std::string>, "OptionSpec::to: bind to a number, bool, string or list");
      target = is_path ? o.path(k) : o.text(k);
    }
  };
  return *this;
}

template <class T, class Convert>
OptionSpec& OptionSpec::to(T& target, Convert convert) {
  const std::string k = key;
  store = [k, &target, convert](const Options& o) { target = convert(o.text(k)); };
  return *this;
}

/// Parse `args` (everything after the subcommand name) for `set`: read the
/// `--config` INI file if given, then the command line on top, check every
/// value against its spec and that required keys are present. Global
/// logging flags (`--quiet`, `--verbose`, `--log-ranks`) are accepted by
/// every command and applied to the logger. Not collective: every rank
/// parses the same arguments and reaches the same result.
/// @throws InputError naming file:line (or "command line"), key, value and
///         the allowed values.
Options parse_options(const OptionSet& set, const std::vector<std::string>& args);

/// The options `user` gave for `set`, plus, for each key the user did not
/// give and `inherit(key)` accepts, the value recorded as attribute
/// "option.KEY" in `attributes` (the options an input file was made with,
/// e.g. a campaign's training settings); parsed and checked again.
/// `*inherited` (when given) says whether any value came from `attributes`.
/// @throws InputError naming the key when an inherited value is not allowed.
Options overlay_options(const OptionSet& set, const Options& user,
                        const std::map<std::string, std::string>& attributes,
                        const std::function<bool(const std::string&)>& inherit, bool* inherited = nullptr);

/// Check one value against its spec; returns an empty string when valid,
/// else the reason ("not an integer; allowed: integer >= 1").
std::string check_value(const OptionSpec& spec, const std::string& value);

/// Describe what `spec` allows, e.g. "integer >= 1" or "one of: full, uniform".
std::string allowed_text(const OptionSpec& spec);

/// The `peppp <cmd> --help` text: usage, then every key with its default,
/// unit, example and help, grouped by section.
std::string help_text(const OptionSet& set);

/// Read an INI file into (key -> value, line) without checking keys; used by
/// `parse_options` and by tools that read peppp inputs.
/// @throws InputError on a missing/unreadable file or a malformed line.
struct IniEntry { std::string value; int line; };
std::map<std::string, IniEntry> read_ini(const std::string& path);

}  // namespace peppp::app
