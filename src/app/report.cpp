// The tables and summaries the commands print (report.hpp): the stages
// return data, these format it.
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

#include "peppp/core/cell.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/nn/memory.hpp"

namespace peppp::app::report {

namespace {

std::string classes_text(const TaskSpec& t) {
  std::string s = join(t.class_names, ",");
  return s.size() > 48 ? s.substr(0, 45) + "..." : s;
}

std::string size_text(int n) { return n == 0 ? "all" : std::to_string(n); }

}  // namespace

void help(const std::string& text) { std::cout << text << std::flush; }

namespace {
// The quantizer points of `model` on images of `task`'s shape (the memory model's counting
// run): layer, kind and activations per sample, in forward order; once per shape.
std::string points_table(const std::string& model, const TaskSpec& task, const nn::ModelCounts& counts) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "# quantizer points of %s on %s (%d channel(s), %d px, %d classes): %zu points\n",
                model.c_str(), task.name.c_str(), task.channels, task.resolution, task.num_classes(),
                counts.points.size());
  out += line;
  std::snprintf(line, sizeof line, "#   %-4s %-40s %-12s %-10s %14s\n", "#", "layer", "kind", "role", "activations");
  out += line;
  for (std::size_t i = 0; i < counts.points.size(); ++i) {
    const nn::QuantizerPoint& p = counts.points[i];
    std::snprintf(line, sizeof line, "#   %-4zu %-40s %-12s %-10s %14lld\n", i, p.layer.c_str(), p.kind.c_str(),
                  label(p.role).c_str(), static_cast<long long>(p.activations));
    out += line;
  }
  return out;
}

// The width of the configuration column: 12 (the uniform labels' table as before) or the longest label.
int config_width(const std::vector<Configuration>& configs) {
  std::size_t w = 12;
  for (const auto& c : configs) w = std::max(w, c.label().size());
  return static_cast<int>(w);
}

// The memory of every configuration per role (docs/roles.md) on `task`'s shape: each role's
// Format A, counts and MiB; the roles' rows add up to the configuration's total.
std::string roles_table(const stage::MemoryJob& job, const TaskSpec& task, const nn::ModelCounts& counts) {
  std::string out;
  char line[512];
  const int w = config_width(job.configs);
  std::snprintf(line, sizeof line,
                "# memory per role of %s on %s (MiB; the roles of a configuration add up to its total)\n",
                job.model.c_str(), task.name.c_str());
  out += line;
  std::snprintf(line, sizeof line, "#   %-*s %-10s %-12s %12s %14s %12s %12s %12s %12s\n", w, "config", "role",
                "format", "parameters", "activations", "weights", "activations", "optimizer", "total");
  out += line;
  for (const auto& c : job.configs) {
    for (const auto& [role, m] : nn::memory_from_counts(counts, job.batch_size, c).by_role) {
      std::snprintf(line, sizeof line, "#   %-*s %-10s %-12s %12lld %14lld %12.3f %12.3f %12.3f %12.3f\n", w,
                    c.label().c_str(), label(role).c_str(), m.format.label().c_str(),
                    static_cast<long long>(m.parameters), static_cast<long long>(m.activations), m.weights,
                    m.activation_memory, m.optimizer, m.total);
      out += line;
    }
  }
  return out;
}
}  // namespace

