#pragma once
// Private to the app layer: one option set and one run function per
// subcommand, each pair in its own cmd_<name>.cpp; and the typed arguments
// that several commands share (the campaign keys, the LOOCV keys). Each key
// is declared once, bound to a field; `apply` fills the struct, `finish`
// checks what one key alone cannot.
#include <mpi.h>

#include <map>
#include <string>
#include <vector>

#include "peppp/app/options.hpp"
#include "peppp/meta/loocv.hpp"
#include "peppp/stage/common.hpp"
#include "peppp/stage/measure.hpp"

namespace peppp::app {

/// The campaign keys shared by measure, memory, run and select:
/// [campaign], [train], [sampling], [run].
struct CampaignArgs {
  stage::CampaignSpec spec;          ///< filled by apply() + finish()
  stage::Resources resources;        ///< [run] device, threads, progress_interval
  std::string catalog;               ///< campaign.tasks (resolved path); empty = not given
  std::vector<std::string> formats_a, formats_b;  ///< campaign.formats_a/b labels
  /// campaign.formats_first/last/attention/norm labels (docs/roles.md); empty: the body's format.
  std::vector<std::string> formats_first, formats_last, formats_attention, formats_norm;
  std::string configurations;  ///< campaign.configurations: a file of labels (resolved path); empty: the product
  std::vector<std::string> learning_rates;        ///< train.learning_rates text

  /// Declare every key into `s`, bound to this struct.
  void declare(OptionSet& s);
  /// Parse the formats into spec.configs, read the catalog into spec.tasks
  /// (when `read_catalog` and a catalog is given; with `need_files`, every
  /// task's dataset files must exist), set spec.identity.
  /// @throws InputError naming the key, its source and the value.
  void finish(const Options& o, bool read_catalog, bool need_files = true);
  /// The columns (docs/roles.md): campaign.configurations when given, else
  /// formats_a × first × last × attention × norm × formats_b, body-major,
  /// Format B innermost, repeats dropped (without role lists: all_configurations).
  /// @throws InputError naming the key, its source and the value.
  std::vector<Configuration> campaign_configurations(const Options& o) const;
  /// Refuse a configuration of spec.configs overriding a role that a network
  /// of the campaign lacks (one line: key, source, value, allowed roles).
  /// Nothing to check without mixed configurations or without tasks.
  void check_roles(const Options& o) const;
  /// formats_first, formats_last, formats_attention, formats_norm (override_roles() order).
  std::vector<std::vector<std::string>> role_lists() const {
    return {formats_first, formats_last, formats_attention, formats_norm};
  }
};

/// The meta-LOOCV keys of `peppp loocv` (plain names, command line only)
/// and `peppp run` ([loocv] section).
struct LoocvArgs {
  meta::LoocvSpec spec;  ///< filled by apply() + finish()
  std::vector<std::string> measurements;
  std::string cap = "median", lambda = "auto", fold_by = "task", prediction = "posterior";
  int epoch = 0;                                ///< errors after this epoch; 0 = final
  std::vector<std::string> rows, test_rows;     ///< row selectors (stage::select_rows)

  /// Declare settings, methods, measurements, cap, repeats, rank, lambda,
  /// seed, ratio, p_min, p_max, fold-by, prediction, epoch, rows, test-rows under
  /// `prefix` ("" or "loocv."; multi-word keys are spelled with '-' on the
  /// command line, with '_' under "loocv.": fold-by / loocv.fold_by).
  void declare(OptionSet& s, const std::string& prefix, bool in_config);
  /// Parse measurements, cap, lambda, fold-by and prediction into spec. @throws InputError naming the key and value.
  void finish(const Options& o);
  /// The key of `name` ("fold-by") under this prefix ("fold-by" / "loocv.fold_by").
  std::string key(const std::string& name) const;

 private:
  std::string prefix_;
};

/// SoftImpute λ of `key`: a number > 0, or 0 for "auto". @throws InputError.
double lambda_value(const Options& o, const std::string& key, const std::string& words = "'auto'");

/// The text of everything besides tasks, configurations and sampling that
/// decides a cell's result ("key=value" lines of campaign.model, train.* and,
/// for measure, synthetic.*): a journal made with other values belongs to
/// another plan. Keys `o` lacks take measure's defaults, so `peppp run` and
/// `peppp measure` plan the same campaign alike. `model` is the resolved
/// campaign.model (a one-element campaign.models is that model; several
/// give "(per row)", as several train.learning_rates do).
std::string campaign_identity(const Options& o, const std::string& model);

/// `model` as given for `key` (campaign.model, campaign.models): a zoo name as
/// it is; "torchscript:PATH" with PATH taken relative to the INI file when the
/// value came from it (as `Options::path`), else relative to `base` when
/// given (select: the folder of the campaign a relative path was inherited
/// from), else to the working folder; returned absolute and normalized
/// ("torchscript:/abs/net.pt"), so a campaign records, labels its rows with
/// and hands on to select the one file that was measured.
/// @throws InputError naming the option, the file and what is allowed when
///         the file does not exist or the path holds a ',' (lists split there).
std::string resolve_model(const Options& o, const std::string& key, const std::string& model,
                          const std::string& base = "");

/// Row selectors of `key` (loocv.rows, loocv.test_rows): each "model=torchscript:PATH" gets PATH
/// as `resolve_model` makes it (absolute, relative to the INI file or the working folder), so it
/// matches the rows' recorded `row_model`; the file need not exist. Other selectors as they are.
/// @throws InputError when such a PATH holds a ','.
void resolve_model_selectors(const Options& o, const std::string& key, std::vector<std::string>& selectors);

/// The measure job `o` describes (campaign keys, output, resume, synthetic
/// cells) with the provenance of its output; `peppp run` takes it too.
stage::MeasureJob measure_job(const Options& o, MPI_Comm comm);

/// The provenance and option attributes of an output file.
stage::Attributes output_attributes(const Options& o, MPI_Comm comm, const std::string& command);

#define PEPPP_DECLARE_COMMAND(name)        \
  OptionSet name##_options();              \
  int run_##name(const Options& o, MPI_Comm comm);

PEPPP_DECLARE_COMMAND(run)
PEPPP_DECLARE_COMMAND(measure)
PEPPP_DECLARE_COMMAND(complete)
PEPPP_DECLARE_COMMAND(loocv)
PEPPP_DECLARE_COMMAND(select)
PEPPP_DECLARE_COMMAND(memory)
PEPPP_DECLARE_COMMAND(tasks)
PEPPP_DECLARE_COMMAND(info)
PEPPP_DECLARE_COMMAND(merge)
PEPPP_DECLARE_COMMAND(quantize)
#undef PEPPP_DECLARE_COMMAND

}  // namespace peppp::app
