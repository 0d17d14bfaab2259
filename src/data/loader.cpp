// From a TaskSpec to normalised tensors; see loader.hpp for the determinism
// contract (no torch reductions or parallel kernels on the data path).
#include "peppp/data/loader.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string_view>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/catalog.hpp"
#include "peppp/data/load_check.hpp"

namespace peppp::data {
namespace {

std::string source_key(const TaskSpec& s) {
  return s.dataset_kind + "|" + s.dataset_path + "|" + s.label_set;
}

// Uniform integer in [0, m) from a counter-based stream (Lemire's
// multiply-shift; the tiny bias is irrelevant and it is reproducible).
std::uint64_t draw(std::uint64_t key, std::uint64_t counter, std::uint64_t m) {
  const std::uint64_t r = mix64(key + mix64(counter));
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(r) * m) >> 64);
}

constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

}  // namespace

std::shared_ptr<const SourceData> read_source(const TaskSpec& spec) {
  auto out = std::make_shared<SourceData>();
  out->key = source_key(spec);
  const auto files = dataset_files(spec.dataset_kind, spec.dataset_path);
  const auto t0 = std::chrono::steady_clock::now();
  std::string first_train = files.train.front(), first_test = files.test.front();
  if (spec.dataset_kind == "idx") {
    out->train = read_idx_pair(files.train[0], files.train[1], spec.source_classes);
    out->test = read_idx_pair(files.test[0], files.test[1], spec.source_classes);
  } else if (spec.dataset_kind == "cifar10") {
    out->train = read_cifar10(files.train);
    out->test = read_cifar10(files.test);
  } else if (spec.dataset_kind == "cifar100") {
    const bool fine = spec.label_set != "coarse";
    out->train = read_cifar100(files.train[0], fine);
    out->test = read_cifar100(files.test[0], fine);
  } else if (spec.dataset_kind == "netcdf") {
    std::vector<std::string> test_names;
    out->train = read_image_netcdf(files.train[0], out->class_names);
    out->test = read_image_netcdf(files.test[0], test_names);
    if (test_names != out->class_names)
      throw InputError(files.test[0] + ": class_names differ from those of " + files.train[0] +
                       "; both splits must list the same classes in the same order");
    if (static_cast<int>(out->class_names.size()) != spec.source_classes)
      throw InputError(files.train[0] + ": has " + std::to_string(out->class_names.size()) +
                       " classes, but dataset " + spec.dataset + " (" + spec.origin + ") declares " +
                       std::to_string(spec.source_classes));
  } else {
    throw InputError(spec.origin + ": task " + spec.name + ": unknown dataset kind '" + spec.dataset_kind +
                     "'; allowed: idx, cifar10, cifar100, netcdf");
  }
  const auto& a = out->train;
  const auto& b = out->test;
  if (a.channels != b.channels || a.height != b.height || a.width != b.width)
    throw InputError(first_test + ": images are " + std::to_string(b.channels) + " x " + std::to_string(b.height) +
                     " x " + std::to_string(b.width) + ", expected " + std::to_string(a.channels) + " x " +
                     std::to_string(a.height) + " x " + std::to_string(a.width) + " as in " + first_train);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::debug("data: read ", spec.dataset, " (", spec.dataset_kind, ", ", a.size(), " train + ", b.size(),
             " test images) in ", secs, " s");
  return out;
}

std::shared_ptr<const SourceData> DatasetCache::get(const TaskSpec& spec) {
  const std::string key = source_key(spec);
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if ((*it)->key == key) {
      auto hit = *it;
      entries_.erase(it);
      entries_.push_front(hit);
      return hit;
    }
  }
  auto loaded = read_source(spec);
  ++reads_;
  entries_.push_front(loaded);
  evict_locked();
  return loaded;
}

void DatasetCache::evict_locked() {
  while (entries_.size() > capacity_) entries_.pop_back();
}

std::size_t DatasetCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

std::size_t DatasetCache::reads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reads_;
}

