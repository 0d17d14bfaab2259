// Column hold-out in `peppp loocv` (docs/feature-completion.md, "Column
// hold-out in meta-LOOCV") on a small synthetic per-role campaign (6 tasks ×
// 3 bodies × 2 first × 2 last formats): --hide-columns 0 is today's file,
// 0.5 hides 6 of 12 columns everywhere and splits the relative error into
// hidden and measured columns (the same at 2 ranks and through --part and
// --merge), --candidates measured never measures or recommends a hidden
// column, and a plain campaign is refused with one line and no output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "peppp/io/loocv.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace peppp;
using test::run_command;

namespace {

const char* kOptions = "--settings I,III --methods ei-mf,ed-mf --measurements 3,4 --rank 2 --summary false";

std::string cmd(int ranks, const std::string& args) {
  return test::mpi_launch(ranks) + test::peppp_exe() + " " + args + " 2>&1";
}

// 6 tasks of the ci catalog's dataset (synthetic cells never read the images).
std::string task_catalog(const std::string& dir) {
  const std::string p = dir + "/tasks6.ini";
  std::ofstream f(p);
  f << "[dataset fashion]\nkind = idx\npath = /usr/share/datasets/fashion-mnist\n"
       "class_names = t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle-boot\n"
       "[defaults]\ndataset = fashion\nresolution = 14\nchannels = 1\ntrain_size = 200\ntest_size = 100\nseed = 7\n";
  for (const char* t :
       {"shirt,coat", "trouser,bag", "sandal,sneaker", "t-shirt,pullover", "dress,coat", "bag,ankle-boot"}) {
    std::string name = t;
    std::replace(name.begin(), name.end(), ',', '-');
    f << "[task " << name << "]\nclasses = " << t << "\n";
  }
  return p;
}

std::string measure(const std::string& name, const std::string& roles) {
  const std::string dir = test::scratch_dir(), p = dir + "/" + name;
  const auto r = run_command(cmd(1, "measure --config " + test::source_path("inputs/ci.ini") + " --campaign.tasks " +
                                        task_catalog(dir) + " --synthetic.seconds 0.0001 " + roles + " --output " + p));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return p;
}

// 6 tasks × 12 per-role configurations.
const std::string& role_campaign() {
  static const std::string p = measure("roles.nc",
                                       "--campaign.formats_a e3m1,e4m2,e5m2 --campaign.formats_first e4m3,e8m7 "
                                       "--campaign.formats_last e4m3,e8m7 --campaign.formats_b e6m7");
  return p;
}

io::Loocv loocv(int ranks, const std::string& out, const std::string& extra) {
  const auto r = run_command(cmd(ranks, "loocv --campaign " + role_campaign() + " --output " + out + " " + kOptions +
                                            " " + extra));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return io::read_loocv(out);
}

// Equal entry by entry, NaN equal to NaN.
bool same_doubles(const std::vector<double>& a, const std::vector<double>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); });
}

// Every variable of loocv.nc, the hold-out ones included.
void expect_same_results(const io::Loocv& a, const io::Loocv& b) {
  EXPECT_EQ(a.fold, b.fold);
  EXPECT_EQ(a.config, b.config);
#define PEPPP_EXPECT_SAME_(member, units, long_name) EXPECT_TRUE(same_doubles(a.member, b.member)) << #member;
  PEPPP_LOOCV_METRICS(PEPPP_EXPECT_SAME_)
  PEPPP_LOOCV_ZERO_SHOT_METRICS(PEPPP_EXPECT_SAME_)
#undef PEPPP_EXPECT_SAME_
  for (auto [x, y] : {std::pair{&a.coverage, &b.coverage}, std::pair{&a.predicted_error, &b.predicted_error},
                      std::pair{&a.predicted_std, &b.predicted_std}, std::pair{&a.lambda, &b.lambda},
                      std::pair{&a.sampled_fraction, &b.sampled_fraction},
                      std::pair{&a.zero_shot_predicted_error, &b.zero_shot_predicted_error},
                      std::pair{&a.relative_error_hidden, &b.relative_error_hidden},
                      std::pair{&a.relative_error_measured, &b.relative_error_measured}})
    EXPECT_TRUE(same_doubles(*x, *y));
  EXPECT_EQ(a.selected_config, b.selected_config);
  EXPECT_EQ(a.zero_shot_config, b.zero_shot_config);
  EXPECT_EQ(a.selection_order, b.selection_order);
  EXPECT_EQ(a.sampling_mask, b.sampling_mask);
  EXPECT_EQ(a.hidden_config, b.hidden_config);
}

// Every configuration index a method measured or recommended, the zero-shot pick included.
std::vector<int> touched(const io::Loocv& l) {
  std::vector<int> out;
  for (const auto* v : {&l.selection_order, &l.selected_config, &l.zero_shot_config})
    for (int j : *v)
      if (j >= 0) out.push_back(j);
  return out;
}

}  // namespace

TEST(LoocvHoldOut, ZeroIsTodaysFile) {
  const std::string dir = test::scratch_dir();
  const io::Loocv today = loocv(1, dir + "/today.nc", "");
  const io::Loocv zero = loocv(1, dir + "/zero.nc", "--hide-columns 0 --candidates measured");
  expect_same_results(today, zero);
  EXPECT_TRUE(zero.hidden_config.empty());
  EXPECT_TRUE(zero.relative_error_hidden.empty());
  EXPECT_TRUE(zero.relative_error_measured.empty());
  // Every attribute but the provenance of the command line (every option is recorded as option.*).
  auto results = [](const io::Loocv& l) {
    std::map<std::string, std::string> a;
    for (const auto& [k, v] : l.text_attributes)
      if (k.rfind("option.", 0) != 0 && k != "command_line" && k != "created") a[k] = v;
    return a;
  };
  EXPECT_EQ(results(today), results(zero));
  EXPECT_EQ(results(zero).count("hide_columns"), 0u);
  EXPECT_EQ(results(zero).count("candidates"), 0u);
}

