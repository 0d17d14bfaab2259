#include "peppp/core/log.hpp"

#include <cstdio>
#include <mutex>

namespace peppp::log {
namespace {
Level g_level = Level::info;
int g_rank = 0;
int g_size = 1;
bool g_all = false;
std::mutex g_mutex;

void emit(Level level, const std::string& message, bool prefix) {
  std::lock_guard<std::mutex> lock(g_mutex);
  FILE* out = (level <= Level::warn) ? stderr : stdout;
  const char* tag = level == Level::error ? "error: " : level == Level::warn ? "warning: " : "";
  if (prefix && g_size > 1) {
    std::fprintf(out, "[rank %d] %s%s\n", g_rank, tag, message.c_str());
  } else {
    std::fprintf(out, "%s%s\n", tag, message.c_str());
  }
  std::fflush(out);
}
}  // namespace

void set_level(Level level) { g_level = level; }
Level level() { return g_level; }
void set_rank(int rank, int size) { g_rank = rank; g_size = size; }
int rank() { return g_rank; }
void set_all_ranks(bool all) { g_all = all; }

void write(Level level, const std::string& message) {
  if (level > g_level || level == Level::quiet) return;
  if (g_all) {
    emit(level, message, true);
  } else if (g_rank == 0) {
    emit(level, message, false);
  }
}

void write_all(Level level, const std::string& message) {
  if (level > g_level || level == Level::quiet) return;
  emit(level, message, true);
}
}  // namespace peppp::log
