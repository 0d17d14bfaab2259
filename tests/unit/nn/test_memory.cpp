// Model zoo sizes and the F2 memory model.
#include <gtest/gtest.h>

#include <cmath>

#include <cstdio>
#include <fstream>
#include <utility>
#include <vector>

#include "test_util.hpp"

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/nn/model.hpp"

using peppp::Configuration;
using peppp::FloatFormat;
namespace nn = peppp::nn;

TEST(NnMemory, ResNet18HasThePapersParameterCount) {
  const auto c = nn::model_counts("resnet18", 10, 3, 32);
  EXPECT_EQ(c.parameters, 11173962);
  // METHOD.md F2: input, every conv/BN/ReLU/add output, pooled features, logits.
  EXPECT_EQ(c.activations, 2035210);
  // 64x64 inputs: every spatial activation is 4x larger (pooled features and logits are not).
  const auto c64 = nn::model_counts("resnet18", 10, 3, 64);
  EXPECT_EQ(c64.parameters, c.parameters);
  EXPECT_EQ(c64.activations - 512 - 10, 4 * (c.activations - 512 - 10));
}

TEST(NnMemory, SmallCnnCountsByHand) {
  // 1x8x8 input, 3 classes: conv16 (3x3, no bias) BN ReLU pool -> 16x4x4, conv32 BN ReLU pool -> 32x2x2,
  // adaptive pool to 32x7x7, linear 1568 -> 3.
  const auto c = nn::model_counts("small-cnn", 3, 1, 8);
  EXPECT_EQ(c.parameters, 144 + 32 + 4608 + 64 + 1568 * 3 + 3);
  const std::map<std::string, std::int64_t> expected = {
      {"input", 64},       {"conv", 16 * 64 + 32 * 16}, {"batchnorm", 16 * 64 + 32 * 16},
      {"relu", 16 * 64 + 32 * 16}, {"pool", 16 * 16 + 32 * 4 + 32 * 49}, {"linear", 3}};
  EXPECT_EQ(c.activations_by_type, expected);
  EXPECT_EQ(c.activations, 64 + 3 * 1536 + 256 + 128 + 1568 + 3);
}

TEST(NnMemory, ResNet8CountsResidualAddsAndShortcuts) {
  // 1x8x8, 2 classes; stages 16@8x8, 32@4x4, 64@2x2; stages 2 and 3 have a 1x1 conv + BN shortcut.
  const auto c = nn::model_counts("resnet8", 2, 1, 8);
  const std::int64_t s1 = 16 * 64, s2 = 32 * 16, s3 = 64 * 4;
  EXPECT_EQ(c.activations_by_type.at("add"), s1 + s2 + s3);
  // stem + 2 per block + shortcut convs of stages 2, 3
  EXPECT_EQ(c.activations_by_type.at("conv"), s1 + 2 * s1 + 2 * s2 + 2 * s3 + s2 + s3);
  EXPECT_EQ(c.activations_by_type.at("batchnorm"), c.activations_by_type.at("conv"));
  // stem ReLU + two per block
  EXPECT_EQ(c.activations_by_type.at("relu"), s1 + 2 * s1 + 2 * s2 + 2 * s3);
  EXPECT_EQ(c.activations_by_type.at("pool"), 64);
  EXPECT_EQ(c.activations_by_type.at("linear"), 2);
  EXPECT_EQ(c.activations_by_type.at("input"), 64);
}

TEST(NnMemory, MlpCountsByHand) {
  // 1x28x28, 10 classes: 784 -> 256 -> 128 -> 64 -> 10, ReLU after every hidden layer.
  const auto c = nn::model_counts("mlp", 10, 1, 28);
  EXPECT_EQ(c.parameters, (784 * 256 + 256) + (256 * 128 + 128) + (128 * 64 + 64) + (64 * 10 + 10));
  EXPECT_EQ(c.parameters, 242762);
  const std::map<std::string, std::int64_t> expected = {
      {"input", 784}, {"linear", 256 + 128 + 64 + 10}, {"relu", 256 + 128 + 64}};
  EXPECT_EQ(c.activations_by_type, expected);
  EXPECT_EQ(c.activations, 1690);
  ASSERT_EQ(c.points.size(), 8u);
  EXPECT_EQ(c.points[1].layer, "hidden0");
  EXPECT_EQ(c.points[2].layer, "hidden0_relu");
  EXPECT_EQ(c.points[7].layer, "fc");
}