TEST(LoocvHoldOut, HalfTheColumnsHiddenAndScoredApart) {
  const std::string dir = test::scratch_dir();
  const auto run = run_command(cmd(1, "loocv --campaign " + role_campaign() + " --output " + dir + "/half.nc " +
                                          "--settings I,III --methods ei-mf,ed-mf --measurements 3,4 --rank 2 "
                                          "--hide-columns 0.5"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("--hide-columns 0.5 hides 6 of 12 configurations"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("column hold-out: 6 of 12 configurations hidden"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("hidden/measured"), std::string::npos) << run.output;
  const io::Loocv l = io::read_loocv(dir + "/half.nc");
  ASSERT_EQ(l.hidden_config.size(), 12u);
  EXPECT_EQ(std::count(l.hidden_config.begin(), l.hidden_config.end(), 1), 6);
  EXPECT_EQ(l.text_attributes.at("hide_columns"), "0.5");
  EXPECT_EQ(l.text_attributes.at("candidates"), "all");
  // No meta-training row of any setting or fold observes a hidden column.
  const std::size_t n = l.task.size(), d = l.config.size();
  for (std::size_t s = 0; s < l.n_settings(); ++s)
    for (std::size_t f = 0; f < l.n_folds(); ++f)
      for (std::size_t t = 0; t < n; ++t)
        for (std::size_t j = 0; j < d; ++j)
          if (l.hidden_config[j]) ASSERT_EQ(l.sampling_mask[((s * l.n_folds() + f) * n + t) * d + j], 0);
  // The split relative errors: finite for the methods, NaN for the baseline.
  ASSERT_EQ(l.relative_error_hidden.size(), l.regret.size());
  for (std::size_t s = 0; s < l.n_settings(); ++s)
    for (std::size_t m = 0; m < l.n_methods(); ++m)
      for (std::size_t c = 0; c < l.n_counts(); ++c)
        for (std::size_t f = 0; f < l.n_folds(); ++f) {
          const bool baseline = l.method[m] == "random-high-memory";
          for (const auto* v : {&l.relative_error_hidden, &l.relative_error_measured})
            EXPECT_EQ(std::isfinite((*v)[l.at(s, m, c, f)]), !baseline) << l.method[m] << " " << s << " " << f;
        }
  // The same at 2 ranks, and through two parts merged.
  expect_same_results(l, loocv(2, dir + "/half2.nc", "--hide-columns 0.5"));
  loocv(1, dir + "/p1.nc", "--hide-columns 0.5 --part 1/2");
  loocv(1, dir + "/p2.nc", "--hide-columns 0.5 --part 2/2");
  const auto merge = run_command(cmd(1, "loocv --merge " + dir + "/p1.nc," + dir + "/p2.nc --output " + dir +
                                            "/merged.nc --summary false"));
  ASSERT_EQ(merge.exit_code, 0) << merge.output;
  const io::Loocv merged = io::read_loocv(dir + "/merged.nc");
  expect_same_results(l, merged);
  EXPECT_EQ(merged.text_attributes.at("hide_columns"), "0.5");
  EXPECT_EQ(merged.text_attributes.at("candidates"), "all");
}

TEST(LoocvHoldOut, CandidatesMeasuredNeverTouchesAHiddenColumn) {
  const std::string dir = test::scratch_dir();
  const io::Loocv measured = loocv(1, dir + "/measured.nc", "--hide-columns 0.5 --candidates measured");
  const io::Loocv all = loocv(1, dir + "/all.nc", "--hide-columns 0.5 --candidates all");
  EXPECT_EQ(measured.text_attributes.at("candidates"), "measured");
  ASSERT_EQ(measured.hidden_config, all.hidden_config);
  for (int j : touched(measured)) EXPECT_EQ(measured.hidden_config[static_cast<std::size_t>(j)], 0) << j;
  // Over the whole space the methods do measure or pick hidden columns here (so the check above can fail).
  const auto t = touched(all);
  EXPECT_TRUE(std::any_of(t.begin(), t.end(), [&](int j) { return all.hidden_config[static_cast<std::size_t>(j)]; }));
  // Regret is against the same best configuration either way.
  EXPECT_TRUE(same_doubles(measured.best_feasible_error, all.best_feasible_error));
}

TEST(LoocvHoldOut, PlainCampaignAndBadFractionsAreRefused) {
  const std::string dir = test::scratch_dir();
  const std::string plain = measure("plain.nc", "");
  struct Case {
    std::string campaign, option, says;
  };
  for (const Case& c : {Case{plain, "--hide-columns 0.5", "--hide-columns 0.5 needs a campaign with per-role"},
                        Case{role_campaign(), "--hide-columns 1", "--hide-columns 1 is not allowed"},
                        Case{role_campaign(), "--hide-columns -0.5", "hide-columns"},
                        Case{role_campaign(), "--candidates some", "candidates"}}) {
    const std::string out = dir + "/refused.nc";
    // Without mpiexec, whose own lines would follow the error.
    const auto r = run_command(test::peppp_exe() + " loocv --campaign " + c.campaign + " --output " + out + " " +
                               kOptions + " " + c.option + " 2>&1");
    EXPECT_NE(r.exit_code, 0) << c.option << ": " << r.output;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_FALSE(fs::exists(out)) << c.option;
  }
}
