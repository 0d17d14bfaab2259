// Distributed meta-LOOCV: the items of meta/loocv.hpp over the shared
// queue, the gather into loocv.nc's arrays, the merge of split runs and the
// summary table. The per-item numerics are the meta layer's.
#include "peppp/par/loocv.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <iomanip>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <type_traits>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/loocv_metrics.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/progress.hpp"
#include "peppp/par/work_queue.hpp"

namespace peppp::par {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The metric vectors of a fold result or of loocv.nc, in PEPPP_LOOCV_METRICS order.
template <typename T>
auto metrics_of(T& x) {
  using V = std::conditional_t<std::is_const_v<T>, const std::vector<double>, std::vector<double>>;
#define PEPPP_LOOCV_MEMBER_PTR_(member, units, long_name) &x.member,
  return std::array<V*, kLoocvMetricCount>{PEPPP_LOOCV_METRICS(PEPPP_LOOCV_MEMBER_PTR_)};
#undef PEPPP_LOOCV_MEMBER_PTR_
}

// An item that threw: its exit code (peppp errors keep theirs) and message.
Failure failed_item(const std::string& what, const std::exception& e) {
  const auto* pe = dynamic_cast<const Error*>(&e);
  return {pe ? pe->code() : ExitCode::runtime, what + ": " + e.what()};
}

// Phase 1's wire record: one meta-training completion, by its item index.
struct CompletionRecord {
  std::int64_t item = 0;
  meta::MetaTraining training;
};

// Phase 0's wire record (--lambda-cv-folds): one block's λ CV, by its item index.
struct LambdaRecord {
  std::int64_t item = 0;
  double lambda = kNaN;
  std::vector<double> start;  // --lambda-warm: the block's completion at λ (meta::block_start)
};

// Phase 2's wire record: one item's result, by its item index.
struct ItemRecord {
  std::int64_t item = 0;
  meta::LoocvItemResult result;
};

}  // namespace

// The field tables of what travels (collectives.hpp "typed records"): one
// per-item output more is one row here (and its place in io::Loocv).
template <>
struct RecordFields<meta::MetaTraining> {
  using R = meta::MetaTraining;
  static constexpr auto fields =
      std::make_tuple(record_field("estimate", &R::estimate), record_field("lambda", &R::lambda),
                      record_field("fraction", &R::fraction), record_field("centered", &R::centered),
                      record_field("centered_lambda", &R::centered_lambda));
};
template <>
struct RecordFields<meta::LoocvItemResult> {
  using R = meta::LoocvItemResult;
#define PEPPP_LOOCV_RECORD_ROW_(member, units, long_name) record_field(#member, &R::member),
  static constexpr auto fields = std::make_tuple(
      PEPPP_LOOCV_METRICS(PEPPP_LOOCV_RECORD_ROW_) record_field("selected_config", &R::selected_config),
      record_field("order", &R::order), record_field("predicted_error", &R::predicted_error),
      record_field("predicted_std", &R::predicted_std), record_field("lambda", &R::lambda),
      record_field("sampled_fraction", &R::sampled_fraction), record_field("coverage", &R::coverage),
      record_field("relative_error_hidden", &R::relative_error_hidden),
      record_field("relative_error_measured", &R::relative_error_measured),
      PEPPP_LOOCV_ZERO_SHOT_METRICS(PEPPP_LOOCV_RECORD_ROW_) record_field("zero_shot_config", &R::zero_shot_config),
      record_field("zero_shot_predicted_error", &R::zero_shot_predicted_error),
      record_field("zero_shot_predicted_std", &R::zero_shot_predicted_std));
#undef PEPPP_LOOCV_RECORD_ROW_
};
template <>
struct RecordFields<CompletionRecord> {
  static constexpr auto fields =
      std::make_tuple(record_field("item", &CompletionRecord::item), record_field("training", &CompletionRecord::training));
};
template <>
struct RecordFields<LambdaRecord> {
  static constexpr auto fields =
      std::make_tuple(record_field("item", &LambdaRecord::item), record_field("lambda", &LambdaRecord::lambda),
                      record_field("start", &LambdaRecord::start));
};
template <>
struct RecordFields<ItemRecord> {
  static constexpr auto fields =
      std::make_tuple(record_field("item", &ItemRecord::item), record_field("result", &ItemRecord::result));
};