TEST(NnMemory, VitTinyCountsByHand) {
  // 1x28x28, 10 classes: patch 4 -> 7x7 = 49 tokens of width 32, 2 pre-norm blocks with 2 heads
  // of 16 and an MLP of 64, final LayerNorm, mean over the tokens, linear head.
  const std::int64_t C = 1, p = 4, T = 49, D = 32, H = 2, M = 64, K = 10;
  const auto c = nn::model_counts("vit-tiny", K, C, 28);
  const std::int64_t block = 2 * D + (D * 3 * D + 3 * D) + (D * D + D) + 2 * D + (D * M + M) + (M * D + D);
  EXPECT_EQ(c.parameters, (C * p * p * D + D) + T * D + 2 * block + 2 * D + (D * K + K));
  EXPECT_EQ(c.parameters, 19594);
  const std::map<std::string, std::int64_t> expected = {
      {"input", 784},
      {"conv", T * D},                                       // patch embedding
      {"add", T * D + 2 * 2 * T * D},                        // position embedding, two residual adds per block
      {"layernorm", 2 * 2 * T * D + T * D},                  // two per block, final
      {"linear", 2 * (3 * T * D + T * D + T * M + T * D) + K},  // qkv, proj, fc1, fc2; head
      {"matmul", 2 * (H * T * T + T * D)},                   // scores, scores·v
      {"softmax", 2 * H * T * T},
      {"gelu", 2 * T * M},
      {"pool", D}};
  EXPECT_EQ(c.activations_by_type, expected);
  EXPECT_EQ(c.activations, 68642);
  // Every point in forward order, named by its layer.
  ASSERT_EQ(c.points.size(), 3u + 2 * 12 + 3);
  std::int64_t sum = 0;
  for (const auto& pt : c.points) sum += pt.activations;
  EXPECT_EQ(sum, c.activations);
  const std::vector<std::pair<std::string, std::string>> first = {
      {"input", "input"}, {"patch_embed", "conv"}, {"pos_embed", "add"}, {"blocks0.norm1", "layernorm"},
      {"blocks0.attn_qkv", "linear"}, {"blocks0.attn_scores", "matmul"}, {"blocks0.attn_softmax", "softmax"},
      {"blocks0.attn_values", "matmul"}, {"blocks0.attn_proj", "linear"}, {"blocks0.attn_add", "add"},
      {"blocks0.norm2", "layernorm"}, {"blocks0.mlp_fc1", "linear"}, {"blocks0.mlp_gelu", "gelu"},
      {"blocks0.mlp_fc2", "linear"}, {"blocks0.mlp_add", "add"}, {"blocks1.norm1", "layernorm"}};
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(c.points[i].layer, first[i].first) << i;
    EXPECT_EQ(c.points[i].kind, first[i].second) << i;
  }
  EXPECT_EQ(c.points[5].activations, H * T * T);
  EXPECT_EQ(c.points.back().layer, "fc");
  // Patch 2 at 14 px (7x7 tokens again: only the patch embedding's kernel changes), 4 at 32 px (8x8).
  EXPECT_EQ(nn::model_counts("vit-tiny", K, C, 14).parameters, c.parameters - (16 - 4) * D);
  EXPECT_EQ(nn::model_counts("vit-tiny", K, C, 14).activations, c.activations - 784 + 196);
  EXPECT_EQ(nn::model_counts("vit-tiny", K, 3, 32).parameters, c.parameters + (3 * 16 - 16) * D + (64 - 49) * D);
  EXPECT_THROW(nn::model_counts("vit-tiny", K, C, 1), peppp::InputError);
}

