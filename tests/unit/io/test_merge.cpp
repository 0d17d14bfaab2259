// io::merge_campaigns on campaigns built in memory: how cells of a row in
// several inputs combine (failed, diverged, not planned, sampling
// probability, weights), rows differing in learning rate, and the refusals.
#include <gtest/gtest.h>

#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/io/merge.hpp"

using namespace peppp;

namespace {

const double kNaN = std::nan("");

// A finished campaign of `tasks` x 4 configurations, R replicates, memory 1 MiB, nothing planned yet.
io::MergeInput make(const std::string& path, const std::vector<std::string>& tasks, int R, const std::string& seed,
                    double lr = 0.01) {
  io::MergeInput in;
  in.path = path;
  io::Campaign& c = in.campaign;
  std::vector<TaskRow> rows;
  for (const auto& t : tasks) {
    TaskRow r = TaskRow::named(t);
    r.dataset = "fashion";
    r.classes = 2;
    rows.push_back(r);
  }
  io::set_task_rows(c, rows);
  io::set_configurations(c, {Configuration::parse("e4m3/e6m7"), Configuration::parse("e5m2/e6m7"),
                             Configuration::parse("e3m1/e6m7"), Configuration::parse("e4m3/e8m7")});
  for (int r = 0; r < R; ++r) c.replicate.push_back(r);
  c.allocate();
  for (auto& m : c.memory) m = 1;
  for (auto& p : c.sampling_probability) p = 1;
  c.text_attributes = {{"seed", seed}, {"model", "small-cnn"}, {"learning_rate", std::to_string(lr)},
                       {"option.train.epochs", "1"}, {"campaign_name", path}};
  in.numeric_attributes = {"seed", "learning_rate"};
  return in;
}

// Set cell i of `in` from per-replicate results (NaN: failed replicate).
void cell(io::MergeInput& in, std::size_t i, CellStatus st, const std::vector<double>& reps, double loss, double s) {
  io::Campaign& c = in.campaign;
  const std::size_t R = c.n_replicates();
  double sum = 0;
  int n = 0;
  for (std::size_t q = 0; q < R; ++q) {
    c.error_replicates[i * R + q] = reps[q];
    if (std::isfinite(reps[q])) {
      sum += reps[q];
      ++n;
    }
  }
  c.status[i] = static_cast<std::uint8_t>(st);
  c.error[i] = n ? sum / n : kNaN;
  c.final_loss[i] = loss;
  c.train_seconds[i] = s;
}

template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(not refused)";
}

}  // namespace

