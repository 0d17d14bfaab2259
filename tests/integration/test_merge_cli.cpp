// peppp merge (issue #19): campaigns combined into one. Two halves of a
// campaign split by tasks give the whole, variable by variable; two seeds
// give 2 replicates per cell; different epochs, settings or configurations
// are refused (one line, exit 1, no file), --configs common keeps the
// intersection; a row campaign with a plain one of a third model gives the
// row columns; the shipped reference matrix merged from its two halves is the
// reference again. Fast synthetic campaigns, and the reference (no training).
#include <gtest/gtest.h>
#include <netcdf.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <type_traits>
#include <variant>

#include "peppp/io/campaign.hpp"
#include "test_util.hpp"

using namespace peppp;
namespace fs = std::filesystem;

namespace {

std::string exe() { return test::peppp_exe(); }

int count(const std::string& s, const std::string& needle) {
  int n = 0;
  for (std::size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// A synthetic campaign (inputs/ci.ini's 9 configurations, fake errors and
// learning curves) in `dir`/`name`.nc; `extra` adds or overrides keys.
std::string synthetic(const std::string& dir, const std::string& name, const std::string& extra) {
  const std::string out = dir + "/" + name + ".nc";
  const std::string epochs = extra.find("--train.epochs") == std::string::npos ? " --train.epochs 3" : "";
  auto r = test::run_command(exe() + " measure --config " + test::source_path("inputs/ci.ini") +
                             " --synthetic.seconds 0.01 --run.progress_interval 0" + epochs + " " + extra +
                             " --output " + out + " 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return out;
}

test::Run merge(const std::string& args) { return test::run_command(exe() + " merge " + args + " 2>&1"); }

// Exit 1, exactly one line (the error), no output file.
void expect_refused(const test::Run& r, const std::string& out, const std::string& message) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_EQ(count(r.output, "\n"), 1) << r.output;
  EXPECT_EQ(r.output.rfind("error: ", 0), 0u) << r.output;
  EXPECT_NE(r.output.find(message), std::string::npos) << "expected: " << message << "\ngot: " << r.output;
  EXPECT_FALSE(fs::exists(out)) << out;
}

// Every variable of the campaign schema but `skip`, value by value (doubles bit for bit).
void expect_same_variables(const io::Campaign& want, const io::Campaign& got, const std::set<std::string>& skip) {
  for (const auto& f : io::campaign_schema().fields) {
    if (skip.count(f.name)) continue;
    std::visit(
        [&](auto mp) {
          if constexpr (!std::is_same_v<decltype(mp), std::monostate>) {
            const auto &x = want.*mp, &y = got.*mp;
            ASSERT_EQ(x.size(), y.size()) << "variable " << f.name;
            for (std::size_t i = 0; i < x.size(); ++i) {
              using T = typename std::decay_t<decltype(x)>::value_type;
              if constexpr (std::is_same_v<T, double>)
                EXPECT_TRUE(same_bits(x[i], y[i])) << "variable " << f.name << "[" << i << "]: " << x[i] << " vs " << y[i];
              else
                EXPECT_EQ(x[i], y[i]) << "variable " << f.name << "[" << i << "]";
            }
          }
        },
        f.member);
  }
}

// The attributes of `want` that are not about the run or plan that made it are in `got`, alike.
void expect_same_attributes(const io::Campaign& want, const io::Campaign& got, const std::set<std::string>& skip) {
  for (const auto& [k, v] : want.text_attributes) {
    if (skip.count(k)) continue;
    auto it = got.text_attributes.find(k);
    ASSERT_NE(it, got.text_attributes.end()) << "attribute " << k;
    EXPECT_EQ(it->second, v) << "attribute " << k;
  }
}

// Provenance of the run that wrote a file, and what is specific to one plan.
const std::set<std::string> kRunAttributes = {"command_line",  "created",          "peppp_command",
                                              "config_file",   "mpi_ranks",        "git_commit",
                                              "peppp_version", "option.output",    "plan_fingerprint",
                                              "option.synthetic.tasks"};

nc_type attribute_type(const std::string& path, const std::string& name) {
  int id = -1;
  nc_type t = NC_NAT;
  if (nc_open(path.c_str(), NC_NOWRITE, &id) != NC_NOERR) return t;
  nc_inq_atttype(id, NC_GLOBAL, name.c_str(), &t);
  nc_close(id);
  return t;
}

}  // namespace

TEST(Merge, HalvesSplitByTasksEqualTheWhole) {
  const std::string dir = test::scratch_dir();
  const std::string both = "--train.replicates 2 --synthetic.diverge_fraction 0.1";
  const std::string ab = synthetic(dir, "ab", "--synthetic.tasks a,b " + both);
  const std::string cd = synthetic(dir, "cd", "--synthetic.tasks c,d " + both);
  const std::string whole = synthetic(dir, "abcd", "--synthetic.tasks a,b,c,d " + both);
  const std::string out = dir + "/merged.nc";
  auto r = merge(ab + " " + cd + " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 rows (0 combined from several inputs) x 9 configurations"), std::string::npos) << r.output;
  const io::Campaign w = io::read_campaign(whole), m = io::read_campaign(out);
  EXPECT_FALSE(m.has_row_columns());
  ASSERT_EQ(m.n_epochs(), 3u);
  expect_same_variables(w, m, {"train_seconds", "row_source"});
  expect_same_attributes(w, m, kRunAttributes);
  EXPECT_EQ(m.row_source, (std::vector<std::string>{"0", "0", "1", "1"}));
  // Provenance: each source's attributes, this run's own.
  EXPECT_EQ(m.text_attributes.at("source_0_path"), ab);
  EXPECT_EQ(m.text_attributes.at("source_1_path"), cd);
  EXPECT_EQ(m.text_attributes.at("source_1_plan_fingerprint"), io::read_campaign(cd).text_attributes.at("plan_fingerprint"));
  EXPECT_EQ(m.text_attributes.at("source_0_option.synthetic.tasks"), "a,b");
  EXPECT_EQ(m.text_attributes.count("plan_fingerprint"), 0u);
  EXPECT_EQ(m.text_attributes.at("peppp_command"), "merge");
  EXPECT_EQ(m.text_attributes.at("merge_sources"), "2");
  EXPECT_NE(m.text_attributes.at("command_line").find("peppp merge"), std::string::npos);
  // Numeric attributes stay numeric, the sources' too.
  EXPECT_EQ(attribute_type(out, "epochs"), NC_DOUBLE);
  EXPECT_EQ(attribute_type(out, "source_1_seed"), NC_DOUBLE);
  EXPECT_EQ(attribute_type(out, "source_1_campaign_name"), NC_CHAR);
}

TEST(Merge, TwoSeedsAreReplicatesOfOneCell) {
  const std::string dir = test::scratch_dir();
  const std::string s1 = synthetic(dir, "seed1", "--synthetic.tasks a,b --campaign.seed 1");
  const std::string s2 = synthetic(dir, "seed2", "--synthetic.tasks a,b --campaign.seed 2");
  const std::string out = dir + "/seeds.nc";
  auto r = merge(s1 + " " + s2 + " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Campaign a = io::read_campaign(s1), b = io::read_campaign(s2), m = io::read_campaign(out);
  ASSERT_EQ(m.n_replicates(), 2u);
  ASSERT_EQ(m.task, a.task);
  ASSERT_EQ(m.n_configs(), 9u);
  EXPECT_EQ(m.row_source, (std::vector<std::string>{"0,1", "0,1"}));
  EXPECT_EQ(m.text_attributes.at("replicates"), "2");
  EXPECT_EQ(m.text_attributes.count("seed"), 0u);  // differs: only per source
  EXPECT_EQ(m.text_attributes.at("source_1_seed"), "2");
  const std::size_t E = 3;
  for (std::size_t i = 0; i < m.error.size(); ++i) {
    ASSERT_NE(a.error[i], b.error[i]) << "two seeds should give two values";
    EXPECT_EQ(m.error_replicates[2 * i], a.error[i]);
    EXPECT_EQ(m.error_replicates[2 * i + 1], b.error[i]);
    EXPECT_EQ(m.error[i], (a.error[i] + b.error[i]) / 2) << i;
    EXPECT_NEAR(m.error_std[i], std::fabs(a.error[i] - b.error[i]) / std::sqrt(2.0), 1e-15) << i;
    EXPECT_EQ(m.status[i], static_cast<std::uint8_t>(CellStatus::measured));
    EXPECT_DOUBLE_EQ(m.final_loss[i], (a.final_loss[i] + b.final_loss[i]) / 2);
    EXPECT_DOUBLE_EQ(m.train_seconds[i], a.train_seconds[i] + b.train_seconds[i]);
    EXPECT_EQ(m.memory[i], a.memory[i]);
    for (std::size_t e = 0; e < E; ++e) {
      EXPECT_DOUBLE_EQ(m.error_by_epoch[i * E + e], (a.error_by_epoch[i * E + e] + b.error_by_epoch[i * E + e]) / 2);
      EXPECT_DOUBLE_EQ(m.loss_by_epoch[i * E + e], (a.loss_by_epoch[i * E + e] + b.loss_by_epoch[i * E + e]) / 2);
    }
    EXPECT_EQ(m.error_by_epoch[i * E + E - 1], m.error[i]) << "last epoch == error";
  }

  // R = the largest total, NaN-padded: + a campaign of 2 replicates on b and c.
  const std::string s3 = synthetic(dir, "seed3", "--synthetic.tasks b,c --campaign.seed 3 --train.replicates 2");
  const std::string out3 = dir + "/three.nc";
  r = merge(s1 + " " + s2 + " " + s3 + " --output " + out3);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Campaign c = io::read_campaign(s3), t = io::read_campaign(out3);
  ASSERT_EQ(t.n_replicates(), 4u);  // row b: 1 + 1 + 2
  EXPECT_EQ(t.task, (std::vector<std::string>{"synthetic-a", "synthetic-b", "synthetic-c"}));
  EXPECT_EQ(t.row_source, (std::vector<std::string>{"0,1", "0,1,2", "2"}));
  const std::size_t d = 9;
  for (std::size_t j = 0; j < d; ++j) {
    const std::size_t ia = 0 * d + j, ib = 1 * d + j, ic = 2 * d + j;
    EXPECT_TRUE(std::isnan(t.error_replicates[ia * 4 + 2]) && std::isnan(t.error_replicates[ia * 4 + 3]));
    EXPECT_EQ(t.error_replicates[ib * 4 + 2], c.error_replicates[j * 2]);
    EXPECT_EQ(t.error_replicates[ib * 4 + 3], c.error_replicates[j * 2 + 1]);
    EXPECT_DOUBLE_EQ(t.error[ib], (a.error[ib] + b.error[ib] + c.error_replicates[j * 2] + c.error_replicates[j * 2 + 1]) / 4);
    // Row c comes from one input: its values as they are.
    EXPECT_EQ(t.error[ic], c.error[d + j]);
    EXPECT_EQ(t.error_std[ic], c.error_std[d + j]);
    EXPECT_TRUE(std::isnan(t.error_replicates[ic * 4 + 2]));
  }
}

TEST(Merge, DifferentEpochsAreAlwaysRefused) {
  const std::string dir = test::scratch_dir();
  const std::string e3 = synthetic(dir, "e3", "--synthetic.tasks a,b");
  const std::string e2 = synthetic(dir, "e2", "--synthetic.tasks a,b --campaign.seed 2 --train.epochs 2");
  const std::string e2cd = synthetic(dir, "e2cd", "--synthetic.tasks c,d --train.epochs 2");
  const std::string out = dir + "/out.nc";
  // A shared row: named with its cell.
  expect_refused(merge(e3 + " " + e2 + " --output " + out), out,
                 "error: merge: row 'synthetic-a' (cell synthetic-a x e3m1/e6m7) is in " + e3 + " and " + e2 +
                     ", trained with different settings: train.epochs 3 in " + e3 + ", 2 in " + e2);
  // No shared row: refused all the same (one protocol per matrix), with --configs common too.
  expect_refused(merge(e3 + " " + e2cd + " --output " + out + " --configs common"), out,
                 "error: merge: " + e3 + " and " + e2cd + " were trained with different settings: train.epochs 3 in " +
                     e3 + ", 2 in " + e2cd);
  // Another training setting.
  const std::string wd = synthetic(dir, "wd", "--synthetic.tasks c,d --train.weight_decay 0.001");
  expect_refused(merge(e3 + " " + wd + " --output " + out), out, "train.weight_decay 0.0005 in " + e3 + ", 0.001 in " + wd);
}

TEST(Merge, DifferentConfigurationsRefusedUnlessCommon) {
  const std::string dir = test::scratch_dir();
  const std::string full = synthetic(dir, "full", "--synthetic.tasks a,b");
  // 6 of the 9 configurations, Format A in another order.
  const std::string part = synthetic(dir, "part", "--synthetic.tasks c --campaign.formats_a e5m2,e3m1");
  const std::string out = dir + "/out.nc";
  expect_refused(merge(full + " " + part + " --output " + out), out,
                 "error: merge: " + part + " lacks configuration 'e4m2/e6m7' of " + full);
  auto r = merge(full + " " + part + " --output " + out + " --configs common");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("dropped 3 of 9 configurations of " + full), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("configurations of " + part), std::string::npos) << r.output;
  const io::Campaign f = io::read_campaign(full), p = io::read_campaign(part), m = io::read_campaign(out);
  // The intersection, in the first input's order.
  EXPECT_EQ(m.config, (std::vector<std::string>{"e3m1/e6m7", "e3m1/e7m9", "e3m1/e8m11", "e5m2/e6m7", "e5m2/e7m9",
                                                "e5m2/e8m11"}));
  ASSERT_EQ(m.task, (std::vector<std::string>{"synthetic-a", "synthetic-b", "synthetic-c"}));
  auto col = [](const io::Campaign& c, const std::string& label) {
    for (std::size_t j = 0; j < c.config.size(); ++j)
      if (c.config[j] == label) return j;
    return c.config.size();
  };
  for (std::size_t j = 0; j < m.n_configs(); ++j) {
    EXPECT_EQ(m.error[m.at(1, j)], f.error[f.at(1, col(f, m.config[j]))]) << m.config[j];
    EXPECT_EQ(m.error[m.at(2, j)], p.error[p.at(0, col(p, m.config[j]))]) << m.config[j];
    EXPECT_EQ(m.a_exponent_bits[j], f.a_exponent_bits[col(f, m.config[j])]);
  }
}

TEST(Merge, RowCampaignWithAPlainOneOfAThirdModel) {
  const std::string dir = test::scratch_dir();
  const std::string rows = synthetic(dir, "rows", "--synthetic.tasks a,b --campaign.models small-cnn,resnet8");
  const std::string vgg = synthetic(dir, "vgg", "--synthetic.tasks a --campaign.model vgg11");
  const std::string out = dir + "/rows-vgg.nc";
  auto r = merge(rows + " " + vgg + " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Campaign m = io::read_campaign(out), v = io::read_campaign(vgg), a = io::read_campaign(rows);
  ASSERT_TRUE(m.has_row_columns());
  EXPECT_EQ(m.task, (std::vector<std::string>{"synthetic-a:small-cnn", "synthetic-a:resnet8", "synthetic-b:small-cnn",
                                              "synthetic-b:resnet8", "synthetic-a:vgg11"}));
  EXPECT_EQ(m.row_task, (std::vector<std::string>{"synthetic-a", "synthetic-a", "synthetic-b", "synthetic-b",
                                                  "synthetic-a"}));
  EXPECT_EQ(m.row_model, (std::vector<std::string>{"small-cnn", "resnet8", "small-cnn", "resnet8", "vgg11"}));
  EXPECT_EQ(m.row_learning_rate, std::vector<double>(5, 0.01));
  EXPECT_EQ(m.row_source, (std::vector<std::string>{"0", "0", "0", "0", "1"}));
  EXPECT_EQ(m.text_attributes.at("model"), "small-cnn,resnet8,vgg11");
  for (std::size_t j = 0; j < 9; ++j) {
    EXPECT_EQ(m.error[m.at(4, j)], v.error[v.at(0, j)]);
    EXPECT_EQ(m.error[m.at(1, j)], a.error[a.at(1, j)]);
  }
  // The row dimension is spelled `row` in the file.
  int id = -1, dim = -1;
  ASSERT_EQ(nc_open(out.c_str(), NC_NOWRITE, &id), NC_NOERR);
  EXPECT_EQ(nc_inq_dimid(id, "row", &dim), NC_NOERR);
  nc_close(id);
}

TEST(Merge, BadInputIsOneLineAndNoFile) {
  const std::string dir = test::scratch_dir();
  const std::string ab = synthetic(dir, "ab", "--synthetic.tasks a,b");
  const std::string cd = synthetic(dir, "cd", "--synthetic.tasks c,d");
  const std::string out = dir + "/out.nc";
  expect_refused(merge(ab + " --output " + out), out, "at least 2");
  expect_refused(merge(ab + " " + dir + "/nosuch.nc --output " + out), out,
                 "error: " + dir + "/nosuch.nc: file not found");
  expect_refused(merge(ab + " " + test::source_path("inputs/ci.ini") + " --output " + out), out,
                 "not a readable NetCDF file");
  expect_refused(merge(ab + " " + cd + " --output " + ab), ab + ".none",
                 "is the same file as the input --files '" + ab + "'");
  EXPECT_TRUE(fs::exists(ab));
  expect_refused(merge(ab + " " + cd + " --output " + dir + "/no/such/folder/out.nc"), dir + "/no/such/folder/out.nc",
                 "does not exist");
  expect_refused(merge(ab + " " + cd), out, "missing required option --output");
  expect_refused(merge(ab + " " + cd + " --output " + out + " --configs some"), out, "--configs 'some' is invalid");
  // The same row from one campaign seed twice (here: the same file twice) would count trainings twice.
  expect_refused(merge(ab + " " + ab + " --output " + out), out, "both measured with campaign seed 1");
  // Synthetic and real never mix.
  expect_refused(merge(ab + " " + test::source_path("inputs/reference/fashion-small-cnn.nc") + " --output " + out),
                 out, "synthetic and real campaigns are never merged");
  // The help names every option.
  auto r = test::run_command(exe() + " merge --help");
  EXPECT_EQ(r.exit_code, 0);
  for (auto k : {"--files", "--output", "--configs", "row_source", "source_<k>_"})
    EXPECT_NE(r.output.find(k), std::string::npos) << k;
}

// The shipped reference matrix, split by tasks into two files and merged
// again, is the reference (every variable bit for bit); merged with itself it
// is refused (one seed: the same trainings twice).
TEST(Merge, ReferenceMatrixFromItsTwoHalves) {
  const std::string dir = test::scratch_dir();
  const std::string ref_path = test::source_path("inputs/reference/fashion-small-cnn.nc");
  const io::Campaign ref = io::read_campaign(ref_path);
  const std::size_t n = ref.n_tasks(), half = n / 2;
  ASSERT_GE(n, 2u);
  auto rows = [&](std::size_t t0, std::size_t t1) {
    io::Campaign c = ref;
    for (const auto& f : io::campaign_schema().fields) {
      if (f.dims.empty() || std::string(f.dims.front()) != "task") continue;
      std::visit(
          [&](auto mp) {
            if constexpr (!std::is_same_v<decltype(mp), std::monostate>) {
              auto& v = c.*mp;
              if (v.empty()) return;
              const std::size_t stride = v.size() / n;
              v.assign((ref.*mp).begin() + t0 * stride, (ref.*mp).begin() + t1 * stride);
            }
          },
          f.member);
    }
    return c;
  };
  const std::string a = dir + "/first.nc", b = dir + "/second.nc", out = dir + "/merged.nc";
  io::write_campaign(a, rows(0, half));
  io::write_campaign(b, rows(half, n));
  auto r = merge(a + " " + b + " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const io::Campaign m = io::read_campaign(out);
  expect_same_variables(ref, m, {"row_source"});
  expect_same_attributes(ref, m, kRunAttributes);
  EXPECT_EQ(m.row_source.front(), "0");
  EXPECT_EQ(m.row_source.back(), "1");
  expect_refused(merge(ref_path + " " + ref_path + " --output " + out + ".self"), out + ".self",
                 "both measured with campaign seed 1");
}
