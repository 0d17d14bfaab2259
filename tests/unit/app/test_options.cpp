#include <gtest/gtest.h>

#include <fstream>

#include "peppp/app/options.hpp"
#include "peppp/core/error.hpp"
#include "test_util.hpp"

using namespace peppp;
using namespace peppp::app;

namespace {
OptionSet make_set() {
  OptionSet s;
  s.command = "demo";
  s.summary = "a test command";
  s.usage = "peppp demo";
  s.add("train.epochs", Kind::integer, "10", "epochs", "2", "Epochs.").min = 1;
  auto& r = s.add("sampling.ratio", Kind::real, "0.2", "fraction", "0.25", "Ratio.");
  r.min = 0; r.min_exclusive = true; r.max = 1;
  s.add("sampling.scheme", Kind::choice, "full", "", "uniform", "Scheme.").choices = {"full", "uniform"};
  s.add("campaign.formats_a", Kind::list, "e4m3", "", "e4m3,e5m2", "Formats.");
  s.add("campaign.tasks", Kind::text, "", "path", "t.ini", "Catalog.").required = true;
  auto& out = s.add("output", Kind::text, "", "path", "x.nc", "Output.");
  out.in_config = false;
  s.add("resume", Kind::flag, "false", "", "", "Resume.").in_config = false;
  return s;
}

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

std::string error_of(const OptionSet& s, const std::vector<std::string>& args) {
  try {
    parse_options(s, args);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Options, DefaultsFileAndCommandLineWins) {
  auto dir = test::scratch_dir();
  auto ini = write(dir, "a.ini", "# comment\n[campaign]\ntasks = cat.ini  # inline\n[train]\nepochs = 3\n");
  auto o = parse_options(make_set(), {"--config", ini, "--train.epochs", "5", "--output", "o.nc"});
  EXPECT_EQ(o.integer("train.epochs"), 5);
  EXPECT_EQ(o.source("train.epochs"), "command line");
  EXPECT_DOUBLE_EQ(o.real("sampling.ratio"), 0.2);
  EXPECT_EQ(o.source("sampling.ratio"), "default");
  EXPECT_FALSE(o.given("sampling.ratio"));
  EXPECT_EQ(o.source("campaign.tasks"), ini + ":3");
  // A relative path from the file is relative to the file's folder.
  EXPECT_EQ(o.path("campaign.tasks"), dir + "/cat.ini");
  EXPECT_FALSE(o.flag("resume"));
}

TEST(Options, FlagAloneMeansTrue) {
  auto o = parse_options(make_set(), {"--campaign.tasks", "c.ini", "--resume"});
  EXPECT_TRUE(o.flag("resume"));
  EXPECT_EQ(o.path("campaign.tasks"), "c.ini");
}

TEST(Options, UnknownKeyInFileNamesFileLineAndAllowedKeys) {
  auto dir = test::scratch_dir();
  auto ini = write(dir, "b.ini", "[campaign]\ntasks = x\n[train]\nepoch = 3\n");
  std::string e = error_of(make_set(), {"--config", ini});
  EXPECT_NE(e.find(ini + ":4"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'train.epoch'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'train.epochs'"), std::string::npos) << e;
}

TEST(Options, BadValuesNameKeyValueAndAllowed) {
  auto dir = test::scratch_dir();
  auto ini = write(dir, "c.ini", "[campaign]\ntasks = x\n[sampling]\nratio = 1.5\n");
  std::string e = error_of(make_set(), {"--config", ini});
  EXPECT_NE(e.find(ini + ":4"), std::string::npos) << e;
  EXPECT_NE(e.find("'sampling.ratio' = '1.5'"), std::string::npos) << e;
  EXPECT_NE(e.find("in (0, 1]"), std::string::npos) << e;

  e = error_of(make_set(), {"--campaign.tasks", "x", "--sampling.scheme", "random"});
  EXPECT_NE(e.find("command line: --sampling.scheme 'random'"), std::string::npos) << e;
  EXPECT_NE(e.find("one of: full, uniform"), std::string::npos) << e;

  e = error_of(make_set(), {"--campaign.tasks", "x", "--train.epochs", "0"});
  EXPECT_NE(e.find("an integer >= 1"), std::string::npos) << e;

  e = error_of(make_set(), {"--campaign.tasks", "x", "--train.epochs", "ten"});
  EXPECT_NE(e.find("--train.epochs 'ten'"), std::string::npos) << e;
}

TEST(Options, UnknownCommandLineOptionAndMissingFile) {
  std::string e = error_of(make_set(), {"--campaign.tasks", "x", "--train.epoch", "3"});
  EXPECT_NE(e.find("unknown option '--train.epoch'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean --train.epochs"), std::string::npos) << e;
  e = error_of(make_set(), {"--config", "/nonexistent/nosuch.ini"});
  EXPECT_NE(e.find("/nonexistent/nosuch.ini: configuration file not found"), std::string::npos) << e;
}

TEST(Options, RequiredAndMalformedLines) {
  std::string e = error_of(make_set(), {});
  EXPECT_NE(e.find("missing required option --campaign.tasks"), std::string::npos) << e;
  auto dir = test::scratch_dir();
  auto ini = write(dir, "d.ini", "[campaign\ntasks = x\n");
  e = error_of(make_set(), {"--config", ini});
  EXPECT_NE(e.find(ini + ":1: malformed section header"), std::string::npos) << e;
  ini = write(dir, "e.ini", "[campaign]\ntasks x\n");
  e = error_of(make_set(), {"--config", ini});
  EXPECT_NE(e.find(ini + ":2: malformed line"), std::string::npos) << e;
  ini = write(dir, "f.ini", "[campaign]\ntasks = x\ntasks = y\n");
  e = error_of(make_set(), {"--config", ini});
  EXPECT_NE(e.find("repeated"), std::string::npos) << e;
  // Command-line-only keys are refused in files.
  ini = write(dir, "g.ini", "[campaign]\ntasks = x\noutput = y.nc\n");
  e = error_of(make_set(), {"--config", ini});
  EXPECT_NE(e.find("unknown key 'campaign.output'"), std::string::npos) << e;
}

TEST(Options, ListElementsChecked) {
  OptionSet s = make_set();
  s.specs[3].choices = {"e4m3", "e5m2"};
  std::string e = error_of(s, {"--campaign.tasks", "x", "--campaign.formats_a", "e4m3,e9m9"});
  EXPECT_NE(e.find("element 'e9m9'"), std::string::npos) << e;
  auto o = parse_options(s, {"--campaign.tasks", "x", "--campaign.formats_a", "e4m3, e5m2"});
  EXPECT_EQ(o.list("campaign.formats_a"), (std::vector<std::string>{"e4m3", "e5m2"}));
}

// A choice or list element may also be PREFIX + a non-empty rest (campaign.model = torchscript:PATH).
TEST(Options, PrefixedValuesBesideTheChoices) {
  OptionSet s = make_set();
  s.specs[2].or_prefixed("custom:", "NAME");
  s.specs[3].one_of({"e4m3", "e5m2"}).or_prefixed("custom:", "NAME");
  auto o = parse_options(s, {"--campaign.tasks", "x", "--sampling.scheme", "custom:a/b.pt", "--campaign.formats_a",
                             "e4m3,custom:c"});
  EXPECT_EQ(o.text("sampling.scheme"), "custom:a/b.pt");
  EXPECT_EQ(o.list("campaign.formats_a"), (std::vector<std::string>{"e4m3", "custom:c"}));
  std::string e = error_of(s, {"--campaign.tasks", "x", "--sampling.scheme", "custom:"});
  EXPECT_NE(e.find("one of: full, uniform, or custom:NAME"), std::string::npos) << e;
  e = error_of(s, {"--campaign.tasks", "x", "--campaign.formats_a", "e4m3,other:c"});
  EXPECT_NE(e.find("element 'other:c'"), std::string::npos) << e;
  EXPECT_NE(e.find("or custom:NAME"), std::string::npos) << e;
}

TEST(Options, HelpListsEveryKeyWithDefaultUnitAndExample) {
  std::string h = help_text(make_set());
  for (const auto& s : make_set().specs) EXPECT_NE(h.find("--" + s.key), std::string::npos) << s.key;
  EXPECT_NE(h.find("default: 10; unit: epochs"), std::string::npos) << h;
  EXPECT_NE(h.find("e.g. --train.epochs 2"), std::string::npos) << h;
}

TEST(Options, OtherStageSectionsAreSkipped) {
  auto dir = test::scratch_dir();
  auto ini = write(dir, "h.ini", "[campaign]\ntasks = x\n[loocv]\nsettings = I,IV\n[train]\nepochs = 2\n");
  OptionSet s = make_set();
  EXPECT_NE(error_of(s, {"--config", ini}).find("unknown key 'loocv.settings'"), std::string::npos);
  s.other_stage_sections = {"loocv"};
  auto o = parse_options(s, {"--config", ini});
  EXPECT_EQ(o.integer("train.epochs"), 2);
  EXPECT_FALSE(o.has("loocv.settings"));
}

// Issue 28: whole numbers at and above 2^31 / 2^32 never wrap into a bound
// field; they are refused before any work with the option, value and range.
TEST(Options, IntegersTooLargeForTheirFieldAreRefusedNotWrapped) {
  OptionSet s;
  s.command = "demo";
  s.usage = "peppp demo";
  int epochs = 0;
  std::uint64_t seed = 0;
  s.add("train.epochs", Kind::integer, "10", "epochs", "2", "Epochs.").at_least(1).to(epochs);
  s.add("seed", Kind::integer, "1", "", "1", "Seed.").to(seed);
  for (const char* v : {"2147483648", "4294967296", "4294967297", "99999999999999999999"}) {
    const std::string e = error_of(s, {"--train.epochs", v});
    EXPECT_NE(e.find("--train.epochs"), std::string::npos) << v << ": " << e;
    EXPECT_NE(e.find(v), std::string::npos) << e;
    EXPECT_NE(e.find("in [1, 2147483647]"), std::string::npos) << e;
  }
  const std::string negative = error_of(s, {"--seed", "-1"});  // an unsigned field: no negative wraps to 2^64 - 1
  EXPECT_NE(negative.find("--seed"), std::string::npos) << negative;
  const Options o = parse_options(s, {"--train.epochs", "2147483647", "--seed", "18446744073709551"});
  apply(s, o);
  EXPECT_EQ(epochs, 2147483647);
  EXPECT_EQ(seed, 18446744073709551u);
}
