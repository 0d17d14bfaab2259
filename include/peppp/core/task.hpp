#pragma once
/// @file task.hpp
/// @brief Plain description of one task (a row of the error matrix): which
/// source dataset, which classes, at what resolution and sizes. Torch-free,
/// so the io layer can write task descriptions and the planner can reason
/// about tasks without loading data. Catalog parsing and loading live in the
/// data layer (`peppp/data/catalog.hpp`, `peppp/data/loader.hpp`).

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace peppp {

/// One task: a class subset of a source dataset at a given resolution, with
/// deterministic class-balanced train/test subsamples.
struct TaskSpec {
  std::string name;          ///< unique task name within the catalog
  std::string dataset;       ///< name of the source dataset (catalog `[dataset NAME]` section)
  std::string dataset_kind;  ///< reader: "idx", "cifar10", "cifar100" or "netcdf"
  std::string dataset_path;  ///< folder holding the source files (absolute or as given, `${VAR}` expanded)
  std::string label_set;     ///< "fine" or "coarse" for cifar100; empty for the other kinds
  int source_classes = 0;    ///< number of classes in the source dataset (labels 0..source_classes-1)
  std::vector<int> classes;  ///< source class index of each task class; task label t <-> source label classes[t]
  std::vector<std::string> class_names;  ///< name of each task class (same order as `classes`)
  int resolution = 0;        ///< images are resized (bilinear) to resolution x resolution pixels
  int channels = 0;          ///< 1 (grey) or 3 (RGB); converted from the source if it differs
  int train_size = 0;        ///< training images, class-balanced; 0 = every image of the classes
  int test_size = 0;         ///< test images, class-balanced; 0 = every image of the classes
  std::uint64_t seed = 0;    ///< seed of the deterministic subsampling
  std::string origin;        ///< where it was declared, "catalog.ini:LINE" (for messages)

  /// Number of task classes.
  int num_classes() const { return static_cast<int>(classes.size()); }
};

/// One row of the error matrix as every output file describes it (the
/// `task_*` columns of campaign.nc): the one task descriptor of the plan,
/// the measure driver, the NetCDF schemas and the reports. A TaskSpec is the
/// full catalog definition that produces such a row.
struct TaskRow {
  /// Row label, unique (coordinate of dim `task`, or `row` when rows are
  /// task × model × learning rate): the task name for plain rows, else
  /// "TASK:MODEL:lr=RATE" with the parts that vary (`row_label`).
  std::string name;
  std::string dataset;  ///< source dataset
  int classes = 0;      ///< number of classes
  int resolution = 0;   ///< image height = width, pixels
  int train_size = 0;   ///< training examples
  int test_size = 0;    ///< test examples
  /// Rows of a task × model × learning-rate campaign (campaign.models,
  /// train.learning_rates with more than one value): the task this row
  /// trains on, its network and SGD learning rate. Empty / 0 on plain rows,
  /// which train the campaign's one model and rate on task `name`.
  std::string task;
  std::string model;
  double learning_rate = 0;

  /// The task this row trains on (`task`, or `name` for a plain row): what
  /// the cell seeds hash, so a row's cells equal those of a one-model,
  /// one-rate campaign on that task.
  const std::string& task_name() const { return task.empty() ? name : task; }
  /// True for a task × model × learning-rate row.
  bool expanded() const { return !task.empty(); }

  /// The row that a catalog task produces.
  static TaskRow of(const TaskSpec& t) {
    TaskRow r;
    r.name = t.name;
    r.dataset = t.dataset;
    r.classes = t.num_classes();
    r.resolution = t.resolution;
    r.train_size = t.train_size;
    r.test_size = t.test_size;
    return r;
  }
  /// A row known by its name only (synthetic campaigns, external matrices).
  static TaskRow named(std::string name) {
    TaskRow r;
    r.name = std::move(name);
    return r;
  }
};

/// The label of a (task, model, rate) row: "TASK", then ":MODEL" when the
/// models vary and ":lr=RATE" (%g) when the rates vary (the row coordinate
/// of a task x model x learning-rate campaign; `measure` and `merge` both
/// label rows with it).
inline std::string row_label(const std::string& task, const std::string& model, double learning_rate,
                             bool models_vary, bool rates_vary) {
  std::string label = task;
  if (models_vary) label += ":" + model;
  if (rates_vary) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%g", learning_rate);
    label += std::string(":lr=") + buf;
  }
  return label;
}

}  // namespace peppp
