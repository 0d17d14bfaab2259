// The select stage at one rank, without mpirun: a synthetic meta-training campaign (5 tasks x
// 9 configurations), a new Fashion-MNIST task of 64 training images; errors given
// (--measured), EI-MF rounds that train the task and replay from their journals, what
// the new task inherits from the campaign, and refused inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/selection.hpp"
#include "peppp/stage/select.hpp"
#include "test_util.hpp"

using namespace peppp;
namespace fs = std::filesystem;

namespace {

// 5 meta-training rows of rank 2 over the ci formats (3 x 3 configurations), all measured.
io::Campaign synthetic_campaign() {
  io::Campaign c;
  std::vector<TaskRow> rows;
  for (const char* t : {"a", "b", "c", "d", "e"}) {
    TaskRow r = TaskRow::named(t);
    r.dataset = "fashion";
    r.classes = 2;
    rows.push_back(r);
  }
  io::set_task_rows(c, rows);
  io::set_configurations(c, all_configurations(FloatFormat::parse_list("e3m1,e4m2,e5m2"),
                                               FloatFormat::parse_list("e6m7,e7m9,e8m11")));
  c.allocate();
  const std::size_t d = c.n_configs();
  for (std::size_t t = 0; t < c.n_tasks(); ++t)
    for (std::size_t j = 0; j < d; ++j) {
      c.error[t * d + j] = 0.2 + 0.05 * std::sin(1.3 * t + 0.7 * j) + 0.02 * std::cos(0.4 * t * j);
      c.memory[t * d + j] = 1;
      c.status[t * d + j] = static_cast<std::uint8_t>(CellStatus::measured);
    }
  c.text_attributes["model"] = "small-cnn";
  return c;
}

stage::SelectJob make_job(const std::string& dir) {
  const std::string catalog = dir + "/new.ini";
  std::ofstream(catalog) << "[dataset fashion]\nkind = idx\npath = /usr/share/datasets/fashion-mnist\n"
                            "class_names = t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, "
                            "bag, ankle-boot\n\n[defaults]\ndataset = fashion\nresolution = 14\nchannels = 1\n"
                            "train_size = 64\ntest_size = 32\nseed = 11\n\n[task tshirt-dress]\nclasses = t-shirt, dress\n";
  stage::SelectJob job;
  job.campaign = synthetic_campaign();
  job.campaign_path = "synthetic.nc";
  job.task_text = catalog + ":tshirt-dress";
  job.task = stage::read_task(job.task_text);
  job.rank = 2;
  job.train.epochs = 1;
  job.train.learning_rate = 0.01;
  job.identity = "campaign.model=small-cnn\ntrain.epochs=1\n";
  job.resources.device = "cpu";
  job.resources.threads = 1;
  job.resources.progress_interval_s = 0;
  job.risk_samples = 500;
  job.output = dir + "/sel.nc";
  // The budget: the median memory of the new task's configurations.
  std::vector<double> memory =
      stage::task_memory(job.task, io::configurations(job.campaign), job.model, job.train.batch_size);
  std::sort(memory.begin(), memory.end());
  job.budget = memory[memory.size() / 2];
  return job;
}

}  // namespace

TEST(SelectStage, MeasuredErrorsPredictWithoutTraining) {
  const std::string dir = test::scratch_dir();
  stage::SelectJob job = make_job(dir);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  job.measured = {{4, 0.21}, {0, 0.18}, {8, nan}};
  job.measured_source = "errors.csv";
  const io::Selection s = stage::select(job, MPI_COMM_WORLD);
  EXPECT_FALSE(fs::exists(job.output + ".measured.nc"));
  EXPECT_EQ(s.selection_order, (std::vector<int>{4, 0, 8}));
  EXPECT_TRUE(s.selection_round.empty());
  EXPECT_DOUBLE_EQ(s.measured_error[4], 0.21);
  EXPECT_DOUBLE_EQ(s.predicted_error[0], 0.18);  // the posterior holds a measured configuration at its value
  EXPECT_TRUE(s.measured[8]);
  EXPECT_TRUE(std::isnan(s.measured_error[8]));
  ASSERT_GE(s.recommended_index, 0);
  EXPECT_LE(s.memory[s.recommended_index], job.budget);
  for (std::size_t j = 0; j < s.config.size(); ++j)
    if (s.memory[j] <= job.budget) EXPECT_GE(s.predicted_error[j], s.predicted_error[s.recommended_index]);
  EXPECT_EQ(s.text_attributes.at("measurements_source"), "file errors.csv");
  const io::Selection back = io::read_selection(job.output);
  EXPECT_EQ(back.recommended_config, s.recommended_config);
  EXPECT_EQ(back.predicted_error, s.predicted_error);
}

