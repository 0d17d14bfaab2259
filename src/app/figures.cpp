// Figures of a run folder through scripts/report.py; Python stays optional.
#include "peppp/app/figures.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

namespace peppp::app {
namespace {

namespace fs = std::filesystem;

const char* const kInstallHint =
    "install them with `apt-get install python3-numpy python3-netcdf4 python3-xarray "
    "python3-matplotlib` (or set PEPPP_PYTHON to a Python that has them)";

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

// Exit status of a shell command, output captured (last lines kept).
int run_captured(const std::string& command, std::string& output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[512];
  output.clear();
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = pclose(pipe);
  if (status == -1) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The first warning/error line of a script's output, else its last line.
std::string key_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find("error:") != std::string::npos || line.find("warning:") != std::string::npos) return line;
    if (!line.empty()) last = line;
  }
  return last;
}

std::string find_python(const FiguresOptions& o) {
  if (!o.python.empty()) return o.python;
  const std::string env = env_or("PEPPP_PYTHON", "");
  if (!env.empty()) return env;
  std::error_code ec;
  if (fs::exists("/usr/bin/python3", ec)) return "/usr/bin/python3";  // Debian's, with the packages
  return "python3";
}

std::string find_scripts(const FiguresOptions& o) {
  std::vector<std::string> candidates;
  if (!o.scripts_dir.empty()) return o.scripts_dir;
  const std::string env = env_or("PEPPP_SCRIPTS_DIR", "");
  if (!env.empty()) return env;
#ifdef PEPPP_SOURCE_SCRIPTS_DIR
  candidates.push_back(PEPPP_SOURCE_SCRIPTS_DIR);
#endif
#ifdef PEPPP_INSTALL_SCRIPTS_DIR
  candidates.push_back(PEPPP_INSTALL_SCRIPTS_DIR);
#endif
  std::error_code ec;
  for (const auto& c : candidates) {
    if (fs::exists(fs::path(c) / "report.py", ec)) return c;
  }
  return candidates.empty() ? std::string("scripts") : candidates.back();
}

}  // namespace

std::string figures_package_check(const std::string& python) {
  return quote(python) + " -c 'import numpy, netCDF4, xarray, matplotlib'";
}

FiguresResult draw_run_figures(const std::string& run_dir, const FiguresOptions& options) {
  FiguresResult r;
  const std::string python = find_python(options);
  const std::string scripts = find_scripts(options);
  const fs::path report_py = fs::path(scripts) / "report.py";
  std::error_code ec;
  if (!fs::exists(report_py, ec)) {
    r.message = "figures skipped: " + report_py.string() +
                " not found (set PEPPP_SCRIPTS_DIR to the folder holding peppp's scripts/)";
    return r;
  }
  std::string out;
  if (run_captured(figures_package_check(python), out) != 0) {
    r.message = "figures skipped: " + python + " is missing or lacks numpy/netCDF4/xarray/matplotlib; " +
                kInstallHint + ", then run `" + python + " " + report_py.string() + " " + run_dir + "`";
    return r;
  }
  std::string cmd = "MPLBACKEND=Agg " + quote(python) + " " + quote(report_py.string()) + " " + quote(run_dir);
  for (const auto& a : options.extra_args) cmd += " " + quote(a);
  const int rc = run_captured(cmd, out);
  const std::string report = (fs::path(run_dir) / "report.md").string();
  if (rc != 0) {
    r.message = "figures incomplete (" + report_py.filename().string() + " exit " + std::to_string(rc) +
                "): " + key_line(out);
    if (fs::exists(report, ec)) r.report = report;
    return r;
  }
  r.drawn = true;
  r.report = report;
  r.message = "figures in " + (fs::path(run_dir) / "figures").string() + ", report " + report;
  return r;
}

}  // namespace peppp::app
