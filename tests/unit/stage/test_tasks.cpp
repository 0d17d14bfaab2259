// stage::tasks at one rank: the catalog's tasks, every dataset file checked
// (the listing reported before a refusal), every task loaded on request.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "peppp/core/error.hpp"
#include "peppp/data/images.hpp"
#include "peppp/stage/tasks.hpp"
#include "test_util.hpp"

using namespace peppp;

namespace {

// A folder `name` of `dir` with train.nc and test.nc: 12 images of 3x3 pixels, 3 classes.
void write_dataset(const std::string& dir, const std::string& name) {
  data::ImageSet s;
  s.channels = 1;
  s.height = s.width = 3;
  for (int i = 0; i < 12; ++i) {
    s.labels.push_back(i % 3);
    for (int p = 0; p < 9; ++p) s.pixels.push_back(static_cast<std::uint8_t>(i * 9 + p));
  }
  std::filesystem::create_directories(dir + "/" + name);
  data::write_image_netcdf(dir + "/" + name + "/train.nc", s, {"x", "y", "z"});
  data::write_image_netcdf(dir + "/" + name + "/test.nc", s, {"x", "y", "z"});
}

std::string write_catalog(const std::string& dir) {
  const std::string path = dir + "/tasks.ini";
  std::ofstream(path) << "[dataset a]\nkind = netcdf\npath = a\nclasses = 3\n"
                         "[defaults]\nresolution = 3\nchannels = 1\ntrain_size = 6\ntest_size = 3\n"
                         "[task xy]\nclasses = 0, 1\n[task yz]\nclasses = 1, 2\n";
  return path;
}

}  // namespace

TEST(TasksStage, ListsChecksAndLoads) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  write_dataset(dir, "a");
  int calls = 0;
  const stage::TasksResult r = stage::tasks({write_catalog(dir), true}, [&](const stage::TasksResult& listed) {
    ++calls;
    EXPECT_EQ(listed.catalog.tasks.size(), 2u);
    EXPECT_FALSE(listed.loaded);  // reported before the load
  });
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(r.catalog.tasks.size(), 2u);
  EXPECT_EQ(r.catalog.tasks[1].name, "yz");
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_EQ(r.checks[0].dataset->name, "a");
  EXPECT_EQ(r.missing, 0u);
  ASSERT_TRUE(r.loaded);
  ASSERT_EQ(r.load.tasks.size(), 2u);
  EXPECT_EQ(r.load.train, 12);  // 6 per task
  EXPECT_EQ(r.load.test, 6);
  EXPECT_EQ(r.load.dataset_reads, 1u);
  EXPECT_NE(r.load.tasks[0].hash, r.load.tasks[1].hash);

  // Without --load nothing is read.
  const stage::TasksResult listed = stage::tasks({write_catalog(dir), false});
  EXPECT_FALSE(listed.loaded);
  EXPECT_TRUE(listed.load.tasks.empty());
}

TEST(TasksStage, MissingFilesAreReportedThenRefused) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);  // no dataset folder
  std::size_t reported = 0;
  try {
    stage::tasks({write_catalog(dir), true}, [&](const stage::TasksResult& listed) { reported = listed.missing; });
    FAIL() << "not refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset file(s) missing (listed above)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(reported, 2u);  // train.nc and test.nc
  EXPECT_THROW(stage::tasks({dir + "/no-such.ini", false}), InputError);
}
