// io::merge_campaigns on campaigns built in memory: how cells of a row in
// several inputs combine (failed, diverged, not planned, sampling
// probability, weights), rows differing in learning rate, and the refusals.
#include <gtest/gtest.h>

#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/io/merge.hpp"
#include "peppp/io/merge_phases.hpp"

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

// ---- the phases of merge_campaigns, one at a time (peppp/io/merge_phases.hpp)

namespace mp = io::merge_phase;

TEST(MergePhase, MatchRowsByIdentityFirstAppearanceFirst) {
  const std::vector<io::MergeInput> in = {make("a.nc", {"t", "u"}, 1, "1"), make("b.nc", {"v", "t"}, 1, "2")};
  const mp::Rows rows = mp::match_rows(in);
  ASSERT_EQ(rows.rows.size(), 3u);
  EXPECT_EQ(rows.rows[0].task, "t");
  EXPECT_EQ(rows.rows[2].task, "v");
  EXPECT_EQ(rows.rows[0].sources, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}, {1, 1}}));
  EXPECT_EQ(rows.out_row[1], (std::vector<std::size_t>{2, 0}));
  // One input holding a row twice is refused.
  const std::vector<io::MergeInput> twice = {make("a.nc", {"t", "t"}, 1, "1"), make("b.nc", {"t"}, 1, "2")};
  EXPECT_NE(refusal([&] { mp::match_rows(twice); }).find("a.nc: rows 't' and 't' are the same"), std::string::npos);
}

TEST(MergePhase, CheckInputsRefusesPlannedCellsAndSyntheticWithReal) {
  std::vector<io::MergeInput> in = {make("a.nc", {"t"}, 1, "1"), make("b.nc", {"t"}, 1, "2")};
  EXPECT_NO_THROW(mp::check_inputs(in));
  in[1].campaign.status[2] = static_cast<std::uint8_t>(CellStatus::planned);
  EXPECT_NE(refusal([&] { mp::check_inputs(in); }).find("b.nc is incomplete: 1 planned cell(s)"), std::string::npos);
  in[1].campaign.status[2] = 0;
  in[0].campaign.text_attributes["synthetic"] = "1";
  EXPECT_NE(refusal([&] { mp::check_inputs(in); }).find("a.nc is a synthetic campaign"), std::string::npos);
}

TEST(MergePhase, OutputConfigsSameOrCommon) {
  std::vector<io::MergeInput> in = {make("a.nc", {"t"}, 1, "1"), make("b.nc", {"t"}, 1, "2")};
  std::vector<std::string> notes;
  EXPECT_EQ(mp::output_configs(in, io::MergeConfigs::same, &notes), in[0].campaign.config);
  EXPECT_TRUE(notes.empty());
  // b has only its first three configurations: 'same' refuses, 'common' drops a's fourth.
  io::set_configurations(in[1].campaign, {Configuration::parse("e4m3/e6m7"), Configuration::parse("e5m2/e6m7"),
                                          Configuration::parse("e3m1/e6m7")});
  EXPECT_NE(refusal([&] { mp::output_configs(in, io::MergeConfigs::same, &notes); }).find("b.nc lacks configuration"),
            std::string::npos);
  const auto common = mp::output_configs(in, io::MergeConfigs::common, &notes);
  EXPECT_EQ(common, (std::vector<std::string>{in[1].campaign.config.begin(), in[1].campaign.config.end()}));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("dropped 1 of 4 configurations of a.nc"), std::string::npos) << notes[0];
}

TEST(MergePhase, ConfigMeaningsRefuseALabelWithOtherBits) {
  std::vector<io::MergeInput> in = {make("a.nc", {"t"}, 1, "1"), make("b.nc", {"t"}, 1, "2")};
  const mp::ConfigMeanings m = mp::config_meanings(in);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(std::get<0>(m.at(in[0].campaign.config[0]).first), 4);  // e4m3: A exponent bits
  EXPECT_EQ(m.at(in[0].campaign.config[0]).second, 0u);             // first seen in input 0
  in[1].campaign.a_exponent_bits[0] = 5;
  EXPECT_NE(refusal([&] { mp::config_meanings(in); }).find("a configuration label must mean the same formats"),
            std::string::npos);
}