meta::LoocvData loocv_data(const io::Campaign& c, const std::string& file, const std::vector<double>& fill) {
  meta::LoocvData d;
  d.task = c.task;
  d.config = c.config;
  d.error = c.error;
  d.memory = c.memory;
  // Group = the task a row trains on (first-appearance order): rows of one task × models × rates share it.
  std::map<std::string, int> groups;
  for (std::size_t t = 0; t < c.n_tasks(); ++t)
    d.group.push_back(groups.emplace(c.row_task_of(t), static_cast<int>(groups.size())).first->second);
  // Rows of several networks: each row's architecture (a fold's prior is formed from its own).
  std::map<std::string, int> models;
  for (std::size_t t = 0; t < c.n_tasks(); ++t)
    d.model.push_back(models.emplace(c.row_model_of(t), static_cast<int>(models.size())).first->second);
  if (models.size() < 2) d.model.clear();
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

namespace {

// The (setting, fold, repeat, method) indices a run of `spec` shares.
struct LoocvShape {
  std::vector<int> folds;  // campaign rows held out, in fold order
  int S = 0, F = 0, R = 0, M = 0;
  bool baseline = true;  // the last method is the baseline (which also computes the zero-shot default)
  std::size_t L = 0, P = 0, D = 0;  // counts, steps (largest count), configurations
  LoocvShape(const meta::LoocvData& data, const meta::LoocvSpec& spec)
      : folds(meta::loocv_folds(spec, data)),
        S(static_cast<int>(spec.settings.size())),
        F(static_cast<int>(folds.size())),
        R(spec.repeats),
        M(static_cast<int>(spec.methods.size()) + (spec.include_baseline ? 1 : 0)),
        L(spec.measurements.size()),
        P(static_cast<std::size_t>(spec.measurements.back())),
        D(data.d()) {
    baseline = spec.include_baseline;
  }
  std::int64_t items() const { return static_cast<std::int64_t>(S) * F * R * M; }
  // Item k = ((setting · F + fold) · R + repeat) · M + method.
  meta::LoocvItem item(std::int64_t k) const {
    meta::LoocvItem it;
    it.method = static_cast<int>(k % M);
    k /= M;
    it.repeat = static_cast<int>(k % R);
    k /= R;
    it.fold = folds[static_cast<std::size_t>(k % F)];
    it.setting = static_cast<int>(k / F);
    return it;
  }
};

using SharedTrainings = std::map<std::tuple<int, int, int>, meta::MetaTraining>;  // (training kind, fold, repeat)

int training_kind(const meta::LoocvSpec& spec, int setting) {
  return static_cast<int>(meta::setting_info(spec.settings[setting]).training);
}

// Run `work` on the items 0..total−1 of a shared queue with a progress line
// named `what`; every rank throws the first failure an item reported.
void run_items(std::int64_t total, const char* what, MPI_Comm comm,
               const std::function<void(std::int64_t)>& work, const std::function<std::string(std::int64_t)>& name) {
  Failure failure;
  {
    WorkQueue queue(comm, total);
    Progress progress(what, total, 0, false, 10.0);
    QueueLoopOptions loop;
    loop.progress = &progress;
    for_each_item(
        queue,
        [&](std::int64_t k) {
          try {
            work(k);
          } catch (const std::exception& e) {
            failure = failed_item(name(k), e);
            return ItemOutcome::abort;
          }
          return ItemOutcome::done;
        },
        loop);
  }
  agree(failure, comm);
}

// One setting index per sampled scheme (the first setting of each), in setting order.
std::vector<int> sampled_schemes(const meta::LoocvSpec& spec, const LoocvShape& x) {
  std::vector<int> scheme_setting;
  std::set<int> seen;
  for (int s = 0; s < x.S; ++s)
    if (meta::completes_meta_training(spec, s) && seen.insert(training_kind(spec, s)).second)
      scheme_setting.push_back(s);
  return scheme_setting;
}

using BlockLambdaMap = std::map<std::tuple<int, int, int>, meta::LoocvLambdas>;  // (training kind, block, repeat)

// Phase 0 (--lambda-cv-folds B): the λ CVs of the blocks that hold this
// part's folds, one item per (CV kind, scheme, block, repeat), spread over the
// ranks and shared with all. Each item depends on its indices only, so a
// fold's λ is the same on any rank and any number of ranks. The centered CVs
// (the dearer ones) come first in the queue. With --lambda-warm each item also
// completes its block's matrix at its λ (meta::block_start), the start of the
// block's final solves, shared like the λ.
BlockLambdaMap share_block_lambdas(const meta::LoocvData& data, const meta::LoocvSpec& spec, const LoocvShape& x,
                                   MPI_Comm comm) {
  BlockLambdaMap out;
  if (!meta::uses_lambda_cv_blocks(spec)) return out;
  const std::vector<int> scheme_setting = sampled_schemes(spec, x);
  std::vector<int> blocks;  // the blocks of this part's folds, ascending
  for (int f : x.folds) {
    const int b = meta::lambda_cv_block_of(spec, data, f);
    if (blocks.empty() || blocks.back() != b) blocks.push_back(b);
  }
  const bool centered = std::find(spec.methods.begin(), spec.methods.end(),
                                  meta::method_name(meta::Method::ei_mf)) != spec.methods.end();
  const std::int64_t C = centered ? 2 : 1, S = static_cast<std::int64_t>(scheme_setting.size()),
                     B = static_cast<std::int64_t>(blocks.size());
  const std::int64_t T = C * S * B * x.R;
  if (T == 0) return out;
  // Item k = ((kind · S + scheme) · B + block) · R + repeat; kind 0 = centered when ei-mf runs, else paper.
  auto is_centered = [&](std::int64_t k) { return centered && k / (S * B * x.R) == 0; };
  auto setting_of = [&](std::int64_t k) { return scheme_setting[static_cast<std::size_t>((k / (B * x.R)) % S)]; };
  auto block_of = [&](std::int64_t k) { return blocks[static_cast<std::size_t>((k / x.R) % B)]; };
  auto repeat_of = [&](std::int64_t k) { return static_cast<int>(k % x.R); };
  std::vector<LambdaRecord> mine;
  run_items(
      T, "loocv lambda CVs", comm,
      [&](std::int64_t k) {
        meta::BlockStart b = meta::block_start(spec, data, setting_of(k), block_of(k), repeat_of(k), is_centered(k));
        mine.push_back({k, b.lambda, std::move(b.start)});
      },
      [&](std::int64_t k) {
        return std::string("loocv ") + (is_centered(k) ? "centered" : "paper") + " lambda CV (setting " +
               spec.settings[setting_of(k)] + ", block " + std::to_string(block_of(k)) + ", repeat " +
               std::to_string(repeat_of(k)) + ")";
      });
  for (LambdaRecord& r : allgather_records(mine, comm)) {
    meta::LoocvLambdas& l = out[{training_kind(spec, setting_of(r.item)), block_of(r.item), repeat_of(r.item)}];
    (is_centered(r.item) ? l.centered : l.lambda) = r.lambda;
    (is_centered(r.item) ? l.centered_start : l.start) = std::move(r.start);
  }
  return out;
}

// Phase 1 (default evaluator): the SoftImpute completions of the sampled
// schemes, one per (scheme, fold, repeat), spread over the ranks and shared
// with all, so the methods and capped/uncapped settings reuse them. With
// --lambda-cv-folds, at the λ of phase 0 (`blocks`).
SharedTrainings share_completions(const meta::LoocvData& data, const meta::LoocvSpec& spec, const LoocvShape& x,
                                  const BlockLambdaMap& blocks, MPI_Comm comm) {
  const std::vector<int> scheme_setting = sampled_schemes(spec, x);
  const std::int64_t T = static_cast<std::int64_t>(scheme_setting.size()) * x.F * x.R;
  SharedTrainings shared;
  if (T == 0) return shared;
  // Completion k = (scheme · F + fold) · R + repeat.
  auto setting_of = [&](std::int64_t k) { return scheme_setting[static_cast<std::size_t>(k / (x.F * x.R))]; };
  auto fold_of = [&](std::int64_t k) { return x.folds[static_cast<std::size_t>((k / x.R) % x.F)]; };
  auto repeat_of = [&](std::int64_t k) { return static_cast<int>(k % x.R); };
  std::vector<CompletionRecord> mine;
  meta::OnceLambdas once;  // --lambda once: one CV per (scheme, repeat) on this rank
  run_items(
      T, "loocv meta-training completions", comm,
      [&](std::int64_t k) {
        const meta::LoocvLambdas* given = once.find(spec, data, setting_of(k), repeat_of(k));
        if (const auto at = blocks.find({training_kind(spec, setting_of(k)),
                                         meta::lambda_cv_block_of(spec, data, fold_of(k)), repeat_of(k)});
            at != blocks.end())
          given = &at->second;
        mine.push_back({k, meta::build_meta_training(spec, data, setting_of(k), fold_of(k), repeat_of(k), given)});
      },
      [&](std::int64_t k) {
        return "loocv meta-training (setting " + spec.settings[setting_of(k)] + ", fold '" + data.task[fold_of(k)] +
               "', repeat " + std::to_string(repeat_of(k)) + ")";
      });
  for (CompletionRecord& c : allgather_records(mine, comm))
    shared[{training_kind(spec, setting_of(c.item)), fold_of(c.item), repeat_of(c.item)}] = std::move(c.training);
  return shared;
}

// Phase 2: every item evaluated over the ranks, each result padded to the
// run's shape (L counts, P steps, L×D predictions); all of them on the root.
std::vector<ItemRecord> evaluate_items(const meta::LoocvData& data, const meta::LoocvSpec& spec,
                                       const LoocvShape& x, const meta::LoocvEvaluator& eval, MPI_Comm comm) {
  std::vector<ItemRecord> mine;
  run_items(
      x.items(), "loocv", comm,
      [&](std::int64_t k) {
        meta::LoocvItemResult r = eval(x.item(k));
        for (std::vector<double>* v : metrics_of(r)) v->resize(x.L, kNaN);
        r.coverage.resize(x.L, kNaN);
        r.relative_error_hidden.resize(x.L, kNaN);
        r.relative_error_measured.resize(x.L, kNaN);
        r.selected_config.resize(x.L, -1);
        r.order.resize(x.P, -1);
        r.predicted_error.resize(x.L * x.D, kNaN);
        r.predicted_std.resize(x.L * x.D, kNaN);
        mine.push_back({k, std::move(r)});
      },
      [&](std::int64_t k) {
        const meta::LoocvItem it = x.item(k);
        return std::string("loocv item (setting ") + spec.settings[it.setting] + ", fold '" + data.task[it.fold] +
               "', repeat " + std::to_string(it.repeat) + ", method " +
               (it.method < static_cast<int>(spec.methods.size()) ? spec.methods[it.method] : meta::kBaselineMethod) +
               ")";
      });
  return gather_records(mine, comm);
}

// The split relative errors of a file with hidden columns (`hidden_config`), NaN-filled.
void allocate_hold_out(io::Loocv& out) {
  const std::size_t n = out.n_settings() * out.n_methods() * out.n_counts() * out.n_folds();
  out.relative_error_hidden.assign(n, kNaN);
  out.relative_error_measured.assign(n, kNaN);
}

// loocv.nc's coordinates, sampling masks and attributes for `spec` (no item results yet).
io::Loocv loocv_frame(const meta::LoocvData& data, const meta::LoocvSpec& spec, const LoocvShape& x) {
  io::Loocv out;
  out.setting = spec.settings;
  out.method = spec.methods;
  if (spec.include_baseline) out.method.push_back(meta::kBaselineMethod);
  out.measurements = spec.measurements;
  for (int f : x.folds) {
    out.fold.push_back(data.task[f]);
    out.fold_task.push_back(f);
  }
  // Recorded when some task has several rows (a plain campaign's file stays as it was: one row per fold).
  std::set<int> groups(data.group.begin(), data.group.end());
  if (groups.size() < data.group.size())
    for (int f : x.folds) out.fold_held_out_rows.push_back(static_cast<int>(meta::held_out_rows(spec, data, f).size()));
  out.task = data.task;
  out.config = data.config;
  out.budget = spec.cap;
  out.cap = spec.cap;
  if (spec.cap_per_task) out.text_attributes["cap_rule"] = "task-median: each held-out task's median memory";
  out.repeats = x.R;
  out.allocate();
  const std::size_t nd = data.n() * data.d();
  for (int s = 0; s < x.S; ++s)
    for (int f = 0; f < x.F; ++f) {
      const auto mask = meta::meta_training_mask(spec, data, s, x.folds[f], 0);
      std::copy(mask.begin(), mask.end(), out.sampling_mask.begin() + static_cast<std::ptrdiff_t>((s * x.F + f) * nd));
    }
  out.number_attributes["part"] = spec.part;
  out.number_attributes["parts"] = spec.parts;
  out.number_attributes["seed"] = static_cast<double>(spec.seed);
  out.number_attributes["rank"] = spec.rank;
  out.number_attributes["lambda_option"] = spec.lambda;
  if (spec.lambda_once && !(spec.lambda > 0)) out.text_attributes["lambda_choice"] = "once";  // --lambda once
  if (spec.lambda_flat > 0 && !(spec.lambda > 0)) out.number_attributes["lambda_flat"] = spec.lambda_flat;
  if (meta::uses_lambda_cv_blocks(spec)) {  // --lambda-cv-folds B
    out.text_attributes["lambda_choice"] =
        "blocked: one CV per block of held-out rows, on the meta-training matrix without the block's rows";
    out.number_attributes["lambda_cv_folds"] = spec.lambda_cv_folds;
  }
  if (spec.lambda_warm && !spec.lambda_once && !(spec.lambda > 0))  // --lambda-warm
    out.text_attributes["lambda_warm"] = meta::uses_lambda_cv_blocks(spec)
                                             ? "final solves from the block's lambda-CV matrix completed at its lambda"
                                             : "final solves from the CV's first-split completion";
  if (spec.lambda_cv_single && spec.lambda_cv_blocked && !(spec.lambda > 0))
    out.text_attributes["lambda_cv_preconditioner"] = "single precision";  // --lambda-cv-single
  out.number_attributes["sampling_ratio"] = spec.ratio;
  out.number_attributes["p_min"] = spec.p_min;
  out.number_attributes["p_max"] = spec.p_max;
  out.number_attributes["folds_total"] = static_cast<double>(data.folds().size());
  out.text_attributes["fold_by"] = meta::fold_by_name(spec.fold_by);
  if (!data.model.empty())
    out.text_attributes["prior_rows"] = "the meta-training rows of the held-out row's model (docs/ei-mf.md section 5)";
  out.text_attributes["prediction"] = meta::prediction_rule_name(spec.prediction);
  if (spec.hide_columns > 0) {  // --hide-columns (a run without it writes none of these)
    out.number_attributes["hide_columns"] = spec.hide_columns;
    out.text_attributes["candidates"] = meta::candidates_name(spec.candidates);
    out.hidden_config.assign(x.D, 0);
    for (int j : spec.hidden) out.hidden_config[static_cast<std::size_t>(j)] = 1;
    allocate_hold_out(out);
  }
  return out;
}

// The zero-shot pick and prediction of (setting s, fold f) from the baseline item of repeat 0.
void place_zero_shot(const LoocvShape& x, int s, int f, const meta::LoocvItemResult& p, io::Loocv& out) {
  out.zero_shot_config[out.at(s, f)] = p.zero_shot_config;
  if (p.zero_shot_predicted_error.size() != x.D || p.zero_shot_predicted_std.size() != x.D)
    throw RuntimeError("loocv: the baseline item of a fold has no zero-shot prediction", true);
  const auto at = static_cast<std::ptrdiff_t>(out.at(s, f) * x.D);
  std::copy_n(p.zero_shot_predicted_error.begin(), x.D, out.zero_shot_predicted_error.begin() + at);
  std::copy_n(p.zero_shot_predicted_std.begin(), x.D, out.zero_shot_predicted_std.begin() + at);
}

// Place the item results into `out`: metrics averaged over repeats in
// repeat order (rank-count independent), the rest from repeat 0.
void place_items(const LoocvShape& x, const std::vector<ItemRecord>& records, io::Loocv& out) {
  std::vector<const meta::LoocvItemResult*> by_item(static_cast<std::size_t>(x.items()), nullptr);
  for (const ItemRecord& r : records) by_item[static_cast<std::size_t>(r.item)] = &r.result;
  for (std::int64_t k = 0; k < x.items(); ++k)
    if (!by_item[k]) throw RuntimeError("loocv: work item " + std::to_string(k) + " has no result", true);
  const auto metrics = metrics_of(out);
  const std::size_t L = x.L, D = x.D;
  for (int s = 0; s < x.S; ++s)
    for (int f = 0; f < x.F; ++f)
      for (int m = 0; m < x.M; ++m)
        for (int r = 0; r < x.R; ++r) {
          const meta::LoocvItemResult& p = *by_item[((static_cast<std::int64_t>(s) * x.F + f) * x.R + r) * x.M + m];
          const auto in = metrics_of(p);
          // The mean over repeats, summed in repeat order.
          auto add = [&](double& dst, double v) { dst = r == 0 ? v / x.R : dst + v / x.R; };
          for (std::size_t q = 0; q < kLoocvMetricCount; ++q)
            for (std::size_t l = 0; l < L; ++l) add((*metrics[q])[out.at(s, m, l, f)], (*in[q])[l]);
          for (std::size_t l = 0; l < L; ++l) add(out.coverage[out.at(s, m, l, f)], p.coverage[l]);
          if (!out.relative_error_hidden.empty())
            for (std::size_t l = 0; l < L; ++l) {
              add(out.relative_error_hidden[out.at(s, m, l, f)], p.relative_error_hidden[l]);
              add(out.relative_error_measured[out.at(s, m, l, f)], p.relative_error_measured[l]);
            }
          if (m + 1 == x.M && x.baseline) {  // the baseline item carries the zero-shot default
#define PEPPP_LOOCV_ZERO_SHOT_ADD_(member, units, long_name) add(out.member[out.at(s, f)], p.member);
            PEPPP_LOOCV_ZERO_SHOT_METRICS(PEPPP_LOOCV_ZERO_SHOT_ADD_)
#undef PEPPP_LOOCV_ZERO_SHOT_ADD_
            if (r == 0) place_zero_shot(x, s, f, p, out);
          }
          if (r != 0) continue;
          for (std::size_t l = 0; l < L; ++l) out.selected_config[out.at(s, m, l, f)] = p.selected_config[l];
          std::copy_n(p.order.begin(), x.P,
                      out.selection_order.begin() +
                          static_cast<std::ptrdiff_t>(((static_cast<std::size_t>(s) * x.M + m) * x.F + f) * x.P));
          if (m == 0) {
            out.lambda[s * x.F + f] = p.lambda;
            out.sampled_fraction[s * x.F + f] = p.sampled_fraction;
          }
          for (std::size_t l = 0; l < L; ++l) {
            const auto at = static_cast<std::ptrdiff_t>(out.at(s, m, l, f, 0));
            const auto from = static_cast<std::ptrdiff_t>(l * D);
            std::copy_n(p.predicted_error.begin() + from, D, out.predicted_error.begin() + at);
            std::copy_n(p.predicted_std.begin() + from, D, out.predicted_std.begin() + at);
          }
        }
}

}  // namespace

io::Loocv run_loocv(const meta::LoocvData& data, const meta::LoocvSpec& spec, MPI_Comm comm,
                    const meta::LoocvEvaluator& evaluator) {
  const LoocvShape x(data, spec);
  SharedTrainings shared;
  meta::LoocvEvaluator eval = evaluator;
  if (!eval) {
    shared = share_completions(data, spec, x, share_block_lambdas(data, spec, x, comm), comm);
    eval = meta::loocv_evaluator(spec, data, [&spec, &shared](int setting, int fold, int repeat) -> const meta::MetaTraining* {
      auto it = shared.find({training_kind(spec, setting), fold, repeat});
      return it == shared.end() ? nullptr : &it->second;
    });
  }
  const std::vector<ItemRecord> records = evaluate_items(data, spec, x, eval, comm);
  if (rank(comm) != 0) return {};
  io::Loocv out = loocv_frame(data, spec, x);
  place_items(x, records, out);
  return out;
}

namespace {

// The zero-shot numbers of (setting, fold) entry `i` of `b` into entry `o` of
// `out` (allocated); a file written before them has none (they stay NaN).
void copy_zero_shot(const io::Loocv& b, std::size_t i, io::Loocv& out, std::size_t o) {
#define PEPPP_LOOCV_ZERO_SHOT_COPY_(member, units, long_name) \
  if (!b.member.empty()) out.member[o] = b.member[i];
  PEPPP_LOOCV_ZERO_SHOT_METRICS(PEPPP_LOOCV_ZERO_SHOT_COPY_)
#undef PEPPP_LOOCV_ZERO_SHOT_COPY_
  if (!b.zero_shot_config.empty()) out.zero_shot_config[o] = b.zero_shot_config[i];
  const std::size_t d = b.config.size();
  for (auto [from, to] : {std::pair{&b.zero_shot_predicted_error, &out.zero_shot_predicted_error},
                          std::pair{&b.zero_shot_predicted_std, &out.zero_shot_predicted_std}})
    if (!from->empty())
      std::copy_n(from->begin() + static_cast<std::ptrdiff_t>(i * d), d, to->begin() + static_cast<std::ptrdiff_t>(o * d));
}

// The (setting, acquisition, measurements, fold) entry `i` of `b` into entry
// `o` of `out` (allocated): metrics, pick, and what a file may lack (coverage,
// predictions, the hold-out split), left NaN where `b` has none.
void copy_count(const io::Loocv& b, std::size_t i, io::Loocv& out, std::size_t o) {
#define PEPPP_LOOCV_MERGE_(member, units, long_name) out.member[o] = b.member[i];
  PEPPP_LOOCV_METRICS(PEPPP_LOOCV_MERGE_)
#undef PEPPP_LOOCV_MERGE_
  out.selected_config[o] = b.selected_config[i];
  for (auto [from, to] : {std::pair{&b.coverage, &out.coverage},
                          std::pair{&b.relative_error_hidden, &out.relative_error_hidden},
                          std::pair{&b.relative_error_measured, &out.relative_error_measured}})
    if (!from->empty() && !to->empty()) (*to)[o] = (*from)[i];
  const std::size_t d = b.config.size();
  for (auto [from, to] : {std::pair{&b.predicted_error, &out.predicted_error},
                          std::pair{&b.predicted_std, &out.predicted_std}})
    if (!from->empty())
      std::copy_n(from->begin() + static_cast<std::ptrdiff_t>(i * d), d,
                  to->begin() + static_cast<std::ptrdiff_t>(o * d));
}

}  // namespace

io::Loocv merge_loocv(const std::vector<io::Loocv>& parts, const std::vector<std::string>& files) {
  if (parts.empty()) throw InputError("loocv --merge: no partial files given");
  const io::Loocv& a = parts.front();
  const std::size_t n = a.task.size(), d = a.config.size(), S = a.n_settings(), M = a.n_methods(),
                    L = a.n_counts(), P = a.n_steps();
  std::vector<std::pair<std::size_t, std::size_t>> where(n, {SIZE_MAX, 0});  // row -> (part, local fold)
  const char* keys[] = {"seed",  "rank",        "lambda_option", "sampling_ratio", "p_min",
                        "p_max", "folds_total", "epoch_used",    "hide_columns", "lambda_cv_folds"};
  const char* text_keys[] = {"fold_by", "rows", "test_rows", "prediction", "candidates", "lambda_choice"};
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
    auto same = [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); };
    if (b.repeats != a.repeats || !same(b.cap, a.cap) || !same(b.budget, a.budget)) differs("repeats, cap or budget");
    for (const auto& list : {std::vector<const char*>(std::begin(keys), std::end(keys)),
                             std::vector<const char*>(std::begin(text_keys), std::end(text_keys))})
      for (const char* k : list) {
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
  // The folds of the whole run: every row, or (--test-rows) `folds_total` of them.
  std::size_t folds_total = n, held = 0;
  if (auto it = a.text_attributes.find("folds_total"); it != a.text_attributes.end()) {
    double v = 0;
    if (parse_double(it->second, v) && v >= 1 && v <= static_cast<double>(n)) folds_total = static_cast<std::size_t>(v);
  }
  for (std::size_t i = 0; i < n; ++i) held += where[i].first != SIZE_MAX;
  if (held < folds_total) {
    for (std::size_t i = 0; i < n; ++i)
      if (where[i].first == SIZE_MAX && folds_total == n)
        throw InputError("loocv --merge: no file holds fold '" + a.task[i] + "'; give every part of the split run");
    throw InputError("loocv --merge: the files hold " + std::to_string(held) + " of the run's " +
                     std::to_string(folds_total) + " folds; give every part of the split run");
  }
  std::vector<std::size_t> rows;  // campaign rows of the merged folds, ascending
  for (std::size_t i = 0; i < n; ++i)
    if (where[i].first != SIZE_MAX) rows.push_back(i);

  io::Loocv out;
  out.setting = a.setting;
  out.method = a.method;
  out.measurements = a.measurements;
  out.task = a.task;
  out.config = a.config;
  out.budget = a.budget;
  out.cap = a.cap;
  out.repeats = a.repeats;
  for (std::size_t i : rows) {
    out.fold.push_back(a.task[i]);
    out.fold_task.push_back(static_cast<int>(i));
    const io::Loocv& b = parts[where[i].first];
    if (!a.fold_held_out_rows.empty())
      out.fold_held_out_rows.push_back(b.fold_held_out_rows.empty() ? 1 : b.fold_held_out_rows[where[i].second]);
  }
  out.allocate();
  out.hidden_config = a.hidden_config;
  if (!a.hidden_config.empty()) allocate_hold_out(out);
  const std::size_t F = rows.size();
  for (std::size_t f = 0; f < F; ++f) {
    const io::Loocv& b = parts[where[rows[f]].first];
    const std::size_t g = where[rows[f]].second, G = b.n_folds();
    for (std::size_t s = 0; s < S; ++s) {
      for (std::size_t m = 0; m < M; ++m) {
        for (std::size_t l = 0; l < L; ++l) {
          const std::size_t o = out.at(s, m, l, f), i = b.at(s, m, l, g);
          copy_count(b, i, out, o);
        }
        for (std::size_t q = 0; q < P; ++q)
          out.selection_order[((s * M + m) * F + f) * P + q] = b.selection_order[((s * M + m) * G + g) * P + q];
      }
      copy_zero_shot(b, s * G + g, out, s * F + f);
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
  for (const char* k : text_keys)
    if (auto it = a.text_attributes.find(k); it != a.text_attributes.end()) out.text_attributes[k] = it->second;
  out.number_attributes["part"] = 1;
  out.number_attributes["parts"] = 1;
  out.number_attributes["merged_files"] = static_cast<double>(parts.size());
  return out;
}

namespace {

// Mean ± standard error over the finite entries of `x(f)`, f < F.
std::pair<double, double> mean_se(std::size_t F, const std::function<double(std::size_t)>& x) {
  double sum = 0, sq = 0;
  std::size_t k = 0;
  for (std::size_t f = 0; f < F; ++f) {
    const double v = x(f);
    if (!std::isfinite(v)) continue;
    sum += v;
    sq += v * v;
    ++k;
  }
  if (k == 0) return {kNaN, kNaN};
  const double mean = sum / k;
  const double var = k > 1 ? std::max(0.0, (sq - k * mean * mean) / (k - 1)) : 0.0;
  return {mean, std::sqrt(var / k)};
}

// One table cell "mean±se" ("-" when undefined).
std::string summary_cell(std::pair<double, double> ms, int prec) {
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
}

// The summary's header line: folds, grouping, epoch, budget, repeats, prediction rule.
void summary_header(const io::Loocv& l, std::ostream& os) {
  os << "meta-LOOCV over " << l.n_folds() << " folds, ";
  // Grouped folds (rows of one task × several models / learning rates) and early epochs say so.
  int most_held = 1;
  for (int h : l.fold_held_out_rows) most_held = std::max(most_held, h);
  if (most_held > 1) os << "each holding out every row of its task (fold_by task, up to " << most_held << " rows), ";
  if (auto it = l.text_attributes.find("epoch_used"); it != l.text_attributes.end())
    os << "errors after epoch " << it->second << ", ";
  else if (auto n = l.number_attributes.find("epoch_used"); n != l.number_attributes.end())
    os << "errors after epoch " << n->second << ", ";
  if (std::isnan(l.cap))
    os << "budget = cap = each held-out task's median memory";
  else
    os << "budget " << std::fixed << std::setprecision(1) << l.budget << " MiB (cap " << l.cap << " MiB)";
  os << ", " << l.repeats << " repeat(s); mean±standard error over folds.\n";
  if (auto it = l.text_attributes.find("prediction"); it != l.text_attributes.end() && it->second != "posterior")
    os << "ed-mf, qr-mf and random-mf predict by " << it->second << " (METHOD.md F6.2)\n";
  os << "regret mark: * best at that count, = tie (difference within the combined standard error); "
     << "zero-shot: the configuration of lowest mean meta-training error under the budget, no training (F9.3); "
     << "±2σ cover: fraction of unmeasured configurations whose true error lies within 2 predicted std\n";
}

// With --hide-columns: setting s's relative errors over the hidden and the
// other unmeasured columns of the held-out task, and their ratio (of the means).
void hold_out_summary(const io::Loocv& l, std::size_t s, std::ostream& os) {
  if (l.relative_error_hidden.empty() || l.relative_error_measured.empty()) return;
  const std::size_t hidden = static_cast<std::size_t>(std::count(l.hidden_config.begin(), l.hidden_config.end(), 1));
  const auto candidates = l.text_attributes.find("candidates");
  os << "column hold-out: " << hidden << " of " << l.config.size()
     << " configurations hidden from every meta-training row, candidates "
     << (candidates == l.text_attributes.end() ? std::string("all") : candidates->second)
     << "; relative error over the held-out task's unmeasured configurations\n"
     << std::left << std::setw(20) << "method" << std::right << std::setw(4) << "l" << std::setw(16) << "hidden"
     << std::setw(16) << "measured" << std::setw(17) << "hidden/measured" << "\n";
  for (std::size_t c = 0; c < l.n_counts(); ++c)
    for (std::size_t m = 0; m < l.n_methods(); ++m) {
      auto stats = [&](const std::vector<double>& v) {
        return mean_se(l.n_folds(), [&](std::size_t f) { return v[l.at(s, m, c, f)]; });
      };
      const auto h = stats(l.relative_error_hidden), k = stats(l.relative_error_measured);
      if (std::isnan(h.first) && std::isnan(k.first)) continue;  // the baseline predicts nothing
      std::ostringstream ratio;
      if (std::isfinite(h.first / k.first)) ratio << std::fixed << std::setprecision(2) << h.first / k.first;
      os << std::left << std::setw(20) << l.method[m] << std::right << std::setw(4) << l.measurements[c]
         << std::setw(16) << summary_cell(h, 3) << std::setw(16) << summary_cell(k, 3) << std::setw(17)
         << (ratio.str().empty() ? std::string("-") : ratio.str()) << "\n";
    }
}

}  // namespace

std::string loocv_summary(const io::Loocv& l) {
  std::ostringstream os;
  const std::size_t F = l.n_folds();
  auto stats = [&](const std::vector<double>& v, std::size_t s, std::size_t m, std::size_t c) {
    if (v.empty()) return std::pair<double, double>{kNaN, kNaN};
    return mean_se(F, [&](std::size_t f) { return v[l.at(s, m, c, f)]; });
  };
  auto zero = [&](const std::vector<double>& v, std::size_t s) {
    if (v.empty()) return std::pair<double, double>{kNaN, kNaN};
    return mean_se(F, [&](std::size_t f) { return v[l.at(s, f)]; });
  };
  auto row = [&](const std::string& name, int count, std::pair<double, double> rel, std::pair<double, double> conv,
                 std::pair<double, double> hd, std::pair<double, double> reg, const std::string& mark,
                 std::pair<double, double> mem, std::pair<double, double> cover) {
    os << std::left << std::setw(20) << name << std::right << std::setw(4) << count << std::setw(16)
       << summary_cell(rel, 3) << std::setw(16) << summary_cell(conv, 3) << std::setw(16) << summary_cell(hd, 3)
       << std::setw(17) << summary_cell(reg, 3) << mark << std::setw(18) << summary_cell(mem, 0) << std::setw(16)
       << summary_cell(cover, 3) << "\n";
  };
  summary_header(l, os);
  for (std::size_t s = 0; s < l.n_settings(); ++s) {
    const meta::SettingInfo info = meta::setting_info(l.setting[s]);
    const char* full = l.hidden_config.empty() ? "full meta-training matrix"
                                               : "full meta-training matrix less the hidden columns, completed";
    const char* training = info.training == meta::SettingInfo::Training::full ? full
                           : info.training == meta::SettingInfo::Training::uniform ? "uniform sample + SoftImpute"
                                                                             : "non-uniform sample + weighted SoftImpute";
    os << "\nSetting " << l.setting[s] << " (" << training << ", " << (info.capped ? "capped" : "uncapped") << ")\n";
    os << std::left << std::setw(20) << "method" << std::right << std::setw(4) << "l" << std::setw(16) << "rel.error"
       << std::setw(16) << "convergence" << std::setw(16) << "hyperdiff" << std::setw(18) << "regret" << std::setw(18)
       << "memory MiB" << std::setw(16) << "±2σ cover" << "\n";
    const auto zero_regret = zero(l.zero_shot_regret, s);
    if (!std::isnan(zero_regret.first))
      row(meta::kZeroShotMethod, 0, zero(l.zero_shot_relative_error, s), zero(l.zero_shot_convergence, s),
          zero(l.zero_shot_hyperdiff, s), zero_regret, " ", {0.0, 0.0}, zero(l.zero_shot_coverage, s));
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
        row(l.method[m], l.measurements[c], stats(l.relative_error, s, m, c), stats(l.convergence, s, m, c),
            stats(l.hyperdiff, s, m, c), reg[m], mark, stats(l.measured_memory, s, m, c), stats(l.coverage, s, m, c));
      }
    }
    hold_out_summary(l, s, os);
  }
  return os.str();
}

}  // namespace peppp::par
