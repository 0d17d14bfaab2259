// The select stage's reruns: the conditions a training selection was begun under
// (<output>.conditions), checked before any training: a rerun that changed only the budget,
// cap, measurements or tolerance reuses every cell trained before (a cell's result depends on
// the task, the configuration and the campaign seed, not on its round) and continues in new
// round files; other changes are refused; --restart moves an earlier selection aside.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <limits>
#include <utility>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/selection.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"
#include "select_parts.hpp"

namespace peppp::stage {

namespace {

// The structure line of the record: how many picks each round trains (the earlier run's
// rank count). Kept, not compared: results do not depend on the rank count.
constexpr const char* kPerRound = "per_round";
// The structure line of a run that reuses earlier cells: the round files 1..K it reused.
constexpr const char* kReused = "reused_rounds";
// The conditions a rerun may change and still reuse the cells trained before.
const std::set<std::string> kReusable = {"budget", "cap", "measurements", "tolerance"};

// 64-bit hash of what the meta-training rows say: labels, row names, errors (final, per
// replicate, per epoch) and statuses.
std::string campaign_content(const io::Campaign& c) {
  std::string bytes;
  for (const auto& s : c.config) bytes += s + '\n';
  for (const auto& s : c.task) bytes += s + '\n';
  for (const auto* v : {&c.error, &c.error_replicates, &c.error_by_epoch})
    bytes.append(reinterpret_cast<const char*>(v->data()), v->size() * sizeof(double));
  bytes.append(reinterpret_cast<const char*>(c.status.data()), c.status.size());
  return hex64(fnv1a64(bytes));
}

// The conditions of `job` as "key=value" lines (without the structure line).
std::string conditions_text(const SelectJob& job) {
  const TaskSpec& t = job.task;
  std::ostringstream os;
  os << "task.name=" << t.name << "\n"
     << "task.definition=" << t.dataset << " (" << t.dataset_kind << "), classes " << join(t.class_names, "/") << ", "
     << t.resolution << " px x " << t.channels << ", " << t.train_size << "/" << t.test_size << " images, seed "
     << t.seed << "\n"
     << "campaign.content=" << campaign_content(job.campaign) << "\n"
     << "seed=" << job.seed << "\n"
     << "model=" << job.model << "\n"
     << "acquisition=" << job.acquisition << "\n"
     << "budget=" << round_trip_text(job.budget) << "\n"
     << "cap=" << (std::isnan(job.cap) ? std::string("budget") : round_trip_text(job.cap)) << "\n"
     << "measurements=" << job.measurements << "\n"
     << "tolerance=" << round_trip_text(job.tolerance) << "\n"
     << "rank=" << job.rank << "\n"
     << "rows-model=" << job.rows_model << "\n"
     << "epoch=" << job.epoch << "\n"
     << "noise_std=" << (std::isnan(job.noise_std) ? std::string("estimated") : round_trip_text(job.noise_std)) << "\n"
     << "risk_samples=" << job.risk_samples << "\n"
     << job.conditions << job.identity;
  return os.str();
}

// key -> value of a record's lines (comments and the structure line left out).
std::map<std::string, std::string> parse_conditions(const std::string& text) {
  std::map<std::string, std::string> kv;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    if (line.compare(0, eq, kPerRound) == 0 || line.compare(0, eq, kReused) == 0) continue;
    kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

// "budget 2.5 -> 3, tolerance 0 -> 0.01": the keys whose values differ (into `keys` too).
std::string differences(const std::string& earlier, const std::string& now, std::set<std::string>& keys) {
  const auto a = parse_conditions(earlier), b = parse_conditions(now);
  std::vector<std::string> out;
  auto value = [](const std::map<std::string, std::string>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? std::string("(none)") : it->second;
  };
  for (const auto* m : {&a, &b})
    for (const auto& kv : *m) {
      const std::string& k = kv.first;
      if (m == &b && a.count(k)) continue;  // seen from a
      if (value(a, k) == value(b, k)) continue;
      out.push_back(k + " " + value(a, k) + " -> " + value(b, k));
      keys.insert(k);
    }
  return join(out, ", ");
}

// The value of the structure line `key` of a record; -1 when absent or not a count.
int recorded_count(const std::string& text, const char* key) {
  std::istringstream lines(text);
  const std::string head = std::string(key) + "=";
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(head, 0) == 0) {
      double v = 0;
      if (parse_double(line.substr(head.size()), v) && v >= 0 && v <= 1e6 && v == std::floor(v))
        return static_cast<int>(v);
    }
  return -1;
}

// The highest K of the round files and journals earlier selections left beside `output` (0: none).
int last_round(const std::string& output) {
  const std::string head = std::filesystem::path(output).filename().string() + ".round-";
  int k = 0;
  for (const std::string& path : io::selection_training_files(output)) {
    const std::string name = std::filesystem::path(path).filename().string();
    if (name.rfind(head, 0) == 0) k = std::max(k, std::atoi(name.c_str() + head.size()));
  }
  return k;
}

// The trained cells of one earlier training file, if it exists, as reused cells of `round`:
// measured ones with their error, diverged ones as NaN (a rerun diverges the same way);
// failed and untrained cells are not reused (they are tried again when picked). The cells
// of an interrupted round that reached its journal only are not read.
void read_trained(const std::string& path, int round, const SelectProblem& p, TrainingStart& s) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return;
  const io::Campaign c = io::read_campaign(path);
  if (c.task.size() != 1)
    throw InputError(path + ": " + std::to_string(c.task.size()) + " task rows, a select round file has one; pass "
                     "--restart to move the earlier selection aside (nothing deleted)");
  for (std::size_t q = 0; q < c.config.size(); ++q) {
    const auto status = static_cast<CellStatus>(c.status[q]);
    if (status != CellStatus::measured && status != CellStatus::diverged) continue;
    const auto it = std::find(p.campaign.config.begin(), p.campaign.config.end(), c.config[q]);
    if (it == p.campaign.config.end())
      throw InputError(path + ": configuration " + c.config[q] + " is not one of --campaign's; pass --restart to "
                       "move the earlier selection aside (nothing deleted)");
    s.configs.push_back(static_cast<int>(it - p.campaign.config.begin()));
    s.errors.push_back(status == CellStatus::measured ? c.error[q] : std::numeric_limits<double>::quiet_NaN());
    s.rounds.push_back(round);
  }
}

// Root: the cells earlier runs trained into `job.output`'s files, rounds 1..K (and an ED-MF
// run's <output>.measured.nc).
TrainingStart reused_cells(const SelectJob& job, const SelectProblem& p, int rounds) {
  TrainingStart s;
  s.reusing = true;
  s.reused_rounds = rounds;
  if (job.acquisition == "ed-mf") read_trained(job.output + ".measured.nc", 0, p, s);
  for (int k = 1; k <= rounds; ++k) read_trained(job.output + ".round-" + std::to_string(k) + ".nc", k, p, s);
  return s;
}

// The record is a file select creates beside the output: never one of the command's inputs
// (the campaign, the task's catalog), compared by identity.
void check_not_an_input(const SelectJob& job, const std::string& record) {
  namespace fs = std::filesystem;
  const std::string catalog = job.task.origin.substr(0, job.task.origin.rfind(':'));
  for (const auto& [what, input] : {std::pair<std::string, std::string>{"--campaign", job.campaign_path},
                                    std::pair<std::string, std::string>{"--task catalog", catalog}}) {
    std::error_code ec;
    if (!input.empty() && fs::exists(record, ec) && fs::exists(input, ec) && fs::equivalent(record, input, ec))
      throw InputError("--output " + job.output + ": its conditions record " + record + " is the input " + what + " " +
                       input + "; an output never overwrites an input of the same command: choose another --output");
  }
}

// The record: a header, the conditions `now`, the structure lines, and `replaced` (the
// record of the earlier conditions whose cells `start` reuses) kept as comment lines.
std::string record_text(const SelectJob& job, const std::string& now, const TrainingStart& start,
                        const std::string& replaced) {
  std::string text = "# peppp select: the conditions of the training selection into " + job.output + "\n" + now +
                     kPerRound + "=" + std::to_string(start.per_round) + "\n";
  if (start.reusing) text += std::string(kReused) + "=" + std::to_string(start.reused_rounds) + "\n";
  if (!replaced.empty()) {
    text += "# the cells of round files 1.." + std::to_string(start.reused_rounds) +
            " were measured under the earlier conditions:\n";
    std::istringstream lines(replaced);
    for (std::string line; std::getline(lines, line);) text += "#   " + line + "\n";
  }
  return text;
}

// Root: the decision on the earlier outputs (refuse, move aside, resume, reuse) and the
// record; returns how the training starts.
TrainingStart decide_on_root(const SelectJob& job, const SelectProblem& p, int ranks) {
  const std::string now = conditions_text(job);
  const std::string record = io::selection_conditions_path(job.output);
  check_not_an_input(job, record);
  const std::vector<std::string> earlier = io::selection_training_files(job.output);
  TrainingStart start;
  start.per_round = ranks;
  std::string replaced;
  if (job.restart) {
    std::vector<std::string> moved_all = earlier;
    std::error_code ec;
    if (std::filesystem::is_regular_file(job.output, ec)) moved_all.push_back(job.output);
    for (const std::string& path : moved_all)
      log::warn("select: --restart: ", path, " was moved aside to ", io::move_aside(path, "earlier select output"),
                " (nothing deleted)");
  } else {
    const std::string before = io::read_selection_conditions(job.output);
    std::set<std::string> keys;
    const std::string what = before.empty() ? std::string() : differences(before, now, keys);
    const bool reusable =
        std::all_of(keys.begin(), keys.end(), [](const std::string& k) { return kReusable.count(k) > 0; });
    if (!what.empty() && !reusable)
      throw InputError("--output " + job.output + ": an earlier selection into it was begun under other conditions (" +
                       what + "; " + record + "); its measured cells are reused only when --budget, --cap, "
                       "--measurements or --tolerance alone changed: pass --restart to move its outputs aside "
                       "(nothing deleted) and start over, or use another --output");
    if (!what.empty()) {
      start = reused_cells(job, p, last_round(job.output));
      start.per_round = ranks;
      replaced = before;
      log::info("select: reusing ", start.configs.size(), " cell(s) measured under ", what, "; continuing");
    } else if (!before.empty()) {
      if (const int reused = recorded_count(before, kReused); reused >= 0) start = reused_cells(job, p, reused);
      const int per_round = recorded_count(before, kPerRound);
      start.per_round = per_round > 0 ? per_round : ranks;
      if (per_round > 0 && per_round != ranks)
        log::info("select: continuing the selection begun in ", record, " in its rounds of ", per_round,
                  " configuration(s), now on ", ranks, " rank(s)");
      if (per_round > 0) return start;
    } else if (!earlier.empty()) {
      throw InputError("--output " + job.output + ": an earlier selection left " + join(earlier, ", ") +
                       " but no record of its conditions (" + record +
                       "); its cells cannot be checked for reuse: pass --restart to move them aside (nothing "
                       "deleted) and start over, or use another --output");
    }
  }
  io::write_selection_conditions(job.output, record_text(job, now, start, replaced));
  return start;
}

// The start as text for the broadcast: "per_round reusing reused_rounds", then one
// "round configuration error" line per reused cell (errors round-trip; "nan": diverged).
std::string encode_start(const TrainingStart& s) {
  std::string out = std::to_string(s.per_round) + " " + (s.reusing ? "1" : "0") + " " +
                    std::to_string(s.reused_rounds) + "\n";
  for (std::size_t q = 0; q < s.configs.size(); ++q)
    out += std::to_string(s.rounds[q]) + " " + std::to_string(s.configs[q]) + " " +
           (std::isfinite(s.errors[q]) ? round_trip_text(s.errors[q]) : std::string("nan")) + "\n";
  return out;
}

TrainingStart decode_start(const std::string& text) {
  TrainingStart s;
  std::istringstream in(text);
  int reusing = 0;
  in >> s.per_round >> reusing >> s.reused_rounds;
  s.reusing = reusing != 0;
  int round = 0, config = 0;
  std::string error;
  while (in >> round >> config >> error) {
    double e = std::numeric_limits<double>::quiet_NaN();
    if (error != "nan" && !parse_double(error, e)) throw RuntimeError("select: a reused cell's error '" + error + "'");
    s.rounds.push_back(round);
    s.configs.push_back(config);
    s.errors.push_back(e);
  }
  return s;
}

}  // namespace

TrainingStart prepare_training(const SelectJob& job, const SelectProblem& p, MPI_Comm comm) {
  if (job.resume && job.restart) throw InputError("--resume and --restart: give one of them, not both");
  par::Failure f;
  std::string payload;
  if (par::rank(comm) == 0) {
    try {
      payload = encode_start(decide_on_root(job, p, par::size(comm)));
    } catch (const Error& e) {
      f = par::Failure::of(e);
    }
  }
  par::root_decides(f, payload, comm);
  return decode_start(payload);
}

}  // namespace peppp::stage
