// peppp run: measure -> complete -> loocv in one MPI job, all files in one folder.
// Each stage is the stand-alone command, given the options it would get on
// its own command line, so `run` and the separate commands cannot drift apart.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "peppp/app/figures.hpp"
#include "loocv_options.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/meta/loocv.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"

namespace fs = std::filesystem;

namespace peppp::app {

OptionSet run_options() {
  OptionSet s;
  s.command = "run";
  s.summary = "measure -> complete -> loocv in one MPI job, all files in one folder";
  s.usage = "mpirun -np N peppp run --config inputs/demo.ini --output-dir DIR";
  s.takes_config = true;
  add_campaign_options(s);
  // The paper's practical setting: measure a uniform 20-30% sample, complete the rest.
  for (auto& spec : s.specs) {
    if (spec.key == "sampling.scheme") spec.default_value = "uniform";
    if (spec.key == "sampling.ratio") spec.default_value = "0.25";
  }
  {
    auto& o = s.add("output-dir", Kind::text, "", "path", "results/demo",
                    "Folder for campaign.nc, completed.nc and loocv.nc (created if missing).");
    o.in_config = false;
    o.required = true;
  }
  {
    auto& o = s.add("resume", Kind::flag, "false", "", "",
                    "Resume the measurement from the journals of an interrupted run in the same folder.");
    o.in_config = false;
  }
  {
    auto& o = s.add("figures", Kind::flag, "true", "", "false",
                    "Draw the figures and report.md into OUTPUT_DIR/figures with scripts/report.py (needs Python 3 "
                    "with numpy, netCDF4, xarray, matplotlib).");
    o.in_config = false;
  }
  s.add("complete.lambda", Kind::text, "auto", "", "0.1",
        "SoftImpute lambda of the completion: a number > 0 or 'auto' (cross-validation).");
  add_loocv_options(s, "loocv.", true);
  for (auto& spec : s.specs)  // the paper's main-text settings
    if (spec.key == "loocv.settings") spec.default_value = "I,IV";
  return s;
}

namespace {

// The value of `key` as the stand-alone command must receive it: paths
// resolved against run's config file, everything else verbatim.
std::string pass_value(const Options& o, const OptionSpec& spec) {
  return spec.unit == "path" ? o.path(spec.key) : o.text(spec.key);
}

int stage(const char* name, OptionSet (*options)(), int (*run)(const Options&, MPI_Comm),
          const std::vector<std::string>& args, MPI_Comm comm) {
  log::info("run: ", name, " ", join(args, " "));
  const Options o = parse_options(options(), args);
  return run(o, comm);
}

}  // namespace

int run_run(const Options& o, MPI_Comm comm) {
  const bool root = par::rank(comm) == 0;
  const std::string dir = o.path("output-dir");
  {
    par::Failure failure;
    if (root) {
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) failure = par::Failure::input("--output-dir: cannot create folder '" + dir + "': " + ec.message());
    }
    par::agree(failure, comm);
    par::barrier(comm);
  }
  const std::string campaign = (fs::path(dir) / "campaign.nc").string();
  const std::string completed = (fs::path(dir) / "completed.nc").string();
  const std::string loocv = (fs::path(dir) / "loocv.nc").string();

  // 1. measure: every campaign key run was given (or defaults differently), on measure's command line.
  std::vector<std::string> margs{"--output", campaign};
  const OptionSet mset = measure_options(), rset = run_options();
  for (const auto& spec : mset.specs) {
    if (spec.key == "output" || spec.key == "resume" || !o.has(spec.key)) continue;
    const OptionSpec* mine = rset.find(spec.key);
    if (!mine) continue;
    if (o.given(spec.key) || mine->default_value != spec.default_value) {
      margs.push_back("--" + spec.key);
      margs.push_back(pass_value(o, spec));
    }
  }
  if (o.flag("resume")) margs.push_back("--resume");
  if (int rc = stage("measure", measure_options, run_measure, margs, comm); rc != 0) return rc;

  // 2. complete.
  if (int rc = stage("complete", complete_options, run_complete,
                     {"--campaign", campaign, "--output", completed, "--lambda", o.text("complete.lambda")}, comm);
      rc != 0)
    return rc;

  // 3. loocv on the measured campaign, SoftImpute estimates standing in where unmeasured.
  // A small campaign cannot take the standard counts: keep those every fold can measure.
  const io::Campaign c = io::read_campaign(campaign);
  meta::LoocvSpec spec = loocv_spec_from(o, "loocv.");
  const std::size_t n = c.n_tasks(), d = c.n_configs();
  double cap = spec.cap;
  if (std::isnan(cap)) {
    std::vector<double> m = c.memory;
    std::sort(m.begin(), m.end());
    cap = m.size() % 2 ? m[m.size() / 2] : 0.5 * (m[m.size() / 2 - 1] + m[m.size() / 2]);
  }
  std::size_t fit = d;
  bool capped = false;
  for (const auto& s : spec.settings) capped |= meta::setting_info(s).capped;
  if (capped)
    for (std::size_t i = 0; i < n; ++i) {
      std::size_t k = 0;
      for (std::size_t j = 0; j < d; ++j) k += c.memory[i * d + j] <= cap;
      fit = std::min(fit, k);
    }
  const int rank = std::min<int>(spec.rank, static_cast<int>(std::min(n > 0 ? n - 1 : 0, d)));
  std::vector<std::string> counts;
  for (int m : spec.measurements)
    if (m >= rank && static_cast<std::size_t>(m) <= fit) counts.push_back(std::to_string(m));
  if (counts.empty())
    throw InputError("run: no count of --loocv.measurements fits this campaign (rank " + std::to_string(rank) + ", " +
                     std::to_string(fit) + " configurations under the cap on the tightest task)");
  if (counts.size() < spec.measurements.size() || rank != spec.rank)
    log::warn("run: loocv uses measurements ", join(counts, ","), " and rank ", rank,
              " (the campaign is too small for the rest)");
  std::vector<std::string> largs{"--campaign", campaign, "--completed", completed, "--output", loocv,
                                 "--measurements", join(counts, ","), "--rank", std::to_string(rank)};
  for (const char* key : {"settings", "methods", "cap", "repeats", "lambda", "seed", "ratio", "p_max", "p_min"}) {
    largs.push_back(std::string("--") + key);
    largs.push_back(o.text(std::string("loocv.") + key));
  }
  if (int rc = stage("loocv", loocv_options, run_loocv, largs, comm); rc != 0) return rc;

  if (root) {
    std::size_t measured = 0;
    for (auto s : c.status) measured += s == static_cast<std::uint8_t>(CellStatus::measured);
    std::ostringstream os;
    os << "\npeppp run finished: " << n << " tasks x " << d << " configurations, " << measured << " cells measured ("
       << std::fixed << std::setprecision(0) << 100.0 * measured / std::max<std::size_t>(1, n * d) << "%)\n"
       << "  " << campaign << "   measured error matrix\n"
       << "  " << completed << "  SoftImpute completion and estimated Pareto frontiers\n"
       << "  " << loocv << "      meta-LOOCV of the acquisition methods (table above)\n"
       << "Inspect any file with 'peppp info FILE'.\n";
    std::cout << os.str() << std::flush;
    // Figures and a Markdown report (scripts/report.py) when Python and its
    // packages are there; otherwise one line saying how to get them.
    if (o.flag("figures")) {
      const FiguresResult f = draw_run_figures(dir);
      if (f.drawn) {
        log::info("run: ", f.message);
      } else {
        log::warn("run: no figures: ", f.message);
      }
    }
  }
  return 0;
}

}  // namespace peppp::app
