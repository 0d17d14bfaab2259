#pragma once
/// @file merge.hpp
/// @brief `peppp merge`: several campaign.nc files (other clusters, other
/// people, other seeds, a shipped reference matrix) combined into one
/// (docs/merge.md). Rows are appended, first input first; a row in several
/// inputs has its cells combined as replicates. Not collective.

#include <set>
#include <string>
#include <vector>

#include "peppp/io/campaign.hpp"

namespace peppp::io {

/// One input of a merge: its path (as the user gave it: messages and the
/// `source_<k>_path` attribute), its campaign, and which of its global
/// attributes are numeric in the file (so the output keeps their type;
/// `read_campaign` gives every attribute as text).
struct MergeInput {
  std::string path;
  Campaign campaign;
  std::set<std::string> numeric_attributes;
};

/// Read `path` for a merge (`read_campaign` and the attribute types).
/// @throws InputError naming the file when it is missing, not NetCDF, not a
/// campaign (another peppp file kind), or an invalid campaign.
MergeInput read_merge_input(const std::string& path);

/// Which configurations the output has.
enum class MergeConfigs {
  same,    ///< every input must have the same configuration set (order may differ)
  common,  ///< the intersection (configurations not in every input are dropped)
};

/// Is global attribute `name` a training setting that every two merged
/// inputs must agree on? `option.KEY` when KEY's role is a result
/// (`must_agree_to_merge`, core/settings.hpp: the `train.*` keys but
/// replicates, the learning rate and record_epochs, and
/// `synthetic.diverge_fraction`), and the measure attributes that files
/// without option attributes still carry (epochs, batch_size, momentum,
/// weight_decay, lr_schedule). A setting one file does not record is not
/// compared.
bool is_merge_setting(const std::string& name);

/// Merge `inputs` (at least 2) into one campaign (rules: docs/merge.md):
/// - configurations: the same set in every input (same labels with the same
///   bit and block columns), in the first input's order; `common`: their
///   intersection, in the first input's order;
/// - rows: identity (task, model, learning rate); appended in input order;
///   a plain campaign (rows = tasks, `model` / `learning_rate` attributes)
///   when all rows share one model and one rate, else a row campaign
///   (`row_task`, `row_model`, `row_learning_rate`, labels `row_label`);
/// - a row in several inputs: its cells' replicates concatenated in input
///   order (R = the largest total, NaN-padded), error / error_std / status /
///   final_loss / train_seconds / per-epoch values recomputed as
///   `set_cell_replicates` does; sampling_probability 1 − Π(1 − p_k) (the
///   probability that any input drew the cell); memory must agree;
/// - refused (InputError, one line naming the files, the row, the cell and
///   the value): synthetic with real inputs, an incomplete input (planned
///   cells), different training settings or epochs, the same row from two
///   inputs of the same campaign seed, different task columns for one task,
///   different memory for one cell, a configuration label with other bits;
/// - provenance: `row_source` per row ("0", "1", "0,1"), every global
///   attribute of input k as `source_<k>_<name>` (and `source_<k>_path`),
///   `merge_sources` = the number of inputs; attributes every input shares
///   are kept (but plan_fingerprint and the provenance of the runs that made
///   them), replicates / planned_cells / complete / model / learning_rate
///   recomputed. The caller adds this run's provenance.
/// `notes` (when given) receives one log line per dropped thing (configurations
/// with `common`, a per-epoch record not in every input).
Campaign merge_campaigns(const std::vector<MergeInput>& inputs, MergeConfigs configs,
                         std::vector<std::string>* notes = nullptr);

}  // namespace peppp::io