TEST(MergePhase, SeedsAndTaskColumns) {
  std::vector<io::MergeInput> in = {make("a.nc", {"t"}, 1, "7"), make("b.nc", {"t"}, 1, "7.0")};
  EXPECT_NE(refusal([&] { mp::check_seeds(in, mp::match_rows(in)); }).find("both measured with campaign seed 7"),
            std::string::npos);
  in[1].campaign.text_attributes["seed"] = "8";
  EXPECT_NO_THROW(mp::check_seeds(in, mp::match_rows(in)));
  EXPECT_NO_THROW(mp::check_task_columns(in));
  in[1].campaign.task_classes[0] = 3;
  EXPECT_NE(refusal([&] { mp::check_task_columns(in); }).find("task 't' has task_classes 2 in a.nc, 3 in b.nc"),
            std::string::npos);
}

TEST(MergePhase, ShapeCountsReplicatesAndDropsAPartialEpochRecord) {
  std::vector<io::MergeInput> in = {make("a.nc", {"t", "u"}, 2, "1"), make("b.nc", {"t"}, 3, "2", 0.1)};
  std::vector<std::string> notes;
  const mp::Rows rows = mp::match_rows(in);  // t@0.01, u@0.01, t@0.1: no row in both
  const mp::Shape shape = mp::output_shape(in, rows, &notes);
  EXPECT_EQ(shape.replicates, 3u);
  EXPECT_TRUE(shape.rates_vary);
  EXPECT_FALSE(shape.models_vary);
  EXPECT_TRUE(shape.row_campaign());
  EXPECT_TRUE(shape.epochs.empty());
  EXPECT_TRUE(notes.empty());  // no input has a per-epoch record: nothing dropped
  // One input with a per-epoch record, the other without: the record is dropped, with a note.
  in[0].campaign.epoch = {1, 2};
  in[0].campaign.allocate();
  const mp::Shape partial = mp::output_shape(in, rows, &notes);
  EXPECT_TRUE(partial.epochs.empty());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("merge: b.nc has no per-epoch record"), std::string::npos) << notes[0];
}

TEST(MergePhase, SkeletonLabelsRowsAndRecordsTheirSources) {
  const std::vector<io::MergeInput> in = {make("a.nc", {"t", "u"}, 1, "1"), make("b.nc", {"t"}, 2, "2")};
  const mp::Rows rows = mp::match_rows(in);
  const mp::Shape shape = mp::output_shape(in, rows, nullptr);
  const auto configs = mp::output_configs(in, io::MergeConfigs::same, nullptr);
  const io::Campaign out = mp::output_skeleton(in, rows, shape, mp::config_meanings(in), configs);
  EXPECT_EQ(out.task, (std::vector<std::string>{"t", "u"}));
  EXPECT_EQ(out.row_source, (std::vector<std::string>{"0,1", "0"}));
  EXPECT_FALSE(out.has_row_columns());
  EXPECT_EQ(out.n_replicates(), 3u);
  EXPECT_EQ(out.config, configs);
  EXPECT_EQ(out.a_exponent_bits, in[0].campaign.a_exponent_bits);
  EXPECT_EQ(out.error.size(), 2u * 4u);
  EXPECT_TRUE(std::isnan(out.error[0]));
}

