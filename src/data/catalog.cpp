// Task catalog parser: sections [defaults], [dataset NAME], [task NAME],
// [subsets NAME], [partition NAME]; see inputs/tasks/README.md.
#include "peppp/data/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <tuple>
#include <mutex>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/data/images.hpp"

namespace fs = std::filesystem;

namespace peppp::data {
namespace {

const std::vector<std::string> kCifar10Names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

const std::vector<std::string> kCifar100Fine = {
    "apple",       "aquarium_fish", "baby",         "bear",       "beaver",      "bed",        "bee",
    "beetle",      "bicycle",       "bottle",       "bowl",       "boy",         "bridge",     "bus",
    "butterfly",   "camel",         "can",          "castle",     "caterpillar", "cattle",     "chair",
    "chimpanzee",  "clock",         "cloud",        "cockroach",  "couch",       "crab",       "crocodile",
    "cup",         "dinosaur",      "dolphin",      "elephant",   "flatfish",    "forest",     "fox",
    "girl",        "hamster",       "house",        "kangaroo",   "keyboard",    "lamp",       "lawn_mower",
    "leopard",     "lion",          "lizard",       "lobster",    "man",         "maple_tree", "motorcycle",
    "mountain",    "mouse",         "mushroom",     "oak_tree",   "orange",      "orchid",     "otter",
    "palm_tree",   "pear",          "pickup_truck", "pine_tree",  "plain",       "plate",      "poppy",
    "porcupine",   "possum",        "rabbit",       "raccoon",    "ray",         "road",       "rocket",
    "rose",        "sea",           "seal",         "shark",      "shrew",       "skunk",      "skyscraper",
    "snail",       "snake",         "spider",       "squirrel",   "streetcar",   "sunflower",  "sweet_pepper",
    "table",       "tank",          "telephone",    "television", "tiger",       "tractor",    "train",
    "trout",       "tulip",         "turtle",       "wardrobe",   "whale",       "willow_tree", "wolf",
    "woman",       "worm"};

const std::vector<std::string> kCifar100Coarse = {
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes", "large_omnivores_and_herbivores",
    "medium_mammals", "non-insect_invertebrates", "people", "reptiles", "small_mammals", "trees",
    "vehicles_1", "vehicles_2"};

const std::vector<std::string> kKinds = {"idx", "cifar10", "cifar100", "netcdf"};

struct Entry {
  std::string value;
  int line = 0;
};

struct Section {
  std::string type;  // defaults, dataset, task, subsets, partition
  std::string name;
  int line = 0;
  std::vector<std::pair<std::string, Entry>> entries;  // in file order
  const Entry* get(const std::string& key) const {
    for (const auto& e : entries)
      if (e.first == key) return &e.second;
    return nullptr;
  }
};

struct Parser {
  std::string origin;
  std::string base_dir;

  [[noreturn]] void fail(int line, const std::string& msg) const {
    throw InputError(origin + ":" + std::to_string(line) + ": " + msg);
  }
  std::string where(const Section& s, const std::string& key, const Entry& e) const {
    return "[" + s.type + (s.name.empty() ? "" : " " + s.name) + "] " + key + " = '" + e.value + "'";
  }

  std::vector<Section> split_sections(const std::string& text) const {
    std::vector<Section> out;
    std::istringstream in(text);
    std::string raw;
    int line = 0;
    std::string* last_value = nullptr;
    while (std::getline(in, raw)) {
      ++line;
      std::string body = raw.substr(0, raw.find_first_of("#;"));
      const bool indented = !body.empty() && (body[0] == ' ' || body[0] == '\t');
      body = trim(body);
      if (body.empty()) continue;
      if (body.front() == '[') {
        if (body.back() != ']') fail(line, "malformed section header '" + body + "'; expected [TYPE NAME]");
        auto words = split(body.substr(1, body.size() - 2), ' ');
        words.erase(std::remove(words.begin(), words.end(), std::string()), words.end());
        Section s;
        s.line = line;
        if (words.empty()) fail(line, "empty section header");
        s.type = words[0];
        static const std::vector<std::string> types = {"defaults", "dataset", "task", "subsets", "partition"};
        if (std::find(types.begin(), types.end(), s.type) == types.end()) {
          auto near = nearest(s.type, types);
          fail(line, "unknown section type '" + s.type + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                         "; allowed: defaults, dataset NAME, task NAME, subsets NAME, partition NAME");
        }
        if (s.type == "defaults") {
          if (words.size() != 1) fail(line, "[defaults] takes no name");
        } else {
          if (words.size() != 2) fail(line, "section '" + body + "' needs exactly one name: [" + s.type + " NAME]");
          s.name = words[1];
          for (char c : s.name)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '+'))
              fail(line, "name '" + s.name + "' has character '" + std::string(1, c) +
                             "'; allowed: letters, digits, - _ . +");
        }
        out.push_back(s);
        last_value = nullptr;
        continue;
      }
      const auto eq = body.find('=');
      if (eq == std::string::npos) {
        if (indented && last_value) {  // continuation of a long list
          *last_value += " " + body;
          continue;
        }
        fail(line, "expected 'key = value', found '" + body + "'");
      }
      if (out.empty()) fail(line, "'key = value' before any [section]");
      std::string key = trim(body.substr(0, eq));
      for (const auto& e : out.back().entries)
        if (e.first == key) fail(line, "key '" + key + "' given twice in this section (first at line " +
                                           std::to_string(e.second.line) + ")");
      out.back().entries.push_back({key, Entry{trim(body.substr(eq + 1)), line}});
      last_value = &out.back().entries.back().second.value;
    }
    return out;
  }

