#include "peppp/app/cli.hpp"

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "commands.hpp"
#include "peppp/core/error.hpp"
#include "peppp/core/log.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/core/version.hpp"
#include "peppp/par/mpi_session.hpp"
#include "peppp/par/work_queue.hpp"
#include "report.hpp"

namespace peppp::app {

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"run", run_options, run_run},
      {"measure", measure_options, run_measure},
      {"complete", complete_options, run_complete},
      {"loocv", loocv_options, run_loocv},
      {"select", select_options, run_select},
      {"memory", memory_options, run_memory},
      {"tasks", tasks_options, run_tasks},
      {"info", info_options, run_info},
      {"merge", merge_options, run_merge},
      {"quantize", quantize_options, run_quantize},
  };
  return all;
}

std::string main_help() {
  std::ostringstream os;
  os << "peppp " << version() << " - low-precision configuration selection by meta-learning (PEPPP)\n\n"
     << "Usage:\n  peppp <command> [--config FILE] [--section.key VALUE ...]\n"
     << "  mpirun -np N peppp <command> ...      (every command runs under MPI; one rank is fine)\n"
     << "  peppp <command> --help              every option of a command, with default, unit, example\n"
     << "  peppp --version                     version and git commit\n\nCommands:\n";
  for (const auto& c : commands()) {
    OptionSet s = c.options();
    os << "  " << c.name << std::string(10 - std::min<std::size_t>(9, c.name.size()), ' ') << s.summary << "\n";
  }
  os << "\nExit codes: 0 done, 1 bad input, 2 runtime failure, 3 incomplete (interrupted; resumable).\n";
  return os.str();
}

namespace {

// Do two paths name the same file? Existing files by identity (symlinks and
// hard links resolved), else by their normalized absolute paths with every
// existing link resolved.
bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ec1, ec2;
  if (fs::exists(a, ec1) && fs::exists(b, ec2)) {
    std::error_code ec;
    const bool eq = fs::equivalent(a, b, ec);
    if (!ec) return eq;
  }
  std::error_code ec;
  const fs::path ca = fs::weakly_canonical(fs::absolute(a), ec), cb = fs::weakly_canonical(fs::absolute(b), ec);
  return ca.lexically_normal() == cb.lexically_normal();
}

}  // namespace

void check_output_paths(const OptionSet& set, const Options& o) {
  // Inputs: the config file and every path option but the outputs.
  std::vector<std::pair<std::string, std::string>> inputs;  // (what, path)
  if (!o.config_file().empty()) inputs.emplace_back("--config", o.config_file());
  std::vector<std::pair<std::string, std::string>> outputs;
  for (const auto& spec : set.specs) {
    if (spec.unit != "path" || !o.has(spec.key) || o.text(spec.key).empty()) continue;
    if (spec.key == "output") {
      outputs.emplace_back("--output", o.path(spec.key));
    } else if (spec.key == "output-dir") {
      for (const char* f : {"campaign.nc", "completed.nc", "loocv.nc"})
        outputs.emplace_back("--output-dir", (std::filesystem::path(o.path(spec.key)) / f).string());
    } else if (spec.kind == Kind::list) {
      for (const auto& p : o.list(spec.key)) inputs.emplace_back("--" + spec.key, p);
    } else {
      inputs.emplace_back("--" + spec.key, o.path(spec.key));
    }
  }
  for (const auto& [okey, out] : outputs)
    for (const auto& [ikey, in] : inputs)
      if (same_file(out, in))
        throw InputError(okey + " '" + out + "' is the same file as the input " + ikey + " '" + in +
                         "': an output never overwrites an input of the same command; choose another output path");
}

int run_cli(int argc, char** argv, MPI_Comm comm) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool root = par::rank(comm) == 0;
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    if (args.size() >= 2 && args[0] == "help") {
      args = {args[1], "--help"};
    } else {
      if (root) report::help(main_help());
      return args.empty() ? static_cast<int>(ExitCode::bad_input) : 0;
    }
  }
  if (args[0] == "--version" || args[0] == "-V") {
    if (root) report::help(std::string("peppp ") + version() + " (git " + git_commit() + ")\n");
    return 0;
  }
  const Command* cmd = nullptr;
  std::vector<std::string> names;
  for (const auto& c : commands()) {
    names.push_back(c.name);
    if (c.name == args[0]) cmd = &c;
  }
  if (!cmd) {
    std::string near = nearest(args[0], names);
    throw InputError("unknown command '" + args[0] + "'" + (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                     "; allowed: " + join(names, ", ") + "; see 'peppp --help'");
  }
  OptionSet set = cmd->options();
  Options opts = parse_options(set, std::vector<std::string>(args.begin() + 1, args.end()));
  if (opts.help()) {
    if (root) report::help(help_text(set));
    return 0;
  }
  check_output_paths(set, opts);
  // A bad PEPPP_WORK_QUEUE is bad input: refused before any output exists.
  if (const char* q = std::getenv("PEPPP_WORK_QUEUE")) par::parse_queue_kind(q);
  return cmd->run(opts, comm);
}

}  // namespace peppp::app