TEST(MergePhase, OneCellAloneMemoryAndResults) {
  std::vector<io::MergeInput> in = {make("a.nc", {"t"}, 1, "1"), make("b.nc", {"t"}, 1, "2")};
  cell(in[0], 0, CellStatus::measured, {0.2}, 1.0, 2);
  cell(in[1], 0, CellStatus::failed, {kNaN}, kNaN, 3);
  io::Campaign out;
  out.task = {"t"};
  out.config = {"c"};
  out.replicate = {0, 1};
  out.allocate();
  // One failed part, one measured: the measured values as they are (weight of a failed input: none).
  mp::merge_cell(in, {{0, 0}, {1, 0}}, "c", 0, out);
  EXPECT_EQ(out.status[0], static_cast<std::uint8_t>(CellStatus::measured));
  EXPECT_DOUBLE_EQ(out.error[0], 0.2);
  EXPECT_EQ(out.train_seconds[0], 5);
  EXPECT_EQ(out.error_replicates[0], 0.2);
  EXPECT_TRUE(std::isnan(out.error_replicates[1]));
  EXPECT_EQ(out.memory[0], 1);
  EXPECT_DOUBLE_EQ(out.sampling_probability[0], 1);
  // A single part that was never planned: memory and probability only, status 0.
  io::Campaign alone = out;
  alone.allocate();
  in[0].campaign.status[1] = static_cast<std::uint8_t>(CellStatus::not_planned);
  in[0].campaign.sampling_probability[1] = 0.25;
  mp::merge_cell(in, {{0, 1}}, "c", 0, alone);
  EXPECT_EQ(alone.status[0], static_cast<std::uint8_t>(CellStatus::not_planned));
  EXPECT_EQ(alone.sampling_probability[0], 0.25);
  EXPECT_TRUE(std::isnan(alone.error[0]));
  // Memory that differs between the parts is refused, naming the cell.
  in[1].campaign.memory[0] = 2;
  EXPECT_NE(refusal([&] { mp::merge_cell(in, {{0, 0}, {1, 0}}, "c", 0, out); })
                .find("(cell t x c) is in a.nc and b.nc with different memory"),
            std::string::npos);
}

TEST(MergePhase, AbsentColumnsAndAttributes) {
  std::vector<io::MergeInput> in = {make("a.nc", {"t"}, 1, "1"), make("b.nc", {"t"}, 1, "2")};
  for (auto& x : in) x.campaign.final_loss.clear();
  io::Campaign out;
  out.task = {"t"};
  out.config = {"c"};
  out.allocate();
  ASSERT_FALSE(out.final_loss.empty());
  mp::drop_absent_columns(in, out);
  EXPECT_TRUE(out.final_loss.empty());
  EXPECT_FALSE(out.train_seconds.empty());
  mp::Shape shape;
  shape.models = {"small-cnn"};
  shape.rates = {0.01};
  shape.replicates = 2;
  mp::merge_attributes(in, shape, out);
  EXPECT_EQ(out.text_attributes.at("model"), "small-cnn");
  EXPECT_EQ(out.number_attributes.at("learning_rate"), 0.01);
  EXPECT_EQ(out.number_attributes.at("replicates"), 2);
  EXPECT_EQ(out.number_attributes.at("merge_sources"), 2);
  EXPECT_EQ(out.number_attributes.at("source_0_seed"), 1);  // numeric in the input: numeric here
  EXPECT_EQ(out.text_attributes.at("source_1_path"), "b.nc");
  EXPECT_EQ(out.text_attributes.count("seed"), 0u);          // differs: per source only
  EXPECT_EQ(out.text_attributes.at("option.train.epochs"), "1");  // shared: kept
}

namespace {
// Every cell of `in` measured (error 0.5 in each replicate).
io::MergeInput all_measured(io::MergeInput in) {
  for (std::size_t i = 0; i < in.campaign.error.size(); ++i)
    cell(in, i, CellStatus::measured, std::vector<double>(in.campaign.n_replicates(), 0.5), 1, 1);
  return in;
}
}  // namespace