  void check_keys(const Section& s, const std::vector<std::string>& allowed) const {
    for (const auto& [key, e] : s.entries) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      if (s.type == "partition" && starts_with(key, "group.") && key.size() > 6) continue;
      auto near = nearest(key, allowed);
      fail(e.line, "unknown key '" + key + "' in [" + s.type + (s.name.empty() ? "" : " " + s.name) + "]" +
                       (near.empty() ? "" : " (did you mean '" + near + "'?)") + "; allowed: " + join(allowed, ", ") +
                       (s.type == "partition" ? ", group.NAME" : ""));
    }
  }

  std::int64_t integer(const Section& s, const std::string& key, const Entry& e, std::int64_t lo,
                       std::int64_t hi) const {
    std::int64_t v = 0;
    if (!parse_int(e.value, v) || v < lo || v > hi)
      fail(e.line, where(s, key, e) + ": expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
  }

  std::string expand_path(const Section& s, const Entry& e) const {
    std::string out;
    const std::string& v = e.value;
    for (std::size_t i = 0; i < v.size();) {
      if (v[i] == '$' && i + 1 < v.size() && v[i + 1] == '{') {
        const auto close = v.find('}', i);
        if (close == std::string::npos) fail(e.line, where(s, "path", e) + ": unterminated ${...}");
        std::string inner = v.substr(i + 2, close - i - 2), fallback;
        bool has_fallback = false;
        if (auto d = inner.find(":-"); d != std::string::npos) {
          fallback = inner.substr(d + 2);
          inner = inner.substr(0, d);
          has_fallback = true;
        }
        const char* env = std::getenv(inner.c_str());
        if (env && *env)
          out += env;
        else if (has_fallback)
          out += fallback;
        else
          fail(e.line, where(s, "path", e) + ": environment variable " + inner +
                           " is not set; set it or write ${" + inner + ":-DEFAULT}");
        i = close + 1;
      } else {
        out += v[i++];
      }
    }
    fs::path p(out);
    if (p.is_relative()) p = fs::path(base_dir) / p;
    return p.lexically_normal().string();
  }

  DatasetSpec dataset(const Section& s) const {
    check_keys(s, {"kind", "path", "classes", "class_names", "labels"});
    DatasetSpec d;
    d.name = s.name;
    d.origin = origin + ":" + std::to_string(s.line);
    const Entry* kind = s.get("kind");
    if (!kind) fail(s.line, "[dataset " + s.name + "] needs 'kind'; allowed: " + join(kKinds, ", "));
    d.kind = kind->value;
    if (std::find(kKinds.begin(), kKinds.end(), d.kind) == kKinds.end())
      fail(kind->line, where(s, "kind", *kind) + ": allowed: " + join(kKinds, ", "));
    const Entry* path = s.get("path");
    if (!path) fail(s.line, "[dataset " + s.name + "] needs 'path' (folder of the dataset files)");
    d.path = expand_path(s, *path);
    const Entry* labels = s.get("labels");
    if (labels && d.kind != "cifar100")
      fail(labels->line, where(s, "labels", *labels) + ": only a cifar100 dataset has a label set");
    if (d.kind == "cifar100") {
      d.label_set = labels ? labels->value : "fine";
      if (d.label_set != "fine" && d.label_set != "coarse")
        fail(labels->line, where(s, "labels", *labels) + ": allowed: fine, coarse");
    }
    if (d.kind == "cifar10") d.class_names = kCifar10Names;
    if (d.kind == "cifar100") d.class_names = d.label_set == "fine" ? kCifar100Fine : kCifar100Coarse;
    if (const Entry* names = s.get("class_names")) {
      d.class_names = split(names->value, ',');
      std::set<std::string> seen;
      for (const auto& n : d.class_names)
        if (n.empty() || !seen.insert(n).second)
          fail(names->line, where(s, "class_names", *names) + ": names must be non-empty and distinct");
    }
    // A converted image folder carries its class names: use them when the
    // catalog gives none and the file is there (no pixels are read).
    if (d.kind == "netcdf" && d.class_names.empty()) {
      const auto train = dataset_files(d.kind, d.path).train.front();
      if (fs::exists(train)) d.class_names = read_image_netcdf_class_names(train);
    }
    if (const Entry* c = s.get("classes")) {
      d.classes = static_cast<int>(integer(s, "classes", *c, 2, 100000));
      if (!d.class_names.empty() && static_cast<int>(d.class_names.size()) != d.classes)
        fail(c->line, where(s, "classes", *c) + ": but " + std::to_string(d.class_names.size()) +
                          " class names are given/built in; the two must agree");
    } else if (!d.class_names.empty()) {
      d.classes = static_cast<int>(d.class_names.size());
    } else {
      fail(s.line, "[dataset " + s.name + "] needs 'classes' (count) or 'class_names'");
    }
    if (d.class_names.empty())
      for (int i = 0; i < d.classes; ++i) d.class_names.push_back("class" + std::to_string(i));
    return d;
  }

  // Resolve a comma list of class names or indices to source indices.
  std::vector<int> class_list(const Section& s, const std::string& key, const Entry& e,
                              const DatasetSpec& d) const {
    std::vector<int> out;
    std::set<int> seen;
    for (const auto& item : split(e.value, ',')) {
      int idx = -1;
      std::int64_t v = 0;
      if (parse_int(item, v)) {
        if (v < 0 || v >= d.classes)
          fail(e.line, where(s, key, e) + ": class index " + item + " outside 0.." + std::to_string(d.classes - 1) +
                           " of dataset " + d.name);
        idx = static_cast<int>(v);
      } else {
        auto it = std::find(d.class_names.begin(), d.class_names.end(), item);
        if (it == d.class_names.end()) {
          auto near = nearest(item, d.class_names);
          fail(e.line, where(s, key, e) + ": dataset " + d.name + " has no class '" + item + "'" +
                           (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                           "; give class names or indices 0.." + std::to_string(d.classes - 1));
        }
        idx = static_cast<int>(it - d.class_names.begin());
      }
      if (!seen.insert(idx).second)
        fail(e.line, where(s, key, e) + ": class '" + item + "' is listed twice");
      out.push_back(idx);
    }
    return out;
  }
};

// Settings shared by tasks and generators, with [defaults] underneath.
struct Common {
  const DatasetSpec* dataset = nullptr;
  std::vector<int> resolutions;
  int channels = 0;
  int train_size = 0;
  int test_size = 0;
  std::uint64_t seed = 0;
};

std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '+') ? c : '_';
  return out;
}