void DatasetCache::set_capacity(std::size_t capacity) {
  std::lock_guard<std::mutex> lock(mutex_);
  capacity_ = capacity ? capacity : 1;
  evict_locked();
}

void DatasetCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

DatasetCache& DatasetCache::process() {
  static DatasetCache cache;
  return cache;
}

std::vector<std::int64_t> balanced_sample(const std::vector<std::int32_t>& labels, const std::vector<int>& classes,
                                          int size, std::uint64_t seed, int split, const std::string& what) {
  const std::size_t nc = classes.size();
  std::vector<std::vector<std::int64_t>> by_class(nc);
  {
    std::vector<int> slot(1 + *std::max_element(classes.begin(), classes.end()), -1);
    for (std::size_t t = 0; t < nc; ++t) slot[classes[t]] = static_cast<int>(t);
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const int l = labels[i];
      if (l >= 0 && l < static_cast<int>(slot.size()) && slot[l] >= 0) by_class[slot[l]].push_back(static_cast<std::int64_t>(i));
    }
  }
  const std::uint64_t split_key = mix64(mix64(seed) ^ (static_cast<std::uint64_t>(split) + 1) * kGolden);
  std::vector<std::int64_t> out;
  for (std::size_t t = 0; t < nc; ++t) {
    auto& pool = by_class[t];
    const std::size_t want =
        size == 0 ? pool.size() : static_cast<std::size_t>(size) / nc + (t < static_cast<std::size_t>(size) % nc ? 1 : 0);
    if (pool.size() < want || pool.empty())
      throw InputError(what + ": has " + std::to_string(pool.size()) + " images of source class " +
                       std::to_string(classes[t]) + ", needs " + std::to_string(std::max<std::size_t>(want, 1)) +
                       " for a class-balanced sample of " + std::to_string(size) + " over " + std::to_string(nc) +
                       " classes; lower the size");
    const std::uint64_t key = mix64(split_key ^ mix64(static_cast<std::uint64_t>(classes[t]) + kGolden));
    for (std::size_t i = 0; i < want; ++i) {  // partial Fisher-Yates: a prefix of one fixed permutation
      const std::size_t j = i + draw(key, i, pool.size() - i);
      std::swap(pool[i], pool[j]);
    }
    out.insert(out.end(), pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(want));
  }
  const std::uint64_t order_key = mix64(split_key ^ 0x6f72646572ULL);
  for (std::size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[draw(order_key, i, i)]);
  return out;
}

void resize_bilinear(const float* src, int h, int w, float* dst, int oh, int ow) {
  if (h == oh && w == ow) {
    std::memcpy(dst, src, sizeof(float) * static_cast<std::size_t>(h) * w);
    return;
  }
  const float sy = static_cast<float>(h) / oh, sx = static_cast<float>(w) / ow;
  std::vector<int> x0(ow), x1(ow);
  std::vector<float> lx(ow);
  for (int x = 0; x < ow; ++x) {
    float s = std::max(0.0f, sx * (x + 0.5f) - 0.5f);
    x0[x] = std::min(static_cast<int>(s), w - 1);
    x1[x] = std::min(x0[x] + 1, w - 1);
    lx[x] = s - x0[x];
  }
  for (int y = 0; y < oh; ++y) {
    const float s = std::max(0.0f, sy * (y + 0.5f) - 0.5f);
    const int y0 = std::min(static_cast<int>(s), h - 1), y1 = std::min(y0 + 1, h - 1);
    const float ly = s - y0;
    const float* r0 = src + static_cast<std::size_t>(y0) * w;
    const float* r1 = src + static_cast<std::size_t>(y1) * w;
    float* out = dst + static_cast<std::size_t>(y) * ow;
    for (int x = 0; x < ow; ++x) {
      out[x] = (1 - ly) * ((1 - lx[x]) * r0[x0[x]] + lx[x] * r0[x1[x]]) +
               ly * ((1 - lx[x]) * r1[x0[x]] + lx[x] * r1[x1[x]]);
    }
  }
}