// Issue 28: a task name means one full definition (class list, sizes, dataset files' contents).
TEST(MergePhase, TaskDefinitionsMustAgree) {
  std::vector<io::MergeInput> in = {make("a.nc", {"t"}, 1, "1"), make("b.nc", {"t"}, 1, "2")};
  const std::string def = "classes=0,6\nresolution=14\nfile.t10k-labels-idx1-ubyte.gz=5148:00112233aabbccdd\n";
  in[0].campaign.text_attributes[io::kTaskDefinitionsAttribute] = io::encode_task_definitions({"t"}, {def});
  EXPECT_NO_THROW(mp::check_task_columns(in));  // one input without a record: nothing to compare
  in[1].campaign.text_attributes[io::kTaskDefinitionsAttribute] = io::encode_task_definitions({"t"}, {def});
  EXPECT_NO_THROW(mp::check_task_columns(in));
  std::string other = def;
  other.replace(other.find("0,6"), 3, "0,2");
  in[1].campaign.text_attributes[io::kTaskDefinitionsAttribute] = io::encode_task_definitions({"t"}, {other});
  EXPECT_EQ(refusal([&] { mp::check_task_columns(in); }),
            "merge: task 't' has classes 0,6 in a.nc, 0,2 in b.nc; a task name must mean the same task in every "
            "input");
  other = def;
  other.replace(other.find("aabbccdd"), 8, "aabbccde");
  in[1].campaign.text_attributes[io::kTaskDefinitionsAttribute] = io::encode_task_definitions({"t"}, {other});
  EXPECT_NE(refusal([&] { mp::check_task_columns(in); })
                .find("file.t10k-labels-idx1-ubyte.gz 5148:00112233aabbccdd in a.nc, 5148:00112233aabbccde in b.nc"),
            std::string::npos);
  // The merged file carries the definitions on, so a later merge still compares them.
  in[1].campaign.text_attributes[io::kTaskDefinitionsAttribute] = io::encode_task_definitions({"t"}, {def});
  for (auto& x : in) x = all_measured(x);
  const io::Campaign m = io::merge_campaigns(in, io::MergeConfigs::same);
  EXPECT_EQ(m.text_attributes.at(io::kTaskDefinitionsAttribute), io::encode_task_definitions({"t"}, {def}));
}

// Issue 28: a merge merged again with one of its sources counts no replicate twice.
TEST(MergePhase, SeedsOfAnEarlierMerge) {
  std::vector<io::MergeInput> ab = {all_measured(make("a.nc", {"t", "u"}, 1, "1")), all_measured(make("b.nc", {"t"}, 1, "2"))};
  io::MergeInput m;
  m.path = "m.nc";
  m.campaign = io::merge_campaigns(ab, io::MergeConfigs::common);
  ASSERT_EQ(m.campaign.row_source, (std::vector<std::string>{"0,1", "0"}));
  std::vector<io::MergeInput> again = {m, all_measured(make("a2.nc", {"t"}, 1, "1"))};
  EXPECT_NE(refusal([&] { mp::check_seeds(again, mp::match_rows(again)); })
                .find("both measured with campaign seed 1 (m.nc is an earlier merge that already holds them)"),
            std::string::npos);
  again[1] = all_measured(make("b2.nc", {"t"}, 1, "2"));
  EXPECT_NE(refusal([&] { mp::check_seeds(again, mp::match_rows(again)); }).find("campaign seed 2"), std::string::npos);
  // Row u of m.nc holds only a.nc's seed 1: another campaign of seed 2 may add replicates to it.
  again[1] = all_measured(make("c.nc", {"u"}, 1, "2"));
  EXPECT_NO_THROW(mp::check_seeds(again, mp::match_rows(again)));
  // A merge of merges: the seeds of the sources' sources.
  io::MergeInput mm;
  mm.path = "mm.nc";
  std::vector<io::MergeInput> two = {m, all_measured(make("d.nc", {"v"}, 1, "4"))};
  mm.campaign = io::merge_campaigns(two, io::MergeConfigs::common);
  std::vector<io::MergeInput> third = {mm, all_measured(make("e.nc", {"t"}, 1, "2"))};
  EXPECT_NE(refusal([&] { mp::check_seeds(third, mp::match_rows(third)); }).find("campaign seed 2"), std::string::npos);
  third[1] = all_measured(make("e.nc", {"t"}, 1, "5"));
  EXPECT_NO_THROW(mp::check_seeds(third, mp::match_rows(third)));
}