// Builds a catalog's tasks from its [task], [subsets] and [partition]
// sections, each key looked up in the section, then in [defaults].
struct TaskBuilder {
  const Parser& p;
  const std::string& origin;
  Catalog& cat;
  const Section* defaults = nullptr;

  static const std::vector<std::string>& common_keys() {
    static const std::vector<std::string> keys = {"dataset", "resolution", "channels", "train_size", "test_size",
                                                  "seed"};
    return keys;
  }

  std::pair<const Section*, const Entry*> lookup(const Section& s, const std::string& key) const {
    if (const Entry* e = s.get(key)) return {&s, e};
    if (defaults)
      if (const Entry* e = defaults->get(key)) return {defaults, e};
    return {nullptr, nullptr};
  }

  const DatasetSpec* dataset_of(const Section& s) const {
    auto [ds, de] = lookup(s, "dataset");
    if (!de) {
      if (cat.datasets.size() != 1)
        p.fail(s.line, "[" + s.type + " " + s.name + "] needs 'dataset' (the catalog declares several)");
      return &cat.datasets[0];
    }
    const DatasetSpec* d = cat.find_dataset(de->value);
    if (!d) {
      std::vector<std::string> names;
      for (const auto& x : cat.datasets) names.push_back(x.name);
      p.fail(de->line, p.where(*ds, "dataset", *de) + ": no such dataset; declared: " + join(names, ", "));
    }
    return d;
  }