namespace {

// Gather, convert channels and resize the chosen images into a float tensor
// with values in [0, 1].
torch::Tensor build_images(const ImageSet& src, const std::vector<std::int64_t>& idx, int channels, int res) {
  const int sc = src.channels, h = src.height, w = src.width;
  const std::size_t plane = static_cast<std::size_t>(h) * w, out_plane = static_cast<std::size_t>(res) * res;
  auto x = torch::empty({static_cast<std::int64_t>(idx.size()), channels, res, res}, torch::kFloat32);
  float* out = x.data_ptr<float>();
  std::vector<float> in(plane * std::max(sc, channels)), conv(plane * channels);
  for (std::size_t n = 0; n < idx.size(); ++n) {
    const std::uint8_t* p = src.pixels.data() + static_cast<std::size_t>(idx[n]) * src.image_bytes();
    for (std::size_t i = 0; i < plane * sc; ++i) in[i] = p[i] * (1.0f / 255.0f);
    if (sc == channels) {
      std::copy(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(plane * sc), conv.begin());
    } else if (sc == 1) {  // grey -> RGB: replicate
      for (int c = 0; c < channels; ++c) std::copy(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(plane), conv.begin() + static_cast<std::ptrdiff_t>(c * plane));
    } else {  // RGB -> grey: ITU-R BT.601 luma
      for (std::size_t i = 0; i < plane; ++i) conv[i] = 0.299f * in[i] + 0.587f * in[plane + i] + 0.114f * in[2 * plane + i];
    }
    for (int c = 0; c < channels; ++c)
      resize_bilinear(conv.data() + c * plane, h, w, out + (n * channels + c) * out_plane, res, res);
  }
  return x;
}

torch::Tensor remap_labels(const std::vector<std::int32_t>& labels, const std::vector<std::int64_t>& idx,
                           const std::vector<int>& classes) {
  std::vector<int> slot(1 + *std::max_element(classes.begin(), classes.end()), -1);
  for (std::size_t t = 0; t < classes.size(); ++t) slot[classes[t]] = static_cast<int>(t);
  auto y = torch::empty({static_cast<std::int64_t>(idx.size())}, torch::kInt64);
  auto* out = y.data_ptr<std::int64_t>();
  for (std::size_t n = 0; n < idx.size(); ++n) out[n] = slot[labels[idx[n]]];
  return y;
}

}  // namespace

namespace {
// The checks of a task against its loaded source that need no tensors.
void check_against_source(const TaskSpec& spec, const SourceData& source) {
  const std::string what = spec.origin + ": task " + spec.name;
  if (spec.classes.size() < 2) throw InputError(what + ": needs at least 2 classes");
  if (spec.channels != 1 && spec.channels != 3)
    throw InputError(what + ": channels = " + std::to_string(spec.channels) + "; allowed: 1, 3");
  if (spec.resolution < 1) throw InputError(what + ": resolution = " + std::to_string(spec.resolution) + "; allowed: >= 1");
  for (std::size_t t = 0; t < spec.classes.size() && !source.class_names.empty(); ++t) {
    const int k = spec.classes[t];
    if (k < 0 || k >= static_cast<int>(source.class_names.size()))
      throw InputError(what + ": class index " + std::to_string(k) + " outside 0.." +
                       std::to_string(source.class_names.size() - 1) + " of the dataset files");
    const std::string& file_name = source.class_names[static_cast<std::size_t>(k)];
    if (t < spec.class_names.size() && spec.class_names[t] != file_name &&
        spec.class_names[t] != "class" + std::to_string(k))
      throw InputError(what + ": class " + std::to_string(k) + " is '" + spec.class_names[t] +
                       "' in the catalog but '" + file_name + "' in the dataset files; fix the catalog's class_names");
  }
}
}  // namespace

void check_task_data(const TaskSpec& spec) {
  const auto source = DatasetCache::process().get(spec);
  check_against_source(spec, *source);
  const std::string what = spec.origin + ": task " + spec.name;
  balanced_sample(source->train.labels, spec.classes, spec.train_size, spec.seed, 0, what + " (training split)");
  balanced_sample(source->test.labels, spec.classes, spec.test_size, spec.seed, 1, what + " (test split)");
}

