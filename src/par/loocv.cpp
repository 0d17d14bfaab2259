// Distributed meta-LOOCV: decomposition into work items, queue, gather,
// merge of split runs, summary table. The per-item numerics are in
// loocv_fold.cpp (meta layer underneath).
#include "peppp/par/loocv.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/meta/sampling.hpp"
#include "peppp/par/progress.hpp"
#include "peppp/par/work_queue.hpp"

namespace peppp::par {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string joined(const std::vector<std::string>& v) { return join(v, ", "); }

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// After a queue: every rank learns whether (and where first) an item failed, then all throw alike.
void share_failure(std::string failure, int code, MPI_Comm comm) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int failed_rank = failure.empty() ? size : rank, first_failed = size;
  MPI_Allreduce(&failed_rank, &first_failed, 1, MPI_INT, MPI_MIN, comm);
  if (first_failed == size) return;
  int len = static_cast<int>(failure.size());
  MPI_Bcast(&len, 1, MPI_INT, first_failed, comm);
  MPI_Bcast(&code, 1, MPI_INT, first_failed, comm);
  failure.resize(len);
  MPI_Bcast(failure.data(), len, MPI_CHAR, first_failed, comm);
  if (code == static_cast<int>(ExitCode::bad_input)) throw InputError(failure, true);
  throw RuntimeError(failure, true);
}

// Every rank's doubles, concatenated in rank order, on every rank.
std::vector<double> allgather(const std::vector<double>& mine, MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  int count = static_cast<int>(mine.size());
  std::vector<int> counts(size), displs(size);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
  int off = 0;
  for (int r = 0; r < size; ++r) displs[r] = off, off += counts[r];
  std::vector<double> all(off);
  MPI_Allgatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, comm);
  return all;
}

// Number of doubles one packed item result takes.
std::size_t record_size(std::size_t counts, std::size_t steps) { return 1 + 8 * counts + steps + 2; }
}  // namespace

const std::vector<std::string>& loocv_setting_names() {
  static const std::vector<std::string> names{"I", "II", "III", "IV", "V", "VI"};
  return names;
}

const std::vector<std::string>& loocv_method_names() {
  static const std::vector<std::string> names{"ed-mf", "qr-mf", "random-mf", "bo-mf", "bo-full"};
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

LoocvData loocv_data(const io::Campaign& c, const std::string& file, const std::vector<double>& fill) {
  LoocvData d;
  d.task = c.task;
  d.config = c.config;
  d.error = c.error;
  d.memory = c.memory;
  if (!fill.empty() && fill.size() != d.error.size())
    throw InputError(file + ": the completion has " + std::to_string(fill.size()) + " entries, the campaign " +
                     std::to_string(d.error.size()));
  std::size_t unknown = 0;
  for (std::size_t i = 0; i < d.error.size(); ++i) {
    if (!std::isfinite(d.error[i]) && !fill.empty()) d.error[i] = fill[i];
    if (!std::isfinite(d.error[i])) ++unknown;
  }
  if (unknown > 0)
    throw InputError(file + ": " + std::to_string(unknown) + " of " + std::to_string(d.error.size()) +
                     " error entries are not measured; meta-LOOCV needs the full error matrix (measure every cell, "
                     "or pass --completed completed.nc to use SoftImpute estimates as the truth)");
  for (std::size_t i = 0; i < d.memory.size(); ++i)
    if (!std::isfinite(d.memory[i]) || d.memory[i] <= 0)
      throw InputError(file + ": memory of task '" + d.task[i / d.d()] + "', config '" + d.config[i % d.d()] +
                       "' is " + std::to_string(d.memory[i]) + "; allowed: finite > 0 MiB");
  return d;
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
  if (std::isnan(spec.cap)) spec.cap = median_of(data.memory);
  if (!(spec.cap > 0)) throw InputError("loocv: --cap " + std::to_string(spec.cap) + " MiB; allowed: > 0");
  const int lmax = spec.measurements.back();
  bool any_capped = false;
  for (const auto& s : spec.settings) any_capped |= setting_info(s).capped;
  if (static_cast<std::size_t>(lmax) > d)
    throw InputError("loocv: --measurements " + std::to_string(lmax) + " exceeds the " + std::to_string(d) +
                     " configurations of the campaign");
  // F9 needs something under the budget on every task; capped settings need lmax feasible configs.
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t feasible = 0;
    for (std::size_t j = 0; j < d; ++j) feasible += data.memory[i * d + j] <= spec.cap;
    if (feasible == 0)
      throw InputError("loocv: --cap " + std::to_string(spec.cap) + " MiB is below every configuration of task '" +
                       data.task[i] + "'");
    if (any_capped && feasible < static_cast<std::size_t>(lmax))
      throw InputError("loocv: --measurements " + std::to_string(lmax) + " exceeds the " + std::to_string(feasible) +
                       " configurations of task '" + data.task[i] + "' under the cap of " + std::to_string(spec.cap) +
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
    auto m = meta::sample_uniform(n - 1, d, spec.ratio, seed);
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
    auto m = meta::sample_nonuniform(meta::nonuniform_probabilities(mem, spec.p_min, spec.p_max), seed);
    for (int i = 0, r = 0; i < n; ++i) {
      if (i == fold) continue;
      std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(r) * d, d, full.begin() + static_cast<std::ptrdiff_t>(i) * d);
      ++r;
    }
  }
  std::fill_n(full.begin() + static_cast<std::ptrdiff_t>(fold) * d, d, 0);
  return full;
}

