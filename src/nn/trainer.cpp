// Train one cell: quantized model + low-precision SGD, then the test error.
#include "peppp/nn/trainer.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/nn/model.hpp"
#include "peppp/nn/optimizer.hpp"

namespace peppp::nn {

namespace {

torch::Device parse_device(const std::string& text) {
  std::string s = to_lower(trim(text));
  if (s == "auto") s = torch::cuda::is_available() ? "cuda" : "cpu";
  if (s == "cpu") return torch::kCPU;
  if (starts_with(s, "cuda")) {
    if (!torch::cuda::is_available()) {
      throw InputError("device '" + text + "' asked for, but this LibTorch build sees no CUDA device; allowed: cpu, auto");
    }
    try {
      return torch::Device(s);
    } catch (const c10::Error&) {
    }
  }
  throw InputError("device '" + text + "' is not allowed; allowed: cpu, cuda, cuda:N, auto");
}

double misclassification(Model& net, const data::TaskData& task, torch::Device device, int chunk) {
  torch::NoGradGuard no_grad;
  net.eval();
  const int64_t n = task.test_x.size(0);
  int64_t wrong = 0;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min<int64_t>(chunk, n - start);
    torch::Tensor logits = net.forward(task.test_x.narrow(0, start, len).to(device));
    torch::Tensor y = task.test_y.narrow(0, start, len).to(device);
    torch::Tensor bad = logits.argmax(1).ne(y).logical_or(torch::isfinite(logits).all(1).logical_not());
    wrong += bad.sum().item<int64_t>();
  }
  return n > 0 ? static_cast<double>(wrong) / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

CellResult train_cell(const data::TaskData& task, const Configuration& config, const TrainSettings& settings,
                      std::uint64_t seed, const std::string& model) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto names = model_names();
  if (!is_torchscript(model) && std::find(names.begin(), names.end(), model) == names.end()) {
    throw InputError("model '" + model + "' is unknown; allowed: " + join(names, ", ") + ", torchscript:PATH");
  }
  // A network file that cannot be read, is not TorchScript or does not fit the task is
  // a bad configuration (one line, before any training), not a failing cell.
  if (is_torchscript(model)) model_counts(model, task.classes, task.channels, task.resolution);
  const torch::Device device = parse_device(settings.device);
  if (settings.epochs < 1 || settings.batch_size < 1) {
    throw InputError("train.epochs = " + std::to_string(settings.epochs) + ", train.batch_size = " +
                     std::to_string(settings.batch_size) + "; allowed: both >= 1");
  }
  CellResult r;
  try {
    if (settings.threads > 0) at::set_num_threads(settings.threads);
    torch::manual_seed(seed);
    auto q = std::make_shared<ActivationQuantizer>();
    q->set_formats(config);
    q->forward_rounding = settings.rounding.activations;
    q->backward_rounding = settings.rounding.errors;
    q->seed = mix64(seed ^ 0x616374ULL);
    auto net = make_model(model, task.classes, task.channels, task.resolution, q);
    net->to(device);
    // Per-role formats: each weight gets its layer's role (docs/roles.md); uniform: no lookup at all.
    const std::vector<Role> roles =
        config.uniform() ? std::vector<Role>{}
                         : model_counts(model, task.classes, task.channels, task.resolution).parameter_roles;
    LowPrecisionSgd opt(net->parameters(), config, settings, mix64(seed ^ 0x6f7074ULL), roles);

    const int64_t n = task.train_x.size(0);
    std::vector<int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(mix64(seed ^ 0x73687566ULL));
    const double scale = settings.loss_scale > 0 ? settings.loss_scale : static_cast<double>(settings.batch_size);
    r.status = CellStatus::measured;
    // Steps of the whole cell (the batch-norm guard skips a final batch of one).
    const int64_t steps_per_epoch = n / settings.batch_size + (n % settings.batch_size >= 2 ? 1 : 0);
    const double total_steps = static_cast<double>(steps_per_epoch) * settings.epochs;
    int64_t step = 0;
    const int run_epochs = settings.stop_after_epoch > 0 ? std::min(settings.stop_after_epoch, settings.epochs)
                                                         : settings.epochs;
    for (int epoch = 0; epoch < run_epochs && r.status == CellStatus::measured; ++epoch) {
      net->train();
      // Fisher-Yates by hand: std::shuffle's algorithm is implementation-defined.
      for (int64_t i = n - 1; i > 0; --i) {
        std::swap(order[i], order[static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(i + 1))]);
      }
      const torch::Tensor perm = torch::from_blob(order.data(), {n}, torch::kInt64);
      double loss_sum = 0;
      int64_t seen = 0;
      for (int64_t start = 0; start < n; start += settings.batch_size) {
        if (settings.should_stop && settings.should_stop()) {
          throw Interrupted("cell abandoned: stop requested");
        }
        const int64_t len = std::min<int64_t>(settings.batch_size, n - start);
        if (len < 2) break;  // batch norm needs two samples
        const torch::Tensor idx = perm.narrow(0, start, len);
        torch::Tensor x = task.train_x.index_select(0, idx).to(device);
        torch::Tensor y = task.train_y.index_select(0, idx).to(device);
        if (settings.cosine_schedule) {
          constexpr double kPi = 3.14159265358979323846;
          opt.set_learning_rate(settings.learning_rate * 0.5 *
                                (1.0 + std::cos(kPi * static_cast<double>(step) / std::max(1.0, total_steps))));
        }
        ++step;
        opt.zero_grad();
        torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        const double value = loss.item<double>();
        if (!std::isfinite(value)) {
          r.status = CellStatus::diverged;
          r.final_loss = value;
          r.message = "non-finite training loss in epoch " + std::to_string(epoch + 1);
          break;
        }
        if (scale != 1.0) {
          (loss * scale).backward();
        } else {
          loss.backward();
        }
        opt.step(scale);
        loss_sum += value * static_cast<double>(len);
        seen += len;
      }
      if (r.status == CellStatus::measured) r.final_loss = seen > 0 ? loss_sum / static_cast<double>(seen) : 0.0;
      if (settings.record_epochs) r.loss_by_epoch.push_back(r.final_loss);
      if (settings.record_epochs && epoch + 1 < run_epochs && r.status == CellStatus::measured) {
        // The error after this epoch (early epochs as a cheaper fidelity, docs/fidelity.md). The
        // activation quantizer's call counter is put back, so the training that follows
        // draws the same stochastic roundings as without this evaluation: the final error
        // is bit for bit that of a cell evaluated once.
        const std::uint64_t counter = q->counter;
        r.error_by_epoch.push_back(misclassification(*net, task, device, std::max(1, settings.eval_batch_size)));
        q->counter = counter;
      }
    }
    r.test_error = misclassification(*net, task, device, std::max(1, settings.eval_batch_size));
    // Epochs not run (a diverged cell stopped early) keep the state it stopped in.
    while (settings.record_epochs && static_cast<int>(r.error_by_epoch.size()) < run_epochs)
      r.error_by_epoch.push_back(r.test_error);
    while (settings.record_epochs && static_cast<int>(r.loss_by_epoch.size()) < run_epochs)
      r.loss_by_epoch.push_back(r.final_loss);
  } catch (const Interrupted&) {
    throw;  // abandoned, not failed: the driver re-runs it on resume
  } catch (const std::exception& e) {
    r.status = CellStatus::failed;
    r.test_error = std::numeric_limits<double>::quiet_NaN();
    std::string what = e.what();
    r.message = what.substr(0, what.find('\n'));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace peppp::nn