TaskData make_task(const TaskSpec& spec, const SourceData& source) {
  const std::string what = spec.origin + ": task " + spec.name;
  check_against_source(spec, source);
  TaskData d;
  d.name = spec.name;
  d.classes = spec.num_classes();
  d.channels = spec.channels;
  d.resolution = spec.resolution;
  const auto train_idx = balanced_sample(source.train.labels, spec.classes, spec.train_size, spec.seed, 0,
                                         what + " (training split)");
  const auto test_idx = balanced_sample(source.test.labels, spec.classes, spec.test_size, spec.seed, 1,
                                        what + " (test split)");
  d.train_x = build_images(source.train, train_idx, spec.channels, spec.resolution);
  d.test_x = build_images(source.test, test_idx, spec.channels, spec.resolution);
  d.train_y = remap_labels(source.train.labels, train_idx, spec.classes);
  d.test_y = remap_labels(source.test.labels, test_idx, spec.classes);

  // Per-channel statistics of the training split, serial double sums.
  const std::size_t plane = static_cast<std::size_t>(spec.resolution) * spec.resolution;
  const std::size_t n = train_idx.size();
  float* tx = d.train_x.data_ptr<float>();
  d.channel_mean.assign(spec.channels, 0.0);
  d.channel_std.assign(spec.channels, 1.0);
  for (int c = 0; c < spec.channels; ++c) {
    double s = 0, s2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const float* p = tx + (i * spec.channels + c) * plane;
      for (std::size_t k = 0; k < plane; ++k) {
        s += p[k];
        s2 += static_cast<double>(p[k]) * p[k];
      }
    }
    const double count = static_cast<double>(n * plane);
    const double mean = s / count;
    const double var = std::max(0.0, s2 / count - mean * mean);
    d.channel_mean[c] = mean;
    d.channel_std[c] = std::sqrt(var) > 1e-6 ? std::sqrt(var) : 1.0;
  }
  for (auto* t : {&d.train_x, &d.test_x}) {
    float* p = t->data_ptr<float>();
    const std::size_t images = static_cast<std::size_t>(t->size(0));
    for (std::size_t i = 0; i < images; ++i)
      for (int c = 0; c < spec.channels; ++c) {
        const float m = static_cast<float>(d.channel_mean[c]);
        const float inv = static_cast<float>(1.0 / d.channel_std[c]);
        float* q = p + (i * spec.channels + c) * plane;
        for (std::size_t k = 0; k < plane; ++k) q[k] = (q[k] - m) * inv;
      }
  }
  return d;
}

TaskData load_task(const TaskSpec& spec, DatasetCache& cache) {
  auto source = cache.get(spec);
  return make_task(spec, *source);
}

TaskData load_task(const TaskSpec& spec) { return load_task(spec, DatasetCache::process()); }

std::uint64_t task_hash(const TaskData& task) {
  std::uint64_t h = fnv1a64(task.name);
  for (const auto* t : {&task.train_x, &task.train_y, &task.test_x, &task.test_y}) {
    auto c = t->contiguous();
    for (auto s : c.sizes()) h = fnv1a64(std::string_view(reinterpret_cast<const char*>(&s), sizeof s), h);
    h = fnv1a64(std::string_view(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size()), h);
  }
  return h;
}

}  // namespace peppp::data

// ---- the torch-free load check (data/load_check.hpp)
namespace peppp::data {

LoadReport load_all(const Catalog& catalog) {
  LoadReport r;
  DatasetCache cache(1);  // tasks are grouped by dataset in catalogs; keep one at a time
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& t : catalog.tasks) {
    const TaskData d = load_task(t, cache);
    TaskLoad l;
    l.name = t.name;
    l.train = d.train_x.size(0);
    l.test = d.test_x.size(0);
    l.hash = task_hash(d);
    r.train += l.train;
    r.test += l.test;
    r.tasks.push_back(std::move(l));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.dataset_reads = cache.reads();
  return r;
}

}  // namespace peppp::data