void memory_table(const stage::MemoryJob& job, const io::Campaign& m) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "# memory model (METHOD.md F2), model %s, batch %d, MiB = 2^20 bytes\n",
                job.model.c_str(), job.batch_size);
  out += line;
  const int w = config_width(job.configs);
  std::snprintf(line, sizeof line, "%-24s %-*s %12s %12s %12s %12s\n", "task", w, "config", "weights", "activations",
                "optimizer", "total");
  out += line;
  std::size_t cell = 0;
  std::string points;  // the per-layer breakdown, once per task shape, after the table
  std::set<std::tuple<int, int, int>> shapes;
  for (const auto& task : job.tasks) {
    const auto counts = nn::model_counts(job.model, task.num_classes(), task.channels, task.resolution);
    if (shapes.insert({task.num_classes(), task.channels, task.resolution}).second)
      points += points_table(job.model, task, counts) + roles_table(job, task, counts);
    std::snprintf(line, sizeof line, "# %s: %d classes, %d channel(s), %d px; %lld parameters, %lld activations/sample\n",
                  task.name.c_str(), task.num_classes(), task.channels, task.resolution,
                  static_cast<long long>(counts.parameters), static_cast<long long>(counts.activations));
    out += line;
    for (const auto& c : job.configs) {
      std::snprintf(line, sizeof line, "%-24s %-*s %12.3f %12.3f %12.3f %12.3f\n", task.name.c_str(), w,
                    c.label().c_str(), m.memory_weights[cell], m.memory_activations[cell], m.memory_optimizer[cell],
                    m.memory[cell]);
      out += line;
      ++cell;
    }
  }
  if (!m.memory.empty()) {
    std::vector<double> sorted = m.memory;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t n = sorted.size();
    const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    std::snprintf(line, sizeof line, "# %zu tasks x %zu configurations; min %.3f, median (the cap) %.3f, max %.3f MiB\n",
                  job.tasks.size(), job.configs.size(), sorted.front(), median, sorted.back());
    out += line;
  }
  out += points;
  std::fputs(out.c_str(), stdout);
}

void tasks_listing(const std::string& catalog, const stage::TasksResult& r) {
  // Missing files first, per dataset, so a user sees them before the list.
  for (const auto& c : r.checks) {
    const auto& d = *c.dataset;
    if (c.missing.empty())
      log::info("dataset ", d.name, " (", d.kind, ", ", d.classes, " classes): ", d.path, ": all ", c.files,
                " files present");
    for (const auto& m : c.missing)
      log::warn("dataset ", d.name, " (", d.kind, ", used by ", c.tasks, " tasks): missing file ", m);
  }
  std::ostringstream table;
  char line[256];
  std::snprintf(line, sizeof line, "%-34s %-10s %7s %5s %3s %7s %6s  %s\n", "task", "dataset", "classes", "res",
                "ch", "train", "test", "class names");
  table << line;
  for (const auto& t : r.catalog.tasks) {
    std::snprintf(line, sizeof line, "%-34s %-10s %7d %5d %3d %7s %6s  %s\n", t.name.c_str(), t.dataset.c_str(),
                  t.num_classes(), t.resolution, t.channels, size_text(t.train_size).c_str(),
                  size_text(t.test_size).c_str(), classes_text(t).c_str());
    table << line;
  }
  log::info("catalog ", catalog, ": ", r.catalog.tasks.size(), " tasks from ", r.checks.size(), " dataset(s)\n",
            table.str().substr(0, table.str().size() - 1));
}

