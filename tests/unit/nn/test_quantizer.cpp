// Quantizer placement: every activation (forward) and every error (backward)
// of a model lies on the Format A grid. Checked on the real autograd graph
// with hooks, not by trusting where the model calls the quantizer.
#include <gtest/gtest.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>

#include <functional>
#include <set>
#include <string>
#include <unordered_set>

#include "peppp/nn/model.hpp"
#include "peppp/quant/quantize.hpp"

using peppp::FloatFormat;
using peppp::Rounding;
namespace nn = peppp::nn;
using torch::autograd::Node;

namespace {

bool on_grid(const torch::Tensor& t, FloatFormat f) {
  return torch::equal(peppp::quantize(t.detach().contiguous(), f, Rounding::nearest), t.detach().contiguous());
}

bool is_quantizer(const Node* n) { return n->name().find("QuantizeFn") != std::string::npos; }

// Backward nodes of the layers that must be followed by a quantizer.
bool is_layer(const Node* n) {
  const std::string s = n->name();
  for (const char* p : {"Convolution", "BatchNorm", "Relu", "AddBackward", "MaxPool", "AvgPool", "Addmm", "Mean",
                        "LayerNorm", "Gelu", "Softmax", "Bmm", "Baddbmm"}) {
    if (s.find(p) != std::string::npos) return true;
  }
  return false;
}

struct GridHook : torch::autograd::FunctionPreHook {
  GridHook(FloatFormat f, std::string name, std::vector<std::string>* bad, int* calls)
      : f_(f), name_(std::move(name)), bad_(bad), calls_(calls) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& grads) override {
    ++*calls_;
    for (const auto& g : grads) {
      if (g.defined() && !on_grid(g, f_)) bad_->push_back(name_);
    }
    return grads;
  }
  FloatFormat f_;
  std::string name_;
  std::vector<std::string>* bad_;
  int* calls_;
};

const std::vector<std::string> kCnnKinds = {"input", "conv", "batchnorm", "relu", "pool", "linear"};

void check_model(const std::string& name, int channels, FloatFormat f, Rounding fwd, Rounding bwd,
                 const std::vector<std::string>& kinds = kCnnKinds) {
  torch::manual_seed(3);
  auto q = std::make_shared<nn::ActivationQuantizer>();
  q->format = f;
  q->enabled = true;
  q->forward_rounding = fwd;
  q->backward_rounding = bwd;
  q->seed = 11;
  std::set<std::string> seen;
  std::vector<std::string> bad_forward;
  q->observer = [&](nn::LayerType t, const torch::Tensor& y) {
    seen.insert(nn::label(t));
    if (!on_grid(y, f)) bad_forward.push_back(nn::label(t));
  };
  auto net = nn::make_model(name, 3, channels, 8, q);
  net->train();
  torch::Tensor x = torch::randn({4, channels, 8, 8});
  torch::Tensor logits = net->forward(x);
  EXPECT_TRUE(bad_forward.empty()) << name << ": off-grid activation after " << bad_forward.front();
  for (const auto& t : kinds) EXPECT_TRUE(seen.count(t)) << name << ": no " << t;

  // Walk the graph: every layer node's only consumers are quantizers, and
  // every error arriving at a layer's output is checked by a pre-hook.
  std::vector<std::string> bad_backward;
  int calls = 0, layers = 0, quantizers = 0;
  std::vector<Node*> stack{logits.grad_fn().get()};
  std::unordered_set<Node*> visited{stack.back()};
  ASSERT_TRUE(is_quantizer(stack.back())) << "logits come from " << stack.back()->name();
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (is_layer(n)) {
      ++layers;
      n->add_pre_hook(std::make_unique<GridHook>(f, n->name(), &bad_backward, &calls));
    }
    if (is_quantizer(n)) ++quantizers;
    for (const auto& e : n->next_edges()) {
      Node* c = e.function.get();
      if (!c) continue;
      if (is_layer(c)) {
        EXPECT_TRUE(is_quantizer(n)) << name << ": " << c->name() << " feeds " << n->name() << " unquantized";
      }
      if (visited.insert(c).second) stack.push_back(c);
    }
  }
  EXPECT_GT(layers, 3);
  EXPECT_GE(quantizers, layers);
  torch::Tensor w = torch::randn_like(logits);  // arbitrary, off-grid incoming error
  (logits * w).sum().backward();
  EXPECT_EQ(calls, layers);
  EXPECT_TRUE(bad_backward.empty()) << name << ": off-grid error into " << bad_backward.front();
  // The errors really are quantized: some weight gradient is nonzero.
  bool any = false;
  for (const auto& p : net->parameters()) any = any || (p.grad().defined() && p.grad().abs().sum().item<double>() > 0);
  EXPECT_TRUE(any);
}

}  // namespace

TEST(NnQuantizer, SmallCnnActivationsAndErrorsOnFormatAGrid) {
  check_model("small-cnn", 1, FloatFormat(3, 1), Rounding::nearest, Rounding::nearest);
}

TEST(NnQuantizer, ResNet8ActivationsAndErrorsOnFormatAGrid) {
  check_model("resnet8", 3, FloatFormat(4, 2), Rounding::nearest, Rounding::nearest);
}

TEST(NnQuantizer, Vgg11StochasticRoundingStaysOnGrid) {
  check_model("vgg11", 3, FloatFormat(5, 1), Rounding::stochastic, Rounding::stochastic);
}

TEST(NnQuantizer, VitTinyActivationsAndErrorsOnFormatAGrid) {
  check_model("vit-tiny", 1, FloatFormat(4, 3), Rounding::nearest, Rounding::stochastic,
              {"input", "conv", "add", "layernorm", "linear", "matmul", "softmax", "gelu", "pool"});
}

TEST(NnQuantizer, MlpActivationsAndErrorsOnFormatAGrid) {
  check_model("mlp", 1, FloatFormat(3, 2), Rounding::nearest, Rounding::nearest, {"input", "linear", "relu"});
}

TEST(NnQuantizer, DisabledQuantizerIsTheIdentity) {
  torch::manual_seed(3);
  auto q = std::make_shared<nn::ActivationQuantizer>();
  auto net = nn::make_model("small-cnn", 3, 1, 8, q);
  torch::Tensor x = torch::randn({2, 1, 8, 8});
  torch::Tensor a = net->forward(x);
  q->enabled = true;
  q->format = FloatFormat(3, 1);
  torch::Tensor b = net->forward(x);
  EXPECT_FALSE(torch::equal(a, b));
  EXPECT_FALSE(on_grid(a, FloatFormat(3, 1)));
  EXPECT_TRUE(on_grid(b, FloatFormat(3, 1)));
}
