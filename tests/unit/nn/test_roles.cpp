// Roles of quantizer points (docs/roles.md): each network's roles, the weights' roles, per-role
// formats at the quantizer, the memory model per role, and training with a mixed configuration.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"
#include "peppp/nn/memory.hpp"
#include "peppp/nn/model.hpp"
#include "peppp/nn/optimizer.hpp"
#include "peppp/nn/trainer.hpp"
#include "peppp/quant/quantize.hpp"
#include "synthetic_task.hpp"
#include "test_util.hpp"

using namespace peppp;
namespace test = peppp::test;

namespace {
std::vector<std::string> role_names(const nn::ModelCounts& c) {
  std::vector<std::string> out;
  for (Role r : nn::roles_of(c)) out.push_back(label(r));
  return out;
}
Role point_role(const nn::ModelCounts& c, const std::string& layer) {
  for (const auto& p : c.points)
    if (p.layer == layer) return p.role;
  ADD_FAILURE() << "no point " << layer;
  return Role::body;
}
using Names = std::vector<std::string>;
}  // namespace

TEST(NnRoles, EveryBuiltInNetworkHasItsRoles) {
  const Names cnn = {"body", "first", "last", "norm"};
  for (const std::string model : {"small-cnn", "resnet8", "resnet18", "resnet34", "vgg11", "vgg13", "vgg16", "vgg19"})
    EXPECT_EQ(role_names(nn::model_counts(model, 10, 1, 28)), cnn) << model;
  EXPECT_EQ(role_names(nn::model_counts("mlp", 10, 1, 28)), (Names{"body", "first", "last"}));
  EXPECT_EQ(role_names(nn::model_counts("vit-tiny", 10, 1, 28)), (Names{"body", "first", "last", "attention", "norm"}));
}

TEST(NnRoles, PointsAndWeightsFollowTheRule) {
  const auto c = nn::model_counts("small-cnn", 10, 1, 28);
  const auto v = nn::model_counts("vit-tiny", 10, 1, 28);
  const auto m = nn::model_counts("mlp", 10, 1, 28);
  const struct {
    const nn::ModelCounts* counts;
    const char* layer;
    Role role;
  } points[] = {{&c, "input", Role::first},        {&c, "features0_conv", Role::first},
                {&c, "features0_bn", Role::norm},  {&c, "features0_relu", Role::body},
                {&c, "features2_conv", Role::body}, {&c, "pool", Role::body},
                {&c, "fc", Role::last},            {&v, "patch_embed", Role::first},
                {&v, "blocks0.attn_scores", Role::attention}, {&v, "blocks1.attn_softmax", Role::attention},
                {&v, "blocks0.attn_values", Role::body},      {&v, "blocks0.norm1", Role::norm},
                {&v, "norm", Role::norm},          {&v, "pos_embed", Role::body},
                {&m, "hidden0", Role::first},      {&m, "hidden1", Role::body}};
  for (const auto& p : points) EXPECT_EQ(point_role(*p.counts, p.layer), p.role) << p.layer;
  // Parameters: conv0 weight (first), bn0 weight+bias (norm), conv2 weight (body), bn2 (norm), fc weight+bias (last).
  EXPECT_EQ(c.parameter_roles, (std::vector<Role>{Role::first, Role::norm, Role::norm, Role::body, Role::norm,
                                                  Role::norm, Role::last, Role::last}));
  EXPECT_EQ(c.parameters_by_role.at(Role::first), 16 * 9);
  EXPECT_EQ(c.parameters_by_role.at(Role::last), 32 * 49 * 10 + 10);
  EXPECT_EQ(v.parameters_by_role.at(Role::attention), 0);
  EXPECT_EQ(v.parameters_by_role.at(Role::norm), 5 * 2 * 32);  // five LayerNorms, weight and bias
  EXPECT_EQ(m.parameters_by_role.at(Role::first), 784 * 256 + 256);
  for (const auto* k : {&c, &v, &m}) {
    std::int64_t p = 0, a = 0;
    for (const auto& kv : k->parameters_by_role) p += kv.second;
    for (const auto& kv : k->activations_by_role) a += kv.second;
    EXPECT_EQ(p, k->parameters);
    EXPECT_EQ(a, k->activations);
  }
}

