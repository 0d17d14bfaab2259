// TorchScript networks (campaign.model = torchscript:PATH): a scripted twin
// of the zoo's small-cnn has the zoo's quantizer points and memory model and
// trains bit for bit like it; bad files are refused with one line. The
// networks are scripted at test time by examples/models/export.py (skipped
// without a Python that has torch).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "test_util.hpp"

#include "peppp/core/error.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/nn/model.hpp"
#include "peppp/nn/optimizer.hpp"
#include "peppp/nn/torchscript.hpp"
#include "peppp/nn/trainer.hpp"
#include "synthetic_task.hpp"

using peppp::CellStatus;
using peppp::Configuration;
using peppp::TrainSettings;
namespace nn = peppp::nn;
namespace test = peppp::test;

namespace {

using peppp::test::torch_python;

// Script `network` of examples/models/networks.py into dir/network.pt.
std::string export_network(const std::string& dir, const std::string& network, int channels, int classes,
                           int resolution) {
  const std::string out = dir + "/" + network + "-" + std::to_string(channels) + "-" + std::to_string(classes) + "-" +
                          std::to_string(resolution) + ".pt";
  const auto r = test::run_command(torch_python() + " " + test::source_path("examples/models/export.py") + " " +
                                   network + " --channels " + std::to_string(channels) + " --classes " +
                                   std::to_string(classes) + " --resolution " + std::to_string(resolution) +
                                   " --out " + out);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return out;
}

#define REQUIRE_TORCH_PYTHON() \
  if (torch_python().empty()) GTEST_SKIP() << "no Python with torch (set PEPPP_PYTHON)"

peppp::data::TaskData synthetic(int n_train, int n_test) { return peppp::test::synthetic_task(n_train, n_test); }

// Write the weights and buffers of the zoo's `name` (built as train_cell
// builds it for `seed`) into the TorchScript file `path`.
void load_zoo_weights(const std::string& path, const std::string& name, int classes, int channels, int resolution,
                      std::uint64_t seed) {
  torch::manual_seed(seed);
  auto zoo = nn::make_model(name, classes, channels, resolution, nullptr);
  torch::jit::Module m = torch::jit::load(path);
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> mine;
  for (const auto& p : m.named_parameters()) mine[p.name] = p.value;
  for (const auto& b : m.named_buffers()) mine[b.name] = b.value;
  int copied = 0;
  for (const auto& p : zoo->named_parameters()) {
    ASSERT_TRUE(mine.count(p.key())) << p.key();
    mine[p.key()].copy_(p.value());
    ++copied;
  }
  for (const auto& b : zoo->named_buffers()) {
    if (mine.count(b.key())) mine[b.key()].copy_(b.value());
  }
  EXPECT_EQ(copied, static_cast<int>(m.parameters().size()));
  m.save(path);
}

}  // namespace

TEST(NnTorchScript, SmallCnnTwinHasTheZoosPointsAndMemoryModel) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir();
  const std::string model = "torchscript:" + export_network(dir, "small-cnn", 1, 3, 8);
  const auto zoo = nn::model_counts("small-cnn", 3, 1, 8);
  const auto ts = nn::model_counts(model, 3, 1, 8);
  EXPECT_EQ(ts.parameters, zoo.parameters);
  EXPECT_EQ(ts.activations, zoo.activations);
  EXPECT_EQ(ts.activations_by_type, zoo.activations_by_type);
  ASSERT_EQ(ts.points.size(), zoo.points.size());
  for (std::size_t i = 0; i < zoo.points.size(); ++i) {
    EXPECT_EQ(ts.points[i].kind, zoo.points[i].kind) << i;
    EXPECT_EQ(ts.points[i].activations, zoo.points[i].activations) << i;
  }
  // Points are named by module path and op.
  EXPECT_EQ(ts.points[0].layer, "input");
  EXPECT_EQ(ts.points[1].layer, "features0_conv.conv2d");
  EXPECT_EQ(ts.points[2].layer, "features0_bn.batch_norm");
  EXPECT_EQ(ts.points.back().layer, "fc.linear");
  // The fingerprint names the file's content and every point.
  const std::string fp = nn::model_fingerprint(model, 3, 1, 8);
  EXPECT_EQ(fp.rfind(model + "#fnv1a64=" + nn::model_file_hash(model) + "#points=input:input:64,", 0), 0u) << fp;
  EXPECT_EQ(nn::model_fingerprint("small-cnn", 3, 1, 8), "small-cnn");
  // The rewritten graph holds one quantizer op per point.
  nn::ScriptedModel net(model.substr(12), 3, 1, 8, std::make_shared<nn::ActivationQuantizer>());
  int quantizers = 0;
  for (const torch::jit::Node* n : net.graph()->nodes()) quantizers += n->kind().toQualString() == std::string("peppp::quantize");
  EXPECT_EQ(quantizers, static_cast<int>(zoo.points.size()));
}

TEST(NnTorchScript, SmallCnnTwinTrainsBitForBitLikeTheZoo) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir();
  const std::string path = export_network(dir, "small-cnn", 1, 2, 8);
  const std::uint64_t seed = 17;
  load_zoo_weights(path, "small-cnn", 2, 1, 8, seed);
  const auto task = synthetic(96, 64);
  TrainSettings s;
  s.epochs = 2;
  s.learning_rate = 0.02;
  s.threads = 1;
  s.rounding.activations = peppp::Rounding::stochastic;  // every point draws: the streams must line up
  s.rounding.errors = peppp::Rounding::stochastic;
  for (const char* cfg : {"e4m3/e6m7", "e8m23/e8m23"}) {
    const auto zoo = nn::train_cell(task, Configuration::parse(cfg), s, seed, "small-cnn");
    const auto ts = nn::train_cell(task, Configuration::parse(cfg), s, seed, "torchscript:" + path);
    ASSERT_EQ(zoo.status, CellStatus::measured) << zoo.message;
    ASSERT_EQ(ts.status, CellStatus::measured) << ts.message;
    EXPECT_EQ(ts.final_loss, zoo.final_loss) << cfg;
    EXPECT_EQ(ts.test_error, zoo.test_error) << cfg;
    EXPECT_EQ(ts.loss_by_epoch, zoo.loss_by_epoch) << cfg;
  }
}

