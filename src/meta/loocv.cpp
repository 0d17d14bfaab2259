// Meta-LOOCV options, settings, folds and meta-training masks (METHOD.md
// F10); the per-item numerics are in loocv_fold.cpp.
#include "peppp/meta/loocv.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include <Eigen/Core>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/meta/configuration_features.hpp"
#include "peppp/meta/pareto.hpp"
#include "peppp/meta/sampling.hpp"

namespace peppp::meta {

namespace {

std::string joined(const std::vector<std::string>& v) { return join(v, ", "); }

// --hide-columns and --candidates (docs/feature-completion.md, "Column hold-out
// in meta-LOOCV"): resolve spec.hidden, refused on a campaign without per-role
// labels; 1 for each column a method may measure and pick.
std::vector<char> resolve_hold_out(LoocvSpec& spec, const LoocvData& data) {
  spec.hidden = hidden_columns(data.d(), spec.hide_columns, spec.seed);
  if (spec.hide_columns > 0 && !has_per_role_labels(data.config))
    throw InputError("loocv: --hide-columns " + format_g(spec.hide_columns) +
                     " needs a campaign with per-role configurations: this one's meta-training completion is plain "
                     "SoftImpute, which cannot predict a column that no meta-training row measured; allowed: 0 here, "
                     "or a per-role campaign (docs/feature-completion.md)");
  std::vector<char> allowed(data.d(), 1);
  if (spec.candidates == Candidates::measured)
    for (int j : spec.hidden) allowed[static_cast<std::size_t>(j)] = 0;
  return allowed;
}

// Why `blocks` blocks of --lambda-cv-folds do not fit `data` (empty: they
// do): a block whose λ-CV matrix keeps fewer than 2 rows, or (sampled
// settings) fewer observed entries than the CV has splits.
std::string block_misfit(const LoocvSpec& spec, const LoocvData& data, int blocks) {
  LoocvSpec b = spec;
  b.lambda_cv_folds = blocks;
  const std::vector<std::vector<int>> folds = lambda_cv_blocks(b, data);
  const int d = static_cast<int>(data.d());
  for (int k = 0; k < blocks; ++k) {
    const std::vector<int> out = lambda_cv_block_rows(b, data, k);
    const std::size_t rows = data.n() - out.size();
    if (rows < 2) return "leaves " + std::to_string(rows) + " rows in block " + std::to_string(k) + "'s lambda-CV matrix";
    if (has_per_role_labels(data.config)) continue;  // the feature completion chooses its own ridge
    for (std::size_t s = 0; s < spec.settings.size(); ++s) {
      if (!completes_meta_training(spec, static_cast<int>(s))) continue;
      for (int r = 0; r < spec.repeats; ++r) {
        const std::vector<std::uint8_t> mask =
            meta_training_mask(b, data, static_cast<int>(s), folds[static_cast<std::size_t>(k)].front(), r);
        std::size_t observed = 0;
        for (std::size_t i = 0; i < data.n(); ++i)
          if (!std::binary_search(out.begin(), out.end(), static_cast<int>(i)))
            for (int j = 0; j < d; ++j) observed += mask[i * static_cast<std::size_t>(d) + static_cast<std::size_t>(j)];
        if (observed < static_cast<std::size_t>(kLoocvCvSplits))
          return "leaves " + std::to_string(observed) + " observed entries in block " + std::to_string(k) +
                 "'s lambda-CV matrix (setting " + spec.settings[s] + ", repeat " + std::to_string(r) + ")";
      }
    }
  }
  return {};
}

// --lambda-cv-folds B: 0, or 1..F blocks; with λ auto (not once) each block's
// λ-CV matrix must keep 2 rows and as many observed entries as the CV has splits.
void validate_lambda_cv_folds(const LoocvSpec& spec, const LoocvData& data) {
  const int B = spec.lambda_cv_folds;
  if (B == 0) return;
  const auto F = static_cast<int>(data.folds().size());
  const std::string what = "loocv: --lambda-cv-folds " + std::to_string(B);
  const std::string range = "0 (a lambda CV per fold) or 1.." + std::to_string(F) + " (blocks of the " +
                            std::to_string(F) + " held-out rows)";
  if (B < 0 || B > F) throw InputError(what + " is not allowed; allowed: " + range);
  if (spec.lambda_once)
    throw InputError(what + " is not allowed with --lambda once (both share lambda CVs over folds); allowed: 0 "
                     "with once, or lambda auto");
  if (!uses_lambda_cv_blocks(spec)) return;  // λ fixed: no CV, B has no effect
  const std::string misfit = block_misfit(spec, data, B);
  if (misfit.empty()) return;
  int smallest = B + 1;
  while (smallest <= F && !block_misfit(spec, data, smallest).empty()) ++smallest;
  const std::string need = " (each block's CV needs at least 2 rows and " + std::to_string(kLoocvCvSplits) +
                           " observed entries besides the block's rows)";
  const std::string larger = smallest > F    ? std::string()
                             : smallest == F ? " or " + std::to_string(F)
                                             : " or " + std::to_string(smallest) + ".." + std::to_string(F);
  throw InputError(what + " " + misfit + "; allowed: 0" + larger + need);
}

}  // namespace

bool uses_lambda_cv_blocks(const LoocvSpec& spec) {
  return spec.lambda_cv_folds > 0 && !spec.lambda_once && !(spec.lambda > 0);
}

std::vector<std::vector<int>> lambda_cv_blocks(const LoocvSpec& spec, const LoocvData& data) {
  const std::vector<int> all = data.folds();
  const std::size_t F = all.size(), B = static_cast<std::size_t>(std::max(spec.lambda_cv_folds, 0));
  std::vector<std::vector<int>> blocks(B);
  for (std::size_t b = 0; b < B; ++b)  // contiguous, like --part: block b holds entries [b·F/B, (b+1)·F/B)
    blocks[b].assign(all.begin() + static_cast<std::ptrdiff_t>(b * F / B),
                     all.begin() + static_cast<std::ptrdiff_t>((b + 1) * F / B));
  return blocks;
}

int lambda_cv_block_of(const LoocvSpec& spec, const LoocvData& data, int fold) {
  if (spec.lambda_cv_folds <= 0) return -1;
  const std::vector<int> all = data.folds();
  const auto at = std::lower_bound(all.begin(), all.end(), fold);
  if (at == all.end() || *at != fold) throw InputError("loocv: row " + std::to_string(fold) + " is not a fold");
  const auto k = static_cast<std::size_t>(at - all.begin()), F = all.size(),
             B = static_cast<std::size_t>(spec.lambda_cv_folds);
  // The b with b·F/B ≤ k < (b+1)·F/B (integer division as in lambda_cv_blocks).
  std::size_t b = std::min(B - 1, k * B / F);
  while (b > 0 && b * F / B > k) --b;
  while ((b + 1) * F / B <= k) ++b;
  return static_cast<int>(b);
}

std::vector<int> lambda_cv_block_rows(const LoocvSpec& spec, const LoocvData& data, int block) {
  const std::vector<std::vector<int>> blocks = lambda_cv_blocks(spec, data);
  std::set<int> rows;
  for (int f : blocks.at(static_cast<std::size_t>(block))) {
    const std::vector<int> h = held_out_rows(spec, data, f);
    rows.insert(h.begin(), h.end());
  }
  return {rows.begin(), rows.end()};
}

const char* candidates_name(Candidates c) { return c == Candidates::all ? "all" : "measured"; }

Candidates parse_candidates(const std::string& text, const std::string& key) {
  if (text == "all") return Candidates::all;
  if (text == "measured") return Candidates::measured;
  throw InputError(key + ": value '" + text + "' is not allowed; allowed: all, measured");
}

std::vector<int> hidden_columns(std::size_t d, double fraction, std::uint64_t seed) {
  if (!(fraction >= 0 && fraction < 1))
    throw InputError("loocv: --hide-columns " + format_g(fraction) + " is not allowed; allowed: 0 <= F < 1");
  const std::size_t k = std::min(static_cast<std::size_t>(std::llround(fraction * static_cast<double>(d))),
                                 d > 0 ? d - 1 : 0);  // never every column
  std::vector<int> order(d);
  std::iota(order.begin(), order.end(), 0);
  // The first k steps of a Fisher-Yates shuffle on a counter-based stream: the same on every platform.
  const std::uint64_t stream = fnv1a64("hide-columns", mix64(seed));
  for (std::size_t i = 0; i < k; ++i)
    std::swap(order[i], order[i + static_cast<std::size_t>(mix64(stream + i) % (d - i))]);
  std::vector<int> hidden(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
  std::sort(hidden.begin(), hidden.end());
  return hidden;
}

bool completes_meta_training(const LoocvSpec& spec, int setting) {
  return setting_info(spec.settings.at(setting)).training != SettingInfo::Training::full || !spec.hidden.empty();
}

const char* fold_by_name(FoldBy f) { return f == FoldBy::task ? "task" : "row"; }

FoldBy parse_fold_by(const std::string& text, const std::string& key) {
  if (text == "task") return FoldBy::task;
  if (text == "row") return FoldBy::row;
  throw InputError(key + ": value '" + text + "' is not allowed; allowed: task, row");
}

std::vector<int> LoocvData::folds() const {
  if (!fold_rows.empty()) return fold_rows;
  std::vector<int> all(n());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return all;
}

std::vector<int> held_out_rows(const LoocvSpec& spec, const LoocvData& data, int fold) {
  if (spec.fold_by == FoldBy::row || data.group.empty()) return {fold};
  std::vector<int> rows;
  const int g = data.group.at(static_cast<std::size_t>(fold));
  for (std::size_t i = 0; i < data.n(); ++i)
    if (data.group[i] == g) rows.push_back(static_cast<int>(i));
  return rows;
}

std::vector<int> training_rows(const LoocvSpec& spec, const LoocvData& data, int fold) {
  const std::vector<int> out = held_out_rows(spec, data, fold);
  std::vector<int> rows;
  for (std::size_t i = 0, k = 0; i < data.n(); ++i) {
    while (k < out.size() && out[k] < static_cast<int>(i)) ++k;
    if (k < out.size() && out[k] == static_cast<int>(i)) continue;
    rows.push_back(static_cast<int>(i));
  }
  return rows;
}

const std::vector<std::string>& loocv_setting_names() {
  static const std::vector<std::string> names{"I", "II", "III", "IV", "V", "VI"};
  return names;
}

const std::vector<std::string>& loocv_method_names() {
  static const std::vector<std::string> names{"ed-mf", "qr-mf", "random-mf", "bo-mf", "bo-full", "ei-mf"};
  return names;
}

SettingInfo setting_info(const std::string& name) {
  using T = SettingInfo::Training;
  if (name == "I") return {T::full, false};
  if (name == "II") return {T::full, true};
  if (name == "III") return {T::uniform, false};
  if (name == "IV") return {T::uniform, true};
  if (name == "V") return {T::nonuniform, false};
  if (name == "VI") return {T::nonuniform, true};
  throw InputError("loocv: setting '" + name + "' is unknown; allowed: " + joined(loocv_setting_names()));
}

double task_cap(const LoocvSpec& spec, const LoocvData& data, std::size_t task) {
  if (!spec.cap_per_task) return spec.cap;
  const std::size_t d = data.d();
  std::vector<double> row(data.memory.begin() + static_cast<std::ptrdiff_t>(task * d),
                          data.memory.begin() + static_cast<std::ptrdiff_t>((task + 1) * d));
  return finite_median(row);
}

LoocvSpec validate_loocv(LoocvSpec spec, const LoocvData& data) {
  const std::size_t n = data.n(), d = data.d();
  if (n < 3)
    throw InputError("loocv: the campaign has " + std::to_string(n) +
                     " tasks; meta-LOOCV needs at least 3 (one held out, at least 2 to learn from)");
  if (!data.group.empty() && data.group.size() != n)
    throw InputError("loocv: " + std::to_string(data.group.size()) + " row groups for " + std::to_string(n) + " rows");
  for (std::size_t k = 0; k < data.fold_rows.size(); ++k)
    if (data.fold_rows[k] < 0 || static_cast<std::size_t>(data.fold_rows[k]) >= n ||
        (k > 0 && data.fold_rows[k] <= data.fold_rows[k - 1]))
      throw InputError("loocv: the held-out rows must be distinct campaign rows in ascending order");
  const std::vector<int> folds = data.folds();
  if (folds.empty()) throw InputError("loocv: no row is held out (--test-rows selects none)");
  // The smallest meta-training matrix over the folds (n − 1 rows with one row held out).
  std::size_t train_rows = n;
  for (int f : folds) {
    const std::size_t m = training_rows(spec, data, f).size();
    if (m < 2)
      throw InputError("loocv: holding out row '" + data.task[f] + "' with --fold-by " + fold_by_name(spec.fold_by) +
                       " leaves " + std::to_string(m) + " rows to learn from; meta-LOOCV needs at least 2 (more "
                       "tasks, or --fold-by row)");
    train_rows = std::min(train_rows, m);
  }
  auto check_names = [](const char* key, const std::vector<std::string>& given, const std::vector<std::string>& allowed) {
    if (given.empty()) throw InputError(std::string("loocv: --") + key + " is empty; allowed: " + joined(allowed));
    std::set<std::string> seen;
    for (const auto& g : given) {
      if (std::find(allowed.begin(), allowed.end(), g) == allowed.end())
        throw InputError(std::string("loocv: --") + key + " value '" + g + "' is unknown; allowed: " + joined(allowed));
      if (!seen.insert(g).second)
        throw InputError(std::string("loocv: --") + key + " names '" + g + "' twice");
    }
  };
  check_names("settings", spec.settings, loocv_setting_names());
  check_names("methods", spec.methods, loocv_method_names());
  if (spec.rank < 1 || static_cast<std::size_t>(spec.rank) > std::min(train_rows, d))
    throw InputError("loocv: --rank " + std::to_string(spec.rank) + " is outside 1.." +
                     std::to_string(std::min(train_rows, d)) +
                     (train_rows == n - 1 ? std::string(" (tasks − 1 and configurations bound it)")
                                          : " (the rows of the smallest meta-training matrix and configurations bound it)"));
  if (spec.measurements.empty()) throw InputError("loocv: --measurements is empty");
  std::sort(spec.measurements.begin(), spec.measurements.end());
  if (std::adjacent_find(spec.measurements.begin(), spec.measurements.end()) != spec.measurements.end())
    throw InputError("loocv: --measurements lists a count twice");
  if (spec.measurements.front() < spec.rank)
    throw InputError("loocv: --measurements " + std::to_string(spec.measurements.front()) +
                     " is below the rank " + std::to_string(spec.rank) +
                     "; least squares needs at least rank measurements");
  if (spec.repeats < 1) throw InputError("loocv: --repeats " + std::to_string(spec.repeats) + "; allowed: integer >= 1");
  if (spec.parts < 1 || spec.part < 1 || spec.part > spec.parts || static_cast<std::size_t>(spec.parts) > folds.size())
    throw InputError("loocv: --part " + std::to_string(spec.part) + "/" + std::to_string(spec.parts) +
                     " is not allowed; K/N needs 1 <= K <= N <= " + (folds.size() == n ? "tasks" : "held-out rows") +
                     " (" + std::to_string(folds.size()) + ")");
  if (spec.cap_per_task) {
    spec.cap = std::numeric_limits<double>::quiet_NaN();
  } else {
    if (std::isnan(spec.cap)) spec.cap = finite_median(data.memory);
    if (!(spec.cap > 0)) throw InputError("loocv: --cap " + std::to_string(spec.cap) + " MiB; allowed: > 0");
  }
  const int lmax = spec.measurements.back();
  bool any_capped = false;
  for (const auto& s : spec.settings) any_capped |= setting_info(s).capped;
  const std::vector<char> allowed = resolve_hold_out(spec, data);
  const auto selectable = static_cast<std::size_t>(std::count(allowed.begin(), allowed.end(), 1));
  const std::string not_hidden = selectable < d ? " not hidden (--candidates measured)" : "";
  if (static_cast<std::size_t>(lmax) > selectable)
    throw InputError("loocv: --measurements " + std::to_string(lmax) + " exceeds the " + std::to_string(selectable) +
                     " configurations" + not_hidden + " of the campaign");
  // F9 needs something under the budget on every task; capped settings need lmax feasible configs.
  for (const int row : folds) {
    const auto i = static_cast<std::size_t>(row);
    std::size_t feasible = 0;
    const double cap = task_cap(spec, data, i);
    for (std::size_t j = 0; j < d; ++j) feasible += data.memory[i * d + j] <= cap && allowed[j];
    if (feasible == 0)
      throw InputError("loocv: --cap " + std::to_string(cap) + " MiB is below every configuration" + not_hidden +
                       " of task '" + data.task[i] + "'; allowed: a larger cap, or --cap task-median");
    if (any_capped && feasible < static_cast<std::size_t>(lmax))
      throw InputError("loocv: --measurements " + std::to_string(lmax) + " exceeds the " + std::to_string(feasible) +
                       " configurations" + not_hidden + " of task '" + data.task[i] + "' under the cap of " +
                       std::to_string(cap) + " MiB");
  }
  if (spec.ratio <= 0 || spec.ratio > 1)
    throw InputError("loocv: sampling ratio " + std::to_string(spec.ratio) + "; allowed: (0, 1]");
  if (spec.p_max <= 0 || spec.p_max > 1 || spec.p_min < 0 || spec.p_min > spec.p_max)
    throw InputError("loocv: p_min/p_max " + std::to_string(spec.p_min) + "/" + std::to_string(spec.p_max) +
                     "; allowed: 0 <= p_min <= p_max <= 1, p_max > 0");
  validate_lambda_cv_folds(spec, data);
  return spec;
}

std::vector<int> loocv_folds(const LoocvSpec& spec, std::size_t n_tasks) {
  // Contiguous blocks: part K of N holds rows [(K-1)·n/N, K·n/N).
  const std::size_t lo = (spec.part - 1) * n_tasks / spec.parts, hi = spec.part * n_tasks / spec.parts;
  std::vector<int> folds;
  for (std::size_t i = lo; i < hi; ++i) folds.push_back(static_cast<int>(i));
  return folds;
}

std::vector<int> loocv_folds(const LoocvSpec& spec, const LoocvData& data) {
  const std::vector<int> all = data.folds();
  std::vector<int> folds;
  for (int k : loocv_folds(spec, all.size())) folds.push_back(all[static_cast<std::size_t>(k)]);
  return folds;
}

std::vector<std::uint8_t> meta_training_mask(const LoocvSpec& spec, const LoocvData& data, int setting, int fold,
                                             int repeat) {
  const int n = static_cast<int>(data.n()), d = static_cast<int>(data.d());
  const SettingInfo info = setting_info(spec.settings.at(setting));
  const std::vector<int> rows = training_rows(spec, data, fold);
  const int m = static_cast<int>(rows.size());
  std::vector<std::uint8_t> full(static_cast<std::size_t>(n) * d, 0);
  std::uint64_t seed = 1000 * spec.seed + static_cast<std::uint64_t>(fold);
  if (repeat > 0) seed = mix64(seed ^ mix64(static_cast<std::uint64_t>(repeat)));
  // Sample on the m×d meta-training matrix, then place its rows back among the held-out ones.
  auto place = [&](const auto& sample) {
    for (int r = 0; r < m; ++r)
      std::copy_n(sample.begin() + static_cast<std::ptrdiff_t>(r) * d, d,
                  full.begin() + static_cast<std::ptrdiff_t>(rows[r]) * d);
  };
  if (info.training == SettingInfo::Training::uniform) {
    place(sample_uniform(m, d, spec.ratio, seed));
  } else if (info.training == SettingInfo::Training::nonuniform) {
    Eigen::MatrixXd mem(m, d);
    for (int r = 0; r < m; ++r)
      for (int j = 0; j < d; ++j) mem(r, j) = data.memory[static_cast<std::size_t>(rows[r]) * d + j];
    place(sample_nonuniform(nonuniform_probabilities(mem, spec.p_min, spec.p_max), seed));
  } else {
    for (int r : rows) std::fill_n(full.begin() + static_cast<std::ptrdiff_t>(r) * d, d, 1);
  }
  for (int j : spec.hidden)  // --hide-columns: no meta-training row measured them
    for (int r : rows) full[static_cast<std::size_t>(r) * d + static_cast<std::size_t>(j)] = 0;
  return full;
}

}  // namespace peppp::meta