TEST(NnRoles, QuantizerUsesEachPointsRoleFormat) {
  nn::ActivationQuantizer q;
  q.set_formats(parse_configuration("e8m7[first=e3m1,norm=e4m2]/e8m7"));
  EXPECT_TRUE(q.enabled);
  torch::manual_seed(3);
  const torch::Tensor x = torch::randn({4, 64});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(q(x, nn::LayerType::batchnorm, "bn"), quantize(x, FloatFormat(4, 2), Rounding::nearest, 0)));
  EXPECT_TRUE(torch::equal(q(x, nn::LayerType::input, "input"), quantize(x, FloatFormat(3, 1), Rounding::nearest, 0)));
  EXPECT_TRUE(torch::equal(q(x, nn::LayerType::conv, "c"), quantize(x, FloatFormat(8, 7), Rounding::nearest, 0)));
  q.point_roles["c"] = Role::first;
  EXPECT_TRUE(torch::equal(q(x, nn::LayerType::conv, "c"), quantize(x, FloatFormat(3, 1), Rounding::nearest, 0)));
  // A uniform configuration: no per-role table, the body's format everywhere.
  q.set_formats(parse_configuration("e4m3/e8m7"));
  EXPECT_TRUE(q.role_formats.empty());
  EXPECT_TRUE(torch::equal(q(x, nn::LayerType::input, "input"), quantize(x, FloatFormat(4, 3), Rounding::nearest, 0)));
  // Only the float32 role left: quantization stays on for the others, the float32 role is left as it is.
  q.set_formats(parse_configuration("e8m23[last=e4m3]/e8m23"));
  EXPECT_TRUE(q.enabled);
  EXPECT_TRUE(torch::equal(q(x, nn::LayerType::conv, "c2"), x));
  q.set_formats(parse_configuration("e8m23/e8m23"));
  EXPECT_FALSE(q.enabled);
}

TEST(NnRoles, MemoryPerRoleAddsUpToTheTotal) {
  constexpr double kMiB = 8.0 * 1024 * 1024;
  for (const std::string model : {"small-cnn", "mlp", "vit-tiny"}) {
    const auto c = nn::model_counts(model, 10, 1, 28);
    const auto uniform = nn::memory_from_counts(c, 32, parse_configuration("e4m3/e6m7"));
    // Uniform: F2 as before, bit for bit.
    EXPECT_EQ(uniform.weights, 8.0 * static_cast<double>(c.parameters) / kMiB);
    EXPECT_EQ(uniform.activations, 8.0 * 32 * static_cast<double>(c.activations) / kMiB);
    const auto mixed = nn::memory_from_counts(c, 32, parse_configuration("e4m3[first=e8m7,last=mxfp8-e4m3]/e6m7"));
    for (const auto* m : {&uniform, &mixed}) {
      double w = 0, a = 0, o = 0, t = 0;
      for (const auto& kv : m->by_role) {
        w += kv.second.weights;
        a += kv.second.activation_memory;
        o += kv.second.optimizer;
        t += kv.second.total;
      }
      EXPECT_DOUBLE_EQ(w, m->weights) << model;
      EXPECT_DOUBLE_EQ(a, m->activations) << model;
      EXPECT_DOUBLE_EQ(o, m->optimizer) << model;
      EXPECT_DOUBLE_EQ(t, m->total) << model;
    }
    auto elements = [&c](Role r) {
      return static_cast<double>(c.parameters_by_role.at(r) + 32 * c.activations_by_role.at(r));
    };
    const double first = elements(Role::first), last = elements(Role::last);
    EXPECT_DOUBLE_EQ(mixed.total - uniform.total, (8.0 * first + 0.25 * last) / kMiB) << model;
    EXPECT_EQ(mixed.optimizer, uniform.optimizer);
    EXPECT_EQ(mixed.by_role.at(Role::first).format, FloatFormat(8, 7));
    EXPECT_EQ(mixed.by_role.at(Role::body).format, FloatFormat(4, 3));
  }
}

