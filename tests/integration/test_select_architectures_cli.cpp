// `peppp select --campaign ROWS.nc --campaign.model M` on rows of two models that rank the
// configurations in opposite orders (a synthetic campaign whose errors are rewritten): every row
// meta-trains, the prior comes from M's rows (the zero-shot pick of --measurements 0 is the best
// mean over M's rows), a model in no row starts from all rows with a prior widened by the spread
// between the models (and says so), and the same rows under one model name behave as before;
// peppp info's Kendall tau between the models.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "peppp/io/campaign.hpp"
#include "peppp/io/selection.hpp"
#include "test_util.hpp"

using namespace peppp;
namespace fs = std::filesystem;

namespace {

struct Rows {
  std::string dir, campaign, one_model, catalog;
  io::Campaign c;
};

// 4 ci tasks x small-cnn, resnet8; errors 0.1 + 0.02 j + 0.01 t for small-cnn's rows, 0.3 − 0.02 j + 0.01 t
// for resnet8's (j the configuration, t the task), replicates ± 0.005. The same rows all named small-cnn.
const Rows& rows() {
  static Rows r = [] {
    Rows x;
    x.dir = test::scratch_dir() + "/select-architectures";
    fs::remove_all(x.dir);
    fs::create_directories(x.dir);
    x.campaign = x.dir + "/rows.nc";
    const auto run = test::run_command(test::mpi_launch(1) + test::peppp_exe() + " measure --config " +
                                       test::source_path("inputs/ci.ini") +
                                       " --synthetic.seconds 0.001 --campaign.models small-cnn,resnet8 "
                                       "--train.replicates 2 --run.progress_interval 0 --output " + x.campaign + " 2>&1");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    io::Campaign c = io::read_campaign(x.campaign);
    EXPECT_EQ(c.n_tasks(), 8u);
    EXPECT_EQ(c.n_replicates(), 2u);
    const std::size_t d = c.n_configs();
    int task_of_model[2] = {0, 0};
    for (std::size_t t = 0; t < c.n_tasks(); ++t) {
      const bool r8 = c.row_model_of(t) == "resnet8";
      const int k = task_of_model[r8 ? 1 : 0]++;
      for (std::size_t j = 0; j < d; ++j) {
        const double e = r8 ? 0.3 - 0.02 * static_cast<double>(j) + 0.01 * k : 0.1 + 0.02 * static_cast<double>(j) + 0.01 * k;
        c.error[t * d + j] = e;
        c.error_replicates[(t * d + j) * 2] = e - 0.005;
        c.error_replicates[(t * d + j) * 2 + 1] = e + 0.005;
      }
    }
    io::write_campaign(x.campaign, c);
    x.c = c;
    io::Campaign one = c;
    for (auto& m : one.row_model) m = "small-cnn";
    one.text_attributes["model"] = "small-cnn";
    x.one_model = x.dir + "/one-model.nc";
    io::write_campaign(x.one_model, one);
    x.catalog = x.dir + "/new.ini";
    std::ofstream(x.catalog) << "[dataset fashion]\nkind = idx\npath = /usr/share/datasets/fashion-mnist\n"
                                "class_names = t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, "
                                "bag, ankle-boot\n\n[defaults]\ndataset = fashion\nresolution = 14\nchannels = 1\n"
                                "train_size = 200\ntest_size = 100\nseed = 11\n\n"
                                "[task tshirt-dress]\nclasses = t-shirt, dress\n";
    return x;
  }();
  return r;
}

test::Run select_run(const std::string& campaign, const std::string& model, const std::string& out) {
  return test::run_command(test::mpi_launch(1) + test::peppp_exe() + " select --campaign " + campaign + " --task " +
                           rows().catalog + " --campaign.model " + model + " --measurements 0 --budget 1e6 --rank 2 " +
                           "--output " + out + " 2>&1");
}

// Mean error per configuration over the rows of `model` (every row when empty).
std::vector<double> rows_mean(const io::Campaign& c, const std::string& model) {
  const std::size_t d = c.n_configs();
  std::vector<double> sum(d, 0.0);
  double count = 0;
  for (std::size_t t = 0; t < c.n_tasks(); ++t) {
    if (!model.empty() && c.row_model_of(t) != model) continue;
    count += 1;
    for (std::size_t j = 0; j < d; ++j) sum[j] += c.error[t * d + j];
  }
  for (double& s : sum) s /= count;
  return sum;
}

std::string attr(const io::Selection& s, const std::string& key) {
  auto it = s.text_attributes.find(key);
  return it == s.text_attributes.end() ? "(absent)" : it->second;
}

}  // namespace

