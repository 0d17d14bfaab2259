// The meta-LOOCV keys, declared once for `peppp loocv` and `peppp run`.
#include "loocv_options.hpp"


#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::app {

void add_loocv_options(OptionSet& s, const std::string& p, bool in_config) {
  auto add = [&](const std::string& key, Kind kind, const std::string& def, const std::string& unit,
                 const std::string& example, const std::string& help) -> OptionSpec& {
    auto& o = s.add(p + key, kind, def, unit, example, help);
    o.in_config = in_config;
    return o;
  };
  add("settings", Kind::list, "I,II,III,IV,V,VI", "", "I,IV",
      "Meta-LOOCV settings (METHOD.md F10): I/II full meta-training matrix, III/IV uniform sample + SoftImpute, "
      "V/VI non-uniform sample + weighted SoftImpute; even numbers cap the meta-test measurements.")
      .choices = meta::loocv_setting_names();
  add("methods", Kind::list, "ed-mf,qr-mf,random-mf,bo-mf,bo-full", "", "ed-mf,random-mf",
      "Acquisition methods compared; the random-high-memory baseline is always added.")
      .choices = meta::loocv_method_names();
  add("measurements", Kind::list, "3,4,5,6,8,10,12,15", "configurations", "3,5,8",
      "Numbers of configurations measured on the held-out task (each >= rank).");
  add("cap", Kind::text, "median", "MiB", "816",
      "Memory cap on meta-test measurements and budget of the final pick: 'median' (of all memory entries) or MiB.");
  add("repeats", Kind::integer, "1", "", "3",
      "Repeats with different sampling masks and random orders; metrics are averaged over them.").min = 1;
  add("rank", Kind::integer, "3", "", "3", "Rank k of the low-rank embedding.").min = 1;
  add("lambda", Kind::text, "auto", "", "0.1",
      "SoftImpute lambda for the sampled settings: a number > 0, or 'auto' (5-fold CV, METHOD.md F3.5).");
  add("seed", Kind::integer, "1", "", "7", "Seed of the sampling masks and random orders.").min = 0;
  auto& ratio = add("ratio", Kind::real, "0.2", "fraction", "0.2",
                    "Uniform sampling ratio of the meta-training matrix (settings III, IV).");
  ratio.min = 0;
  ratio.min_exclusive = true;
  ratio.max = 1;
  auto& pmax = add("p_max", Kind::real, "0.4", "probability", "0.4",
                   "Non-uniform sampling: probability of the cheapest cells (settings V, VI).");
  pmax.min = 0;
  pmax.min_exclusive = true;
  pmax.max = 1;
  auto& pmin = add("p_min", Kind::real, "0", "probability", "0", "Non-uniform sampling: probability floor.");
  pmin.min = 0;
  pmin.max = 1;
}

meta::LoocvSpec loocv_spec_from(const Options& o, const std::string& p) {
  meta::LoocvSpec spec;
  spec.settings = o.list(p + "settings");
  spec.methods = o.list(p + "methods");
  spec.measurements.clear();
  for (const auto& m : o.list(p + "measurements")) {
    std::int64_t v = 0;
    if (!parse_int(m, v) || v < 1 || v > 1000000)
      throw InputError("--" + p + "measurements: value '" + m + "' (from " + o.source(p + "measurements") +
                       ") is not allowed; allowed: comma-separated integers >= 1");
    spec.measurements.push_back(static_cast<int>(v));
  }
  const std::string cap = o.text(p + "cap");
  if (cap == "median") {
    spec.cap = std::numeric_limits<double>::quiet_NaN();
  } else if (!parse_double(cap, spec.cap) || !(spec.cap > 0) || !std::isfinite(spec.cap)) {
    throw InputError("--" + p + "cap: value '" + cap + "' (from " + o.source(p + "cap") +
                     ") is not allowed; allowed: 'median' or a number of MiB > 0");
  }
  spec.repeats = static_cast<int>(o.integer(p + "repeats"));
  spec.rank = static_cast<int>(o.integer(p + "rank"));
  const std::string lambda = o.text(p + "lambda");
  if (lambda == "auto") {
    spec.lambda = 0;
  } else if (!parse_double(lambda, spec.lambda) || !(spec.lambda > 0) || !std::isfinite(spec.lambda)) {
    throw InputError("--" + p + "lambda: value '" + lambda + "' (from " + o.source(p + "lambda") +
                     ") is not allowed; allowed: 'auto' or a number > 0");
  }
  spec.seed = static_cast<std::uint64_t>(o.integer(p + "seed"));
  spec.ratio = o.real(p + "ratio");
  spec.p_max = o.real(p + "p_max");
  spec.p_min = o.real(p + "p_min");
  return spec;
}

std::map<std::string, std::string> output_attributes(const Options& o, MPI_Comm comm, const std::string& command) {
  auto attrs = io::provenance(o.command_line(), par::size(comm));
  attrs["peppp_command"] = command;
  for (const auto& [k, v] : o.values()) attrs["option." + k] = v;
  return attrs;
}

}  // namespace peppp::app