TEST(NnRoles, MixedConfigurationTrainsDifferentlyAndReproducibly) {
  const auto task = test::synthetic_task(256, 200);
  TrainSettings s;
  s.epochs = 1;
  s.learning_rate = 0.02;
  s.threads = 1;
  const Configuration uniform = parse_configuration("e3m1/e6m7");
  const Configuration mixed = parse_configuration("e3m1[first=e8m7,last=e8m7]/e6m7");
  for (const std::string model : {"small-cnn", "vit-tiny"}) {
    const auto u = nn::train_cell(task, uniform, s, 7, model);
    const auto a = nn::train_cell(task, mixed, s, 7, model);
    const auto b = nn::train_cell(task, mixed, s, 7, model);
    ASSERT_EQ(a.status, CellStatus::measured) << a.message;
    EXPECT_EQ(a.final_loss, b.final_loss) << model;
    EXPECT_EQ(a.test_error, b.test_error) << model;
    EXPECT_NE(a.final_loss, u.final_loss) << model;
  }
}

TEST(NnRoles, MixedWeightsGetTheirRolesFormat) {
  // The optimizer's forward weights: Format A of each parameter's role.
  torch::manual_seed(5);
  std::vector<torch::Tensor> params = {torch::randn({50}).set_requires_grad(true),
                                      torch::randn({50}).set_requires_grad(true)};
  TrainSettings s;
  s.rounding.weights = Rounding::nearest;
  s.rounding.accumulator = Rounding::nearest;
  const Configuration c = parse_configuration("e3m1[last=e5m4]/e8m23");
  const std::vector<torch::Tensor> before = {params[0].detach().clone(), params[1].detach().clone()};
  nn::LowPrecisionSgd opt(params, c, s, 1, {Role::body, Role::last});
  EXPECT_TRUE(torch::equal(params[0], quantize(before[0], FloatFormat(3, 1), Rounding::nearest, 0)));
  EXPECT_TRUE(torch::equal(params[1], quantize(before[1], FloatFormat(5, 4), Rounding::nearest, 0)));
  EXPECT_THROW(nn::LowPrecisionSgd(params, c, s, 1, {Role::body}), InputError);
}

TEST(NnRoles, TorchScriptRolesFromTheModuleStructure) {
  if (test::torch_python().empty()) GTEST_SKIP() << "no Python with torch (set PEPPP_PYTHON)";
  const std::string dir = test::scratch_dir();
  auto export_network = [&](const std::string& network) {
    const std::string out = dir + "/" + network + ".pt";
    const auto r = test::run_command(test::torch_python() + " " + test::source_path("examples/models/export.py") + " " +
                                     network + " --channels 1 --classes 10 --resolution 28 --out " + out);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return "torchscript:" + out;
  };
  const auto vit = nn::model_counts(export_network("vit"), 10, 1, 28);
  EXPECT_EQ(role_names(vit), (Names{"body", "first", "last", "attention", "norm"}));
  EXPECT_EQ(point_role(vit, "patch_embed.conv2d"), Role::first);
  EXPECT_EQ(point_role(vit, "fc.linear"), Role::last);
  EXPECT_EQ(point_role(vit, "blocks.0.attn.softmax"), Role::attention);
  EXPECT_EQ(point_role(vit, "blocks.0.attn.matmul"), Role::attention);    // the scores
  EXPECT_EQ(point_role(vit, "blocks.0.attn.mul"), Role::attention);       // their scale
  EXPECT_EQ(point_role(vit, "blocks.0.attn.matmul_2"), Role::body);       // attention · values
  EXPECT_EQ(point_role(vit, "blocks.0.attn.qkv.linear"), Role::body);
  EXPECT_EQ(vit.parameters_by_role.at(Role::norm), 5 * 2 * 32);
  EXPECT_EQ(vit.parameters_by_role.at(Role::last), 32 * 10 + 10);
  const auto mlp = nn::model_counts(export_network("mlp"), 10, 1, 28);
  const auto names = role_names(mlp);
  EXPECT_EQ(std::count(names.begin(), names.end(), "norm"), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), "first"), 1);
}