TEST(SelectStage, EiMfRoundsTrainTheTaskAndReplayFromTheirJournals) {
  const std::string dir = test::scratch_dir();
  stage::SelectJob job = make_job(dir);
  job.measurements = 2;
  const io::Selection s = stage::select(job, MPI_COMM_WORLD);
  // One configuration per rank and round: two rounds, each its file and journal.
  EXPECT_EQ(s.selection_round, (std::vector<int>{0, 1}));
  ASSERT_EQ(s.selection_order.size(), 2u);
  for (int k = 1; k <= 2; ++k) {
    const std::string round = job.output + ".round-" + std::to_string(k) + ".nc";
    ASSERT_TRUE(fs::exists(round)) << round;
    EXPECT_EQ(io::count_journal_records(io::journal_dir(round)), 1u);
    const io::Campaign r = io::read_campaign(round);
    ASSERT_EQ(r.n_configs(), 1u);
    EXPECT_EQ(r.config[0], s.config[s.selection_order[k - 1]]);
  }
  const io::Campaign m = io::read_campaign(job.output + ".measured.nc");
  ASSERT_EQ(m.n_configs(), 2u);
  for (std::size_t q = 0; q < 2; ++q) {
    const int j = s.selection_order[q];
    EXPECT_EQ(m.config[q], s.config[j]);
    EXPECT_LE(s.memory[j], s.cap);
    EXPECT_EQ(m.error[q], s.measured_error[j]);
  }
  // A rerun replays the rounds: the same picks and predictions, nothing trained again.
  fs::remove(job.output);
  fs::remove(job.output + ".measured.nc");
  const io::Selection again = stage::select(job, MPI_COMM_WORLD);
  EXPECT_EQ(again.selection_order, s.selection_order);
  EXPECT_EQ(again.predicted_error, s.predicted_error);
  for (int k = 1; k <= 2; ++k)
    EXPECT_EQ(io::count_journal_records(io::journal_dir(job.output + ".round-" + std::to_string(k) + ".nc")), 1u);
}

TEST(SelectStage, RefusesUnusableInputsBeforeAnyWork) {
  const std::string dir = test::scratch_dir();
  const stage::SelectJob good = make_job(dir);
  auto refused = [&](stage::SelectJob job) {
    job.measurements = 2;
    EXPECT_THROW(stage::select(job, MPI_COMM_WORLD), InputError);
    EXPECT_FALSE(fs::exists(job.output));
    EXPECT_FALSE(fs::exists(job.output + ".round-1.nc"));
  };
  stage::SelectJob known = good;
  known.campaign.task[2] = "tshirt-dress";  // not a new task
  refused(known);
  stage::SelectJob poor = good;
  poor.budget = 1e-6;  // below every configuration
  refused(poor);
  stage::SelectJob high = good;
  high.rank = 6;  // above the 5 tasks
  refused(high);
  stage::SelectJob method = good;
  method.acquisition = "bo-mf";
  refused(method);
  stage::SelectJob many = good;
  many.measurements = 10;
  EXPECT_THROW(stage::select(many, MPI_COMM_WORLD), InputError);  // more than under the cap
}