TEST(NnMemory, ZooPointsAreNamedByTheirLayers) {
  const auto c = nn::model_counts("resnet8", 2, 1, 8);
  std::int64_t sum = 0;
  for (const auto& pt : c.points) sum += pt.activations;
  EXPECT_EQ(sum, c.activations);
  ASSERT_GE(c.points.size(), 5u);
  EXPECT_EQ(c.points[0].layer, "input");
  EXPECT_EQ(c.points[1].layer, "stem_conv");
  EXPECT_EQ(c.points[2].layer, "stem_bn");
  EXPECT_EQ(c.points[3].layer, "stem_relu");
  EXPECT_EQ(c.points[4].layer, "layer1_0.1_conv");
  EXPECT_EQ(c.points.back().layer, "fc");
  EXPECT_EQ(c.points.back().kind, "linear");
  const auto s = nn::model_counts("small-cnn", 3, 1, 8);
  EXPECT_EQ(s.points[4].layer, "features1_pool");
  EXPECT_EQ(s.points[4].kind, "pool");
}

TEST(NnMemory, EveryModelBuildsAtSmallAndLargeResolutions) {
  for (const auto& name : nn::model_names()) {
    for (int res : {28, 32}) {
      const auto c = nn::model_counts(name, 10, name == "small-cnn" ? 1 : 3, res);
      EXPECT_GT(c.parameters, 0) << name;
      EXPECT_GT(c.activations, 0) << name;
    }
  }
  // Well-known sizes (CIFAR-style, 10 classes).
  EXPECT_EQ(nn::model_counts("resnet34", 10, 3, 32).parameters, 21282122);
  // VGG-16-BN as in the usual CIFAR code (14,728,266) less the 4,224 conv biases that
  // batch norm makes redundant (peppp's convolutions have no bias).
  EXPECT_EQ(nn::model_counts("vgg16", 10, 3, 32).parameters, 14728266 - 4224);
}

TEST(NnMemory, MemoryIsAffineInTheBitWidths) {
  const auto counts = nn::model_counts("resnet18", 10, 3, 32);
  auto mem = [&](int ea, int ma, int eb, int mb) {
    return nn::memory_from_counts(counts, 32, Configuration{FloatFormat(ea, ma), FloatFormat(eb, mb)});
  };
  const double kMiB = 8.0 * 1024 * 1024;
  const auto m = mem(4, 3, 6, 7);  // bA = 8, bB = 14
  EXPECT_DOUBLE_EQ(m.weights, 8.0 * counts.parameters / kMiB);
  EXPECT_DOUBLE_EQ(m.activations, 8.0 * 32 * counts.activations / kMiB);
  EXPECT_DOUBLE_EQ(m.optimizer, 14.0 * 3 * counts.parameters / kMiB);
  EXPECT_DOUBLE_EQ(m.total, m.weights + m.activations + m.optimizer);
  // Affine: equal steps in bA (or bB) give equal steps in memory; equal bit totals give equal memory.
  const double da1 = mem(4, 4, 6, 7).total - m.total, da2 = mem(5, 4, 6, 7).total - mem(4, 4, 6, 7).total;
  EXPECT_NEAR(da1, da2, 1e-9);
  const double db1 = mem(4, 3, 6, 9).total - m.total, db2 = mem(4, 3, 6, 11).total - mem(4, 3, 6, 9).total;
  EXPECT_NEAR(db2, db1, 1e-9);
  EXPECT_NEAR(mem(3, 4, 7, 7).total, mem(4, 3, 6, 8).total, 1e-9);
  const auto full = nn::cell_memory("resnet18", 10, 3, 32, 32, Configuration{FloatFormat(4, 3), FloatFormat(6, 7)});
  EXPECT_DOUBLE_EQ(full.total, m.total);
}