TEST(Merge, CellsOfARowInTwoInputsCombineAsReplicates) {
  io::MergeInput a = make("a.nc", {"t"}, 2, "1"), b = make("b.nc", {"t"}, 1, "2");
  // cell 0: a measured once (its second replicate failed), b measured
  cell(a, 0, CellStatus::measured, {0.2, kNaN}, 1.0, 3);
  cell(b, 0, CellStatus::measured, {0.4}, 2.0, 5);
  // cell 1: not drawn by a's sample (p 0.2), measured in b (p 0.5)
  a.campaign.status[1] = static_cast<std::uint8_t>(CellStatus::not_planned);
  a.campaign.sampling_probability[1] = 0.2;
  cell(b, 1, CellStatus::measured, {0.3}, 0.7, 1);
  b.campaign.sampling_probability[1] = 0.5;
  // cell 2: failed in both; cell 3: diverged in a, measured in b
  cell(a, 2, CellStatus::failed, {kNaN, kNaN}, kNaN, 2);
  cell(b, 2, CellStatus::failed, {kNaN}, kNaN, 1);
  cell(a, 3, CellStatus::diverged, {0.9, 0.9}, 4.0, 1);
  cell(b, 3, CellStatus::measured, {0.5}, 1.0, 1);

  std::vector<std::string> notes;
  const io::Campaign m = io::merge_campaigns({a, b}, io::MergeConfigs::same, &notes);
  ASSERT_EQ(m.n_replicates(), 3u);
  EXPECT_FALSE(m.has_row_columns());
  EXPECT_EQ(m.row_source, std::vector<std::string>{"0,1"});
  // cell 0: replicates 0.2, NaN | 0.4
  EXPECT_EQ(m.error_replicates[0], 0.2);
  EXPECT_TRUE(std::isnan(m.error_replicates[1]));
  EXPECT_EQ(m.error_replicates[2], 0.4);
  EXPECT_DOUBLE_EQ(m.error[0], 0.3);
  EXPECT_DOUBLE_EQ(m.error_std[0], std::sqrt(0.02));
  EXPECT_DOUBLE_EQ(m.final_loss[0], 1.5);  // a's mean stands for 1 replicate, b's for 1
  EXPECT_EQ(m.train_seconds[0], 8);
  EXPECT_EQ(m.status[0], static_cast<std::uint8_t>(CellStatus::measured));
  // cell 1: b's values as they are; drawn by a or by b
  EXPECT_EQ(m.error[1], 0.3);
  EXPECT_TRUE(std::isnan(m.error_std[1]));
  EXPECT_EQ(m.final_loss[1], 0.7);
  EXPECT_DOUBLE_EQ(m.sampling_probability[1], 1 - 0.8 * 0.5);
  EXPECT_EQ(m.status[1], static_cast<std::uint8_t>(CellStatus::measured));
  // cell 2: failed everywhere
  EXPECT_EQ(m.status[2], static_cast<std::uint8_t>(CellStatus::failed));
  EXPECT_TRUE(std::isnan(m.error[2]));
  EXPECT_EQ(m.train_seconds[2], 3);
  // cell 3: any diverged -> diverged; loss weighted 2 : 1
  EXPECT_EQ(m.status[3], static_cast<std::uint8_t>(CellStatus::diverged));
  EXPECT_DOUBLE_EQ(m.error[3], (0.9 + 0.9 + 0.5) / 3);
  EXPECT_DOUBLE_EQ(m.final_loss[3], (2 * 4.0 + 1.0) / 3);
  // shared attributes kept, the differing ones per source, recomputed ones
  EXPECT_EQ(m.text_attributes.at("option.train.epochs"), "1");
  EXPECT_EQ(m.text_attributes.count("seed"), 0u);
  EXPECT_EQ(m.number_attributes.at("source_1_seed"), 2);
  EXPECT_EQ(m.text_attributes.at("source_0_path"), "a.nc");
  EXPECT_EQ(m.number_attributes.at("replicates"), 3);
  EXPECT_EQ(m.number_attributes.at("planned_cells"), 4);
  EXPECT_EQ(m.text_attributes.at("campaign_name"), "a.nc + b.nc");
  EXPECT_TRUE(notes.empty());
}

TEST(Merge, RowsThatDifferInLearningRateMakeARowCampaign) {
  io::MergeInput a = make("a.nc", {"t", "u"}, 1, "1", 0.01), b = make("b.nc", {"t"}, 1, "1", 0.1);
  for (auto* in : {&a, &b})
    for (std::size_t i = 0; i < in->campaign.error.size(); ++i) cell(*in, i, CellStatus::measured, {0.5}, 1, 1);
  const io::Campaign m = io::merge_campaigns({a, b}, io::MergeConfigs::same);
  ASSERT_TRUE(m.has_row_columns());
  EXPECT_EQ(m.task, (std::vector<std::string>{"t:lr=0.01", "u:lr=0.01", "t:lr=0.1"}));
  EXPECT_EQ(m.row_learning_rate, (std::vector<double>{0.01, 0.01, 0.1}));
  EXPECT_EQ(m.row_model, std::vector<std::string>(3, "small-cnn"));
  EXPECT_EQ(m.text_attributes.at("learning_rates"), "0.01,0.1");
  EXPECT_EQ(m.number_attributes.count("learning_rate"), 0u);
  EXPECT_EQ(m.n_replicates(), 1u);
}

