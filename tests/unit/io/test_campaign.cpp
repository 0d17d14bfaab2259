#include <gtest/gtest.h>
#include <netcdf.h>

#include <cmath>
#include <filesystem>

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/netcdf.hpp"
#include "test_util.hpp"

using namespace peppp;
namespace fs = std::filesystem;

namespace {
io::Campaign small() {
  io::Campaign c;
  c.task = {"fmnist-a", "fmnist-b"};
  c.config = {"e4m3/e6m7", "e5m2/e8m7", "e3m1/e6m9"};
  c.allocate();
  c.a_exponent_bits = {4, 5, 3};
  c.a_mantissa_bits = {3, 2, 1};
  c.b_exponent_bits = {6, 8, 6};
  c.b_mantissa_bits = {7, 7, 9};
  c.task_dataset = {"fashion-mnist", "fashion-mnist"};
  c.task_classes = {10, 5};
  c.task_resolution = {28, 14};
  c.task_train_size = {600, 300};
  c.task_test_size = {100, 50};
  for (std::size_t i = 0; i < 6; ++i) c.memory[i] = 10.0 + i;
  c.error[0] = 0.25;
  c.status[0] = 2;
  c.error[4] = 0.5;
  c.status[4] = 3;
  c.status[5] = 1;
  c.train_seconds[0] = 1.5;
  c.final_loss[0] = 0.7;
  c.sampling_probability.assign(6, 1.0);
  c.text_attributes["model"] = "small-cnn";
  c.number_attributes["epochs"] = 2;
  return c;
}
}  // namespace

TEST(IoCampaign, RoundTripKeepsEveryField) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string path = dir + "/campaign.nc";
  io::Campaign c = small();
  io::write_campaign(path, c);
  io::Campaign r = io::read_campaign(path);
  EXPECT_EQ(r.task, c.task);
  EXPECT_EQ(r.config, c.config);
  EXPECT_EQ(r.a_exponent_bits, c.a_exponent_bits);
  EXPECT_EQ(r.b_mantissa_bits, c.b_mantissa_bits);
  EXPECT_EQ(r.task_dataset, c.task_dataset);
  EXPECT_EQ(r.task_resolution, c.task_resolution);
  EXPECT_EQ(r.status, c.status);
  EXPECT_EQ(r.memory, c.memory);
  EXPECT_DOUBLE_EQ(r.error[0], 0.25);
  EXPECT_TRUE(std::isnan(r.error[1]));
  EXPECT_DOUBLE_EQ(r.train_seconds[0], 1.5);
  EXPECT_EQ(r.text_attributes.at("model"), "small-cnn");
  EXPECT_EQ(r.text_attributes.at("epochs"), "2");
  EXPECT_EQ(r.text_attributes.at("peppp_file"), "campaign");
  // No temporary left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) { (void)e; ++files; }
  EXPECT_EQ(files, 1);
}

TEST(IoCampaign, SchemaDimsAndCfAttributes) {
  const std::string path = test::scratch_dir(MPI_COMM_SELF) + "/campaign.nc";
  io::write_campaign(path, small());
  io::NcFile f = io::NcFile::open(path);
  EXPECT_EQ(f.dim_len("task"), 2u);
  EXPECT_EQ(f.dim_len("config"), 3u);
  for (const char* m : {"error", "memory", "memory_weights", "memory_activations", "memory_optimizer", "status",
                        "train_seconds", "final_loss"})
    EXPECT_EQ(f.var_dims(m), (std::vector<std::string>{"task", "config"})) << m;
  int id = -1, v = f.var_id("memory");
  ASSERT_EQ(nc_open(path.c_str(), NC_NOWRITE, &id), NC_NOERR);
  char units[16] = {0};
  EXPECT_EQ(nc_get_att_text(id, v, "units", units), NC_NOERR);
  EXPECT_STREQ(units, "MiB");
  nc_type t;
  EXPECT_EQ(nc_inq_vartype(id, f.var_id("status"), &t), NC_NOERR);
  EXPECT_EQ(t, NC_UBYTE);
  nc_close(id);
}