void tasks_loaded(const stage::TasksResult& r) {
  for (const auto& t : r.load.tasks) {
    log::debug("loaded ", t.name, ": ", t.train, " train + ", t.test, " test images, hash ", hex64(t.hash));
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", r.load.seconds);
  log::info("loaded all ", r.catalog.tasks.size(), " tasks (", r.load.train, " train + ", r.load.test,
            " test images, ", r.load.dataset_reads, " dataset read(s)) in ", buf, " s");
}

void quantize_summary(const stage::QuantizeResult& r) {
  std::printf("quantize: format=%s rounding=%s elements=%zu saturated=%zu flushed_to_zero=%zu nan=%zu\n",
              r.format.label().c_str(), label(r.rounding).c_str(), r.summary.elements, r.summary.saturated,
              r.summary.flushed_to_zero, r.summary.nan);
  std::fflush(stdout);
}

void merge_summary(const stage::MergeJob& job, const stage::MergeResult& r) {
  log::info("merge: wrote ", job.output, ": ", r.rows, " rows (", r.combined_rows,
            " combined from several inputs) x ", r.configs, " configurations, ", r.replicates,
            " replicate(s) per cell, from ", r.inputs, " campaigns");
}

// ======================================================== select and info


namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

// ---- select

void print_selection(const io::Selection& s) {
  std::vector<int> order(s.config.size());
  for (std::size_t j = 0; j < order.size(); ++j) order[j] = static_cast<int>(j);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s.memory[a] < s.memory[b]; });
  log::info("select: estimated Pareto frontier of task '", s.task, "' (memory MiB, predicted error +- std; "
            "* measured):");
  // The label column: 15 wide as ever, wider for per-role labels (docs/roles.md).
  int w = 15;
  for (const auto& c : s.config) w = std::max(w, static_cast<int>(c.size()));
  char line[512];
  std::snprintf(line, sizeof line, "  %-*s   memory   predicted        measured    p_best", w, "config");
  log::info(line);
  for (int j : order) {
    if (!s.pareto_estimate[j] && j != s.recommended_index) continue;
    const std::string pb = s.p_best.empty() ? std::string("     ") : fixed(s.p_best[j], 3);
    std::snprintf(line, sizeof line, "  %-*s %8.3f   %.3f +- %.3f   %s   %s%s", w, s.config[j].c_str(), s.memory[j],
                  s.predicted_error[j], s.predicted_std[j],
                  s.measured[j] ? ("* " + fixed(s.measured_error[j], 3)).c_str() : "       ", pb.c_str(),
                  j == s.recommended_index ? "   <- recommended" : "");
    log::info(line);
  }
  const int r = s.recommended_index;
  log::info("select: recommended configuration under the budget of ", fixed(s.budget, 3), " MiB: ",
            s.recommended_config, " (", fixed(s.memory[r], 3), " MiB), predicted error ",
            fixed(s.predicted_error[r], 3), " +- ", fixed(s.predicted_std[r], 3),
            s.measured[r] ? ", measured " + fixed(s.measured_error[r], 3) : std::string(),
            std::isnan(s.expected_regret) ? std::string()
                                          : "; expected regret " + fixed(s.expected_regret, 4) + ", p_best " +
                                                fixed(s.p_best.empty() ? 0.0 : s.p_best[r], 3));
  if (s.zero_shot_index < 0) return;
  // What measuring bought over the zero-shot pick (the prior's answer, no training).
  std::size_t measured = 0;
  for (auto m : s.measured) measured += m ? 1 : 0;
  const int z = s.zero_shot_index;
  log::info("select: zero-shot pick ", s.zero_shot_config, " (", fixed(s.memory[z], 3), " MiB), predicted error ",
            fixed(s.zero_shot_predicted_error, 3), " +- ", fixed(s.zero_shot_predicted_std, 3), ", expected regret ",
            fixed(s.zero_shot_expected_regret, 4), measured == 0 ? std::string("; nothing measured") :
            "; after " + std::to_string(measured) + " measurement(s): expected regret " + fixed(s.expected_regret, 4) +
            (z == r ? ", the same pick" : ", pick changed to " + s.recommended_config));
}

// ---- info

namespace {

std::string noise_line(const meta::NoiseEstimate& n) {
  char buf[200];
  if (n.source == "replicates")
    std::snprintf(buf, sizeof buf, "  noise: std %.4g per replicate (replicates: pooled over %d cells, %.0f dof)\n",
                  n.std, n.cells, n.dof);
  else
    std::snprintf(buf, sizeof buf, "  noise: std %.4g (%s: %d observed entries, %.0f dof)\n", n.std,
                  n.source.c_str(), n.cells, n.dof);
  return buf;
}

std::string journal_text(const stage::FileInfo& info) {
  const stage::JournalInfo& j = info.journal;
  std::ostringstream os;
  os << info.path << ": peppp journal folder (journal version " << io::kJournalVersion << ")\n"
     << "  " << j.records << " cell records in " << j.files << " rank files (" << j.cells << " distinct cells, "
     << j.failed << " failed, " << j.epochs << " with a per-epoch record)\n";
  if (j.torn || j.corrupt)
    os << "  " << j.torn << " torn or unreadable file tails, " << j.corrupt << " corrupt records skipped\n";
  return os.str();
}

// Rows of several models: the Kendall tau between their mean configuration rankings, and each
// model's configuration effect over replicate noise on its median row.
std::string architectures_text(const std::vector<std::string>& models, const meta::ArchitectureRankings& a) {
  std::ostringstream os;
  char buf[256];
  os << "  architectures: Kendall tau-b between the models' mean configuration rankings (mean error over a "
        "model's rows per configuration):\n";
  for (std::size_t i = 0; i < models.size(); ++i)
    for (std::size_t j = i + 1; j < models.size(); ++j) {
      std::snprintf(buf, sizeof buf, "    %s vs %s: tau %.3f\n", models[i].c_str(), models[j].c_str(),
                    a.tau(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)));
      os << buf;
    }
  os << "  configuration effect (sd over configurations of a row's errors) / replicate noise (pooled sd), "
        "median row per model:\n";
  for (std::size_t g = 0; g < models.size(); ++g) {
    const auto i = static_cast<Eigen::Index>(g);
    std::snprintf(buf, sizeof buf, "    %s: effect %.4f, noise %.4f, ratio %.2f\n", models[g].c_str(),
                  a.median_effect(i), a.noise(i), a.median_ratio(i));
    os << buf;
  }
  return os.str();
}

