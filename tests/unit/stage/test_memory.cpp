// stage::memory at one rank: the F2 memory of every cell, in the campaign
// schema (nothing measured), and memory.nc written as the matrix.
#include <gtest/gtest.h>

#include <cmath>

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/stage/memory.hpp"
#include "test_util.hpp"

using namespace peppp;

namespace {

TaskSpec task(const std::string& name, int classes, int channels, int resolution) {
  TaskSpec t;
  t.name = name;
  t.dataset = "fashion";
  for (int k = 0; k < classes; ++k) t.classes.push_back(k);
  t.channels = channels;
  t.resolution = resolution;
  t.train_size = 100;
  return t;
}

stage::MemoryJob job() {
  stage::MemoryJob j;
  j.tasks = {task("two", 2, 1, 14), task("three", 3, 3, 16)};
  j.configs = {Configuration::parse("e4m3/e6m7"), Configuration::parse("e8m23/e8m23")};
  j.batch_size = 16;
  j.attributes.text["peppp_command"] = "memory";
  return j;
}

}  // namespace

TEST(MemoryStage, MatrixIsTheMemoryModelOfEveryCell) {
  const stage::MemoryJob j = job();
  const io::Campaign m = stage::memory_matrix(j);
  ASSERT_EQ(m.task, (std::vector<std::string>{"two", "three"}));
  ASSERT_EQ(m.n_configs(), 2u);
  for (std::size_t t = 0; t < 2; ++t)
    for (std::size_t c = 0; c < 2; ++c) {
      const auto& ts = j.tasks[t];
      const auto want = nn::cell_memory(j.model, ts.num_classes(), ts.channels, ts.resolution, j.batch_size,
                                        j.configs[c]);
      const std::size_t i = m.at(t, c);
      EXPECT_EQ(m.memory[i], want.total);
      EXPECT_EQ(m.memory_weights[i], want.weights);
      EXPECT_EQ(m.memory_activations[i], want.activations);
      EXPECT_EQ(m.memory_optimizer[i], want.optimizer);
      EXPECT_EQ(m.status[i], static_cast<std::uint8_t>(CellStatus::not_planned));
      EXPECT_TRUE(std::isnan(m.error[i]));
    }
  // Wider formats cost more; a larger task costs more.
  EXPECT_LT(m.memory[m.at(0, 0)], m.memory[m.at(0, 1)]);
  EXPECT_LT(m.memory[m.at(0, 0)], m.memory[m.at(1, 0)]);
  EXPECT_EQ(m.task_classes, (std::vector<int>{2, 3}));
  EXPECT_EQ(m.number_attributes.at("batch_size"), 16);
  EXPECT_EQ(m.text_attributes.at("model"), "small-cnn");
  EXPECT_EQ(m.text_attributes.at("peppp_command"), "memory");
}

TEST(MemoryStage, WritesTheMatrixItReturns) {
  stage::MemoryJob j = job();
  j.output = test::scratch_dir(MPI_COMM_SELF) + "/memory.nc";
  const io::Campaign m = stage::memory(j, MPI_COMM_SELF);
  const io::Campaign back = io::read_campaign(j.output);
  EXPECT_EQ(back.task, m.task);
  EXPECT_EQ(back.config, m.config);
  EXPECT_EQ(back.memory, m.memory);
  EXPECT_EQ(back.memory_activations, m.memory_activations);
}

TEST(MemoryStage, UnknownModelIsRefused) {
  stage::MemoryJob j = job();
  j.model = "no-such-net";
  EXPECT_THROW(stage::memory_matrix(j), InputError);
}
