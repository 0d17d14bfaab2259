// The select stage's reruns: the conditions a training selection was begun under
// (<output>.conditions), checked before any training so that cells and rounds measured
// under other conditions are never reused; --restart moves an earlier selection aside.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <utility>

#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
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

// 64-bit hash of what the meta-training rows say: labels, row names, errors (final, per
// replicate, per epoch) and statuses.
std::string campaign_content(const io::Campaign& c) {
  std::string bytes;
  for (const auto& s : c.config) bytes += s + '\n';
  for (const auto& s : c.task) bytes += s + '\n';
  for (const auto* v : {&c.error, &c.error_replicates, &c.error_by_epoch})
    bytes.append(reinterpret_cast<const char*>(v->data()), v->size() * sizeof(double));
  bytes.append(reinterpret_cast<const char*>(c.status.data()), c.status.size());
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a64(bytes)));
  return buf;
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
    if (line.compare(0, eq, kPerRound) == 0) continue;
    kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

// "budget 2.5 -> 3, tolerance 0 -> 0.01": the keys whose values differ.
std::string differences(const std::string& earlier, const std::string& now) {
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
      if (value(a, k) != value(b, k)) out.push_back(k + " " + value(a, k) + " -> " + value(b, k));
    }
  return join(out, ", ");
}

int recorded_per_round(const std::string& text) {
  std::istringstream lines(text);
  const std::string head = std::string(kPerRound) + "=";
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(head, 0) == 0) {
      double v = 0;
      if (parse_double(line.substr(head.size()), v) && v >= 1 && v <= 1e6) return static_cast<int>(v);
    }
  return 0;
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

// Root: the decision on the earlier outputs (refuse, move aside, resume) and the record;
// returns the picks per round.
int decide_on_root(const SelectJob& job, int ranks) {
  const std::string now = conditions_text(job);
  const std::string record = io::selection_conditions_path(job.output);
  check_not_an_input(job, record);
  const std::vector<std::string> earlier = io::selection_training_files(job.output);
  if (job.restart) {
    std::vector<std::string> moved_all = earlier;
    std::error_code ec;
    if (std::filesystem::is_regular_file(job.output, ec)) moved_all.push_back(job.output);
    for (const std::string& path : moved_all)
      log::warn("select: --restart: ", path, " was moved aside to ", io::move_aside(path, "earlier select output"),
                " (nothing deleted)");
  } else {
    const std::string before = io::read_selection_conditions(job.output);
    if (!before.empty()) {
      const std::string what = differences(before, now);
      if (!what.empty())
        throw InputError("--output " + job.output + ": an earlier selection into it was begun under other conditions (" +
                         what + "; " + record + "); its measured cells are not reused for this one: pass --restart "
                         "to move its outputs aside (nothing deleted) and start over, or use another --output");
      const int per_round = recorded_per_round(before);
      if (per_round > 0) {
        if (per_round != ranks)
          log::info("select: continuing the selection begun in ", record, " in its rounds of ", per_round,
                    " configuration(s), now on ", ranks, " rank(s)");
        return per_round;
      }
    } else if (!earlier.empty()) {
      throw InputError("--output " + job.output + ": an earlier selection left " + join(earlier, ", ") +
                       " but no record of its conditions (" + record +
                       "); its cells cannot be checked for reuse: pass --restart to move them aside (nothing "
                       "deleted) and start over, or use another --output");
    }
  }
  io::write_selection_conditions(job.output, "# peppp select: the conditions of the training selection into " +
                                                 job.output + "\n" + now + kPerRound + "=" + std::to_string(ranks) +
                                                 "\n");
  return ranks;
}

}  // namespace

int prepare_training(const SelectJob& job, MPI_Comm comm) {
  if (job.resume && job.restart) throw InputError("--resume and --restart: give one of them, not both");
  par::Failure f;
  std::string payload;
  if (par::rank(comm) == 0) {
    try {
      payload = std::to_string(decide_on_root(job, par::size(comm)));
    } catch (const Error& e) {
      f = par::Failure::of(e);
    }
  }
  par::root_decides(f, payload, comm);
  return std::stoi(payload);
}

}  // namespace peppp::stage
