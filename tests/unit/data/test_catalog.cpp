// Catalog parsing: tasks, generators, defaults, and the messages of bad input.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "peppp/core/error.hpp"
#include "peppp/data/catalog.hpp"
#include "test_util.hpp"

using namespace peppp;
using namespace peppp::data;

namespace {

const char* kHead = R"(
[dataset fm]
kind = idx
path = data/fm        # relative to the catalog
class_names = t-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle-boot

[defaults]
dataset = fm
resolution = 28
train_size = 100
test_size = 50
seed = 3
)";

std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << "message is not one line: " << m;
    return m;
  }
  ADD_FAILURE() << "expected InputError";
  return {};
}

}  // namespace

TEST(Catalog, TasksGeneratorsAndDefaults) {
  const std::string text = std::string(kHead) + R"(
[task shoes]
classes = sandal, 7, ankle-boot
channels = 3

[subsets tops]
from = t-shirt, pullover, coat
  , shirt              ; continuation line
k = 2
resolution = 28, 14

[partition g]
group.a = trouser, bag
group.b = dress, coat, sandal
train_size = 0
)";
  const Catalog c = parse_catalog(text, "t.ini", "/base");
  ASSERT_EQ(c.datasets.size(), 1u);
  EXPECT_EQ(c.datasets[0].path, "/base/data/fm");
  EXPECT_EQ(c.datasets[0].classes, 10);
  ASSERT_EQ(c.tasks.size(), 1u + 6 * 2 + 2);
  const TaskSpec& shoes = c.tasks[0];
  EXPECT_EQ(shoes.name, "shoes");
  EXPECT_EQ(shoes.classes, (std::vector<int>{5, 7, 9}));
  EXPECT_EQ(shoes.class_names, (std::vector<std::string>{"sandal", "sneaker", "ankle-boot"}));
  EXPECT_EQ(shoes.channels, 3);
  EXPECT_EQ(shoes.resolution, 28);
  EXPECT_EQ(shoes.train_size, 100);
  EXPECT_EQ(shoes.test_size, 50);
  EXPECT_EQ(shoes.seed, 3u);
  EXPECT_EQ(shoes.dataset_kind, "idx");
  EXPECT_EQ(shoes.source_classes, 10);
  EXPECT_EQ(shoes.origin, "t.ini:14");
  // Subsets in lexicographic order, each at both resolutions.
  EXPECT_EQ(c.tasks[1].name, "tops-t-shirt-pullover-r28");
  EXPECT_EQ(c.tasks[2].name, "tops-t-shirt-pullover-r14");
  EXPECT_EQ(c.tasks[2].resolution, 14);
  EXPECT_EQ(c.tasks[1].channels, 1);  // idx default
  EXPECT_EQ(c.tasks[12].name, "tops-coat-shirt-r14");
  EXPECT_EQ(c.tasks[12].classes, (std::vector<int>{4, 6}));
  EXPECT_EQ(c.tasks[13].name, "g-a");
  EXPECT_EQ(c.tasks[14].classes, (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(c.tasks[14].train_size, 0);
  EXPECT_NE(c.find("g-b"), nullptr);
  EXPECT_EQ(c.find("nope"), nullptr);
}

TEST(Catalog, BuiltInCifarNamesAndEnvironmentPaths) {
  setenv("PEPPP_TEST_DATA_ROOT", "/data/x", 1);
  unsetenv("PEPPP_TEST_UNSET");
  const Catalog c = parse_catalog(R"(
[dataset c100]
kind = cifar100
path = ${PEPPP_TEST_DATA_ROOT}/c100
[dataset c10]
kind = cifar10
path = ${PEPPP_TEST_UNSET:-/fallback}/c10
[defaults]
resolution = 32
[partition super]
dataset = c100
group.fish = aquarium_fish, flatfish, ray, shark, trout
[task animals]
dataset = c10
classes = cat, dog, horse
)", "c.ini", "/");
  EXPECT_EQ(c.datasets[0].path, "/data/x/c100");
  EXPECT_EQ(c.datasets[0].label_set, "fine");
  EXPECT_EQ(c.datasets[1].path, "/fallback/c10");
  EXPECT_EQ(c.tasks[0].name, "super-fish");
  EXPECT_EQ(c.tasks[0].classes, (std::vector<int>{1, 32, 67, 73, 91}));
  EXPECT_EQ(c.tasks[0].channels, 3);
  EXPECT_EQ(c.tasks[1].classes, (std::vector<int>{3, 5, 7}));
  EXPECT_EQ(c.tasks[0].train_size, 0);
  const auto files = dataset_files("cifar10", "/d");
  EXPECT_EQ(files.train.size(), 5u);
  EXPECT_EQ(files.train[4], "/d/data_batch_5.bin");
  EXPECT_EQ(files.test[0], "/d/test_batch.bin");
}

TEST(Catalog, RejectsBadInputWithOneLineMessages) {
  const std::string head(kHead);
  auto msg = input_error([&] { parse_catalog(head + "[task a]\nclasses = sandal, snekaer\n", "t.ini"); });
  EXPECT_NE(msg.find("t.ini:14: [task a] classes = 'sandal, snekaer': dataset fm has no class 'snekaer' (did you mean 'sneaker'?)"),
            std::string::npos) << msg;
  msg = input_error([&] { parse_catalog(head + "[task a]\nclasses = 1, 10\n", "t.ini"); });
  EXPECT_NE(msg.find("class index 10 outside 0..9"), std::string::npos) << msg;
  msg = input_error([&] { parse_catalog(head + "[task a]\nclasses = 1, 2\nresolutoin = 3\n", "t.ini"); });
  EXPECT_NE(msg.find("t.ini:15: unknown key 'resolutoin' in [task a] (did you mean 'resolution'?)"), std::string::npos) << msg;
  msg = input_error([&] { parse_catalog(head + "[task a]\nclasses = 1, 2\n[task a]\nclasses = 3, 4\n", "t.ini"); });
  EXPECT_NE(msg.find("task name 'a' is generated twice"), std::string::npos) << msg;
  msg = input_error([&] { parse_catalog(head + "[task a]\nclasses = 1\n", "t.ini"); });
  EXPECT_NE(msg.find("at least 2 classes"), std::string::npos) << msg;
  msg = input_error([&] { parse_catalog(head + "[task a]\nclasses = 1, 2\nchannels = 2\n", "t.ini"); });
  EXPECT_NE(msg.find("channels = '2': allowed: 1, 3"), std::string::npos) << msg;
  msg = input_error([&] { parse_catalog(head + "[task a]\nclasses = 1, 2, 3\ntrain_size = 2\n", "t.ini"); });
  EXPECT_NE(msg.find("train_size = 2 is fewer than its 3 classes"), std::string::npos) << msg;
  msg = input_error([&] { parse_catalog(head + "[subsets s]\nfrom = 1, 2\nk = 3\n", "t.ini"); });
  EXPECT_NE(msg.find("k = '3'"), std::string::npos) << msg;
  msg = input_error([&] { parse_catalog(head + "[partition p]\ngroup.x = 1, 2\ngroup.y = 2, 3\n", "t.ini"); });
  EXPECT_NE(msg.find("class 'pullover' is already in another group"), std::string::npos) << msg;
  msg = input_error([&] { parse_catalog(head + "[taks a]\n", "t.ini"); });
  EXPECT_NE(msg.find("unknown section type 'taks' (did you mean 'task'?)"), std::string::npos) << msg;
  msg = input_error([&] { parse_catalog("[dataset d]\nkind = png\npath = x\nclasses = 2\n", "t.ini"); });
  EXPECT_NE(msg.find("kind = 'png': allowed: idx, cifar10, cifar100, netcdf"), std::string::npos) << msg;
  msg = input_error([&] { parse_catalog(head, "t.ini"); });
  EXPECT_NE(msg.find("declares no task"), std::string::npos) << msg;
  msg = input_error([&] { read_catalog("/nonexistent/catalog.ini"); });
  EXPECT_NE(msg.find("/nonexistent/catalog.ini: cannot open task catalog"), std::string::npos) << msg;
}

TEST(Catalog, ShippedCatalogsParse) {
  const auto demo = read_catalog(test::source_path("inputs/tasks/fashion-demo.ini"));
  EXPECT_GE(demo.tasks.size(), 14u);
  EXPECT_LE(demo.tasks.size(), 18u);
  for (const auto& t : demo.tasks) {
    EXPECT_GE(t.train_size, 600) << t.name;
    EXPECT_LE(t.train_size, 2000) << t.name;
    EXPECT_LE(t.test_size, 500) << t.name;
  }
  const auto full = read_catalog(test::source_path("inputs/tasks/fashion-full.ini"));
  EXPECT_GE(full.tasks.size(), 25u);
  EXPECT_LE(full.tasks.size(), 40u);
  const auto ci = read_catalog(test::source_path("inputs/tasks/fashion-ci.ini"));
  EXPECT_EQ(ci.tasks.size(), 4u);
  const auto super = read_catalog(test::source_path("inputs/tasks/cifar100-superclasses.ini"));
  ASSERT_EQ(super.tasks.size(), 20u);
  std::vector<int> seen(100, 0);  // the 20 groups partition the 100 fine classes
  for (const auto& t : super.tasks) {
    EXPECT_EQ(t.num_classes(), 5) << t.name;
    for (int k : t.classes) ++seen[k];
  }
  EXPECT_EQ(seen, std::vector<int>(100, 1));
  const auto c10 = read_catalog(test::source_path("inputs/tasks/cifar10.ini"));
  ASSERT_EQ(c10.tasks.size(), 1u);
  EXPECT_EQ(c10.tasks[0].num_classes(), 10);
}

// Issue 28: a dataset file changed anywhere (here at byte 10000, beyond the
// 4 KiB hashed before, at the same size) changes the task's definition, so
// the journal of the old data is never resumed. (A new process, as a resume
// is, hashes afresh; within one process the cache is keyed by size and
// modification time, which any write moves.)
TEST(Catalog, TaskDefinitionHashesTheWholeDatasetFile) {
  namespace fs = std::filesystem;
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const char* names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                         "t10k-labels-idx1-ubyte"};
  for (const char* n : names) std::ofstream(dir + "/" + n, std::ios::binary) << std::string(20000, 'a');
  TaskSpec t;
  t.name = "t";
  t.dataset_kind = "idx";
  t.dataset_path = dir;
  const std::string before = task_definition(t);
  const std::string path = dir + "/train-labels-idx1-ubyte";
  const auto mtime = fs::last_write_time(path);
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(10000);
    f.put('b');
  }
  fs::last_write_time(path, mtime + std::chrono::seconds(1));  // a new version of the file
  EXPECT_EQ(fs::file_size(path), 20000u);
  const std::string after = task_definition(t);
  EXPECT_NE(before, after);
  EXPECT_NE(after.find("file.train-labels-idx1-ubyte=20000:"), std::string::npos) << after;
}
