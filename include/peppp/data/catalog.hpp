#pragma once
/// @file catalog.hpp
/// @brief Task catalogs: the INI-like files in `inputs/tasks/` that declare
/// the tasks (rows of the error matrix) of a campaign, one by one or as
/// families (all k-class subsets of a list; a partition by a label map such
/// as CIFAR-100's superclasses). The format is documented in
/// `inputs/tasks/README.md`. Parsing reads no data file and needs no torch.

#include <string>
#include <vector>

#include "peppp/core/task.hpp"

namespace peppp::data {

/// A source dataset declared by a `[dataset NAME]` section.
struct DatasetSpec {
  std::string name;                      ///< section name, referenced by tasks
  std::string kind;                      ///< "idx", "cifar10", "cifar100" or "netcdf"
  std::string path;                      ///< folder of the files, `${VAR}` expanded, relative to the catalog
  std::string label_set;                 ///< cifar100: "fine" (default) or "coarse"; else empty
  int classes = 0;                       ///< number of source classes
  std::vector<std::string> class_names;  ///< names of the source classes (may be generic "class<i>")
  std::string origin;                    ///< "catalog.ini:LINE"
};

/// A parsed catalog: its datasets and the expanded list of tasks, in the
/// order they are declared (generators expand in place).
struct Catalog {
  std::string path;                   ///< the file read (empty for parsed text)
  std::vector<DatasetSpec> datasets;  ///< declared datasets
  std::vector<TaskSpec> tasks;        ///< every task, names unique

  /// The task named `name`, or nullptr.
  const TaskSpec* find(const std::string& name) const;
  /// The dataset named `name`, or nullptr.
  const DatasetSpec* find_dataset(const std::string& name) const;
};

/// Read and expand a catalog file. Not collective (every rank may read the
/// same file and gets the same result).
/// @throws InputError naming file:line, section, key, value and what is
///         allowed, on any unknown key, bad value or duplicate task name.
Catalog read_catalog(const std::string& path);

/// Parse catalog text; `origin` names it in messages and `base_dir` anchors
/// relative dataset paths.
Catalog parse_catalog(const std::string& text, const std::string& origin,
                      const std::string& base_dir = ".");

/// The files a dataset reads, in read order: training files then test files.
/// For IDX the `.gz` name is used unless only the plain file exists.
struct DatasetFiles {
  std::vector<std::string> train;  ///< training split files
  std::vector<std::string> test;   ///< test split files
};

/// Which files `kind` reads under `path` (no file is opened).
DatasetFiles dataset_files(const std::string& kind, const std::string& path);

/// Files of a task's dataset that do not exist (empty when all are there).
std::vector<std::string> missing_files(const TaskSpec& task);

/// A task's full definition as "key=value" lines, the part of a campaign's
/// plan fingerprint that says what the task is: dataset kind and label set,
/// source classes, classes, resolution, channels, train/test sizes,
/// subsample seed, and for each dataset file its name, size and a hash of
/// its whole content (`file.<name>=<bytes>:<hash>`, FNV-1a 64; any changed
/// byte changes it); not its folder, so a campaign resumes after the data
/// moved. Reads the files (cached in the process by path, size and
/// modification time); does not parse them.
/// @throws InputError naming a file that cannot be read.
std::string task_definition(const TaskSpec& task);

/// Check that a task's data can be trained on, before any training: read
/// its source files (every header, size, count and label checked; see
/// images.hpp) and draw its class-balanced train and test subsamples
/// (enough images per class). The source is kept in the per-process cache
/// for the trainer. Not collective.
/// @throws InputError with one line naming the task, the file and the fault.
void check_task_data(const TaskSpec& task);

/// The files of one dataset that the catalog's tasks use.
struct DatasetCheck {
  const DatasetSpec* dataset = nullptr;  ///< into the catalog
  int tasks = 0;                         ///< tasks that use it
  std::size_t files = 0;                 ///< files it reads
  std::vector<std::string> missing;      ///< of those, the ones that cannot be opened
};

/// Every dataset some task of `catalog` uses, in declaration order, with
/// its files checked (opened, not read).
std::vector<DatasetCheck> check_datasets(const Catalog& catalog);

}  // namespace peppp::data