TEST(SelectStage, TheNewTaskInheritsTheRowsModelAndRate) {
  io::Campaign c = synthetic_campaign();
  c.text_attributes["learning_rate"] = "0.01";
  c.text_attributes["option.train.learning_rate"] = "0.001";  // a campaign measured with train.learning_rates
  auto a = stage::inherited_settings(c, "c.nc", false, false);
  EXPECT_EQ(a.at("option.campaign.model"), "small-cnn");
  EXPECT_EQ(a.at("option.train.learning_rate"), "0.01");
  EXPECT_TRUE(stage::inherits_setting("train.epochs"));
  EXPECT_TRUE(stage::inherits_setting("campaign.seed"));
  EXPECT_FALSE(stage::inherits_setting("train.learning_rates"));
  EXPECT_FALSE(stage::inherits_setting("run.device"));
  c.text_attributes["model"] = "small-cnn,resnet8";  // rows of two models: the user chooses
  EXPECT_THROW(stage::inherited_settings(c, "c.nc", false, false), InputError);
  EXPECT_EQ(stage::inherited_settings(c, "c.nc", true, false).count("option.campaign.model"), 0u);
  EXPECT_EQ(stage::round_trip_text(0.01), "0.01");
}

// Issue 28: a --measured CSV exported by a spreadsheet (UTF-8 byte-order mark,
// Windows line ends, a header) reads like a plain one.
TEST(SelectStage, MeasuredCsvWithByteOrderMarkAndCrLf) {
  const std::string dir = test::scratch_dir();
  const std::string path = dir + "/errors.csv";
  std::ofstream(path, std::ios::binary) << "\xEF\xBB\xBF" << "config,error\r\ne4m3/e6m7,0.25\r\ne5m2/e6m7,nan\r\n";
  const auto got = stage::read_measured(path, {"e5m2/e6m7", "e4m3/e6m7"}, 0);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].first, 1);
  EXPECT_DOUBLE_EQ(got[0].second, 0.25);
  EXPECT_EQ(got[1].first, 0);
  EXPECT_TRUE(std::isnan(got[1].second));
}

// Issue 28: select --measured X.nc refuses another task's measurements
// (same configurations, another task) instead of using them for the new task.
TEST(SelectStage, MeasuredFileOfAnotherTaskIsRefused) {
  const std::string dir = test::scratch_dir();
  const stage::SelectJob job = make_job(dir);
  auto write_for = [&](TaskRow row, const std::string& path) {
    io::Campaign m;
    io::set_task_rows(m, {row});
    io::set_configurations(m, {io::configurations(job.campaign).front()});
    m.allocate();
    m.error[0] = 0.2;
    m.memory[0] = 1;
    m.status[0] = static_cast<std::uint8_t>(CellStatus::measured);
    io::write_campaign(path, m);
  };
  TaskRow other = TaskRow::of(job.task);
  other.name = job.task.name + "-other";
  write_for(other, dir + "/other.nc");
  try {
    stage::read_measured(dir + "/other.nc", job.campaign.config, 0, &job.task);
    ADD_FAILURE() << "another task's measurements were accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(other.name), std::string::npos) << e.what();
  }
  TaskRow wider = TaskRow::of(job.task);
  wider.resolution += 14;  // the same name, another task definition
  write_for(wider, dir + "/wider.nc");
  EXPECT_THROW(stage::read_measured(dir + "/wider.nc", job.campaign.config, 0, &job.task), InputError);
  write_for(TaskRow::of(job.task), dir + "/same.nc");
  EXPECT_EQ(stage::read_measured(dir + "/same.nc", job.campaign.config, 0, &job.task).size(), 1u);
}

