// Meta-LOOCV options, settings, folds and meta-training masks (METHOD.md
// F10); the per-item numerics are in loocv_fold.cpp.
#include "peppp/meta/loocv.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include <Eigen/Core>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/meta/sampling.hpp"

namespace peppp::meta {

namespace {

std::string joined(const std::vector<std::string>& v) { return join(v, ", "); }

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

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
  return median_of(row);
}

LoocvSpec validate_loocv(LoocvSpec spec, const LoocvData& data) {
  const std::size_t n = data.n(), d = data.d();
  if (n < 3)
    throw InputError("loocv: the campaign has " + std::to_string(n) +
                     " tasks; meta-LOOCV needs at least 3 (one held out, at least 2 to learn from)");
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
  if (spec.rank < 1 || static_cast<std::size_t>(spec.rank) > std::min(n - 1, d))
    throw InputError("loocv: --rank " + std::to_string(spec.rank) + " is outside 1.." +
                     std::to_string(std::min(n - 1, d)) + " (tasks − 1 and configurations bound it)");
  if (spec.measurements.empty()) throw InputError("loocv: --measurements is empty");
  std::sort(spec.measurements.begin(), spec.measurements.end());
  if (std::adjacent_find(spec.measurements.begin(), spec.measurements.end()) != spec.measurements.end())
    throw InputError("loocv: --measurements lists a count twice");
  if (spec.measurements.front() < spec.rank)
    throw InputError("loocv: --measurements " + std::to_string(spec.measurements.front()) +
                     " is below the rank " + std::to_string(spec.rank) +
                     "; least squares needs at least rank measurements");
  if (spec.repeats < 1) throw InputError("loocv: --repeats " + std::to_string(spec.repeats) + "; allowed: integer >= 1");
  if (spec.parts < 1 || spec.part < 1 || spec.part > spec.parts || static_cast<std::size_t>(spec.parts) > n)
    throw InputError("loocv: --part " + std::to_string(spec.part) + "/" + std::to_string(spec.parts) +
                     " is not allowed; K/N needs 1 <= K <= N <= tasks (" + std::to_string(n) + ")");
  if (spec.cap_per_task) {
    spec.cap = std::numeric_limits<double>::quiet_NaN();
  } else {
    if (std::isnan(spec.cap)) spec.cap = median_of(data.memory);
    if (!(spec.cap > 0)) throw InputError("loocv: --cap " + std::to_string(spec.cap) + " MiB; allowed: > 0");
  }
  const int lmax = spec.measurements.back();
  bool any_capped = false;
  for (const auto& s : spec.settings) any_capped |= setting_info(s).capped;
  if (static_cast<std::size_t>(lmax) > d)
    throw InputError("loocv: --measurements " + std::to_string(lmax) + " exceeds the " + std::to_string(d) +
                     " configurations of the campaign");
  // F9 needs something under the budget on every task; capped settings need lmax feasible configs.
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t feasible = 0;
    const double cap = task_cap(spec, data, i);
    for (std::size_t j = 0; j < d; ++j) feasible += data.memory[i * d + j] <= cap;
    if (feasible == 0)
      throw InputError("loocv: --cap " + std::to_string(cap) + " MiB is below every configuration of task '" +
                       data.task[i] + "'; allowed: a larger cap, or --cap task-median");
    if (any_capped && feasible < static_cast<std::size_t>(lmax))
      throw InputError("loocv: --measurements " + std::to_string(lmax) + " exceeds the " + std::to_string(feasible) +
                       " configurations of task '" + data.task[i] + "' under the cap of " + std::to_string(cap) +
                       " MiB");
  }
  if (spec.ratio <= 0 || spec.ratio > 1)
    throw InputError("loocv: sampling ratio " + std::to_string(spec.ratio) + "; allowed: (0, 1]");
  if (spec.p_max <= 0 || spec.p_max > 1 || spec.p_min < 0 || spec.p_min > spec.p_max)
    throw InputError("loocv: p_min/p_max " + std::to_string(spec.p_min) + "/" + std::to_string(spec.p_max) +
                     "; allowed: 0 <= p_min <= p_max <= 1, p_max > 0");
  return spec;
}

std::vector<int> loocv_folds(const LoocvSpec& spec, std::size_t n_tasks) {
  // Contiguous blocks: part K of N holds rows [(K-1)·n/N, K·n/N).
  const std::size_t lo = (spec.part - 1) * n_tasks / spec.parts, hi = spec.part * n_tasks / spec.parts;
  std::vector<int> folds;
  for (std::size_t i = lo; i < hi; ++i) folds.push_back(static_cast<int>(i));
  return folds;
}

std::vector<std::uint8_t> meta_training_mask(const LoocvSpec& spec, const LoocvData& data, int setting, int fold,
                                             int repeat) {
  const int n = static_cast<int>(data.n()), d = static_cast<int>(data.d());
  const SettingInfo info = setting_info(spec.settings.at(setting));
  std::vector<std::uint8_t> full(static_cast<std::size_t>(n) * d, 1);
  std::uint64_t seed = 1000 * spec.seed + static_cast<std::uint64_t>(fold);
  if (repeat > 0) seed = mix64(seed ^ mix64(static_cast<std::uint64_t>(repeat)));
  if (info.training == SettingInfo::Training::uniform) {
    // Sample on the (n−1)×d meta-training matrix, then place it around the held-out row.
    auto m = sample_uniform(n - 1, d, spec.ratio, seed);
    for (int i = 0, r = 0; i < n; ++i) {
      if (i == fold) continue;
      std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(r) * d, d, full.begin() + static_cast<std::ptrdiff_t>(i) * d);
      ++r;
    }
  } else if (info.training == SettingInfo::Training::nonuniform) {
    Eigen::MatrixXd mem(n - 1, d);
    for (int i = 0, r = 0; i < n; ++i) {
      if (i == fold) continue;
      for (int j = 0; j < d; ++j) mem(r, j) = data.memory[static_cast<std::size_t>(i) * d + j];
      ++r;
    }
    auto m = sample_nonuniform(nonuniform_probabilities(mem, spec.p_min, spec.p_max), seed);
    for (int i = 0, r = 0; i < n; ++i) {
      if (i == fold) continue;
      std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(r) * d, d, full.begin() + static_cast<std::ptrdiff_t>(i) * d);
      ++r;
    }
  }
  std::fill_n(full.begin() + static_cast<std::ptrdiff_t>(fold) * d, d, 0);
  return full;
}

}  // namespace peppp::meta
