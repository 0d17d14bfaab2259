#pragma once
/// @file info.hpp
/// @brief The info stage: what a peppp file holds (`peppp info`), as data
/// the app prints: a campaign's cells, rows, per-epoch record and noise, a
/// completion's noise, or what a journal folder has finished. Reads only;
/// not collective (every rank may call it, so a bad file fails alike).

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "peppp/meta/architectures.hpp"
#include "peppp/meta/noise.hpp"

namespace peppp::stage {

/// What the rank files of a journal folder hold.
struct JournalInfo {
  std::size_t records = 0;   ///< valid cell records
  int files = 0;             ///< rank files read
  std::size_t cells = 0;     ///< distinct cells among them
  std::size_t failed = 0;    ///< records of failed cells
  std::size_t epochs = 0;    ///< records with a per-epoch record
  int torn = 0, corrupt = 0; ///< torn file tails, corrupt records skipped
};

/// What a campaign file's cells hold.
struct CampaignInfo {
  std::size_t tasks = 0, configs = 0;  ///< rows and columns
  std::array<std::size_t, 5> status{};  ///< cells per CellStatus
  std::size_t finite = 0;               ///< cells whose error is known
  int replicates = 1;                   ///< replicates per cell
  /// Rows of task × model × learning rate (row columns): each distinct task,
  /// model and rate once, in row order; `merged` when `row_source` is recorded.
  bool rows = false, merged = false;
  std::vector<std::string> row_tasks, row_models;
  std::vector<double> row_rates;
  std::vector<int> epochs;              ///< the per-epoch record's epochs (empty: none)
  /// Rows of several models: how differently they rank the configurations
  /// (`meta::architecture_rankings`, architectures in `row_models` order).
  std::optional<meta::ArchitectureRankings> architectures;
  /// The noise (replicates, else a quick completion's residual: `campaign_noise`)
  /// when some cell is finished; `noise_error` says why it is not estimable.
  std::optional<meta::NoiseEstimate> noise;
  std::string noise_error;

  std::size_t cells() const { return tasks * configs; }
  std::size_t planned() const { return cells() - status[0]; }
  std::size_t finished() const { return status[2] + status[3] + status[4]; }
};

/// What `peppp info` reports of one path.
struct FileInfo {
  std::string path;
  bool journal_folder = false;  ///< a campaign's journal folder: only `journal` is set
  JournalInfo journal;
  std::string kind;             ///< the `peppp_file` attribute ("campaign", "completion", ...), empty if none
  bool synthetic = false;       ///< attribute synthetic = 1
  std::vector<std::pair<std::string, std::size_t>> dims;
  std::vector<std::string> variables;
  std::map<std::string, std::string> attributes;  ///< global attributes, as text
  std::optional<CampaignInfo> campaign;           ///< a file with error, task and config variables
  /// A completion without noise attributes: the residual noise of its fit.
  std::optional<meta::NoiseEstimate> completion_noise;
};

/// Summarise `path`: a peppp NetCDF file or a campaign's journal folder.
/// Not collective. @throws InputError / Error on an unreadable file.
FileInfo info(const std::string& path);

}  // namespace peppp::stage
