// peppp info: human summary of any peppp NetCDF file.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/meta/completion.hpp"
#include "peppp/meta/noise.hpp"
#include "peppp/stage/complete.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::app {

namespace {
OptionSet declare(std::string& file) {
  OptionSet s;
  s.command = "info";
  s.summary = "human summary of any peppp NetCDF file";
  s.usage = "peppp info FILE.nc | CAMPAIGN.nc.journal";
  s.takes_config = false;

  s.add("file", Kind::text, "", "path", "campaign.nc", "peppp NetCDF file to summarise.")
      .command_line_only().mandatory().as_positional().to(file);
  return s;
}
}  // namespace

OptionSet info_options() {
  static std::string unused;
  return declare(unused);
}

namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

std::string noise_line(const meta::NoiseEstimate& n) {
  char buf[200];
  if (n.source == "replicates")
    std::snprintf(buf, sizeof buf, "  noise: std %.4g per replicate (replicates: pooled over %d cells, %.0f dof)\n",
                  n.std, n.cells, n.dof);
  else
    std::snprintf(buf, sizeof buf, "  noise: std %.4g (%s: %d observed entries, %.0f dof)\n", n.std,
                  n.source.c_str(), n.cells, n.dof);
  return buf;
}

// The campaign's noise: from replicates, else the residual of a quick
// completion (λ by CV, no sweep), as `peppp complete` with its defaults reports it.
std::string campaign_noise_line(const io::Campaign& c) {
  const auto n = static_cast<Eigen::Index>(c.n_tasks()), d = static_cast<Eigen::Index>(c.n_configs());
  const Eigen::MatrixXd none = Eigen::MatrixXd::Constant(n, d, std::nan(""));
  meta::NoiseEstimate rep = stage::campaign_noise(c, none, none, 0);
  if (rep.source == "replicates") return noise_line(rep);
  try {
    const Eigen::MatrixXd observed =
        meta::measured_errors(Eigen::Map<const RowMajor>(c.error.data(), n, d), c.status);
    meta::CompletionOptions opt;
    opt.sweep = false;
    opt.seed = 1;  // peppp complete's default --seed: the same λ, rank and noise
    const auto r =
        meta::complete_campaign(observed, Eigen::Map<const RowMajor>(c.memory.data(), n, d), opt);
    return noise_line(meta::residual_noise(observed, r.estimate, r.rank));
  } catch (const Error& e) {
    return std::string("  noise: not estimable (no replicates; low-rank fit: ") + e.what() + ")\n";
  }
}

// A campaign's journal folder (`peppp info campaign.nc.journal`): what a
// running or interrupted campaign has finished so far.
std::string summarise_journals(const std::string& dir) {
  const io::JournalContents jc = io::scan_journals(dir);
  std::set<std::uint64_t> cells;
  std::size_t failed = 0, epochs = 0;
  for (const auto& r : jc.records) {
    cells.insert(r.cell);
    failed += r.status == static_cast<std::uint8_t>(CellStatus::failed) ? 1 : 0;
    epochs += r.error_by_epoch.empty() ? 0 : 1;
  }
  std::ostringstream os;
  os << dir << ": peppp journal folder (journal version " << io::kJournalVersion << ")\n"
     << "  " << jc.records.size() << " cell records in " << jc.files << " rank files (" << cells.size()
     << " distinct cells, " << failed << " failed, " << epochs << " with a per-epoch record)\n";
  if (jc.torn || jc.corrupt)
    os << "  " << jc.torn << " torn or unreadable file tails, " << jc.corrupt << " corrupt records skipped\n";
  return os.str();
}

