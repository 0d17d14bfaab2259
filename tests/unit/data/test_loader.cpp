// Task loading: balanced deterministic subsamples, resizing, normalisation,
// the cache, and the real Fashion-MNIST package.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <set>

#include "peppp/core/error.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/data/loader.hpp"
#include "test_util.hpp"

using namespace peppp;
using namespace peppp::data;

namespace {

// A synthetic source: `per_class` images of each of `classes` classes.
SourceData synthetic(int classes, int per_class, int channels, int size) {
  SourceData s;
  for (auto* set : {&s.train, &s.test}) {
    set->channels = channels;
    set->height = set->width = size;
    for (int i = 0; i < classes * per_class; ++i) {
      set->labels.push_back(i % classes);
      for (int p = 0; p < channels * size * size; ++p)
        set->pixels.push_back(static_cast<std::uint8_t>((i * 31 + p * 7) % 256));
    }
  }
  return s;
}

TaskSpec spec(std::vector<int> classes, int res, int channels, int train, int test, std::uint64_t seed) {
  TaskSpec t;
  t.name = "t";
  t.classes = std::move(classes);
  t.source_classes = 10;
  t.resolution = res;
  t.channels = channels;
  t.train_size = train;
  t.test_size = test;
  t.seed = seed;
  t.origin = "test";
  return t;
}

}  // namespace

TEST(BalancedSample, BalancedNestedAndSeeded) {
  std::vector<std::int32_t> labels;
  for (int i = 0; i < 1000; ++i) labels.push_back((i * 7) % 10);
  const auto a = balanced_sample(labels, {2, 5, 9}, 31, 1, 0, "x");
  ASSERT_EQ(a.size(), 31u);
  std::map<int, int> count;
  for (auto i : a) ++count[labels[i]];
  EXPECT_EQ(count[2], 11);  // remainder to the first listed classes
  EXPECT_EQ(count[5], 10);
  EXPECT_EQ(count[9], 10);
  EXPECT_EQ(std::set<std::int64_t>(a.begin(), a.end()).size(), a.size());  // no repeats
  EXPECT_EQ(a, balanced_sample(labels, {2, 5, 9}, 31, 1, 0, "x"));
  EXPECT_NE(a, balanced_sample(labels, {2, 5, 9}, 31, 2, 0, "x"));
  EXPECT_NE(a, balanced_sample(labels, {2, 5, 9}, 31, 1, 1, "x"));
  // A smaller sample is a subset of a larger one with the same seed.
  const auto small = balanced_sample(labels, {2, 5, 9}, 12, 1, 0, "x");
  const std::set<std::int64_t> big(a.begin(), a.end());
  for (auto i : small) EXPECT_TRUE(big.count(i)) << i;
  // Not sorted by class: the order is shuffled.
  bool mixed = false;
  for (std::size_t i = 1; i < 10; ++i) mixed |= labels[a[i]] != labels[a[0]];
  EXPECT_TRUE(mixed);
  EXPECT_EQ(balanced_sample(labels, {2, 5}, 0, 1, 0, "x").size(), 200u);
  try {
    balanced_sample(labels, {2, 5}, 300, 1, 0, "task y (training split)");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("task y (training split): has 100 images of source class 2, needs 150"),
              std::string::npos) << e.what();
  }
}

TEST(Resize, MatchesTorchBilinear) {
  torch::manual_seed(0);
  for (auto [h, w, oh, ow] : {std::array<int, 4>{28, 28, 14, 14}, {28, 28, 32, 32}, {32, 32, 28, 28}, {7, 5, 3, 9}}) {
    auto src = torch::rand({1, 1, h, w});
    auto ref = torch::nn::functional::interpolate(
        src, torch::nn::functional::InterpolateFuncOptions()
                 .size(std::vector<std::int64_t>{oh, ow})
                 .mode(torch::kBilinear)
                 .align_corners(false));
    std::vector<float> out(static_cast<std::size_t>(oh) * ow);
    resize_bilinear(src.data_ptr<float>(), h, w, out.data(), oh, ow);
    auto mine = torch::from_blob(out.data(), {1, 1, oh, ow});
    EXPECT_LT((mine - ref).abs().max().item<float>(), 1e-5f) << h << "x" << w << " -> " << oh << "x" << ow;
  }
}

TEST(MakeTask, ShapesLabelsNormalisationAndChannels) {
  const auto src = synthetic(10, 20, 1, 8);
  const auto t = make_task(spec({7, 2, 4}, 4, 3, 30, 15, 5), src);
  EXPECT_EQ(t.classes, 3);
  EXPECT_EQ(t.train_x.sizes(), (std::vector<std::int64_t>{30, 3, 4, 4}));
  EXPECT_EQ(t.test_x.sizes(), (std::vector<std::int64_t>{15, 3, 4, 4}));
  EXPECT_EQ(t.train_y.dtype(), torch::kInt64);
  EXPECT_EQ(t.train_x.dtype(), torch::kFloat32);
  EXPECT_EQ(torch::bincount(t.train_y).size(0), 3);
  EXPECT_TRUE(torch::equal(torch::bincount(t.train_y), torch::full({3}, 10, torch::kInt64)));
  EXPECT_TRUE(torch::equal(torch::bincount(t.test_y), torch::full({3}, 5, torch::kInt64)));
  // Training split normalised per channel; grey replicated to 3 equal channels.
  for (int c = 0; c < 3; ++c) {
    auto ch = t.train_x.select(1, c);
    EXPECT_NEAR(ch.mean().item<double>(), 0.0, 1e-5);
    EXPECT_NEAR(ch.std(false).item<double>(), 1.0, 1e-4);
  }
  EXPECT_TRUE(torch::equal(t.train_x.select(1, 0), t.train_x.select(1, 2)));
  ASSERT_EQ(t.channel_mean.size(), 3u);
  EXPECT_GT(t.channel_std[0], 0.05);
  // Labels follow the listed class order: source class 7 -> 0, 2 -> 1, 4 -> 2.
  const auto same = make_task(spec({7, 2, 4}, 8, 1, 30, 15, 5), src);
  auto first = same.train_x[0][0] * same.channel_std[0] + same.channel_mean[0];  // back to [0, 1]
  const int label = same.train_y[0].item<int>();
  const int src_class = std::vector<int>{7, 2, 4}[label];
  bool found = false;
  for (std::size_t i = 0; i < src.train.size() && !found; ++i) {
    if (src.train.labels[i] != src_class) continue;
    auto img = torch::from_blob(const_cast<std::uint8_t*>(src.train.pixels.data()) + i * 64, {8, 8}, torch::kUInt8)
                   .to(torch::kFloat32) / 255.0;
    found = (img - first).abs().max().item<float>() < 1e-5f;
  }
  EXPECT_TRUE(found) << "first training image is not an image of its labelled source class";
  // RGB -> grey.
  const auto rgb = synthetic(10, 4, 3, 6);
  const auto g = make_task(spec({0, 1}, 6, 1, 4, 2, 1), rgb);
  EXPECT_EQ(g.train_x.size(1), 1);
}