TEST(Merge, Refusals) {
  auto finished = [](io::MergeInput in) {
    for (std::size_t i = 0; i < in.campaign.error.size(); ++i) cell(in, i, CellStatus::measured, std::vector<double>(in.campaign.n_replicates(), 0.5), 1, 1);
    return in;
  };
  const io::MergeInput a = finished(make("a.nc", {"t"}, 1, "1"));
  io::MergeInput b = finished(make("b.nc", {"t"}, 1, "2"));
  EXPECT_NE(refusal([&] { io::merge_campaigns({a}, io::MergeConfigs::same); }).find("at least 2"), std::string::npos);

  io::MergeInput x = b;
  x.campaign.memory[2] = 2;
  EXPECT_EQ(refusal([&] { io::merge_campaigns({a, x}, io::MergeConfigs::same); }),
            "merge: row 't' (cell t x e3m1/e6m7) is in a.nc and b.nc with different memory: 1 MiB in a.nc, 2 MiB in "
            "b.nc; the same task, model and configuration must cost the same");

  x = b;
  x.campaign.task_classes[0] = 3;
  EXPECT_EQ(refusal([&] { io::merge_campaigns({a, x}, io::MergeConfigs::same); }),
            "merge: task 't' has task_classes 2 in a.nc, 3 in b.nc; a task name must mean the same task in every input");

  x = b;
  x.campaign.a_mantissa_bits[0] = 4;
  EXPECT_NE(refusal([&] { io::merge_campaigns({a, x}, io::MergeConfigs::common); })
                .find("configuration 'e4m3/e6m7' is A e4m3, B e6m7 in a.nc but A e4m4, B e6m7 in b.nc"),
            std::string::npos);

  x = b;
  x.campaign.status[1] = static_cast<std::uint8_t>(CellStatus::planned);
  x.campaign.error[1] = kNaN;
  EXPECT_NE(refusal([&] { io::merge_campaigns({a, x}, io::MergeConfigs::same); })
                .find("b.nc is incomplete: 1 planned cell(s) have no result (first: t x e5m2/e6m7)"),
            std::string::npos);

  x = b;
  x.campaign.text_attributes["option.train.epochs"] = "2";
  EXPECT_EQ(refusal([&] { io::merge_campaigns({a, x}, io::MergeConfigs::same); }),
            "merge: row 't' (cell t x e4m3/e6m7) is in a.nc and b.nc, trained with different settings: train.epochs 1 "
            "in a.nc, 2 in b.nc");

  x = b;
  x.campaign.text_attributes["synthetic"] = "1";
  EXPECT_NE(refusal([&] { io::merge_campaigns({a, x}, io::MergeConfigs::same); }).find("never merged"),
            std::string::npos);

  // With --configs common the intersection; none in common is refused.
  x = b;
  x.campaign.config[0] = "other";  // label no longer shared (bits unchanged)
  const io::Campaign m = io::merge_campaigns({a, x}, io::MergeConfigs::common);
  EXPECT_EQ(m.config, (std::vector<std::string>{"e5m2/e6m7", "e3m1/e6m7", "e4m3/e8m7"}));
  for (auto& k : x.campaign.config) k = "x-" + k;
  EXPECT_NE(refusal([&] { io::merge_campaigns({a, x}, io::MergeConfigs::common); }).find("no configuration in common"),
            std::string::npos);
}

TEST(Merge, SettingsThatMustAgree) {
  EXPECT_TRUE(io::is_merge_setting("option.train.epochs"));
  EXPECT_TRUE(io::is_merge_setting("option.train.rounding_weights"));
  EXPECT_TRUE(io::is_merge_setting("epochs"));
  EXPECT_TRUE(io::is_merge_setting("lr_schedule"));
  EXPECT_FALSE(io::is_merge_setting("option.train.replicates"));
  EXPECT_FALSE(io::is_merge_setting("option.train.learning_rate"));
  EXPECT_FALSE(io::is_merge_setting("option.campaign.seed"));
  EXPECT_FALSE(io::is_merge_setting("option.campaign.model"));
  EXPECT_FALSE(io::is_merge_setting("seed"));
}
