#include "peppp/par/synthetic.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>
#include <thread>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"

namespace peppp::par {

namespace {
// Uniform [0, 1) from stream `k` of a cell seed.
double u01(std::uint64_t seed, std::uint64_t k) {
  return static_cast<double>(mix64(seed ^ mix64(k + 0x51ed2701ULL)) >> 11) * 0x1.0p-53;
}
}  // namespace

double synthetic_seconds(const SyntheticSpec& s, std::uint64_t seed) {
  return std::max(0.0, s.seconds * (1.0 + s.spread * (2.0 * u01(seed, 1) - 1.0)));
}

double synthetic_row_seconds(const SyntheticSpec& s, int task) {
  if (s.row_scale.empty() || task < 0) return s.seconds;
  return s.seconds * s.row_scale[static_cast<std::size_t>(task) % s.row_scale.size()];
}

double synthetic_seconds(const SyntheticSpec& s, std::uint64_t seed, int task) {
  return s.seconds > 0 ? synthetic_seconds(s, seed) * synthetic_row_seconds(s, task) / s.seconds : 0.0;
}

CellTrainer synthetic_trainer(SyntheticSpec spec) {
  return [spec](const CellWork& w) {
    using clock = std::chrono::steady_clock;
    const auto end = clock::now() + std::chrono::duration_cast<clock::duration>(
                                        std::chrono::duration<double>(synthetic_seconds(spec, w.seed, w.task)));
    for (;;) {
      if (w.should_stop && w.should_stop()) throw Interrupted("synthetic cell abandoned on a stop request");
      const auto now = clock::now();
      if (now >= end) break;
      if (spec.spin) continue;
      std::this_thread::sleep_for(std::min<clock::duration>(end - now, std::chrono::milliseconds(50)));
    }
    if (u01(w.seed, 2) < spec.fail_fraction) throw std::runtime_error("synthetic failure (injected)");
    CellResult r;
    r.status = CellStatus::measured;
    r.test_error = 0.05 + 0.9 * u01(w.seed, 3);
    r.final_loss = 2.3 * r.test_error;
    for (int e = 1; e <= spec.epochs; ++e) {
      // A learning curve: from near chance towards the final error, with a hash-scattered
      // wobble that shrinks with the epoch (so early epochs rank the cells imperfectly).
      const double left = static_cast<double>(spec.epochs - e) / static_cast<double>(spec.epochs);
      const double wobble = 0.25 * left * (2.0 * u01(w.seed, 16 + static_cast<std::uint64_t>(e)) - 1.0);
      const double err = e == spec.epochs ? r.test_error
                                          : std::clamp(r.test_error + (0.9 - r.test_error) * left * left + wobble, 0.0, 1.0);
      r.error_by_epoch.push_back(err);
      r.loss_by_epoch.push_back(2.3 * err);
    }
    if (u01(w.seed, 4) < spec.diverge_fraction) {
      r.status = CellStatus::diverged;
      r.final_loss = std::numeric_limits<double>::quiet_NaN();
    }
    return r;
  };
}

std::vector<TaskRow> synthetic_tasks(const std::vector<std::string>& names) {
  std::vector<TaskRow> out;
  for (const auto& n : names) {
    TaskRow t;
    t.name = starts_with(n, "synthetic-") ? n : "synthetic-" + n;
    t.dataset = "synthetic";
    t.classes = 10;
    t.resolution = 28;
    t.train_size = 1000;
    t.test_size = 200;
    out.push_back(t);
  }
  return out;
}

void synthetic_memory(meta::PlanSpec& spec) {
  const std::size_t n = spec.tasks.size(), d = spec.configs.size();
  spec.memory.assign(n * d, 0);
  spec.memory_weights.assign(n * d, 0);
  spec.memory_activations.assign(n * d, 0);
  spec.memory_optimizer.assign(n * d, 0);
  for (std::size_t t = 0; t < n; ++t)
    for (std::size_t c = 0; c < d; ++c) {
      const auto& k = spec.configs[c];
      const double a = k.a.bits(), b = k.b.bits();
      const double res = spec.tasks[t].resolution > 0 ? spec.tasks[t].resolution : 28;
      const std::size_t i = t * d + c;
      spec.memory_weights[i] = 0.25 * a;
      spec.memory_activations[i] = 0.01 * a * res * res / 28.0;
      spec.memory_optimizer[i] = 0.75 * b;
      spec.memory[i] = spec.memory_weights[i] + spec.memory_activations[i] + spec.memory_optimizer[i];
    }
  spec.memory_source = "synthetic stand-in proportional to format bits (not the nn memory model)";
}

}  // namespace peppp::par