// peppp info on the two models: opposite rankings (tau -1), effect over the replicate noise (sd 0.005·√2).
TEST(SelectArchitectures, InfoReportsTheKendallTauBetweenTheModels) {
  const Rows& r = rows();
  const auto run = test::run_command(test::peppp_exe() + " info " + r.campaign + " 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("rows: 8 = 4 tasks x models (small-cnn, resnet8)"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("    small-cnn vs resnet8: tau -1.000\n"), std::string::npos) << run.output;
  // effect: the sd over j = 0..8 of 0.02 j = 0.02·sqrt(7.5) = 0.0548; noise 0.00707; ratio 7.75.
  EXPECT_NE(run.output.find("    resnet8: effect 0.0548, noise 0.0071, ratio 7.75\n"), std::string::npos) << run.output;
}

TEST(SelectArchitectures, ZeroShotOfTheModelsRowsAndAWidenedPriorForAModelInNoRow) {
  const Rows& r = rows();
  for (const std::string model : {"small-cnn", "resnet8"}) {
    const std::string out = r.dir + "/" + model + ".nc";
    const auto run = select_run(r.campaign, model, out);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("select: meta-training on all 8 rows of the 2 models; the prior from the 4 rows of "
                              "model " + model),
              std::string::npos)
        << run.output;
    const io::Selection s = io::read_selection(out);
    const std::vector<double> mean = rows_mean(r.c, model);
    // The prior predictive is the mean of the model's rows (an exact rank-2 matrix), its pick their best.
    for (std::size_t j = 0; j < mean.size(); ++j) EXPECT_NEAR(s.predicted_error[j], mean[j], 1e-9) << s.config[j];
    const auto best = std::min_element(mean.begin(), mean.end()) - mean.begin();
    EXPECT_EQ(s.zero_shot_index, best) << model;
    EXPECT_EQ(s.recommended_index, best) << model;
    EXPECT_EQ(attr(s, "meta_training_rows"), "all");
    EXPECT_EQ(attr(s, "prior_rows").rfind("model " + model + ": the mean and covariance of its 4 rows' embeddings", 0),
              0u)
        << attr(s, "prior_rows");
  }
  EXPECT_NE(io::read_selection(r.dir + "/small-cnn.nc").zero_shot_index,
            io::read_selection(r.dir + "/resnet8.nc").zero_shot_index);

  // vgg11 trains in no row: all rows' mean, a wider prior than the same rows under one model name give.
  const std::string wide = r.dir + "/vgg11.nc", plain = r.dir + "/vgg11-one.nc";
  auto run = select_run(r.campaign, "vgg11", wide);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("select: model vgg11 is in no row of the campaign; prior from all 8 rows, widened by the "
                            "spread between the 2 architectures (small-cnn, resnet8)"),
            std::string::npos)
      << run.output;
  run = select_run(r.one_model, "vgg11", plain);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("is in no row"), std::string::npos) << run.output;
  const io::Selection w = io::read_selection(wide), p = io::read_selection(plain);
  EXPECT_EQ(attr(w, "prior_rows").rfind("model vgg11 in no row: all 8 rows, covariance widened", 0), 0u)
      << attr(w, "prior_rows");
  EXPECT_EQ(attr(p, "prior_rows"), "(absent)");  // one model: the all-row prior, as before
  // Wider wherever the two models' means differ (the spread between them is along those directions;
  // where they cross, 0.115 + 0.02 j = 0.315 - 0.02 j at j = 5, there is none).
  const std::vector<double> mean = rows_mean(r.c, ""), small = rows_mean(r.c, "small-cnn"),
                            r8 = rows_mean(r.c, "resnet8");
  for (std::size_t j = 0; j < mean.size(); ++j) {
    EXPECT_NEAR(w.predicted_error[j], mean[j], 1e-9) << w.config[j];
    EXPECT_NEAR(p.predicted_error[j], w.predicted_error[j], 1e-12) << w.config[j];
    EXPECT_GE(w.predicted_std[j], p.predicted_std[j] - 1e-12) << w.config[j];
    if (std::abs(small[j] - r8[j]) > 0.05) EXPECT_GT(w.predicted_std[j], p.predicted_std[j] + 1e-3) << w.config[j];
  }
}