  Common common(const Section& s) const {
    Common c;
    c.dataset = dataset_of(s);
    auto [rs, re] = lookup(s, "resolution");
    if (!re) p.fail(s.line, "[" + s.type + " " + s.name + "] needs 'resolution' (pixels; here or in [defaults])");
    for (const auto& item : split(re->value, ',')) {
      Entry one{item, re->line};
      c.resolutions.push_back(static_cast<int>(p.integer(*rs, "resolution", one, 1, 1024)));
    }
    if (auto [cs, ce] = lookup(s, "channels"); ce) {
      c.channels = static_cast<int>(p.integer(*cs, "channels", *ce, 1, 3));
      if (c.channels == 2) p.fail(ce->line, p.where(*cs, "channels", *ce) + ": allowed: 1, 3");
    } else {
      c.channels = c.dataset->kind == "idx" ? 1 : 3;
    }
    if (auto [ts, te] = lookup(s, "train_size"); te)
      c.train_size = static_cast<int>(p.integer(*ts, "train_size", *te, 0, 100000000));
    if (auto [ts, te] = lookup(s, "test_size"); te)
      c.test_size = static_cast<int>(p.integer(*ts, "test_size", *te, 0, 100000000));
    if (auto [ss, se] = lookup(s, "seed"); se) {
      std::int64_t v = p.integer(*ss, "seed", *se, 0, INT64_MAX);
      c.seed = static_cast<std::uint64_t>(v);
    }
    return c;
  }

  void emit(const Section& s, const Common& c, const std::string& base, const std::vector<int>& classes) {
    for (int res : c.resolutions) {
      TaskSpec t;
      t.name = c.resolutions.size() > 1 ? base + "-r" + std::to_string(res) : base;
      if (cat.find(t.name))
        p.fail(s.line, "task name '" + t.name + "' is generated twice (first from " + cat.find(t.name)->origin + ")");
      const DatasetSpec& d = *c.dataset;
      t.dataset = d.name;
      t.dataset_kind = d.kind;
      t.dataset_path = d.path;
      t.label_set = d.label_set;
      t.source_classes = d.classes;
      t.classes = classes;
      for (int k : classes) t.class_names.push_back(d.class_names[k]);
      t.resolution = res;
      t.channels = c.channels;
      t.train_size = c.train_size;
      t.test_size = c.test_size;
      t.seed = c.seed;
      t.origin = origin + ":" + std::to_string(s.line);
      auto too_small = [&](int size, const char* key) {
        if (size != 0 && size < t.num_classes())
          p.fail(s.line, "task '" + t.name + "': " + key + " = " + std::to_string(size) + " is fewer than its " +
                             std::to_string(t.num_classes()) + " classes; allowed: 0 (all) or >= classes");
      };
      too_small(t.train_size, "train_size");
      too_small(t.test_size, "test_size");
      cat.tasks.push_back(std::move(t));
    }
  }

  void task(const Section& s) {
    auto keys = common_keys();
    keys.push_back("classes");
    p.check_keys(s, keys);
    Common c = common(s);
    const Entry* e = s.get("classes");
    if (!e) p.fail(s.line, "[task " + s.name + "] needs 'classes' (names or indices, comma-separated)");
    auto classes = p.class_list(s, "classes", *e, *c.dataset);
    if (classes.size() < 2) p.fail(e->line, p.where(s, "classes", *e) + ": a task needs at least 2 classes");
    emit(s, c, s.name, classes);
  }

  void subsets(const Section& s) {
    auto keys = common_keys();
    keys.push_back("from");
    keys.push_back("k");
    p.check_keys(s, keys);
    Common c = common(s);
    const Entry* from = s.get("from");
    const Entry* ke = s.get("k");
    if (!from || !ke) p.fail(s.line, "[subsets " + s.name + "] needs 'from' (class list) and 'k' (classes per task)");
    auto pool = p.class_list(s, "from", *from, *c.dataset);
    const int n = static_cast<int>(pool.size());
    const int k = static_cast<int>(p.integer(s, "k", *ke, 2, std::max(2, n)));
    if (k > n) p.fail(ke->line, p.where(s, "k", *ke) + ": larger than the " + std::to_string(n) + " classes in 'from'");
    // Lexicographic k-subsets of positions in `pool`.
    std::vector<int> pos(k);
    for (int i = 0; i < k; ++i) pos[i] = i;
    int count = 0;
    for (;;) {
      if (++count > 5000) p.fail(ke->line, p.where(s, "k", *ke) + ": more than 5000 subsets; use a smaller list or k");
      std::vector<int> classes;
      std::string name = s.name;
      for (int i : pos) {
        classes.push_back(pool[i]);
        name += "-" + safe_name(c.dataset->class_names[pool[i]]);
      }
      emit(s, c, name, classes);
      int i = k - 1;
      while (i >= 0 && pos[i] == n - k + i) --i;
      if (i < 0) break;
      ++pos[i];
      for (int j = i + 1; j < k; ++j) pos[j] = pos[j - 1] + 1;
    }
  }