// Issue 30: --measurements 0 is the prior's answer: the zero-shot pick, recorded with its
// predicted error, std and expected regret; nothing trained, no journal, no conditions record.
TEST(SelectStage, NoMeasurementIsTheZeroShotAnswerWithoutTraining) {
  const std::string dir = test::scratch_dir();
  stage::SelectJob job = make_job(dir);
  job.measurements = 0;
  const io::Selection s = stage::select(job, MPI_COMM_WORLD);
  ASSERT_GE(s.zero_shot_index, 0);
  EXPECT_EQ(s.recommended_index, s.zero_shot_index);
  EXPECT_EQ(s.zero_shot_config, s.config[s.zero_shot_index]);
  EXPECT_DOUBLE_EQ(s.zero_shot_predicted_error, s.predicted_error[s.zero_shot_index]);
  EXPECT_DOUBLE_EQ(s.zero_shot_predicted_std, s.predicted_std[s.zero_shot_index]);
  EXPECT_DOUBLE_EQ(s.zero_shot_expected_regret, s.expected_regret);
  EXPECT_LE(s.memory[s.zero_shot_index], job.budget);
  for (std::size_t j = 0; j < s.config.size(); ++j)
    if (s.memory[j] <= job.budget) EXPECT_GE(s.predicted_error[j], s.zero_shot_predicted_error) << s.config[j];
  EXPECT_TRUE(s.selection_order.empty());
  EXPECT_TRUE(s.round_expected_regret.empty());
  EXPECT_EQ(s.text_attributes.at("measurements_source").rfind("none: --measurements 0", 0), 0u);
  for (const std::string& left : {job.output + ".round-1.nc", job.output + ".measured.nc",
                                  io::journal_dir(job.output + ".round-1.nc"), job.output + ".conditions"})
    EXPECT_FALSE(fs::exists(left)) << left;
  const io::Selection back = io::read_selection(job.output);
  EXPECT_EQ(back.zero_shot_index, s.zero_shot_index);
  EXPECT_EQ(back.zero_shot_config, s.zero_shot_config);
  EXPECT_EQ(back.zero_shot_expected_regret, s.zero_shot_expected_regret);
  EXPECT_EQ(back.zero_shot_predicted_error, s.zero_shot_predicted_error);
}

// Issue 30: the stopping rule is checked before round 1: a tolerance the prior already
// meets trains nothing, and the selection says why; the rounds' regrets are recorded.
TEST(SelectStage, ToleranceMetByThePriorTrainsNothingAndRoundsRecordTheirRegret) {
  const std::string dir = test::scratch_dir();
  stage::SelectJob job = make_job(dir);
  job.measurements = 2;
  job.tolerance = 1;  // any expected regret is within 1
  const io::Selection s = stage::select(job, MPI_COMM_WORLD);
  EXPECT_TRUE(s.selection_order.empty());
  EXPECT_EQ(s.recommended_index, s.zero_shot_index);
  EXPECT_NE(s.text_attributes.at("measurements_source").find("<= --tolerance 1"), std::string::npos)
      << s.text_attributes.at("measurements_source");
  EXPECT_FALSE(fs::exists(job.output + ".round-1.nc"));
  EXPECT_FALSE(fs::exists(job.output + ".measured.nc"));
  // A tolerance nothing meets: two rounds of one, each with the expected regret after it.
  fs::create_directories(dir + "/all");
  stage::SelectJob all = make_job(dir + "/all");
  all.measurements = 2;
  const io::Selection t = stage::select(all, MPI_COMM_WORLD);
  ASSERT_EQ(t.round_expected_regret.size(), 2u);
  ASSERT_EQ(t.round_recommended_index.size(), 2u);
  EXPECT_DOUBLE_EQ(t.round_expected_regret.back(), t.expected_regret);
  EXPECT_EQ(t.round_recommended_index.back(), t.recommended_index);
  EXPECT_EQ(t.zero_shot_index, s.zero_shot_index);  // the prior's answer does not depend on the tolerance
  const io::Selection back = io::read_selection(all.output);
  EXPECT_EQ(back.round_expected_regret, t.round_expected_regret);
  EXPECT_EQ(back.round_recommended_index, t.round_recommended_index);
}

