#pragma once
/// @file loader.hpp
/// @brief Turning a `TaskSpec` into the tensors the trainer consumes:
/// read the source dataset (cached per process), pick a deterministic
/// class-balanced subsample, convert channels, resize (bilinear) and
/// normalise with the training split's statistics.
///
/// Determinism: the same spec (same seed) gives byte-identical tensors on
/// every rank and run, whatever the number of threads: the subsample comes
/// from a counter-based generator (`peppp::mix64`), and resizing and the
/// statistics are computed serially in fixed order.

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "peppp/core/task.hpp"
#include "peppp/data/images.hpp"
#include "peppp/data/task_data.hpp"

namespace peppp::data {

/// A source dataset in memory: both splits and the class names.
struct SourceData {
  std::string key;                       ///< cache key: kind|path|label_set
  ImageSet train;                        ///< training split
  ImageSet test;                         ///< test split (same channels and size as train)
  std::vector<std::string> class_names;  ///< names stored in the files (netcdf), else empty
};

/// Read the source dataset a task names (every file checked; see images.hpp).
/// Not collective. @throws InputError on missing or invalid files, or when
/// the file's class count differs from the catalog's.
std::shared_ptr<const SourceData> read_source(const TaskSpec& spec);

/// Per-process cache of source datasets, least recently used evicted beyond
/// `capacity` datasets, so a rank keeps the datasets of the tasks it trains.
/// Thread-safe. Not collective.
class DatasetCache {
 public:
  /// A cache keeping at most `capacity` (>= 1) source datasets.
  explicit DatasetCache(std::size_t capacity = 4) : capacity_(capacity ? capacity : 1) {}
  /// The source dataset of `spec`, read on first use.
  std::shared_ptr<const SourceData> get(const TaskSpec& spec);
  /// Datasets held now.
  std::size_t size() const;
  /// How many times a dataset was read from files (misses).
  std::size_t reads() const;
  /// Change the capacity (evicts now if needed).
  void set_capacity(std::size_t capacity);
  /// Drop every dataset.
  void clear();
  /// The cache `load_task(spec)` uses: one per process.
  static DatasetCache& process();

 private:
  void evict_locked();
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::size_t reads_ = 0;
  std::list<std::shared_ptr<const SourceData>> entries_;  // most recent first
};

/// Load a task through the per-process cache. Not collective.
/// @throws InputError on missing/invalid files or when a class has fewer
///         images than the balanced sample needs.
TaskData load_task(const TaskSpec& spec);
/// Load a task through `cache`.
TaskData load_task(const TaskSpec& spec, DatasetCache& cache);
/// Build a task's tensors from an already loaded source.
TaskData make_task(const TaskSpec& spec, const SourceData& source);

/// Deterministic class-balanced subsample of `labels`: `size` images spread
/// over `classes` as evenly as possible (the first size % C classes get one
/// more), 0 meaning every image of those classes. Per class, the images are
/// the first ones of a Fisher-Yates permutation drawn from (seed, split,
/// source class), so a smaller size is a subset of a larger one; the result
/// is shuffled by (seed, split). `split` is 0 (train) or 1 (test).
/// Returns indices into `labels`. @throws InputError (naming `what`) when a
/// class has too few images.
std::vector<std::int64_t> balanced_sample(const std::vector<std::int32_t>& labels,
                                          const std::vector<int>& classes, int size,
                                          std::uint64_t seed, int split, const std::string& what);

/// Bilinear resize of one float plane `src` [h, w] to `dst` [oh, ow], with
/// torch's `interpolate(mode=bilinear, align_corners=false)` sampling (no
/// antialiasing).
void resize_bilinear(const float* src, int h, int w, float* dst, int oh, int ow);

/// 64-bit FNV-1a hash of a task's tensors (shapes and bytes of train_x,
/// train_y, test_x, test_y): equal on two ranks iff the data are identical.
std::uint64_t task_hash(const TaskData& task);

}  // namespace peppp::data