  void partition(const Section& s) {
    p.check_keys(s, common_keys());
    Common c = common(s);
    std::set<int> used;
    int groups = 0;
    for (const auto& [key, e] : s.entries) {
      if (!starts_with(key, "group.")) continue;
      const std::string group = key.substr(6);
      auto classes = p.class_list(s, key, e, *c.dataset);
      if (classes.size() < 2) p.fail(e.line, p.where(s, key, e) + ": a group needs at least 2 classes");
      for (int k : classes)
        if (!used.insert(k).second)
          p.fail(e.line, p.where(s, key, e) + ": class '" + c.dataset->class_names[k] +
                             "' is already in another group (a partition's groups are disjoint)");
      emit(s, c, s.name + "-" + safe_name(group), classes);
      ++groups;
    }
    if (groups == 0) p.fail(s.line, "[partition " + s.name + "] declares no 'group.NAME = classes' line");
  }
};

}  // namespace

const TaskSpec* Catalog::find(const std::string& name) const {
  for (const auto& t : tasks)
    if (t.name == name) return &t;
  return nullptr;
}

const DatasetSpec* Catalog::find_dataset(const std::string& name) const {
  for (const auto& d : datasets)
    if (d.name == name) return &d;
  return nullptr;
}

Catalog parse_catalog(const std::string& text, const std::string& origin, const std::string& base_dir) {
  Parser p{origin, base_dir};
  const auto sections = p.split_sections(text);
  Catalog cat;
  const Section* defaults = nullptr;
  for (const auto& s : sections) {
    if (s.type == "dataset") {
      if (cat.find_dataset(s.name)) p.fail(s.line, "dataset '" + s.name + "' declared twice");
      cat.datasets.push_back(p.dataset(s));
    } else if (s.type == "defaults") {
      if (defaults) p.fail(s.line, "[defaults] given twice (first at line " + std::to_string(defaults->line) + ")");
      defaults = &s;
    }
  }
  if (cat.datasets.empty()) throw InputError(origin + ": no [dataset NAME] section; a catalog needs at least one");
  if (defaults) p.check_keys(*defaults, TaskBuilder::common_keys());

  TaskBuilder b{p, origin, cat, defaults};
  for (const auto& s : sections) {
    if (s.type == "task") {
      b.task(s);
    } else if (s.type == "subsets") {
      b.subsets(s);
    } else if (s.type == "partition") {
      b.partition(s);
    }
  }
  if (cat.tasks.empty()) throw InputError(origin + ": declares no task ([task], [subsets] or [partition] sections)");
  return cat;
}

Catalog read_catalog(const std::string& path) {
  std::error_code ec;
  // A FIFO would block the read forever, a folder or device is no catalog: only a regular file is read.
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec))
    throw InputError(path + ": is not a regular file (a folder, FIFO, device or socket); allowed: a task catalog");
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open task catalog (missing or unreadable)");
  std::ostringstream text;
  text << in.rdbuf();
  const fs::path parent = fs::path(path).parent_path();
  Catalog c = parse_catalog(text.str(), path, parent.empty() ? "." : parent.string());
  c.path = path;
  return c;
}

DatasetFiles dataset_files(const std::string& kind, const std::string& path) {
  const fs::path dir(path);
  DatasetFiles f;
  if (kind == "idx") {
    auto pick = [&](const std::string& base) {
      const auto gz = (dir / (base + ".gz")).string();
      const auto plain = (dir / base).string();
      return (!fs::exists(gz) && fs::exists(plain)) ? plain : gz;
    };
    f.train = {pick("train-images-idx3-ubyte"), pick("train-labels-idx1-ubyte")};
    f.test = {pick("t10k-images-idx3-ubyte"), pick("t10k-labels-idx1-ubyte")};
  } else if (kind == "cifar10") {
    for (int i = 1; i <= 5; ++i) f.train.push_back((dir / ("data_batch_" + std::to_string(i) + ".bin")).string());
    f.test = {(dir / "test_batch.bin").string()};
  } else if (kind == "cifar100") {
    f.train = {(dir / "train.bin").string()};
    f.test = {(dir / "test.bin").string()};
  } else if (kind == "netcdf") {
    f.train = {(dir / "train.nc").string()};
    f.test = {(dir / "test.nc").string()};
  } else {
    throw InputError("dataset kind '" + kind + "' is unknown; allowed: " + join(kKinds, ", "));
  }
  return f;
}