// Issue 28: a rerun into the same output that changed only the budget, cap, measurements or
// tolerance reuses every cell trained before and continues in new round files (a cell's result
// does not depend on its round); any other change (seed, task, an option the app passes
// through, ...) is refused with one line naming what changed and --restart, which moves every
// earlier output aside (nothing deleted).
TEST(SelectStage, RerunUnderOtherConditionsReusesTheCellsOrIsRefused) {
  const std::string dir = test::scratch_dir();
  stage::SelectJob job = make_job(dir);
  job.measurements = 1;
  const io::Selection first = stage::select(job, MPI_COMM_WORLD);
  const std::string round = job.output + ".round-1.nc";
  const std::string round2 = job.output + ".round-2.nc";
  ASSERT_TRUE(fs::exists(round));
  ASSERT_TRUE(fs::exists(job.output + ".conditions"));
  auto refused = [&](stage::SelectJob changed, const std::string& what) {
    try {
      stage::select(changed, MPI_COMM_WORLD);
      ADD_FAILURE() << "a rerun with another " << what << " was accepted";
    } catch (const InputError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(what), std::string::npos) << m;
      EXPECT_NE(m.find("--restart"), std::string::npos) << m;
    }
    EXPECT_EQ(io::count_journal_records(io::journal_dir(round)), 1u);
    EXPECT_FALSE(fs::exists(round2));
    EXPECT_EQ(io::read_selection(job.output).selection_order, first.selection_order);
  };
  stage::SelectJob seed = job;
  seed.seed = 7;
  refused(seed, "seed");
  stage::SelectJob other = job;
  other.conditions = "prediction=least-squares\n";  // an option the app passes through
  refused(other, "prediction");
  stage::SelectJob task = job;
  std::ofstream(dir + "/new.ini", std::ios::app) << "\n[task trouser-dress]\nclasses = trouser, dress\n";
  task.task_text = dir + "/new.ini:trouser-dress";
  task.task = stage::read_task(task.task_text);
  refused(task, "task.name");
  // Another budget, or tolerance: the measured cell is reused, nothing is trained (the
  // measurements are not more than the cells measured), the record names the new conditions
  // and keeps the earlier ones as comments.
  stage::SelectJob budget = job;
  budget.budget *= 1.5;
  EXPECT_EQ(stage::select(budget, MPI_COMM_WORLD).selection_order, first.selection_order);
  EXPECT_EQ(io::count_journal_records(io::journal_dir(round)), 1u);
  EXPECT_FALSE(fs::exists(round2));
  const std::string record = io::read_selection_conditions(job.output);
  EXPECT_NE(record.find("\nbudget=" + stage::round_trip_text(budget.budget) + "\n"), std::string::npos) << record;
  EXPECT_NE(record.find("#   budget=" + stage::round_trip_text(job.budget) + "\n"), std::string::npos) << record;
  EXPECT_NE(record.find("\nreused_rounds=1\n"), std::string::npos) << record;
  stage::SelectJob tol = budget;
  tol.tolerance = 1e-9;
  EXPECT_EQ(stage::select(tol, MPI_COMM_WORLD).selection_order, first.selection_order);
  EXPECT_FALSE(fs::exists(round2));
  // More measurements: the earlier cell counts as the first, one new cell in round 2; the same
  // selection as an uninterrupted run of 2 measurements (one pick per round at one rank).
  stage::SelectJob more = job;
  more.measurements = 2;
  const io::Selection reused = stage::select(more, MPI_COMM_WORLD);
  EXPECT_EQ(io::count_journal_records(io::journal_dir(round)), 1u);
  EXPECT_EQ(io::count_journal_records(io::journal_dir(round2)), 1u);
  stage::SelectJob whole = more;
  whole.output = dir + "/whole.nc";
  const io::Selection uninterrupted = stage::select(whole, MPI_COMM_WORLD);
  EXPECT_EQ(reused.selection_order, uninterrupted.selection_order);
  EXPECT_EQ(reused.selection_round, uninterrupted.selection_round);
  EXPECT_EQ(reused.predicted_error, uninterrupted.predicted_error);
  EXPECT_EQ(reused.recommended_index, uninterrupted.recommended_index);
  EXPECT_EQ(reused.selection_order.front(), first.selection_order.front());
  // The same conditions again resume: nothing trained, no third round.
  EXPECT_EQ(stage::select(more, MPI_COMM_WORLD).selection_order, reused.selection_order);
  EXPECT_EQ(io::count_journal_records(io::journal_dir(round2)), 1u);
  EXPECT_FALSE(fs::exists(job.output + ".round-3.nc"));
  // Fewer measurements than measured: everything measured is kept, nothing trained.
  EXPECT_EQ(stage::select(job, MPI_COMM_WORLD).selection_order, reused.selection_order);
  EXPECT_FALSE(fs::exists(job.output + ".round-3.nc"));
  // --restart: the earlier outputs are moved aside, never deleted, and the selection starts over.
  more.restart = true;
  const io::Selection again = stage::select(more, MPI_COMM_WORLD);
  EXPECT_EQ(again.selection_order.size(), 2u);
  std::size_t moved = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".moved-") != std::string::npos) ++moved;
  EXPECT_EQ(moved, 7u);  // round-1.nc, round-2.nc and their journals, measured.nc, the record, the selection
  EXPECT_EQ(io::count_journal_records(io::journal_dir(round)), 1u);  // the new round 1
  // Training files without a record (an earlier peppp, or the record lost) are not reused either.
  fs::remove(job.output + ".conditions");
  more.restart = false;
  EXPECT_THROW(stage::select(more, MPI_COMM_WORLD), InputError);
  EXPECT_EQ(io::count_journal_records(io::journal_dir(job.output + ".round-2.nc")), 1u);
  stage::SelectJob both = more;
  both.restart = true;
  both.resume = true;
  EXPECT_THROW(stage::select(both, MPI_COMM_WORLD), InputError);  // --resume and --restart
  // The record is never written over an input (here the campaign, named like it).
  stage::SelectJob named = job;
  named.campaign_path = dir + "/named.nc.conditions";
  io::write_campaign(named.campaign_path, named.campaign);
  named.output = dir + "/named.nc";
  try {
    stage::select(named, MPI_COMM_WORLD);
    ADD_FAILURE() << "a conditions record over the campaign was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("is the input --campaign"), std::string::npos) << e.what();
  }
  EXPECT_EQ(io::read_campaign(named.campaign_path).error, named.campaign.error);
}

