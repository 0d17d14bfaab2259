#include "peppp/par/device.hpp"

#include <algorithm>
#include <cstdint>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"

namespace peppp::par {

std::string select_device(const std::string& requested, int local_rank, int cuda_devices) {
  if (requested == "cpu") return "cpu";
  if (requested != "auto" && requested != "cuda")
    throw InputError("run.device = '" + requested + "'; allowed: auto, cpu, cuda");
  if (cuda_devices <= 0) {
    if (requested == "cuda")
      throw InputError("run.device = cuda, but this LibTorch build sees no CUDA device; use auto or cpu");
    return "cpu";
  }
  return "cuda:" + std::to_string(std::max(0, local_rank) % cuda_devices);
}

int select_threads(int requested, const char* slurm, int cores, int local_ranks) {
  if (requested > 0) return requested;
  std::int64_t v = 0;
  if (slurm && parse_int(trim(slurm), v) && v > 0) return static_cast<int>(v);
  return std::max(1, cores / std::max(1, local_ranks));
}

}  // namespace peppp::par