io::Loocv run_loocv(const LoocvData& data, const LoocvSpec& spec, MPI_Comm comm, const LoocvEvaluator& evaluator) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const std::vector<int> folds = loocv_folds(spec, data.n());
  const int S = static_cast<int>(spec.settings.size()), F = static_cast<int>(folds.size()), R = spec.repeats;

  // Phase 1 (default evaluator): the SoftImpute completions of the sampled
  // schemes, one per (scheme, fold, repeat), spread over the ranks and shared
  // with all, so the methods and capped/uncapped settings reuse them.
  std::map<std::tuple<int, int, int>, MetaTraining> shared;
  LoocvEvaluator eval = evaluator;
  if (!eval) {
    std::vector<int> scheme_setting;  // one setting index per sampled scheme
    std::set<int> seen;
    for (int s = 0; s < S; ++s) {
      const auto kind = setting_info(spec.settings[s]).training;
      if (kind != SettingInfo::Training::full && seen.insert(static_cast<int>(kind)).second) scheme_setting.push_back(s);
    }
    const std::int64_t T = static_cast<std::int64_t>(scheme_setting.size()) * F * R;
    if (T > 0) {
      const std::size_t cells = (data.n() - 1) * data.d();
      std::vector<double> mine;
      std::string failure;
      int code = 0;
      {
        WorkQueue queue(comm, T);
        Progress progress("loocv meta-training completions", T, 0, false, 10.0);
        std::int64_t k;
        while ((k = queue.next()) >= 0) {
          const int ks = static_cast<int>(k / (F * R)), f = static_cast<int>((k / R) % F), r = static_cast<int>(k % R);
          MetaTraining t;
          try {
            t = build_meta_training(spec, data, scheme_setting[ks], folds[f], r);
          } catch (const Error& e) {
            failure = "loocv meta-training (setting " + spec.settings[scheme_setting[ks]] + ", fold '" +
                      data.task[folds[f]] + "', repeat " + std::to_string(r) + "): " + e.what();
            code = static_cast<int>(e.code());
            queue.drain();
            queue.finished(true);
            break;
          }
          mine.push_back(static_cast<double>(k));
          mine.push_back(t.lambda);
          mine.push_back(t.fraction);
          mine.insert(mine.end(), t.estimate.begin(), t.estimate.end());
          queue.finished(false);
          if (rank == 0) {
            auto c = queue.counts();
            progress.update(c.finished, c.failed);
          }
        }
        if (rank == 0) progress.finish();
      }
      share_failure(failure, code, comm);
      const std::vector<double> all = allgather(mine, comm);
      for (std::size_t off = 0; off + 3 + cells <= all.size(); off += 3 + cells) {
        const auto k = static_cast<std::int64_t>(all[off]);
        const int ks = static_cast<int>(k / (F * R)), f = static_cast<int>((k / R) % F), r = static_cast<int>(k % R);
        MetaTraining& t =
            shared[{static_cast<int>(setting_info(spec.settings[scheme_setting[ks]]).training), folds[f], r}];
        t.lambda = all[off + 1];
        t.fraction = all[off + 2];
        t.estimate.assign(all.begin() + static_cast<std::ptrdiff_t>(off + 3),
                          all.begin() + static_cast<std::ptrdiff_t>(off + 3 + cells));
      }
    }
    eval = meta_evaluator(spec, data, [&spec, &shared](int setting, int fold, int repeat) -> const MetaTraining* {
      auto it = shared.find({static_cast<int>(setting_info(spec.settings[setting]).training), fold, repeat});
      return it == shared.end() ? nullptr : &it->second;
    });
  }
  const int M = static_cast<int>(spec.methods.size()) + (spec.include_baseline ? 1 : 0);
  const std::size_t L = spec.measurements.size(), P = static_cast<std::size_t>(spec.measurements.back());
  const std::size_t rec = record_size(L, P);
  const std::int64_t total = static_cast<std::int64_t>(S) * F * R * M;
  auto decode = [&](std::int64_t k, int& fold_local) {
    LoocvItem it;
    it.method = static_cast<int>(k % M);
    k /= M;
    it.repeat = static_cast<int>(k % R);
    k /= R;
    fold_local = static_cast<int>(k % F);
    it.fold = folds[fold_local];
    it.setting = static_cast<int>(k / F);
    return it;
  };

  std::vector<double> mine;
  std::string failure;
  int failure_code = 0;
  {
    WorkQueue queue(comm, total);
    Progress progress("loocv", total, 0, false, 10.0);
    std::int64_t k;
    while ((k = queue.next()) >= 0) {
      int fl = 0;
      const LoocvItem it = decode(k, fl);
      LoocvItemResult r;
      try {
        r = eval(it);
      } catch (const Error& e) {
        failure = std::string("loocv item (setting ") + spec.settings[it.setting] + ", fold '" + data.task[it.fold] +
                  "', repeat " + std::to_string(it.repeat) + ", method " +
                  (it.method < static_cast<int>(spec.methods.size()) ? spec.methods[it.method] : kBaselineMethod) +
                  "): " + e.what();
        failure_code = static_cast<int>(e.code());
        queue.drain();
        queue.finished(true);
        break;
      }
      auto fix = [&](std::vector<double>& v) { v.resize(L, kNaN); };
      for (auto* v : {&r.relative_error, &r.convergence, &r.hyperdiff, &r.selected_error, &r.best_feasible_error,
                      &r.regret, &r.measured_memory})
        fix(*v);
      r.selected_config.resize(L, -1);
      mine.push_back(static_cast<double>(k));
      for (auto* v : {&r.relative_error, &r.convergence, &r.hyperdiff, &r.selected_error, &r.best_feasible_error,
                      &r.regret, &r.measured_memory})
        mine.insert(mine.end(), v->begin(), v->end());
      for (int c : r.selected_config) mine.push_back(c);
      for (std::size_t p = 0; p < P; ++p) mine.push_back(p < r.order.size() ? r.order[p] : -1);
      mine.push_back(r.lambda);
      mine.push_back(r.sampled_fraction);
      queue.finished(false);
      if (rank == 0) {
        auto c = queue.counts();
        progress.update(c.finished, c.failed);
      }
    }
    if (rank == 0) progress.finish();
  }

  share_failure(failure, failure_code, comm);

  int count = static_cast<int>(mine.size());
  std::vector<int> counts(size), displs(size);
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
  std::vector<double> all;
  if (rank == 0) {
    int off = 0;
    for (int r = 0; r < size; ++r) displs[r] = off, off += counts[r];
    all.resize(off);
  }
  MPI_Gatherv(mine.data(), count, MPI_DOUBLE, all.data(), counts.data(), displs.data(), MPI_DOUBLE, 0, comm);
  if (rank != 0) return {};

  // Place the records by item index, then reduce in index order (rank-count independent).
  std::vector<const double*> by_item(static_cast<std::size_t>(total), nullptr);
  for (std::size_t off = 0; off + rec <= all.size(); off += rec)
    by_item[static_cast<std::size_t>(all[off])] = &all[off];
  for (std::int64_t k = 0; k < total; ++k)
    if (!by_item[k]) throw RuntimeError("loocv: work item " + std::to_string(k) + " has no result", true);

  io::Loocv out;
  out.setting = spec.settings;
  out.method = spec.methods;
  if (spec.include_baseline) out.method.push_back(kBaselineMethod);
  out.measurements = spec.measurements;
  for (int f : folds) {
    out.fold.push_back(data.task[f]);
    out.fold_task.push_back(f);
  }
  out.task = data.task;
  out.config = data.config;
  out.budget = spec.cap;
  out.cap = spec.cap;
  out.repeats = R;
  out.allocate();
  std::vector<double>* metrics[] = {&out.relative_error, &out.convergence, &out.hyperdiff, &out.selected_error,
                                    &out.best_feasible_error, &out.regret, &out.measured_memory};
  const std::size_t n = data.n(), d = data.d();
  for (int s = 0; s < S; ++s)
    for (int f = 0; f < F; ++f) {
      for (int m = 0; m < M; ++m) {
        for (int r = 0; r < R; ++r) {
          const std::int64_t k = ((static_cast<std::int64_t>(s) * F + f) * R + r) * M + m;
          const double* p = by_item[k] + 1;
          for (int q = 0; q < 7; ++q)
            for (std::size_t l = 0; l < L; ++l) {
              double& dst = (*metrics[q])[out.at(s, m, l, f)];
              const double v = p[q * L + l] / R;
              dst = r == 0 ? v : dst + v;
            }
          if (r != 0) continue;
          for (std::size_t l = 0; l < L; ++l) out.selected_config[out.at(s, m, l, f)] = static_cast<int>(p[7 * L + l]);
          for (std::size_t q = 0; q < P; ++q)
            out.selection_order[((static_cast<std::size_t>(s) * M + m) * F + f) * P + q] = static_cast<int>(p[8 * L + q]);
          if (m == 0) {
            out.lambda[s * F + f] = p[8 * L + P];
            out.sampled_fraction[s * F + f] = p[8 * L + P + 1];
          }
        }
      }
      const auto mask = meta_training_mask(spec, data, s, folds[f], 0);
      std::copy(mask.begin(), mask.end(), out.sampling_mask.begin() + static_cast<std::ptrdiff_t>((s * F + f) * n * d));
    }
  out.number_attributes["part"] = spec.part;
  out.number_attributes["parts"] = spec.parts;
  out.number_attributes["seed"] = static_cast<double>(spec.seed);
  out.number_attributes["rank"] = spec.rank;
  out.number_attributes["lambda_option"] = spec.lambda;
  out.number_attributes["sampling_ratio"] = spec.ratio;
  out.number_attributes["p_min"] = spec.p_min;
  out.number_attributes["p_max"] = spec.p_max;
  return out;
}

