// Configurations with a Format A per role: the label grammar, its round trip and its refusals.
#include <gtest/gtest.h>

#include "peppp/core/error.hpp"
#include "peppp/core/format.hpp"

using namespace peppp;

TEST(RoleConfiguration, UniformLabelIsUnchanged) {
  const Configuration c{FloatFormat(4, 3), FloatFormat(6, 7)};
  EXPECT_TRUE(c.uniform());
  EXPECT_EQ(c.label(), "e4m3/e6m7");
  EXPECT_EQ(parse_configuration("e4m3/e6m7"), c);
  EXPECT_EQ(Configuration::parse("1-4-3/E6M7").label(), "e4m3/e6m7");
  for (Role r : all_roles()) EXPECT_EQ(c.format(r), FloatFormat(4, 3)) << label(r);
}

TEST(RoleConfiguration, MixedLabelListsOverridesInRoleOrder) {
  Configuration c{FloatFormat(4, 3), FloatFormat(6, 7)};
  c.set(Role::norm, FloatFormat::parse("bf16")).set(Role::last, FloatFormat(8, 7)).set(Role::first, FloatFormat(8, 7));
  c.set(Role::attention, FloatFormat(4, 3));  // the body's format: no override
  EXPECT_FALSE(c.uniform());
  EXPECT_EQ(c.label(), "e4m3[first=e8m7,last=e8m7,norm=bf16]/e6m7");
  EXPECT_EQ(c.format(Role::attention), FloatFormat(4, 3));
  EXPECT_EQ(c.format(Role::norm), FloatFormat::parse("bf16"));
  EXPECT_EQ(c.format(Role::body), FloatFormat(4, 3));
  EXPECT_EQ(parse_configuration(c.label()), c);
  EXPECT_EQ(parse_configuration(c.label()).label(), c.label());
  // Named formats anywhere, any spelling FloatFormat::parse takes; the label spells them canonically.
  const auto n = parse_configuration("mxfp8-e4m3[first=1-8-7, attention=FP16]/bf16");
  EXPECT_EQ(n.label(), "mxfp8-e4m3[first=e8m7,attention=fp16]/bf16");
  EXPECT_EQ(n.format(Role::attention), FloatFormat::parse("fp16"));
  EXPECT_NE(n, parse_configuration("mxfp8-e4m3/bf16"));
  // An override set back to the body's format is the uniform configuration again.
  c.set(Role::first, FloatFormat(4, 3)).set(Role::last, FloatFormat(4, 3)).set(Role::norm, FloatFormat(4, 3));
  EXPECT_TRUE(c.uniform());
  EXPECT_EQ(c.label(), "e4m3/e6m7");
  EXPECT_EQ(c, (Configuration{FloatFormat(4, 3), FloatFormat(6, 7)}));
}

TEST(RoleConfiguration, EqualityIgnoresOverridesEqualToTheBody) {
  Configuration x{FloatFormat(4, 3), FloatFormat(6, 7)};
  Configuration y = x;
  y.roles[Role::first] = FloatFormat(4, 3);  // written directly: means nothing
  EXPECT_EQ(x, y);
  EXPECT_EQ(y.label(), "e4m3/e6m7");
  y.set(Role::body, FloatFormat(5, 2));  // the body changes, the first layer keeps e4m3
  EXPECT_EQ(y.label(), "e5m2[first=e4m3]/e6m7");
}

TEST(RoleConfiguration, RefusesMalformedLabels) {
  for (const char* bad : {"e4m3[first=e8m7]", "e4m3[]/e6m7", "e4m3[first=e8m7/e6m7", "e4m3first=e8m7]/e6m7",
                          "e4m3[last=e8m7,first=e8m7]/e6m7", "e4m3[first=e8m7,first=e5m2]/e6m7",
                          "e4m3[first=e4m3]/e6m7", "e4m3[body=e8m7]/e6m7", "e4m3[head=e8m7]/e6m7",
                          "e4m3[first]/e6m7", "e4m3[first=e9m7]/e6m7", "e4m3[first=e8m7][last=e8m7]/e6m7",
                          "e4m3[first=e8m7]x/e6m7", "e4m3/e6m7[first=e8m7]", "e4m3/e5m2/e6m7"}) {
    EXPECT_THROW(parse_configuration(bad), InputError) << bad;
  }
  try {
    parse_configuration("e4m3[last=e8m7,first=e8m7]/e6m7");
    FAIL();
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'e4m3[last=e8m7,first=e8m7]/e6m7'"), std::string::npos) << m;
    EXPECT_NE(m.find("first, last, attention, norm in that order"), std::string::npos) << m;
  }
}

TEST(RoleConfiguration, RoleNames) {
  for (Role r : all_roles()) EXPECT_EQ(parse_role(label(r)), r);
  EXPECT_EQ(override_roles().size(), 4u);
  EXPECT_EQ(override_roles().front(), Role::first);
  EXPECT_THROW(parse_role("First"), InputError);
}
