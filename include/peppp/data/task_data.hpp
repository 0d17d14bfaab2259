#pragma once
/// @file task_data.hpp
/// @brief The tensors of one loaded task, as the trainer consumes them.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace peppp::data {

/// One task, loaded, resized, subsampled and normalised (per-channel mean
/// and std of the training split), on the CPU.
struct TaskData {
  std::string name;        ///< task name from the catalog
  int classes = 0;         ///< number of classes (labels are 0..classes-1)
  int channels = 0;        ///< image channels (1 or 3)
  int resolution = 0;      ///< image height = width, pixels
  torch::Tensor train_x;   ///< float32 [n_train, channels, resolution, resolution], normalised
  torch::Tensor train_y;   ///< int64 [n_train], 0..classes-1
  torch::Tensor test_x;    ///< float32 [n_test, channels, resolution, resolution], normalised
  torch::Tensor test_y;    ///< int64 [n_test]
  std::vector<double> channel_mean;  ///< per-channel mean of the training split (pixels scaled to [0, 1]), before normalising
  std::vector<double> channel_std;   ///< per-channel standard deviation (population) of the training split, before normalising
};

}  // namespace peppp::data