TEST(NnTorchScript, ExampleNetworksLoadCountAndTrain) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir();
  // The MLP of examples/models is the zoo's mlp: the same counts.
  const auto mlp = nn::model_counts("torchscript:" + export_network(dir, "mlp", 1, 2, 8), 2, 1, 8);
  EXPECT_EQ(mlp.parameters, nn::model_counts("mlp", 2, 1, 8).parameters);
  EXPECT_EQ(mlp.activations_by_type, nn::model_counts("mlp", 2, 1, 8).activations_by_type);
  // The ViT: points after the attention's matmuls and softmax, the norms, GELU.
  const std::string vit = "torchscript:" + export_network(dir, "vit", 1, 2, 8);
  const auto v = nn::model_counts(vit, 2, 1, 8);
  EXPECT_EQ(v.parameters, nn::model_counts("vit-tiny", 2, 1, 8).parameters);
  for (const char* kind : {"conv", "add", "layernorm", "linear", "matmul", "mul", "softmax", "gelu", "pool"}) {
    EXPECT_GT(v.activations_by_type.count(kind), 0u) << kind;
  }
  const std::string resnet = "torchscript:" + export_network(dir, "resnet", 1, 2, 8);
  const auto task = synthetic(64, 32);
  TrainSettings s;
  s.epochs = 1;
  s.learning_rate = 0.02;
  s.threads = 1;
  for (const std::string& model : {vit, resnet}) {
    const auto r = nn::train_cell(task, Configuration::parse("e5m3/e8m7"), s, 3, model);
    EXPECT_EQ(r.status, CellStatus::measured) << model << ": " << r.message;
    EXPECT_TRUE(std::isfinite(r.final_loss)) << model;
  }
}

TEST(NnTorchScript, BadNetworksAreRefusedWithOneLine) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir();
  auto refused = [](const std::string& model, int classes, int channels, const std::string& expected) {
    try {
      nn::model_counts(model, classes, channels, 8);
      ADD_FAILURE() << model << " accepted";
    } catch (const peppp::InputError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      EXPECT_NE(what.find(model), std::string::npos) << what;
      EXPECT_NE(what.find(expected), std::string::npos) << what;
    }
  };
  { std::ofstream(dir + "/garbage.pt") << "not a network\n"; }
  refused("torchscript:" + dir + "/garbage.pt", 2, 1, "not a TorchScript file");
  refused("torchscript:" + dir + "/missing.pt", 2, 1, "cannot be read");
  const std::string cnn = "torchscript:" + export_network(dir, "small-cnn", 1, 3, 8);
  refused(cnn, 4, 1, "returns [1, 3] for input [1, 1, 8, 8]: 3 logits for 4 classes; expected [1, K], K >= 4");
  refused(cnn, 3, 3, "fails on input [1, 3, 8, 8]");
  // Not a cell failure: train_cell refuses before training (one logit for the task's 2 classes).
  const auto task = synthetic(16, 8);
  const std::string one = "torchscript:" + export_network(dir, "small-cnn", 1, 1, 8);
  EXPECT_THROW(nn::train_cell(task, Configuration{}, TrainSettings{}, 1, one), peppp::InputError);
}

// One file for tasks of several class counts: a head of K logits serves a task of C <= K classes
// through its first C logits (the loss and the argmax see only those); its memory model counts the
// whole head, as the network computes it.
TEST(NnTorchScript, ALargerHeadServesATaskThroughItsFirstLogits) {
  REQUIRE_TORCH_PYTHON();
  const std::string dir = test::scratch_dir();
  const std::string path = export_network(dir, "mlp", 1, 3, 8);
  torch::manual_seed(1);
  {
    nn::ScriptedModel net(path, 2, 1, 8, std::make_shared<nn::ActivationQuantizer>());
    net.eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor x = torch::randn({5, 1, 8, 8});
    const torch::Tensor logits = net.forward(x);
    ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{5, 2}));
    const torch::Tensor all = net.module().forward({x}).toTensor();
    ASSERT_EQ(all.sizes(), (std::vector<int64_t>{5, 3}));
    EXPECT_TRUE(torch::equal(logits, all.narrow(1, 0, 2)));
    // The same file on a 3-class task: every logit.
    nn::ScriptedModel three(path, 3, 1, 8, std::make_shared<nn::ActivationQuantizer>());
    three.eval();
    EXPECT_EQ(three.forward(x).size(1), 3);
  }
  const auto counts = nn::model_counts("torchscript:" + path, 2, 1, 8);
  ASSERT_FALSE(counts.points.empty());
  EXPECT_EQ(counts.points.back().activations, 3) << counts.points.back().layer;
  // It trains: a cell on a 2-class task is measured, never at a third class.
  TrainSettings s;
  s.learning_rate = 0.02;
  s.epochs = 2;
  s.threads = 1;
  const auto r = nn::train_cell(synthetic(64, 32), Configuration::parse("e5m3/e8m7"), s, 2, "torchscript:" + path);
  EXPECT_EQ(r.status, CellStatus::measured) << r.message;
  EXPECT_LT(r.test_error, 0.5);
}