io::Loocv merge_loocv(const std::vector<io::Loocv>& parts, const std::vector<std::string>& files) {
  if (parts.empty()) throw InputError("loocv --merge: no partial files given");
  const io::Loocv& a = parts.front();
  const std::size_t n = a.task.size(), d = a.config.size(), S = a.n_settings(), M = a.n_methods(),
                    L = a.n_counts(), P = a.n_steps();
  std::vector<std::pair<std::size_t, std::size_t>> where(n, {SIZE_MAX, 0});  // row -> (part, local fold)
  const char* keys[] = {"seed", "rank", "lambda_option", "sampling_ratio", "p_min", "p_max"};
  for (std::size_t p = 0; p < parts.size(); ++p) {
    const io::Loocv& b = parts[p];
    auto differs = [&](const std::string& what) {
      throw InputError("loocv --merge: " + files[p] + " has different " + what + " than " + files[0] +
                       "; only parts of one split run can be merged");
    };
    if (b.setting != a.setting) differs("settings");
    if (b.method != a.method) differs("methods");
    if (b.measurements != a.measurements) differs("measurement counts");
    if (b.task != a.task || b.config != a.config) differs("campaign tasks or configurations");
    if (b.repeats != a.repeats || !(b.cap == a.cap) || !(b.budget == a.budget)) differs("repeats, cap or budget");
    for (const char* k : keys) {
      auto ia = a.text_attributes.find(k), ib = b.text_attributes.find(k);
      const bool ha = ia != a.text_attributes.end(), hb = ib != b.text_attributes.end();
      if (ha != hb || (ha && ia->second != ib->second)) differs(std::string("option '") + k + "'");
    }
    for (std::size_t f = 0; f < b.n_folds(); ++f) {
      const int row = b.fold_task[f];
      if (where[row].first != SIZE_MAX)
        throw InputError("loocv --merge: fold '" + b.fold[f] + "' is in both " + files[where[row].first] + " and " +
                         files[p]);
      where[row] = {p, f};
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    if (where[i].first == SIZE_MAX)
      throw InputError("loocv --merge: no file holds fold '" + a.task[i] + "'; give every part of the split run");

  io::Loocv out;
  out.setting = a.setting;
  out.method = a.method;
  out.measurements = a.measurements;
  out.task = a.task;
  out.config = a.config;
  out.budget = a.budget;
  out.cap = a.cap;
  out.repeats = a.repeats;
  for (std::size_t i = 0; i < n; ++i) {
    out.fold.push_back(a.task[i]);
    out.fold_task.push_back(static_cast<int>(i));
  }
  out.allocate();
  const std::size_t F = n;
  for (std::size_t f = 0; f < F; ++f) {
    const io::Loocv& b = parts[where[f].first];
    const std::size_t g = where[f].second, G = b.n_folds();
    for (std::size_t s = 0; s < S; ++s) {
      for (std::size_t m = 0; m < M; ++m) {
        for (std::size_t l = 0; l < L; ++l) {
          const std::size_t o = out.at(s, m, l, f), i = b.at(s, m, l, g);
          out.relative_error[o] = b.relative_error[i];
          out.convergence[o] = b.convergence[i];
          out.hyperdiff[o] = b.hyperdiff[i];
          out.selected_error[o] = b.selected_error[i];
          out.best_feasible_error[o] = b.best_feasible_error[i];
          out.regret[o] = b.regret[i];
          out.measured_memory[o] = b.measured_memory[i];
          out.selected_config[o] = b.selected_config[i];
        }
        for (std::size_t q = 0; q < P; ++q)
          out.selection_order[((s * M + m) * F + f) * P + q] = b.selection_order[((s * M + m) * G + g) * P + q];
      }
      out.lambda[s * F + f] = b.lambda[s * G + g];
      out.sampled_fraction[s * F + f] = b.sampled_fraction[s * G + g];
      std::copy_n(b.sampling_mask.begin() + static_cast<std::ptrdiff_t>((s * G + g) * n * d), n * d,
                  out.sampling_mask.begin() + static_cast<std::ptrdiff_t>((s * F + f) * n * d));
    }
  }
  for (const char* k : keys) {
    auto it = a.text_attributes.find(k);
    if (it != a.text_attributes.end()) {
      double v = 0;
      if (parse_double(it->second, v)) out.number_attributes[k] = v;
    }
  }
  out.number_attributes["part"] = 1;
  out.number_attributes["parts"] = 1;
  out.number_attributes["merged_files"] = static_cast<double>(parts.size());
  return out;
}

std::string loocv_summary(const io::Loocv& l) {
  std::ostringstream os;
  const std::size_t F = l.n_folds();
  auto stats = [&](const std::vector<double>& v, std::size_t s, std::size_t m, std::size_t c) {
    double sum = 0, sq = 0;
    std::size_t k = 0;
    for (std::size_t f = 0; f < F; ++f) {
      const double x = v[l.at(s, m, c, f)];
      if (!std::isfinite(x)) continue;
      sum += x;
      sq += x * x;
      ++k;
    }
    if (k == 0) return std::pair<double, double>{kNaN, kNaN};
    const double mean = sum / k;
    const double var = k > 1 ? std::max(0.0, (sq - k * mean * mean) / (k - 1)) : 0.0;
    return std::pair<double, double>{mean, std::sqrt(var / k)};
  };
  auto cell = [](std::pair<double, double> ms, int prec) {
    std::ostringstream c;
    if (std::isnan(ms.first)) {
      c << "-";
    } else {
      // A leading space keeps columns apart when a value overflows its width;
      // huge values (an ill-conditioned LS fit) print in scientific form.
      if (std::abs(ms.first) >= 1e4 || std::abs(ms.second) >= 1e4)
        c << ' ' << std::scientific << std::setprecision(1) << ms.first << "±" << ms.second;
      else
        c << ' ' << std::fixed << std::setprecision(prec) << ms.first << "±" << ms.second;
    }
    return c.str();
  };
  os << "meta-LOOCV over " << F << " folds, budget " << std::fixed << std::setprecision(1) << l.budget
     << " MiB (cap " << l.cap << " MiB), " << l.repeats << " repeat(s); mean±standard error over folds.\n"
     << "regret mark: * best at that count, = tie (difference within the combined standard error)\n";
  for (std::size_t s = 0; s < l.n_settings(); ++s) {
    const SettingInfo info = setting_info(l.setting[s]);
    const char* training = info.training == SettingInfo::Training::full      ? "full meta-training matrix"
                           : info.training == SettingInfo::Training::uniform ? "uniform sample + SoftImpute"
                                                                             : "non-uniform sample + weighted SoftImpute";
    os << "\nSetting " << l.setting[s] << " (" << training << ", " << (info.capped ? "capped" : "uncapped") << ")\n";
    os << std::left << std::setw(20) << "method" << std::right << std::setw(4) << "l" << std::setw(16) << "rel.error"
       << std::setw(16) << "convergence" << std::setw(16) << "hyperdiff" << std::setw(18) << "regret" << std::setw(18)
       << "memory MiB" << "\n";
    for (std::size_t c = 0; c < l.n_counts(); ++c) {
      std::vector<std::pair<double, double>> reg(l.n_methods());
      std::size_t best = SIZE_MAX;
      for (std::size_t m = 0; m < l.n_methods(); ++m) {
        reg[m] = stats(l.regret, s, m, c);
        if (std::isfinite(reg[m].first) && (best == SIZE_MAX || reg[m].first < reg[best].first)) best = m;
      }
      for (std::size_t m = 0; m < l.n_methods(); ++m) {
        std::string mark = " ";
        if (m == best) {
          mark = "*";
        } else if (best != SIZE_MAX && std::isfinite(reg[m].first) &&
                   reg[m].first - reg[best].first <= std::hypot(reg[m].second, reg[best].second)) {
          mark = "=";
        }
        os << std::left << std::setw(20) << l.method[m] << std::right << std::setw(4) << l.measurements[c]
           << std::setw(16) << cell(stats(l.relative_error, s, m, c), 3) << std::setw(16)
           << cell(stats(l.convergence, s, m, c), 3) << std::setw(16) << cell(stats(l.hyperdiff, s, m, c), 3)
           << std::setw(17) << cell(reg[m], 3) << mark << std::setw(18) << cell(stats(l.measured_memory, s, m, c), 0)
           << "\n";
      }
    }
  }
  return os.str();
}

}  // namespace peppp::par