TEST(IoCampaign, MinimalExternalCampaignIsReadable) {
  const std::string path = test::scratch_dir(MPI_COMM_SELF) + "/external.nc";
  {
    io::NcFile f = io::NcFile::create(path);
    int dt = f.def_dim("task", 2), dc = f.def_dim("config", 1);
    int vt = f.def_var("task", NC_STRING, {dt}), vc = f.def_var("config", NC_STRING, {dc});
    int b[4];
    const char* names[4] = {"a_exponent_bits", "a_mantissa_bits", "b_exponent_bits", "b_mantissa_bits"};
    for (int i = 0; i < 4; ++i) b[i] = f.def_var(names[i], NC_INT, {dc});
    int ve = f.def_var("error", NC_DOUBLE, {dt, dc}), vm = f.def_var("memory", NC_DOUBLE, {dt, dc});
    f.end_def();
    f.put(vt, std::vector<std::string>{"x", "y"});
    f.put(vc, std::vector<std::string>{"e4m3/e6m7"});
    for (int i = 0; i < 4; ++i) f.put(b[i], std::vector<int>{3});
    f.put(ve, std::vector<double>{0.1, std::nan("")});
    f.put(vm, std::vector<double>{5, 5});
    f.close();
  }
  io::Campaign c = io::read_campaign(path);
  EXPECT_EQ(c.n_tasks(), 2u);
  EXPECT_EQ(c.status, (std::vector<std::uint8_t>{2, 0}));
  EXPECT_TRUE(c.train_seconds.empty());
}

TEST(IoCampaign, MissingVariableNamesFileAndVariable) {
  const std::string path = test::scratch_dir(MPI_COMM_SELF) + "/broken.nc";
  {
    io::NcFile f = io::NcFile::create(path);
    int dt = f.def_dim("task", 1);
    int vt = f.def_var("task", NC_STRING, {dt});
    f.end_def();
    f.put(vt, std::vector<std::string>{"x"});
    f.close();
  }
  try {
    io::read_campaign(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": variable 'config' missing");
  }
  EXPECT_THROW(io::read_campaign(path + ".nope"), InputError);
}

TEST(IoCampaign, UnwritableFolderAndInconsistentSizesLeaveNoFile) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  EXPECT_THROW(io::write_campaign(dir + "/no/such/folder/c.nc", small()), InputError);
  io::Campaign c = small();
  c.error.pop_back();
  EXPECT_THROW(io::write_campaign(dir + "/c.nc", c), InputError);
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_NE(io::check_writable(dir + "/missing/x.nc"), "");
  EXPECT_EQ(io::check_writable(dir + "/x.nc"), "");
}

TEST(IoCampaign, AtomicPathRemovesUncommittedTemporary) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  std::string temp;
  {
    io::AtomicPath p(dir + "/out.nc");
    temp = p.temp();
    io::NcFile f = io::NcFile::create(temp, p.path());
    f.def_dim("x", 1);
    f.close();
    EXPECT_TRUE(fs::exists(temp));
  }
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_FALSE(fs::exists(dir + "/out.nc"));
}

TEST(IoCampaign, ProvenanceHasTheRequiredKeys) {
  auto p = io::provenance("peppp measure --x 1", 4);
  for (const char* k : {"peppp_version", "git_commit", "command_line", "created", "mpi_ranks"})
    EXPECT_TRUE(p.count(k)) << k;
  EXPECT_EQ(p["mpi_ranks"], "4");
  EXPECT_EQ(p["created"].size(), 20u);  // 2026-11-28T23:45:30Z
  EXPECT_EQ(p["created"].back(), 'Z');
}