std::string summarise(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec) && io::has_journals(path)) return summarise_journals(path);
  std::ostringstream os;
  io::NcFile f = io::NcFile::open(path);
  const auto attrs = f.global_attributes();
  auto attr = [&](const char* k) {
    auto it = attrs.find(k);
    return it == attrs.end() ? std::string() : it->second;
  };
  const std::string kind = attr("peppp_file");
  os << path << ": " << (kind.empty() ? "NetCDF file" : "peppp " + kind + " file") << "\n";
  if (attr("synthetic") == "1")
    os << "  *** SYNTHETIC campaign: fake errors from timed dummy cells, not measurements ***\n";
  os << "  dimensions:";
  for (const auto& [name, len] : f.dims()) os << " " << name << "=" << len;
  os << "\n  variables: ";
  bool first = true;
  for (const auto& v : f.var_names()) {
    os << (first ? "" : ", ") << v;
    first = false;
  }
  os << "\n";
  if (f.has_var("error") && f.has_var("task") && f.has_var("config")) {
    f.close();
    io::Campaign c = io::read_campaign(path);
    std::size_t counts[5] = {0, 0, 0, 0, 0};
    std::size_t finite = 0;
    for (std::size_t i = 0; i < c.status.size(); ++i) {
      ++counts[c.status[i]];
      finite += std::isfinite(c.error[i]) ? 1 : 0;
    }
    const double total = static_cast<double>(c.status.size());
    const std::size_t planned = c.status.size() - counts[0];
    const std::size_t done = counts[2] + counts[3] + counts[4];
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "  campaign: %zu tasks x %zu configurations = %zu cells; planned %zu (%.1f%%), finished %zu "
                  "(%.1f%% of planned), error known for %zu (%.1f%% of all cells)\n",
                  c.n_tasks(), c.n_configs(), c.status.size(), planned, 100.0 * static_cast<double>(planned) / total,
                  done, planned ? 100.0 * static_cast<double>(done) / static_cast<double>(planned) : 0.0, finite,
                  100.0 * static_cast<double>(finite) / total);
    os << buf << "  status:";
    for (int s = 0; s < 5; ++s) os << " " << label(static_cast<CellStatus>(s)) << "=" << counts[s];
    os << "\n";
    if (counts[1] > 0) os << "  INCOMPLETE: " << counts[1] << " planned cells have no result (resume the campaign)\n";
    os << "  replicates: " << c.n_replicates() << " per cell\n";
    if (c.has_row_columns()) {
      // Rows of task x model x learning rate: how many of each.
      std::vector<std::string> tasks, models;
      std::vector<double> rates;
      for (std::size_t t = 0; t < c.n_tasks(); ++t) {
        if (std::find(tasks.begin(), tasks.end(), c.row_task_of(t)) == tasks.end()) tasks.push_back(c.row_task_of(t));
        if (std::find(models.begin(), models.end(), c.row_model_of(t)) == models.end())
          models.push_back(c.row_model_of(t));
        if (std::find(rates.begin(), rates.end(), c.row_learning_rate_of(t)) == rates.end())
          rates.push_back(c.row_learning_rate_of(t));
      }
      std::string rate_text;
      for (double r : rates) {
        char rb[32];
        std::snprintf(rb, sizeof rb, "%g", r);
        rate_text += (rate_text.empty() ? "" : ", ") + std::string(rb);
      }
      os << "  rows: " << c.n_tasks() << " = " << tasks.size() << " tasks x models (" << join(models, ", ")
         << ") x learning rates (" << rate_text << ")"
         << (c.row_source.empty() ? "" : "; merged (row_source)") << "\n";
    }
    if (c.n_epochs() > 0)
      os << "  per-epoch record: errors and losses after epochs " << c.epoch.front() << ".." << c.epoch.back()
         << " (error_by_epoch; --epoch E of complete, loocv and select)\n";
    if (done > 0) os << campaign_noise_line(c);
  } else if (kind == "completion") {
    if (attrs.count("noise_source")) {
      os << "  noise: std " << attr("noise_std") << " (" << attr("noise_source")
         << (attrs.count("noise_dof") ? ", " + attr("noise_dof") + " dof" : std::string()) << ")\n";
    } else {
      f.close();
      const io::Completion k = io::read_completion(path);
      const auto n = static_cast<Eigen::Index>(k.task.size()), d = static_cast<Eigen::Index>(k.config.size());
      os << noise_line(meta::residual_noise(Eigen::Map<const RowMajor>(k.error_observed.data(), n, d),
                                            Eigen::Map<const RowMajor>(k.error_estimate.data(), n, d), k.rank));
    }
  }
  os << "  attributes:\n";
  for (const auto& [k, v] : attrs) {
    std::string value = v.size() > 200 ? v.substr(0, 197) + "..." : v;
    os << "    " << k << " = " << value << "\n";
  }
  return os.str();
}

}  // namespace

int run_info(const Options& o, MPI_Comm comm) {
  // Every rank reads (cheap) so a bad file is reported consistently; rank 0 prints.
  std::string file;
  apply(declare(file), o);
  const std::string text = summarise(file);
  if (par::rank(comm) == 0) std::cout << text << std::flush;
  return 0;
}

}  // namespace peppp::app
