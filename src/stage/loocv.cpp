// The loocv stage: meta-leave-one-out over the ranks -> loocv.nc, and the merge of split runs.
#include "peppp/stage/loocv.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/meta/fidelity.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"

namespace peppp::stage {

constexpr const char* kLoocvInputsAttribute = "inputs_fingerprint";

namespace {

// FNV-1a of every byte of `path` as 16 hex digits ("none" for an empty path):
// what a loocv part was computed from, so that --merge refuses parts of two
// different campaigns that share task and configuration names.
std::string content_hash(const std::string& path) {
  if (path.empty()) return "none";
  std::ifstream in(path, std::ios::binary);
  return hex64(fnv1a64(in));
}

// Options of a loocv run that do not change its results (where it reads and
// writes, which part, printing): the rest must be alike in every merged part.
bool part_specific_option(const std::string& key) {
  static const std::set<std::string> keys = {"option.campaign", "option.completed", "option.output",
                                             "option.part",     "option.merge",     "option.summary",
                                             "option.fidelity", "option.quiet",     "option.verbose",
                                             "option.log",      "option.threads",   "option.progress_interval"};
  return keys.count(key) > 0 || !starts_with(key, "option.");
}

// Every part of one split run: the same campaign (and completion) contents, part
// count and result-deciding options. One line naming both files, the key and the values.
void check_part_fingerprints(const std::vector<io::Loocv>& parts, const std::vector<std::string>& files) {
  const io::Loocv& a = parts.front();
  auto attr = [](const io::Loocv& x, const std::string& k) -> std::string {
    const auto it = x.text_attributes.find(k);
    if (it != x.text_attributes.end()) return it->second;
    const auto nt = x.number_attributes.find(k);
    return nt == x.number_attributes.end() ? "(none)" : format_g(nt->second);
  };
  for (std::size_t p = 1; p < parts.size(); ++p) {
    std::set<std::string> keys = {kLoocvInputsAttribute, "parts"};
    for (const auto* x : {&a, &parts[p]})
      for (const auto& kv : x->text_attributes)
        if (!part_specific_option(kv.first)) keys.insert(kv.first);
    for (const auto& k : keys) {
      const std::string va = attr(a, k), vb = attr(parts[p], k);
      if (va == vb) continue;
      throw InputError("loocv --merge: " + files[0] + " and " + files[p] + " are not parts of one run: " + k + " is '" +
                       va + "' in " + files[0] + ", '" + vb + "' in " + files[p] +
                       "; allowed: the parts of one --part K/N run (same campaign, options and part count)");
    }
  }
}

std::string join_ints(const std::vector<int>& v) {
  std::vector<std::string> s;
  for (int x : v) s.push_back(std::to_string(x));
  return join(s, ",");
}

// The rows `rows` of `data` (groups kept, fold rows dropped: the caller sets them).
meta::LoocvData data_rows(const meta::LoocvData& data, const std::vector<int>& rows) {
  meta::LoocvData out;
  out.config = data.config;
  const std::size_t d = data.d();
  for (int r : rows) {
    const auto i = static_cast<std::size_t>(r);
    out.task.push_back(data.task[i]);
    if (!data.group.empty()) out.group.push_back(data.group[i]);
    if (!data.model.empty()) out.model.push_back(data.model[i]);
    out.error.insert(out.error.end(), data.error.begin() + static_cast<std::ptrdiff_t>(i * d),
                     data.error.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
    out.memory.insert(out.memory.end(), data.memory.begin() + static_cast<std::ptrdiff_t>(i * d),
                      data.memory.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
  }
  // One architecture left (--rows model=M): the prior of every row, as for a one-model campaign.
  if (std::adjacent_find(out.model.begin(), out.model.end(), std::not_equal_to<>()) == out.model.end())
    out.model.clear();
  return out;
}

// The epoch-E campaign (`--epoch`), or `c` itself for E = 0.
io::Campaign at_epoch(io::Campaign c, int epoch, const std::string& file) {
  if (epoch == 0) return c;
  if (epoch < 0) throw InputError("--epoch " + std::to_string(epoch) + ": allowed: an epoch >= 1, or 0 for the final errors");
  return io::campaign_at_epoch(c, epoch, file);
}

std::string joined_values(const std::set<std::string>& v) {
  return join(std::vector<std::string>(v.begin(), v.end()), ", ");
}
}  // namespace

std::vector<int> select_rows(const io::Campaign& c, const std::vector<std::string>& selectors, const std::string& key,
                             const std::string& file) {
  std::vector<int> all(c.n_tasks());
  for (std::size_t t = 0; t < all.size(); ++t) all[t] = static_cast<int>(t);
  if (selectors.empty()) return all;
  std::map<std::string, std::vector<std::string>> wanted;  // key -> values (or-ed)
  for (const auto& sel : selectors) {
    const auto eq = sel.find('=');
    const std::string k = eq == std::string::npos ? "" : trim(sel.substr(0, eq));
    const std::string v = eq == std::string::npos ? "" : trim(sel.substr(eq + 1));
    if (k != "task" && k != "model" && k != "lr")
      throw InputError(key + ": selector '" + sel + "' is not allowed; allowed: task=NAME, model=NAME or lr=RATE, "
                       "comma-separated (e.g. model=resnet8,lr=0.01)");
    double rate = 0;
    if (v.empty() || (k == "lr" && !(parse_double(v, rate) && rate > 0)))
      throw InputError(key + ": selector '" + sel + "' has no usable value; allowed: " +
                       (k == "lr" ? "lr=RATE with a rate > 0" : k + "=NAME"));
    wanted[k].push_back(v);
  }
  auto value_of = [&](const std::string& k, std::size_t t) {
    if (k == "task") return c.row_task_of(t);
    if (k == "model") return c.row_model_of(t);
    return std::string();
  };
  auto matches = [&](const std::string& k, const std::string& v, std::size_t t) {
    if (k != "lr") return value_of(k, t) == v;
    double rate = 0;
    parse_double(v, rate);
    const double have = c.row_learning_rate_of(t);
    return std::isfinite(have) && std::abs(have - rate) <= 1e-12 * std::max(std::abs(have), std::abs(rate));
  };
  // A value that matches no row is a typo or another campaign's: say which values there are.
  for (const auto& [k, values] : wanted)
    for (const auto& v : values) {
      bool any = false;
      std::set<std::string> have;
      for (std::size_t t = 0; t < c.n_tasks(); ++t) {
        any = any || matches(k, v, t);
        if (k == "lr") {
          std::ostringstream os;
          os << c.row_learning_rate_of(t);
          have.insert(os.str());
        } else {
          have.insert(value_of(k, t));
        }
      }
      if (!any)
        throw InputError(key + ": no row of " + file + " has " + k + " '" + v + "'; its rows have " + k + " " +
                         joined_values(have));
    }
  std::vector<int> rows;
  for (std::size_t t = 0; t < c.n_tasks(); ++t) {
    bool keep = true;
    for (const auto& [k, values] : wanted) {
      bool one = false;
      for (const auto& v : values) one = one || matches(k, v, t);
      keep = keep && one;
    }
    if (keep) rows.push_back(static_cast<int>(t));
  }
  if (rows.empty())
    throw InputError(key + ": no row of " + file + " matches all of " + join(selectors, ",") +
                     " (selectors of different keys must all hold)");
  return rows;
}

std::vector<int> feasible_counts(const meta::LoocvSpec& spec, const meta::LoocvData& data) {
  // One count at a time through the validation itself, so "fits" means
  // exactly what validate_loocv accepts.
  std::vector<int> out;
  for (int m : spec.measurements) {
    meta::LoocvSpec one = spec;
    one.measurements = {m};
    try {
      meta::validate_loocv(one, data);
      out.push_back(m);
    } catch (const InputError&) {
    }
  }
  return out;
}

namespace {

// The matrix LOOCV runs on: `campaign` (estimates `fill` standing in where
// unmeasured), narrowed to --rows, with --test-rows the folds.
meta::LoocvData job_data(const LoocvJob& job, const io::Campaign& campaign, const std::vector<double>& fill) {
  meta::LoocvData data = par::loocv_data(campaign, job.campaign, fill);
  if (!job.rows.empty() || !job.test_rows.empty()) {
    // --rows narrows the matrix; --test-rows picks, among those rows, the ones held out and scored.
    const std::vector<int> rows = select_rows(campaign, job.rows, "--rows", job.campaign);
    const std::vector<int> tests = select_rows(campaign, job.test_rows, "--test-rows", job.campaign);
    data = data_rows(data, rows);
    for (std::size_t k = 0; k < rows.size(); ++k)
      if (std::binary_search(tests.begin(), tests.end(), rows[k])) data.fold_rows.push_back(static_cast<int>(k));
    if (data.fold_rows.empty())
      throw InputError("--test-rows: none of the rows --rows keeps is selected (" + join(job.test_rows, ",") + ")");
    if (data.fold_rows.size() == data.n()) data.fold_rows.clear();
  }
  return data;
}

// The validated spec of `job` on `data` (with fit_counts: the counts and rank
// every fold can take, said once).
meta::LoocvSpec job_spec(const LoocvJob& job, const meta::LoocvData& data) {
  meta::LoocvSpec spec = job.spec;
  if (job.fit_counts) {
    const std::size_t n = data.n(), d = data.d();
    // The smallest meta-training matrix over the folds bounds the rank (n − 1 rows with one row held out).
    std::size_t train_rows = n > 0 ? n - 1 : 0;
    for (int f : data.folds()) train_rows = std::min(train_rows, meta::training_rows(spec, data, f).size());
    const int rank = std::min<int>(spec.rank, static_cast<int>(std::min(train_rows, d)));
    meta::LoocvSpec fitted = spec;
    fitted.rank = std::max(rank, 1);
    fitted.measurements = feasible_counts(fitted, data);
    if (fitted.measurements.empty()) {
      // The reason the smallest count does not fit (e.g. a row with nothing under the cap).
      meta::LoocvSpec smallest = fitted;
      smallest.measurements = {*std::min_element(spec.measurements.begin(), spec.measurements.end())};
      spec = meta::validate_loocv(smallest, data);  // throws the reason
      throw InputError("loocv: no count of measurements " + join_ints(spec.measurements) + " fits this campaign");
    }
    if (fitted.measurements.size() < spec.measurements.size() || fitted.rank != spec.rank)
      log::warn("run: loocv uses measurements ", join_ints(fitted.measurements), " and rank ", fitted.rank,
                " (the campaign is too small for the rest: a count needs >= rank configurations under the cap on "
                "every task)");
    spec = fitted;
  }
  spec = meta::validate_loocv(spec, data);
  return spec;
}

// --hide-columns: how many configurations meta-training lacks, and a few of them.
void log_hold_out(const meta::LoocvSpec& spec, const meta::LoocvData& data) {
  if (!(spec.hide_columns > 0)) return;
  std::vector<std::string> some;
  for (std::size_t k = 0; k < spec.hidden.size() && k < 4; ++k)
    some.push_back(data.config[static_cast<std::size_t>(spec.hidden[k])]);
  log::info("loocv: --hide-columns ", format_g(spec.hide_columns), " hides ", spec.hidden.size(), " of ", data.d(),
            " configurations from every meta-training row (", join(some, ", "),
            spec.hidden.size() > some.size() ? ", ..." : "", "); --candidates ",
            meta::candidates_name(spec.candidates));
}

}  // namespace

void check_loocv_job(const LoocvJob& job, const io::Campaign& planned) {
  // Every error known (a placeholder): what is checked is the shape, the
  // memory under the cap and the options, not the errors.
  const std::vector<double> fill(planned.n_tasks() * planned.n_configs(), 0.5);
  const meta::LoocvData data = job_data(job, planned, fill);
  job_spec(job, data);
}

io::Loocv loocv(const LoocvJob& job, MPI_Comm comm) {
  const bool root = par::rank(comm) == 0;
  if (auto why = io::check_writable(job.output); !why.empty()) throw InputError("--output: " + why);
  // Every rank reads the inputs and validates alike: a bad input fails everywhere, before any work.
  const io::Campaign campaign = at_epoch(io::read_campaign(job.campaign), job.epoch, job.campaign);
  std::vector<double> fill;
  if (!job.completed.empty()) {
    const io::Completion c = io::read_completion(job.completed);
    if (c.task != campaign.task || c.config != campaign.config)
      throw InputError("--completed: " + job.completed + " does not complete " + job.campaign +
                       " (different tasks or configurations)");
    // Its estimates stand in for unmeasured cells of the same epoch's matrix only.
    int completed_epoch = 0;
    if (auto it = c.text_attributes.find("epoch_used"); it != c.text_attributes.end()) {
      double v = 0;
      if (parse_double(it->second, v)) completed_epoch = static_cast<int>(v);
    }
    if (completed_epoch != job.epoch)
      throw InputError("--completed: " + job.completed + " completes the " +
                       (completed_epoch ? "errors after epoch " + std::to_string(completed_epoch)
                                        : std::string("final errors")) +
                       ", the LOOCV uses the " +
                       (job.epoch ? "errors after epoch " + std::to_string(job.epoch) : std::string("final errors")) +
                       "; allowed: a completion of the same epoch (peppp complete --epoch)");
    fill = c.error_estimate;
    // SoftImpute estimates are not confined to [0, 1]; as the truth of an error rate they are clamped.
    for (double& v : fill)
      if (std::isfinite(v)) v = std::clamp(v, 0.0, 1.0);
  }
  const meta::LoocvData data = job_data(job, campaign, fill);
  const meta::LoocvSpec spec = job_spec(job, data);
  log_hold_out(spec, data);
  log::info("loocv: ", data.n(), " rows x ", data.d(), " configurations, ", data.folds().size(),
            " held out in turn (fold by ", meta::fold_by_name(spec.fold_by), "), settings ", join(spec.settings, ","),
            ", methods ", join(spec.methods, ","), ", cap ", (spec.cap_per_task ? std::string("task-median") : std::to_string(spec.cap) + " MiB"), ", part ", spec.part, "/", spec.parts);

  io::Loocv result = par::run_loocv(data, spec, comm);
  if (root) {
    for (const auto& [k, v] : job.attributes.text) result.text_attributes[k] = v;
    for (const auto& [k, v] : job.attributes.number) result.number_attributes[k] = v;
    result.text_attributes["campaign"] = job.campaign;
    result.text_attributes[kLoocvInputsAttribute] =
        "campaign " + content_hash(job.campaign) + ", completed " + content_hash(job.completed);
    result.text_attributes["truth"] = fill.empty() ? "measured" : "measured, SoftImpute estimates where unmeasured";
    if (job.epoch > 0) result.number_attributes["epoch_used"] = job.epoch;
    if (!job.rows.empty()) result.text_attributes["rows"] = join(job.rows, ",");
    if (!job.test_rows.empty()) result.text_attributes["test_rows"] = join(job.test_rows, ",");
    io::write_loocv(job.output, result);
    if (job.print_summary) std::cout << par::loocv_summary(result) << std::flush;
    log::info("loocv: wrote ", job.output);
  }
  par::barrier(comm);
  return result;
}

io::Loocv merge(const std::vector<std::string>& files, const std::string& output, bool print_summary,
                const Attributes& attributes, MPI_Comm comm) {
  const bool root = par::rank(comm) == 0;
  if (auto why = io::check_writable(output); !why.empty()) throw InputError("--output: " + why);
  if (files.empty()) throw InputError("--merge: give the partial files, comma-separated");
  io::Loocv merged;
  // Only the root reads the parts: every rank learns the outcome and fails alike.
  par::agreed(
      [&] {
        if (!root) return;
        std::vector<io::Loocv> parts;
        for (const auto& f : files) parts.push_back(io::read_loocv(f));
        if (!parts.empty()) check_part_fingerprints(parts, files);
        merged = par::merge_loocv(parts, files);
        if (auto it = parts.front().text_attributes.find(kLoocvInputsAttribute);
            it != parts.front().text_attributes.end())
          merged.text_attributes[kLoocvInputsAttribute] = it->second;
      },
      comm);
  if (root) {
    for (const auto& [k, v] : attributes.text) merged.text_attributes[k] = v;
    for (const auto& [k, v] : attributes.number) merged.number_attributes[k] = v;
    merged.text_attributes["merged_from"] = join(files, ",");
    io::write_loocv(output, merged);
    if (print_summary) std::cout << par::loocv_summary(merged) << std::flush;
    log::info("loocv: merged ", files.size(), " files into ", output);
  }
  return merged;
}

io::Fidelity fidelity(const FidelityJob& job, MPI_Comm comm) {
  const bool root = par::rank(comm) == 0;
  if (!job.output.empty())
    if (auto why = io::check_writable(job.output); !why.empty()) throw InputError("--output: " + why);
  const io::Campaign c = io::read_campaign(job.campaign);
  if (c.n_epochs() == 0 || c.error_by_epoch.empty())
    throw InputError("--fidelity: " + job.campaign +
                     " has no per-epoch errors (variable 'error_by_epoch'; measured before peppp recorded them, or an "
                     "external matrix); allowed: a campaign measured with a per-epoch record");
  if (job.epoch < 0) throw InputError("--epoch " + std::to_string(job.epoch) + ": allowed: an epoch >= 1");
  const std::vector<int> rows = select_rows(c, job.rows, "--rows", job.campaign);
  const std::size_t d = c.n_configs(), E = c.n_epochs();
  meta::FidelityData data;
  data.d = d;
  data.epoch = c.epoch;
  for (int r : rows) {
    const auto t = static_cast<std::size_t>(r);
    data.row.push_back(c.task[t]);
    for (std::size_t j = 0; j < d; ++j) {
      const std::size_t i = c.at(t, j);
      const auto st = static_cast<CellStatus>(c.status[i]);
      const bool result = st == CellStatus::measured || st == CellStatus::diverged;
      data.final_error.push_back(result ? c.error[i] : io::kNcNaN);
      data.memory.push_back(c.memory[i]);
      for (std::size_t e = 0; e < E; ++e) data.error_by_epoch.push_back(result ? c.error_by_epoch[i * E + e] : io::kNcNaN);
    }
  }
  meta::FidelityOptions opt;
  if (job.epoch > 0) opt.epochs = {job.epoch};
  opt.cap = job.cap;
  opt.cap_per_task = job.cap_per_task;
  if (!opt.cap_per_task && !std::isnan(opt.cap) && !(opt.cap > 0))
    throw InputError("--cap " + std::to_string(opt.cap) + " MiB; allowed: > 0");
  const meta::FidelityResult r = meta::fidelity(data, opt);

  io::Fidelity out;
  out.row = data.row;
  out.epoch = r.epoch;
  out.allocate();
  out.cap = r.cap;
  out.kendall_tau = r.kendall_tau;
  out.regret = r.regret;
  out.regret_capped = r.regret_capped;
  out.configs_compared = r.configs_compared;
  for (std::size_t k = 0; k < r.epoch.size(); ++k) {
    out.kendall_tau_mean[k] = r.kendall_tau_stats[k].mean;
    out.kendall_tau_se[k] = r.kendall_tau_stats[k].se;
    out.regret_mean[k] = r.regret_stats[k].mean;
    out.regret_se[k] = r.regret_stats[k].se;
    out.regret_capped_mean[k] = r.regret_capped_stats[k].mean;
    out.regret_capped_se[k] = r.regret_capped_stats[k].se;
  }
  for (const auto& [k, v] : job.attributes.text) out.text_attributes[k] = v;
  for (const auto& [k, v] : job.attributes.number) out.number_attributes[k] = v;
  out.text_attributes["campaign"] = job.campaign;
  out.text_attributes["cap_rule"] = job.cap_per_task ? "task-median: each row's median memory"
                                    : std::isnan(job.cap) ? "median of all memory entries"
                                                          : "given";
  out.number_attributes["final_epoch"] = c.epoch.back();
  if (job.epoch > 0) out.number_attributes["epoch_used"] = job.epoch;
  if (!job.rows.empty()) out.text_attributes["rows"] = join(job.rows, ",");
  if (root) {
    if (!job.output.empty()) {
      io::write_fidelity(job.output, out);
      log::info("loocv --fidelity: wrote ", job.output);
    }
    if (job.print_summary) std::cout << fidelity_summary(out) << std::flush;
  }
  par::barrier(comm);
  return out;
}

std::string fidelity_summary(const io::Fidelity& f) {
  std::ostringstream os;
  auto cell = [](double mean, double se) {
    std::ostringstream c;
    if (std::isnan(mean))
      c << "-";
    else
      c << std::fixed << std::setprecision(3) << mean << "±" << se;
    return c.str();
  };
  os << "Early-epoch fidelity over " << f.n_rows() << " rows: how well the errors after epoch E rank the final ones\n"
     << "(Kendall tau-b; regret = final error of the configuration best at E minus the best final error;\n"
     << " capped: among configurations under the memory cap; mean±standard error over rows)\n";
  os << std::right << std::setw(6) << "epoch" << std::setw(7) << "rows" << std::setw(18) << "kendall tau"
     << std::setw(18) << "regret" << std::setw(18) << "regret capped" << "\n";
  for (std::size_t e = 0; e < f.n_epochs(); ++e) {
    std::size_t rows = 0;
    for (std::size_t t = 0; t < f.n_rows(); ++t) rows += std::isfinite(f.kendall_tau[f.at(t, e)]);
    os << std::setw(6) << f.epoch[e] << std::setw(7) << rows << std::setw(19)
       << cell(f.kendall_tau_mean[e], f.kendall_tau_se[e]) << std::setw(19) << cell(f.regret_mean[e], f.regret_se[e])
       << std::setw(19) << cell(f.regret_capped_mean[e], f.regret_capped_se[e]) << "\n";
  }
  return os.str();
}

}  // namespace peppp::stage
