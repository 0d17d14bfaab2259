#pragma once
/// @file settings.hpp
/// @brief What each campaign setting (a `train.*`, `synthetic.*` or
/// `campaign.*` key) means for a cell's result: the one table behind the
/// journal fingerprint (which runs may share journals, app layer) and merge
/// (which campaigns may be merged, io layer), so the two cannot drift apart.

#include <string_view>

namespace peppp {

/// The role of one setting key (without the `option.` prefix that campaign
/// files give it).
enum class SettingRole {
  result,      ///< changes what a cell gives (epochs, batch size, roundings, ..., a synthetic divergence fraction)
  row,         ///< part of a row's identity: campaign.model, train.learning_rate(s)
  replicates,  ///< how many results a cell gets, not what one is (train.replicates)
  recording,   ///< what is recorded beside the result (train.record_epochs: the per-epoch values)
  timing,      ///< how long a synthetic cell takes, not its values (synthetic.seconds, synthetic.spread)
  injection,   ///< injected failures, which are not results (synthetic.fail_fraction)
  other,       ///< anything else: run.*, campaign.* but the model, synthetic.spin, synthetic.tasks, ...
};

/// The role of `key` (e.g. "train.epochs").
SettingRole setting_role(std::string_view key);

/// Does `key` belong in the journal fingerprint's training keys? Results,
/// rows, recording and timing: a resume never mixes cells that differ in
/// any of them.
bool in_campaign_identity(std::string_view key);

/// Must every two merged campaigns agree on `key`? Results only: rows are
/// what merge appends, replicates what it concatenates, and an input without
/// per-epoch values drops the merged per-epoch record.
bool must_agree_to_merge(std::string_view key);

}  // namespace peppp
