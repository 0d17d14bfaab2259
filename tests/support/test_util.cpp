#include "test_util.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace fs = std::filesystem;

namespace peppp::test {

namespace {
// The environment as it was before MPI_Init: a child mpirun must not inherit
// the variables this process's own (singleton) MPI start added.
std::vector<std::string> capture_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}
const std::vector<std::string> g_pre_mpi_env = capture_environment();
}  // namespace

std::string scratch_dir(MPI_Comm comm) {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "scratch";
  int size = 1, rank = 0;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  fs::path dir = fs::path(PEPPP_BINARY_DIR) / "tests" / "tmp" / (name + ".np" + std::to_string(size));
  if (rank == 0) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  MPI_Barrier(comm);
  return dir.string();
}

Run run_command(const std::string& command) {
  std::vector<char*> envp;
  for (const auto& e : g_pre_mpi_env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) return {127, "pipe failed"};
  pid_t pid = fork();
  if (pid < 0) return {127, "fork failed"};
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[1]);
    execle("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr), envp.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  std::array<char, 4096> buf;
  ssize_t n;
  while ((n = read(fds[0], buf.data(), buf.size())) > 0) out.append(buf.data(), static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, out};
}

std::string peppp_exe() { return PEPPP_EXE; }

std::string source_path(const std::string& relative) {
  return (fs::path(PEPPP_SOURCE_DIR) / relative).string();
}

int registered_ranks() {
  const char* v = std::getenv("PEPPP_TEST_RANKS");
  return v ? std::atoi(v) : 1;
}

const std::string& torch_python() {
  static const std::string found = [] {
    std::vector<std::string> candidates;
    if (const char* e = std::getenv("PEPPP_PYTHON")) candidates.emplace_back(e);
    candidates.emplace_back("python3");
    candidates.emplace_back("/usr/bin/python3");
    for (const auto& py : candidates)
      if (run_command(py + " -c 'import torch' 2>/dev/null").exit_code == 0) return py;
    return std::string();
  }();
  return found;
}

std::string mpi_launch(int ranks) {
  const char* spawns = std::getenv("PEPPP_TEST_SPAWN_RANKS");
  const char* exe = std::getenv("PEPPP_MPIEXEC");
  if (!spawns || !exe || !*exe)
    throw std::logic_error("mpi_launch: register the test with peppp_add_test(... SPAWNS n) and run it through ctest");
  if (ranks < 1 || ranks > std::atoi(spawns))
    throw std::logic_error("mpi_launch: " + std::to_string(ranks) + " ranks, but the test is registered with SPAWNS " +
                           spawns);
  const char* flag = std::getenv("PEPPP_MPIEXEC_NUMPROC_FLAG");
  const char* pre = std::getenv("PEPPP_MPIEXEC_PREFLAGS");
  std::string cmd = std::string(exe) + " " + (flag ? flag : "-n") + " " + std::to_string(ranks) + " ";
  if (pre && *pre) cmd += std::string(pre) + " ";
  return cmd;
}

}  // namespace peppp::test
