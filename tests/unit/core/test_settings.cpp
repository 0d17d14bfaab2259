// The one table of what each campaign setting means for a cell's result,
// and the two decisions built on it (journal fingerprint, merge).
#include <gtest/gtest.h>

#include "peppp/core/settings.hpp"

using namespace peppp;

TEST(Settings, RolesOfTheCampaignKeys) {
  for (const char* k : {"train.epochs", "train.batch_size", "train.momentum", "train.weight_decay",
                        "train.lr_schedule", "train.rounding_weights", "train.loss_scale", "synthetic.diverge_fraction"})
    EXPECT_EQ(setting_role(k), SettingRole::result) << k;
  for (const char* k : {"campaign.model", "train.learning_rate", "train.learning_rates"})
    EXPECT_EQ(setting_role(k), SettingRole::row) << k;
  EXPECT_EQ(setting_role("train.replicates"), SettingRole::replicates);
  EXPECT_EQ(setting_role("train.record_epochs"), SettingRole::recording);
  EXPECT_EQ(setting_role("synthetic.seconds"), SettingRole::timing);
  EXPECT_EQ(setting_role("synthetic.spread"), SettingRole::timing);
  EXPECT_EQ(setting_role("synthetic.fail_fraction"), SettingRole::injection);
  for (const char* k : {"synthetic.spin", "synthetic.tasks", "campaign.models", "campaign.formats_a", "run.device",
                        "output", "train", "trainx.epochs"})
    EXPECT_EQ(setting_role(k), SettingRole::other) << k;
}

TEST(Settings, FingerprintAndMergeDecideFromTheSameTable) {
  // In the fingerprint: results, rows, recording, timing.
  for (const char* k : {"train.epochs", "campaign.model", "train.learning_rate", "train.record_epochs",
                        "synthetic.seconds", "synthetic.diverge_fraction"})
    EXPECT_TRUE(in_campaign_identity(k)) << k;
  for (const char* k : {"train.replicates", "synthetic.fail_fraction", "synthetic.spin", "run.device"})
    EXPECT_FALSE(in_campaign_identity(k)) << k;
  // Merge compares results only.
  for (const char* k : {"train.epochs", "train.rounding_errors", "synthetic.diverge_fraction"})
    EXPECT_TRUE(must_agree_to_merge(k)) << k;
  for (const char* k : {"campaign.model", "train.learning_rate", "train.learning_rates", "train.replicates",
                        "train.record_epochs", "synthetic.seconds", "synthetic.fail_fraction"})
    EXPECT_FALSE(must_agree_to_merge(k)) << k;
}