std::vector<std::string> missing_files(const TaskSpec& task) {
  std::vector<std::string> out;
  const auto f = dataset_files(task.dataset_kind, task.dataset_path);
  for (const auto* list : {&f.train, &f.test})
    for (const auto& p : *list)
      if (!fs::exists(p)) out.push_back(p);
  return out;
}

namespace {

constexpr std::uint64_t kUnreadable = ~0ULL;

// FNV-1a over every byte of `path` (any change anywhere in a dataset file
// changes the task's definition, so a journal of the old data is never
// resumed); `bytes` = its size, kUnreadable when it cannot be read. Cached in
// the process by (path, size, modification time): the tasks of one catalog
// share their dataset's files.
std::uint64_t whole_file_hash(const std::string& path, std::uint64_t& bytes) {
  static std::map<std::tuple<std::string, std::uint64_t, std::int64_t>, std::uint64_t> cache;
  static std::mutex mutex;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const auto mtime = ec ? fs::file_time_type{} : fs::last_write_time(path, ec);
  // Only a regular file is read (a FIFO would block forever): anything else is unreadable.
  if (!fs::is_regular_file(path, ec)) {
    bytes = kUnreadable;
    return 0;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in || ec) {
    bytes = kUnreadable;
    return 0;
  }
  bytes = size;
  const auto key = std::make_tuple(path, static_cast<std::uint64_t>(size),
                                   static_cast<std::int64_t>(mtime.time_since_epoch().count()));
  std::lock_guard<std::mutex> lock(mutex);
  if (auto at = cache.find(key); at != cache.end()) return at->second;
  const std::uint64_t h = fnv1a64(in);
  cache.emplace(key, h);
  return h;
}

}  // namespace

std::string task_definition(const TaskSpec& t) {
  std::ostringstream os;
  os << "dataset_kind=" << t.dataset_kind << "\n";
  if (!t.label_set.empty()) os << "label_set=" << t.label_set << "\n";
  os << "source_classes=" << t.source_classes << "\n";
  std::vector<std::string> cls;
  for (int c : t.classes) cls.push_back(std::to_string(c));
  os << "classes=" << join(cls, ",") << "\n";
  os << "resolution=" << t.resolution << "\nchannels=" << t.channels << "\ntrain_size=" << t.train_size
     << "\ntest_size=" << t.test_size << "\nsubsample_seed=" << t.seed << "\n";
  const auto f = dataset_files(t.dataset_kind, t.dataset_path);
  for (const auto* list : {&f.train, &f.test})
    for (const auto& path : *list) {
      std::uint64_t bytes = 0;
      const std::uint64_t h = whole_file_hash(path, bytes);
      if (bytes == kUnreadable)
        throw InputError("task '" + t.name + "' (" + t.origin + "): dataset file " + path +
                         " cannot be read (missing, unreadable, or not a regular file)");
      os << "file." << fs::path(path).filename().string() << "=" << bytes << ":" << hex64(h) << "\n";
    }
  return os.str();
}

std::vector<DatasetCheck> check_datasets(const Catalog& catalog) {
  std::vector<DatasetCheck> out;
  for (const auto& d : catalog.datasets) {
    DatasetCheck c;
    c.dataset = &d;
    for (const auto& t : catalog.tasks) c.tasks += t.dataset == d.name ? 1 : 0;
    if (c.tasks == 0) continue;
    const auto files = dataset_files(d.kind, d.path);
    for (const auto* list : {&files.train, &files.test})
      for (const auto& f : *list) {
        ++c.files;
        std::error_code ec;
        if (!fs::is_regular_file(f, ec)) {  // a FIFO would block fopen forever
          c.missing.push_back(f);
        } else if (std::FILE* fp = std::fopen(f.c_str(), "rb")) {
          std::fclose(fp);
        } else {
          c.missing.push_back(f);
        }
      }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace peppp::data