// Issue 28, ED-MF: the picks of an earlier run (<output>.measured.nc) count as the first; a rerun
// with more measurements trains only the picks not yet measured, into the next round file.
TEST(SelectStage, EdMfRerunWithMoreMeasurementsReusesTheEarlierPicks) {
  const std::string dir = test::scratch_dir();
  stage::SelectJob job = make_job(dir);
  job.acquisition = "ed-mf";
  job.measurements = 2;
  const io::Selection first = stage::select(job, MPI_COMM_WORLD);
  const std::string measured = job.output + ".measured.nc";
  ASSERT_EQ(io::count_journal_records(io::journal_dir(measured)), 2u);
  stage::SelectJob more = job;
  more.measurements = 3;
  const io::Selection again = stage::select(more, MPI_COMM_WORLD);
  EXPECT_EQ(io::count_journal_records(io::journal_dir(measured)), 2u);
  EXPECT_EQ(io::count_journal_records(io::journal_dir(job.output + ".round-1.nc")), 1u);
  ASSERT_EQ(again.selection_order.size(), 3u);
  EXPECT_EQ(std::vector<int>(again.selection_order.begin(), again.selection_order.begin() + 2), first.selection_order);
  EXPECT_EQ(again.selection_round, (std::vector<int>{0, 0, 1}));
  // Rerun under the same conditions: nothing trained again, the same selection.
  EXPECT_EQ(stage::select(more, MPI_COMM_WORLD).selection_order, again.selection_order);
  EXPECT_EQ(io::count_journal_records(io::journal_dir(job.output + ".round-1.nc")), 1u);
  EXPECT_FALSE(fs::exists(job.output + ".round-2.nc"));
}
