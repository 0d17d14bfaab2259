#pragma once
// The nn tests' synthetic task: two noisy classes of 1x8x8 images, class 1
// with a brighter upper half (learnable in a few steps).
#include <torch/torch.h>

#include "peppp/data/task_data.hpp"

namespace peppp::test {

inline data::TaskData synthetic_task(int n_train, int n_test) {
  torch::manual_seed(99);
  auto make = [](int n, torch::Tensor& x, torch::Tensor& y) {
    y = torch::randint(0, 2, {n}, torch::kInt64);
    x = torch::randn({n, 1, 8, 8});
    x.narrow(2, 0, 4).add_(y.to(torch::kFloat32).mul(0.35).view({n, 1, 1, 1}));
  };
  data::TaskData t;
  t.name = "synthetic";
  t.classes = 2;
  t.channels = 1;
  t.resolution = 8;
  make(n_train, t.train_x, t.train_y);
  make(n_test, t.test_x, t.test_y);
  return t;
}

}  // namespace peppp::test