std::string campaign_text(const stage::CampaignInfo& c) {
  std::ostringstream os;
  const double total = static_cast<double>(c.cells());
  const std::size_t planned = c.planned(), done = c.finished();
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "  campaign: %zu tasks x %zu configurations = %zu cells; planned %zu (%.1f%%), finished %zu "
                "(%.1f%% of planned), error known for %zu (%.1f%% of all cells)\n",
                c.tasks, c.configs, c.cells(), planned, 100.0 * static_cast<double>(planned) / total, done,
                planned ? 100.0 * static_cast<double>(done) / static_cast<double>(planned) : 0.0, c.finite,
                100.0 * static_cast<double>(c.finite) / total);
  os << buf << "  status:";
  for (int s = 0; s < 5; ++s) os << " " << label(static_cast<CellStatus>(s)) << "=" << c.status[s];
  os << "\n";
  if (c.status[1] > 0) os << "  INCOMPLETE: " << c.status[1] << " planned cells have no result (resume the campaign)\n";
  os << "  replicates: " << c.replicates << " per cell\n";
  if (c.rows) {
    std::string rate_text;
    for (double r : c.row_rates) {
      char rb[32];
      std::snprintf(rb, sizeof rb, "%g", r);
      rate_text += (rate_text.empty() ? "" : ", ") + std::string(rb);
    }
    os << "  rows: " << c.tasks << " = " << c.row_tasks.size() << " tasks x models (" << join(c.row_models, ", ")
       << ") x learning rates (" << rate_text << ")" << (c.merged ? "; merged (row_source)" : "") << "\n";
    if (c.architectures) os << architectures_text(c.row_models, *c.architectures);
  }
  if (!c.epochs.empty())
    os << "  per-epoch record: errors and losses after epochs " << c.epochs.front() << ".." << c.epochs.back()
       << " (error_by_epoch; --epoch E of complete, loocv and select)\n";
  if (c.noise) os << noise_line(*c.noise);
  if (!c.noise_error.empty())
    os << "  noise: not estimable (no replicates; low-rank fit: " << c.noise_error << ")\n";
  return os.str();
}

}  // namespace

std::string format_info(const stage::FileInfo& info) {
  if (info.journal_folder) return journal_text(info);
  auto attr = [&](const char* k) {
    auto it = info.attributes.find(k);
    return it == info.attributes.end() ? std::string() : it->second;
  };
  std::ostringstream os;
  os << info.path << ": " << (info.kind.empty() ? "NetCDF file" : "peppp " + info.kind + " file") << "\n";
  if (info.synthetic) os << "  *** SYNTHETIC campaign: fake errors from timed dummy cells, not measurements ***\n";
  os << "  dimensions:";
  for (const auto& [name, len] : info.dims) os << " " << name << "=" << len;
  os << "\n  variables: " << join(info.variables, ", ") << "\n";
  if (info.campaign) {
    os << campaign_text(*info.campaign);
  } else if (info.completion_noise) {
    os << noise_line(*info.completion_noise);
  } else if (info.kind == "completion" && info.attributes.count("noise_source")) {
    os << "  noise: std " << attr("noise_std") << " (" << attr("noise_source")
       << (info.attributes.count("noise_dof") ? ", " + attr("noise_dof") + " dof" : std::string()) << ")\n";
  }
  os << "  attributes:\n";
  for (const auto& [k, v] : info.attributes) {
    std::string value = v.size() > 200 ? v.substr(0, 197) + "..." : v;
    os << "    " << k << " = " << value << "\n";
  }
  return os.str();
}

}  // namespace peppp::app::report