// A 1-replicate campaign written before replicates existed (the golden ci campaign of before,
// campaign) reads unchanged, as R = 1.
TEST(IoCampaign, CampaignWrittenBeforeReplicatesReadsAsOneReplicate) {
  const std::string path = test::source_path("tests/golden/before-replicates/ci-campaign.nc");
  {
    io::NcFile f = io::NcFile::open(path);
    ASSERT_FALSE(f.has_var("error_replicates")) << "not a file of before replicates";
  }
  const io::Campaign c = io::read_campaign(path);
  EXPECT_EQ(c.n_replicates(), 1u);
  EXPECT_EQ(c.replicate, std::vector<int>{0});
  ASSERT_EQ(c.error_replicates.size(), c.error.size());
  ASSERT_EQ(c.error_std.size(), c.error.size());
  for (std::size_t i = 0; i < c.error.size(); ++i) {
    if (std::isnan(c.error[i])) EXPECT_TRUE(std::isnan(c.error_replicates[i]));
    else EXPECT_EQ(c.error_replicates[i], c.error[i]);
    EXPECT_TRUE(std::isnan(c.error_std[i]));
  }
  // Written again and read back: the same values, now with the replicate variables.
  const std::string out = test::scratch_dir(MPI_COMM_SELF) + "/again.nc";
  io::write_campaign(out, c);
  const io::Campaign d = io::read_campaign(out);
  EXPECT_EQ(d.replicate, c.replicate);
  EXPECT_EQ(d.status, c.status);
  for (std::size_t i = 0; i < c.error.size(); ++i)
    if (!std::isnan(c.error[i])) EXPECT_EQ(d.error_replicates[i], c.error[i]);
}

TEST(IoCampaign, CellStatusAndMeanFromReplicates) {
  using S = CellStatus;
  io::Campaign c = small();
  c.replicate = {0, 1, 2};
  c.allocate();
  auto set = [&](std::size_t i, std::vector<io::ReplicateResult> r) { io::set_cell_replicates(c, i, r); };
  const double nan = std::nan("");
  set(0, {{S::measured, 0.1, 1.0, 2.0}, {S::measured, 0.3, 3.0, 2.0}, {S::measured, 0.2, 2.0, 2.0}});
  EXPECT_EQ(c.status[0], static_cast<std::uint8_t>(S::measured));
  EXPECT_EQ(c.error[0], (0.1 + 0.3 + 0.2) / 3);  // replicate order, bit for bit
  EXPECT_NEAR(c.error_std[0], 0.1, 1e-15);
  EXPECT_EQ(c.final_loss[0], 2.0);
  EXPECT_EQ(c.train_seconds[0], 6.0);
  EXPECT_EQ(c.error_replicates[1], 0.3);
  // One failed: left out of the mean; the cell is measured from the others.
  set(1, {{S::measured, 0.1, 1.0, 1.0}, {S::failed, nan, nan, 1.0}, {S::measured, 0.3, 1.0, 1.0}});
  EXPECT_EQ(c.status[1], static_cast<std::uint8_t>(S::measured));
  EXPECT_EQ(c.error[1], (0.1 + 0.3) / 2);
  EXPECT_TRUE(std::isnan(c.error_replicates[1 * 3 + 1]));
  EXPECT_EQ(c.train_seconds[1], 3.0);
  // One diverged: the cell is diverged, its error still in the mean.
  set(2, {{S::measured, 0.1, 1.0, 1.0}, {S::diverged, 0.9, nan, 1.0}, {S::measured, 0.2, 1.0, 1.0}});
  EXPECT_EQ(c.status[2], static_cast<std::uint8_t>(S::diverged));
  EXPECT_EQ(c.error[2], (0.1 + 0.9 + 0.2) / 3);
  // All failed.
  set(3, {{S::failed, nan, nan, 1.0}, {S::failed, nan, nan, 1.0}, {S::failed, nan, nan, 1.0}});
  EXPECT_EQ(c.status[3], static_cast<std::uint8_t>(S::failed));
  EXPECT_TRUE(std::isnan(c.error[3]));
  // One measured, two to go: still planned, the finished replicate kept.
  set(4, {{S::measured, 0.4, 1.0, 1.0}, {}, {}});
  EXPECT_EQ(c.status[4], static_cast<std::uint8_t>(S::planned));
  EXPECT_TRUE(std::isnan(c.error[4]));
  EXPECT_EQ(c.error_replicates[4 * 3], 0.4);
  // Only one replicate measured: no std.
  set(5, {{S::measured, 0.4, 1.0, 1.0}, {S::failed, nan, nan, 1.0}, {S::failed, nan, nan, 1.0}});
  EXPECT_EQ(c.error[5], 0.4);
  EXPECT_TRUE(std::isnan(c.error_std[5]));
  EXPECT_THROW(set(0, {{S::measured, 0.1, 1.0, 1.0}}), RuntimeError);
}