TEST(NnMemory, BadInputsAreInputErrors) {
  EXPECT_THROW(nn::model_counts("resnet19", 10, 3, 32), peppp::InputError);
  EXPECT_THROW(nn::model_counts("resnet18", 0, 3, 32), peppp::InputError);
  EXPECT_THROW(nn::cell_memory("resnet18", 10, 3, 32, 0, Configuration{}), peppp::InputError);
}

TEST(NnMemory, MemoryCommandPrintsTheMatrix) {
  const std::string dir = peppp::test::scratch_dir();
  {
    std::ofstream cat(dir + "/tasks.ini");
    cat << "[dataset d]\nkind = idx\npath = " << dir << "\nclasses = 3\n"
        << "[task small]\ndataset = d\nclasses = class0, class1\nresolution = 8\nchannels = 1\n"
        << "[task big]\ndataset = d\nclasses = class0, class1, class2\nresolution = 16\nchannels = 1\n";
    std::ofstream ini(dir + "/c.ini");
    ini << "[campaign]\ntasks = tasks.ini\nmodel = resnet8\nformats_a = e3m1,e5m2\nformats_b = e6m7\n";
  }
  const auto r = peppp::test::run_command(peppp::test::peppp_exe() + " memory --config " + dir + "/c.ini");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Configuration cfg{FloatFormat(5, 2), FloatFormat(6, 7)};
  const auto m = nn::cell_memory("resnet8", 3, 1, 16, 32, cfg);
  char expected[128];
  std::snprintf(expected, sizeof expected, "%-24s %-12s %12.3f %12.3f %12.3f %12.3f", "big", "e5m2/e6m7", m.weights,
                m.activations, m.optimizer, m.total);
  EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2 tasks x 2 configurations"), std::string::npos) << r.output;
  // memory.nc: the same numbers in the campaign schema, nothing measured.
  const auto w = peppp::test::run_command(peppp::test::peppp_exe() + " memory --config " + dir + "/c.ini --output " +
                                          dir + "/m.nc");
  ASSERT_EQ(w.exit_code, 0) << w.output;
  const peppp::io::Campaign mc = peppp::io::read_campaign(dir + "/m.nc");
  ASSERT_EQ(mc.n_tasks(), 2u);
  ASSERT_EQ(mc.n_configs(), 2u);
  const std::size_t cell = mc.at(1, 1);  // task "big", e5m2/e6m7
  EXPECT_EQ(mc.task[1], "big");
  EXPECT_EQ(mc.config[1], "e5m2/e6m7");
  EXPECT_NEAR(mc.memory[cell], m.total, 1e-12);
  EXPECT_NEAR(mc.memory_activations[cell], m.activations, 1e-12);
  for (auto st : mc.status) EXPECT_EQ(st, 0);
  for (double e : mc.error) EXPECT_TRUE(std::isnan(e));
}

TEST(MemoryModel, BlockFormatsCountTheirScaleShare) {
  // QUANT.md "Standard formats": 8.25 bits per mxfp8 element (8 + 8/32), 16 per bf16 element.
  const auto counts = nn::model_counts("resnet18", 10, 3, 32);
  const auto m = nn::memory_from_counts(counts, 32, Configuration::parse("mxfp8-e4m3/bf16"));
  const double nw = static_cast<double>(counts.parameters), nact = static_cast<double>(counts.activations);
  const double mib = 8.0 * 1024 * 1024;
  EXPECT_DOUBLE_EQ(m.weights, 8.25 * nw / mib);
  EXPECT_DOUBLE_EQ(m.activations, 8.25 * 32 * nact / mib);
  EXPECT_DOUBLE_EQ(m.optimizer, 16.0 * 3 * nw / mib);
  const auto n = nn::memory_from_counts(counts, 32, Configuration::parse("nvfp4/mxfp4"));
  EXPECT_DOUBLE_EQ(n.weights, 4.5 * nw / mib);
  EXPECT_DOUBLE_EQ(n.optimizer, 4.25 * 3 * nw / mib);
}
