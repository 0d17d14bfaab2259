#include "peppp/core/settings.hpp"

#include "peppp/core/strings.hpp"

namespace peppp {

SettingRole setting_role(std::string_view key) {
  if (key == "campaign.model" || key == "train.learning_rate" || key == "train.learning_rates")
    return SettingRole::row;
  if (key == "train.replicates") return SettingRole::replicates;
  if (key == "train.record_epochs") return SettingRole::recording;
  if (starts_with(key, "train.")) return SettingRole::result;
  if (key == "synthetic.seconds" || key == "synthetic.spread" || key == "synthetic.row_scale")
    return SettingRole::timing;
  if (key == "synthetic.fail_fraction") return SettingRole::injection;
  if (key == "synthetic.diverge_fraction") return SettingRole::result;
  return SettingRole::other;
}

bool in_campaign_identity(std::string_view key) {
  switch (setting_role(key)) {
    case SettingRole::result:
    case SettingRole::row:
    case SettingRole::recording:
    case SettingRole::timing: return true;
    default: return false;
  }
}

bool must_agree_to_merge(std::string_view key) { return setting_role(key) == SettingRole::result; }

}  // namespace peppp
