// The info stage: what a peppp file or journal folder holds, as data (app prints it).
#include "peppp/stage/info.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "peppp/core/cell.hpp"
#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/stage/campaign_errors.hpp"

namespace peppp::stage {

namespace {

using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename T>
void add_once(std::vector<T>& v, const T& x) {
  if (std::find(v.begin(), v.end(), x) == v.end()) v.push_back(x);
}

JournalInfo journal_info(const std::string& dir) {
  const io::JournalContents jc = io::scan_journals(dir);
  JournalInfo out;
  std::set<std::uint64_t> cells;
  for (const auto& r : jc.records) {
    cells.insert(r.cell);
    out.failed += r.status == static_cast<std::uint8_t>(CellStatus::failed) ? 1 : 0;
    out.epochs += r.error_by_epoch.empty() ? 0 : 1;
  }
  out.records = jc.records.size();
  out.files = jc.files;
  out.cells = cells.size();
  out.torn = jc.torn;
  out.corrupt = jc.corrupt;
  return out;
}

// Rows of several models: per model its mean configuration ranking, the Kendall tau between
// them and its configuration effect over replicate noise (meta::architecture_rankings).
meta::ArchitectureRankings architecture_info(const io::Campaign& c, const std::vector<std::string>& models) {
  std::vector<int> group;
  for (std::size_t t = 0; t < c.n_tasks(); ++t)
    group.push_back(static_cast<int>(std::find(models.begin(), models.end(), c.row_model_of(t)) - models.begin()));
  const auto cells = static_cast<Eigen::Index>(c.error.size()), R = static_cast<Eigen::Index>(c.n_replicates());
  Eigen::MatrixXd replicates;
  if (c.error_replicates.size() == c.error.size() * c.n_replicates())
    replicates = Eigen::Map<const RowMajor>(c.error_replicates.data(), cells, R);
  return meta::architecture_rankings(observed_errors(c), group, static_cast<int>(models.size()), replicates);
}

CampaignInfo campaign_info(const io::Campaign& c) {
  CampaignInfo out;
  out.tasks = c.n_tasks();
  out.configs = c.n_configs();
  for (std::size_t i = 0; i < c.status.size(); ++i) {
    ++out.status[c.status[i]];
    out.finite += std::isfinite(c.error[i]) ? 1 : 0;
  }
  out.replicates = static_cast<int>(c.n_replicates());
  out.rows = c.has_row_columns();
  out.merged = !c.row_source.empty();
  for (std::size_t t = 0; out.rows && t < c.n_tasks(); ++t) {
    add_once(out.row_tasks, c.row_task_of(t));
    add_once(out.row_models, c.row_model_of(t));
    add_once(out.row_rates, c.row_learning_rate_of(t));
  }
  if (out.row_models.size() > 1) {
    try {
      out.architectures = architecture_info(c, out.row_models);
    } catch (const Error&) {
      // A measured cell without a finite error: no rankings (the noise line says what is wrong).
    }
  }
  if (c.n_epochs() > 0) out.epochs.assign(c.epoch.begin(), c.epoch.end());
  if (out.finished() > 0) {
    try {
      out.noise = campaign_noise(c);  // what `peppp complete` with its defaults reports
    } catch (const Error& e) {
      out.noise_error = e.what();
    }
  }
  return out;
}

}  // namespace

FileInfo info(const std::string& path) {
  FileInfo out;
  out.path = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec) && io::has_journals(path)) {
    out.journal_folder = true;
    out.journal = journal_info(path);
    return out;
  }
  io::NcFile f = io::NcFile::open(path);
  out.attributes = f.global_attributes();
  auto attr = [&](const char* k) {
    auto it = out.attributes.find(k);
    return it == out.attributes.end() ? std::string() : it->second;
  };
  out.kind = attr("peppp_file");
  out.synthetic = attr("synthetic") == "1";
  out.dims = f.dims();
  out.variables = f.var_names();
  // A campaign of task x model x learning-rate rows names its row variable `row`.
  if (f.has_var("error") && (f.has_var("task") || f.has_var("row")) && f.has_var("config")) {
    f.close();
    out.campaign = campaign_info(io::read_campaign(path));
  } else if (out.kind == "completion" && !out.attributes.count("noise_source")) {
    f.close();
    const io::Completion k = io::read_completion(path);
    const auto n = static_cast<Eigen::Index>(k.task.size()), d = static_cast<Eigen::Index>(k.config.size());
    out.completion_noise = meta::residual_noise(Eigen::Map<const RowMajor>(k.error_observed.data(), n, d),
                                                Eigen::Map<const RowMajor>(k.error_estimate.data(), n, d), k.rank);
  }
  return out;
}

}  // namespace peppp::stage
