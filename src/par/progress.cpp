#include "peppp/par/progress.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>

#include "peppp/core/log.hpp"

namespace peppp::par {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const long long t = std::llround(s);
  char buf[48];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%llds", t);
  return buf;
}

Progress::Progress(std::string what, std::int64_t total, std::int64_t already, bool terminal, double interval_s)
    : what_(std::move(what)), total_(total), already_(already), terminal_(terminal), interval_s_(interval_s),
      start_(std::chrono::steady_clock::now()) {}

std::string Progress::line(std::int64_t done, std::int64_t failed, double elapsed) const {
  const std::int64_t now = done - already_;
  const double pct = total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
  char buf[256];
  if (now > 0 && elapsed > 0) {
    const double rate = static_cast<double>(now) / elapsed * 3600.0;
    const double eta = static_cast<double>(total_ - done) / static_cast<double>(now) * elapsed;
    std::snprintf(buf, sizeof buf, "%s: %lld/%lld cells (%.1f%%), %.0f cells/hour, ETA %s, %lld failed",
                  what_.c_str(), static_cast<long long>(done), static_cast<long long>(total_), pct, rate,
                  format_duration(eta).c_str(), static_cast<long long>(failed));
  } else {
    std::snprintf(buf, sizeof buf, "%s: %lld/%lld cells (%.1f%%), %lld failed", what_.c_str(),
                  static_cast<long long>(done), static_cast<long long>(total_), pct, static_cast<long long>(failed));
  }
  return buf;
}

void Progress::update(std::int64_t done, std::int64_t failed) {
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (done < total_ && t - last_print_ < interval_s_) return;
  last_print_ = t;
  if (log::level() < log::Level::info || log::rank() != 0) return;
  if (terminal_) {
    std::cout << "\r" << line(done, failed, t) << "\x1b[K" << std::flush;
    open_line_ = true;
  } else {
    log::info(line(done, failed, t));
  }
}

void Progress::finish() {
  if (open_line_) std::cout << "\n" << std::flush;
  open_line_ = false;
}

}  // namespace peppp::par