TEST(MakeTask, SameSpecSameBytesDifferentSeedDifferentBytes) {
  const auto src = synthetic(10, 30, 1, 10);
  const auto a = make_task(spec({1, 3, 5}, 7, 1, 60, 30, 11), src);
  const auto b = make_task(spec({1, 3, 5}, 7, 1, 60, 30, 11), src);
  const auto c = make_task(spec({1, 3, 5}, 7, 1, 60, 30, 12), src);
  EXPECT_EQ(task_hash(a), task_hash(b));
  EXPECT_TRUE(torch::equal(a.train_x, b.train_x));
  EXPECT_NE(task_hash(a), task_hash(c));
  // Independent of torch's thread count (statistics are computed serially).
  const int threads = torch::get_num_threads();
  torch::set_num_threads(2);
  EXPECT_EQ(task_hash(make_task(spec({1, 3, 5}, 7, 1, 60, 30, 11), src)), task_hash(a));
  torch::set_num_threads(threads);
}

TEST(DatasetCache, ReadsEachSourceOnceAndEvicts) {
  const auto dir = test::scratch_dir();
  ImageSet s;
  s.channels = 1;
  s.height = s.width = 3;
  for (int i = 0; i < 12; ++i) {
    s.labels.push_back(i % 3);
    for (int p = 0; p < 9; ++p) s.pixels.push_back(static_cast<std::uint8_t>(i * 9 + p));
  }
  std::filesystem::create_directories(dir + "/a");
  std::filesystem::create_directories(dir + "/b");
  for (auto d : {"/a", "/b"}) {
    write_image_netcdf(dir + d + "/train.nc", s, {"x", "y", "z"});
    write_image_netcdf(dir + d + "/test.nc", s, {"x", "y", "z"});
  }
  const auto cat = parse_catalog(R"(
[dataset a]
kind = netcdf
path = a
classes = 3
[dataset b]
kind = netcdf
path = b
classes = 3
[defaults]
resolution = 3
channels = 1
train_size = 6
test_size = 3
[task a1]
dataset = a
classes = 0, 1
[task a2]
dataset = a
classes = 1, 2
[task b1]
dataset = b
classes = 0, 2
)", "cache.ini", dir);
  DatasetCache cache(1);
  const auto a1 = load_task(cat.tasks[0], cache);
  load_task(cat.tasks[1], cache);
  EXPECT_EQ(cache.reads(), 1u);
  load_task(cat.tasks[2], cache);
  EXPECT_EQ(cache.reads(), 2u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(task_hash(load_task(cat.tasks[0], cache)), task_hash(a1));
  EXPECT_EQ(cache.reads(), 3u);  // a was evicted by b
  // A catalog declaring the wrong class count is caught on load.
  auto wrong = cat.tasks[0];
  wrong.source_classes = 4;
  DatasetCache fresh;
  try {
    load_task(wrong, fresh);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has 3 classes, but dataset a"), std::string::npos) << e.what();
  }
}

TEST(FashionMnist, RealPackageCountsAndBalancedTasks) {
  const std::string root = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(root + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Debian package dataset-fashion-mnist is not installed";
  const auto demo = read_catalog(test::source_path("inputs/tasks/fashion-demo.ini"));
  for (const auto& t : demo.tasks) EXPECT_TRUE(missing_files(t).empty()) << t.name;
  const auto source = read_source(demo.tasks[0]);
  EXPECT_EQ(source->train.size(), 60000u);
  EXPECT_EQ(source->test.size(), 10000u);
  EXPECT_EQ(source->train.height, 28);
  std::vector<int> per_class(10, 0);
  for (auto l : source->train.labels) ++per_class[l];
  EXPECT_EQ(per_class, std::vector<int>(10, 6000));
  for (const auto& t : demo.tasks) {
    const auto d = make_task(t, *source);
    ASSERT_EQ(d.train_x.size(0), t.train_size) << t.name;
    ASSERT_EQ(d.test_x.size(0), t.test_size) << t.name;
    EXPECT_EQ(d.train_x.size(2), t.resolution) << t.name;
    const auto counts = torch::bincount(d.train_y, {}, t.num_classes());
    EXPECT_LE((counts.max() - counts.min()).item<std::int64_t>(), 1) << t.name;
    const auto test_counts = torch::bincount(d.test_y, {}, t.num_classes());
    EXPECT_LE((test_counts.max() - test_counts.min()).item<std::int64_t>(), 1) << t.name;
  }
}
