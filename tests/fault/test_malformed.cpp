// A campaign of malformed inputs against the executable (issue #16): bad
// configs, catalogs, corrupt IDX files, broken or out-of-range NetCDF,
// impossible options, output = input, 2-rank variants. Every case must exit
// 1 with exactly one error line (under mpirun, Open MPI's own banner aside)
// and leave no output file, journal folder or lock behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <sys/stat.h>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "fault_util.hpp"
#include "peppp/io/journal.hpp"
#include "peppp/io/lock.hpp"
#include "test_util.hpp"

using namespace peppp;
using namespace peppp::fault;
namespace fs = std::filesystem;

namespace {

struct Case {
  std::string name;     ///< what is wrong
  std::string command;  ///< with {exe} {mpi2} {dir} {ci} {good} {out} {cat}
  std::string expect;   ///< a piece of the one error line
};

std::string expand(std::string s, const std::map<std::string, std::string>& vars) {
  for (const auto& [k, v] : vars) {
    const std::string key = "{" + k + "}";
    for (std::size_t at; (at = s.find(key)) != std::string::npos;) s.replace(at, key.size(), v);
  }
  return s;
}

// A config file: ci.ini with `line` appended to the section `section`.
std::string config_with(const std::string& dir, const std::string& name, const std::string& section,
                        const std::string& line) {
  std::string text = read_text(test::source_path("inputs/ci.ini"));
  const std::string catalog = test::source_path("inputs/tasks/fashion-ci.ini");
  text = std::regex_replace(text, std::regex("tasks = tasks/fashion-ci.ini"), "tasks = " + catalog);
  const std::string header = "[" + section + "]\n";
  const auto at = text.find(header);
  if (at == std::string::npos) text += "\n" + header + line + "\n";
  else text.insert(at + header.size(), line + "\n");
  const std::string path = dir + "/" + name + ".ini";
  write_text(path, text);
  return path;
}

// A catalog: fashion-ci.ini with `from` replaced by `to` (or appended when `from` is empty).
std::string catalog_with(const std::string& dir, const std::string& name, const std::string& from,
                         const std::string& to, const std::string& data = "/usr/share/datasets/fashion-mnist") {
  std::string text = read_text(test::source_path("inputs/tasks/fashion-ci.ini"));
  const std::string path_key = "/usr/share/datasets/fashion-mnist";
  text.replace(text.find(path_key), path_key.size(), data);
  if (from.empty()) text += "\n" + to + "\n";
  else text.replace(text.find(from), from.size(), to);
  const std::string path = dir + "/" + name + ".ini";
  write_text(path, text);
  return path;
}

// The inputs of the issue-28 cases: campaigns that must not be merged with {good},
// loocv parts that are not of one run, files whose declared size exceeds memory,
// inputs that are not regular files.
struct Round2 {
  std::map<std::string, std::string> path;
};

Round2 round_two_inputs(const std::string& dir, const std::string& exe, const std::string& ci,
                        const std::string& good) {
  Round2 r;
  auto measure = [&](const std::string& name, const std::string& extra) {
    const std::string out = dir + "/" + name + ".nc";
    const auto res = test::run_command(exe + " measure --config " + ci + " --output " + out +
                                       " --synthetic.seconds 0.001 --run.progress_interval 0 " + extra);
    EXPECT_EQ(res.exit_code, 0) << res.output;
    r.path[name] = out;
  };
  // Same task names, other definitions (each with its own seed: only the definition differs).
  measure("classes", "--campaign.seed 2 --campaign.tasks " +
                         catalog_with(dir, "cat-classes", "classes = shirt, coat", "classes = shirt, pullover"));
  measure("resolution", "--campaign.seed 3 --campaign.tasks " +
                            catalog_with(dir, "cat-res", "resolution = 14 ", "resolution = 12 "));
  measure("trainsize", "--campaign.seed 4 --campaign.tasks " +
                           catalog_with(dir, "cat-size", "train_size = 200 ", "train_size = 150 "));
  const std::string changed = dir + "/data-changed";
  fashion_copy(changed);
  write_text(changed + "/t10k-labels-idx1-ubyte.gz", read_text(changed + "/t10k-labels-idx1-ubyte.gz") + "x");
  measure("datafile", "--campaign.seed 5 --campaign.tasks " + catalog_with(dir, "cat-data", "", "", changed));
  measure("subseed", "--campaign.seed 6 --campaign.tasks " + catalog_with(dir, "cat-seed", "seed = 7", "seed = 8"));
  measure("epochs", "--campaign.seed 9 --train.epochs 2");
  measure("seed10", "--campaign.seed 10");
  measure("momentum", "--campaign.seed 11 --train.momentum 0.5");
  // An earlier merge that holds {good}.
  r.path["merged"] = dir + "/merged.nc";
  EXPECT_EQ(test::run_command(exe + " merge " + good + " " + r.path["seed10"] + " --output " + r.path["merged"])
                .exit_code,
            0);
  // loocv parts: of one run, of another campaign, of another part count, with other options.
  auto part = [&](const std::string& name, const std::string& campaign, const std::string& extra) {
    r.path[name] = dir + "/" + name + ".nc";
    const auto res = test::run_command(exe + " loocv --campaign " + campaign + " --output " + r.path[name] +
                                       " --settings I --methods ed-mf --measurements 3 --summary false " + extra);
    EXPECT_EQ(res.exit_code, 0) << res.output;
  };
  part("part1", good, "--part 1/2");
  part("part2", good, "--part 2/2");
  part("part2-other", r.path["seed10"], "--part 2/2");
  part("part2-of3", good, "--part 2/3");
  part("part3-of3", good, "--part 3/3");
  part("part2-lambda", good, "--part 2/2 --lambda 0.5");
  part("part2-seed", good, "--part 2/2 --seed 99");
  // A NetCDF-4 file of a few KiB declaring 10^12 doubles.
  r.path["huge"] = dir + "/huge.nc";
  {
    int id = -1, d[2] = {-1, -1}, v = -1;
    EXPECT_EQ(nc_create(r.path["huge"].c_str(), NC_NETCDF4 | NC_CLOBBER, &id), NC_NOERR);
    nc_def_dim(id, "task", 1000000, &d[0]);
    nc_def_dim(id, "config", 1000000, &d[1]);
    nc_def_var(id, "error", NC_DOUBLE, 2, d, &v);
    nc_put_att_text(id, NC_GLOBAL, "peppp_file", 8, "campaign");
    EXPECT_EQ(nc_close(id), NC_NOERR);
  }
  // A task label with a newline that would forge an "error:" line of its own.
  r.path["newline-label"] = dir + "/newline-label.nc";
  fs::copy_file(good, r.path["newline-label"]);
  {
    int id = -1, v = -1;
    EXPECT_EQ(nc_open(r.path["newline-label"].c_str(), NC_WRITE, &id), NC_NOERR);
    EXPECT_EQ(nc_inq_varid(id, "task", &v), NC_NOERR);
    const char* label = "shirt\nerror: a forged line";
    const std::size_t at[1] = {0};
    EXPECT_EQ(nc_put_var1_string(id, v, at, &label), NC_NOERR);
    EXPECT_EQ(nc_close(id), NC_NOERR);
  }
  set_double(r.path["newline-label"], "error", 0, 7.0);
  r.path["fifo"] = dir + "/fifo";
  EXPECT_EQ(::mkfifo(r.path["fifo"].c_str(), 0600), 0);
  // Names peppp's lock would take, held by a folder and a FIFO.
  fs::create_directories(dir + "/locked-by-folder.nc.lock");
  EXPECT_EQ(::mkfifo((dir + "/locked-by-fifo.nc.lock").c_str(), 0600), 0);
  // A dataset whose test labels are a FIFO (reading it would block forever).
  const std::string fifo_data = dir + "/data-fifo";
  fashion_copy(fifo_data);
  fs::remove(fifo_data + "/t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(::mkfifo((fifo_data + "/t10k-labels-idx1-ubyte.gz").c_str(), 0600), 0);
  r.path["fifo-catalog"] = catalog_with(dir, "cat-fifo", "", "", fifo_data);
  fs::create_directories(dir + "/a-folder.nc");
  r.path["folder"] = dir + "/a-folder.nc";
  r.path["empty"] = dir + "/empty.nc";
  write_text(r.path["empty"], "");
  r.path["empty-ini"] = dir + "/empty-catalog.ini";
  write_text(r.path["empty-ini"], "# nothing\n");
  r.path["three-bytes"] = dir + "/three.f32";
  write_text(r.path["three-bytes"], "abc");
  r.path["floats"] = dir + "/floats.f32";
  write_text(r.path["floats"], std::string(12, '\0'));
  return r;
}

std::vector<Case> round_two_cases(const Round2& r2) {
  auto p = [&](const std::string& k) { return r2.path.at(k); };
  const std::string loocv = " --settings I --methods ed-mf --measurements 3";
  const std::string merge_parts = "{exe} loocv --merge " + p("part1") + ",";
  return {
      // merge: a task name means one task (its full definition), one protocol, no replicate twice
      {"merge: same task, other classes", "{exe} merge {good} " + p("classes") + " --output {out}", "has classes 6,4"},
      {"merge: same task, other resolution", "{exe} merge {good} " + p("resolution") + " --output {out}", "resolution"},
      {"merge: same task, other train size", "{exe} merge {good} " + p("trainsize") + " --output {out}", "train_size"},
      {"merge: same task, other dataset file content", "{exe} merge {good} " + p("datafile") + " --output {out}",
       "file.t10k-labels-idx1-ubyte.gz"},
      {"merge: same task, other subsample seed", "{exe} merge {good} " + p("subseed") + " --output {out}", "subsample_seed"},
      {"merge: other epochs", "{exe} merge {good} " + p("epochs") + " --output {out}", "epochs"},
      {"merge: other momentum", "{exe} merge {good} " + p("momentum") + " --output {out}", "momentum"},
      {"merge: one file twice", "{exe} merge {good} {good} --output {out}", "campaign seed"},
      {"merge: a merge with one of its sources", "{exe} merge " + p("merged") + " {good} --output {out}", "earlier merge"},
      {"merge: a source with a merge of it", "{exe} merge " + p("seed10") + " " + p("merged") + " --output {out}",
       "earlier merge"},
      {"merge: one file", "{exe} merge {good} --output {out}", "at least 2"},
      {"merge: a loocv file", "{exe} merge {good} " + p("part1") + " --output {out}", "not a campaign"},
      {"merge: output = an input", "{exe} merge {good} " + p("seed10") + " --output {good}", "same file"},
      {"2 ranks: merge, other classes", "{mpi2} merge {good} " + p("classes") + " --output {out}", "has classes 6,4"},
      // loocv --merge: parts of one run only
      {"loocv --merge: parts of two campaigns", merge_parts + p("part2-other") + " --output {out}", "inputs_fingerprint"},
      {"loocv --merge: other part counts", merge_parts + p("part2-of3") + "," + p("part3-of3") + " --output {out}", "parts"},
      {"loocv --merge: other lambda", merge_parts + p("part2-lambda") + " --output {out}", "lambda"},
      {"loocv --merge: other seed", merge_parts + p("part2-seed") + " --output {out}", "seed"},
      {"loocv --merge: a part twice", merge_parts + p("part1") + " --output {out}", "in both"},
      {"loocv --merge: a part missing", "{exe} loocv --merge " + p("part1") + " --output {out}", "give every part"},
      {"loocv --merge with --campaign", merge_parts + p("part2") + " --campaign {good} --output {out}", "--campaign"},
      // sizes declared beyond memory
      {"complete: 10^12 declared values", "{exe} complete --campaign " + p("huge") + " --output {out}", "declares 1000000000000 values"},
      {"loocv: 10^12 declared values", "{exe} loocv --campaign " + p("huge") + " --output {out}" + loocv, "more than the"},
      {"merge: 10^12 declared values", "{exe} merge {good} " + p("huge") + " --output {out}", "declares"},
      {"2 ranks: 10^12 declared values", "{mpi2} complete --campaign " + p("huge") + " --output {out}", "declares"},
      // inputs that are not regular files (a FIFO would block forever)
      {"campaign is a FIFO", "{exe} complete --campaign " + p("fifo") + " --output {out}", "not a regular file"},
      {"campaign is a folder", "{exe} complete --campaign " + p("folder") + " --output {out}", "not a regular file"},
      {"campaign is a device", "{exe} complete --campaign /dev/zero --output {out}", "not a regular file"},
      {"config is a FIFO", "{exe} measure --config " + p("fifo") + " --output {out}", "not a regular file"},
      {"catalog is a FIFO", "{exe} measure --config {ci} --output {out} --campaign.tasks " + p("fifo"), "not a regular file"},
      {"catalog is a folder", "{exe} measure --config {ci} --output {out} --campaign.tasks " + p("folder"), "not a regular file"},
      {"quantize input is a FIFO", "{exe} quantize --format e4m3 --input " + p("fifo") + " --output {out}", "not a regular file"},
      {"quantize input is a folder", "{exe} quantize --format e4m3 --input " + p("folder") + " --output {out}", "not a regular file"},
      {"merge input is a FIFO", "{exe} merge {good} " + p("fifo") + " --output {out}", "not a regular file"},
      {"dataset file is a FIFO (synthetic)", "{exe} measure --config {ci} --output {out} --synthetic.seconds 0.001 --campaign.tasks " + p("fifo-catalog"), "not a regular file"},
      {"dataset file is a FIFO (training)", "{exe} measure --config {ci} --output {out} --campaign.tasks " + p("fifo-catalog"), "not a regular file"},
      {"2 ranks: dataset file is a FIFO", "{mpi2} measure --config {ci} --output {out} --campaign.tasks " + p("fifo-catalog"), "not a regular file"},
      // a lock name held by something peppp never makes
      {"lock name is a folder", "{exe} measure --config {ci} --output {dir}/locked-by-folder.nc --synthetic.seconds 0.001", "not a regular file"},
      {"lock name is a FIFO", "{exe} measure --config {ci} --output {dir}/locked-by-fifo.nc --synthetic.seconds 0.001", "not a regular file"},
      // labels with control characters (messages print them)
      {"task label with a newline", "{exe} complete --campaign " + p("newline-label") + " --output {out}", "control character"},
      {"task label with a newline, merge", "{exe} merge {good} " + p("newline-label") + " --output {out}", "control character"},
      {"task label with a newline, info", "{exe} info " + p("newline-label"), "control character"},
      // empty and short files
      {"campaign of 0 bytes", "{exe} complete --campaign " + p("empty") + " --output {out}", "empty.nc"},
      {"catalog without tasks", "{exe} measure --config {ci} --output {out} --campaign.tasks " + p("empty-ini"), "no [dataset NAME] section"},
      {"quantize: 3 bytes", "{exe} quantize --format e4m3 --input " + p("three-bytes") + " --output {out}", "multiple of 4"},
      {"quantize: unknown format", "{exe} quantize --format e9m9x --input " + p("floats") + " --output {out}", "e9m9x"},
      {"quantize: row length not dividing", "{exe} quantize --format e4m3 --input " + p("floats") + " --output {out} --row-length 2", "row"},
      // outputs that are not files peppp may replace
      {"output is a device", "{exe} complete --campaign {good} --output /dev/null", "not a regular file"},
      {"output is a FIFO", "{exe} complete --campaign {good} --output " + p("fifo"), "not a regular file"},
      {"output name too long", "{exe} complete --campaign {good} --output {dir}/" + std::string(200, 'x') + ".nc", "too long"},
      // whole numbers out of range
      {"replicates 2^32", "{exe} measure --config {ci} --output {out} --train.replicates 4294967296", "replicates"},
      {"complete seed negative", "{exe} complete --campaign {good} --output {out} --seed -1", "seed"},
      {"loocv part 0/2", "{exe} loocv --campaign {good} --output {out} --part 0/2" + loocv, "0/2"},
      {"loocv part 3/2", "{exe} loocv --campaign {good} --output {out} --part 3/2" + loocv, "3/2"},
      {"select budget negative", "{exe} select --campaign {good} --task {ci}:x --budget -1 --measurements 3 --output {out}", "budget"},
      {"select measurements -1", "{exe} select --campaign {good} --task {ci}:x --budget 1 --measurements -1 --output {out}", "--measurements '-1' is invalid"},
  };
}

}  // namespace

TEST(Malformed, EveryCaseExitsOneWithOneLineAndNoOutput) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  const std::string exe = test::peppp_exe();
  const std::string ci = test::source_path("inputs/ci.ini");
  const std::string good = dir + "/good.nc";
  ASSERT_EQ(test::run_command(exe + " measure --config " + ci + " --output " + good +
                              " --synthetic.seconds 0.001 --run.progress_interval 0")
                .exit_code,
            0);
  // Damaged campaign files.
  auto spoiled = [&](const std::string& name, const std::string& var, std::size_t i, double v) {
    const std::string p = dir + "/" + name + ".nc";
    fs::copy_file(good, p, fs::copy_options::overwrite_existing);
    set_double(p, var, i, v);
    return p;
  };
  const std::string err_high = spoiled("error-high", "error", 3, 7.0);
  const std::string err_low = spoiled("error-low", "error", 5, -0.5);
  const std::string mem_zero = spoiled("memory-zero", "memory", 2, 0.0);
  const std::string mem_nan = spoiled("memory-nan", "memory", 2, NAN);
  const std::string mem_inf = spoiled("memory-inf", "memory", 1, INFINITY);
  const std::string status_err = spoiled("status-error", "error", 0, NAN);
  const std::string rep_high = spoiled("replicate-high", "error_replicates", 4, 1.5);
  write_text(dir + "/text.nc", "this is not NetCDF\n");
  truncate_file(fs::copy_file(good, dir + "/truncated.nc") ? dir + "/truncated.nc" : "", 200);
  // Damaged datasets (each its own folder and catalog).
  auto data_case = [&](const std::string& name, auto spoil) {
    const std::string d = dir + "/data-" + name;
    const std::string cat = fashion_copy(d);
    spoil(d);
    return cat;
  };
  const std::string cat_gz = data_case("gz", [](const std::string& d) { truncate_file(d + "/train-images-idx3-ubyte.gz", 5000); });
  const std::string cat_magic = data_case("magic", [](const std::string& d) {
    fs::copy_file(d + "/t10k-labels-idx1-ubyte.gz", d + "/t10k-images-idx3-ubyte.gz", fs::copy_options::overwrite_existing);
  });
  const std::string cat_short = data_case("short", [](const std::string& d) { write_short_labels(d + "/train-labels-idx1-ubyte.gz", 60000, 59000); });
  const std::string cat_count = data_case("count", [](const std::string& d) { write_short_labels(d + "/train-labels-idx1-ubyte.gz", 59999, 59999); });
  const std::string cat_label = data_case("label", [](const std::string& d) {
    write_short_labels(d + "/t10k-labels-idx1-ubyte.gz", 10000, 10000);
    // one label out of range: rewrite with a 12
    std::vector<unsigned char> b = {0, 0, 8, 1, 0, 0, 0x27, 0x10};
    for (int i = 0; i < 10000; ++i) b.push_back(static_cast<unsigned char>(i == 77 ? 12 : i % 10));
    gzFile f = gzopen((d + "/t10k-labels-idx1-ubyte.gz").c_str(), "wb");
    gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
    gzclose(f);
  });
  const std::string cat_missing = data_case("missing", [](const std::string& d) { fs::remove(d + "/t10k-images-idx3-ubyte.gz"); });
  fs::create_symlink(good, dir + "/good-link.nc");
  const Round2 r2 = round_two_inputs(dir, exe, ci, good);

  const std::map<std::string, std::string> vars = {
      {"exe", exe}, {"mpi2", mpi_prefix(2) + exe}, {"dir", dir}, {"ci", ci}, {"good", good}, {"out", dir + "/out.nc"}};
  const std::string syn = " --synthetic.seconds 0.001";
  std::vector<Case> cases = {
      // command line
      {"unknown command", "{exe} mesure --config {ci} --output {out}", "unknown command 'mesure'"},
      {"unknown option", "{exe} measure --config {ci} --output {out} --bogus 1", "unknown option '--bogus'"},
      {"missing --output", "{exe} measure --config {ci}", "--output"},
      {"missing config file", "{exe} measure --config {dir}/nope.ini --output {out}", "nope.ini"},
      {"resume and restart", "{exe} measure --config {ci} --output {out} --resume --restart" + syn, "--resume and --restart"},
      {"flag with a value", "{exe} measure --config {ci} --output {out} --resume=maybe" + syn, "maybe"},
      // configuration values
      {"epochs 0", "{exe} measure --config {ci} --output {out} --train.epochs 0", "epochs"},
      {"epochs text", "{exe} measure --config {ci} --output {out} --train.epochs abc", "abc"},
      {"momentum in the file out of range", "{exe} measure --config " + config_with(dir, "momentum", "train", "loss_scale = -3") + " --output {out}", "loss_scale"},
      {"negative learning rate", "{exe} measure --config {ci} --output {out} --train.learning_rate -1", "learning_rate"},
      {"unknown key", "{exe} measure --config " + config_with(dir, "key", "train", "epoks = 2") + " --output {out}", "epoks"},
      {"unknown section", "{exe} measure --config " + config_with(dir, "section", "bogus", "x = 1") + " --output {out}", "bogus"},
      {"bad format label", "{exe} measure --config {ci} --output {out} --campaign.formats_a e9m3q", "e9m3q"},
      {"format too wide", "{exe} measure --config {ci} --output {out} --campaign.formats_b e12m40", "e12m40"},
      {"empty format list", "{exe} measure --config " + config_with(dir, "emptyfmt", "campaign", "formats_a =") + " --output {out}", "formats_a"},
      {"bad scheme", "{exe} measure --config {ci} --output {out} --sampling.scheme sometimes", "sometimes"},
      {"ratio above 1", "{exe} measure --config {ci} --output {out} --sampling.scheme uniform --sampling.ratio 1.5", "ratio"},
      {"unknown model", "{exe} measure --config {ci} --output {out} --campaign.model resnet999", "resnet999"},
      {"replicates 0", "{exe} measure --config {ci} --output {out} --train.replicates 0", "replicates"},
      {"bad device", "{exe} measure --config {ci} --output {out} --run.device tpu", "tpu"},
      {"output folder missing", "{exe} measure --config {ci} --output {dir}/no/such/out.nc" + syn, "does not exist"},
      {"output is a folder", "{exe} complete --campaign {good} --output {dir}", "is a folder"},
      // catalogs
      {"missing catalog", "{exe} measure --config {ci} --output {out} --campaign.tasks {dir}/nocat.ini", "nocat.ini"},
      {"unknown class", "{exe} measure --config {ci} --output {out} --campaign.tasks " +
                            catalog_with(dir, "cls", "classes = shirt, coat", "classes = shirt, jacket"), "jacket"},
      {"duplicate task", "{exe} measure --config {ci} --output {out} --campaign.tasks " +
                             catalog_with(dir, "dup", "", "[task shoes]\nclasses = sandal, sneaker"), "shoes"},
      {"one class", "{exe} measure --config {ci} --output {out} --campaign.tasks " +
                        catalog_with(dir, "one", "classes = shirt, coat", "classes = shirt"), "class"},
      {"resolution 0", "{exe} measure --config {ci} --output {out} --campaign.tasks " +
                           catalog_with(dir, "res", "resolution = 14 ", "resolution = 0 "), "resolution"},
      {"unknown dataset kind", "{exe} measure --config {ci} --output {out} --campaign.tasks " +
                                   catalog_with(dir, "kind", "kind = idx", "kind = tiff"), "tiff"},
      {"dataset folder missing", "{exe} measure --config {ci} --output {out} --campaign.tasks " +
                                     catalog_with(dir, "nodata", "", "", dir + "/nowhere"), "not found"},
      {"too few images", "{exe} measure --config {ci} --output {out} --campaign.tasks " +
                             catalog_with(dir, "few", "train_size = 200 ", "train_size = 20000 "), "training split"},
      // corrupt data files (real training: found before any cell)
      {"truncated gzip", "{exe} measure --config {ci} --output {out} --campaign.tasks " + cat_gz, "truncated gzip"},
      {"wrong IDX magic", "{exe} measure --config {ci} --output {out} --campaign.tasks " + cat_magic, "wrong IDX magic"},
      {"labels short of header", "{exe} measure --config {ci} --output {out} --campaign.tasks " + cat_short, "size mismatch"},
      {"label count differs", "{exe} measure --config {ci} --output {out} --campaign.tasks " + cat_count, "59999 labels"},
      {"label out of range", "{exe} measure --config {ci} --output {out} --campaign.tasks " + cat_label, "label out of range"},
      {"dataset file missing", "{exe} measure --config {ci} --output {out} --campaign.tasks " + cat_missing, "not found"},
      // NetCDF inputs
      {"campaign missing", "{exe} complete --campaign {dir}/none.nc --output {out}", "file not found"},
      {"campaign not NetCDF", "{exe} complete --campaign {dir}/text.nc --output {out}", "not a readable NetCDF file"},
      {"campaign truncated", "{exe} complete --campaign {dir}/truncated.nc --output {out}", "truncated.nc"},
      {"error above 1", "{exe} complete --campaign " + err_high + " --output {out}", "holds 7"},
      {"error below 0", "{exe} loocv --campaign " + err_low + " --output {out} --settings I --methods ed-mf --measurements 3", "holds -0.5"},
      {"memory 0", "{exe} complete --campaign " + mem_zero + " --output {out}", "variable 'memory'"},
      {"memory NaN", "{exe} complete --campaign " + mem_nan + " --output {out}", "variable 'memory'"},
      {"memory inf", "{exe} loocv --campaign " + mem_inf + " --output {out} --settings I --methods ed-mf --measurements 3", "variable 'memory'"},
      {"status and error disagree", "{exe} complete --campaign " + status_err + " --output {out}", "status and error disagree"},
      {"replicate error above 1", "{exe} complete --campaign " + rep_high + " --output {out}", "error_replicates"},
      {"campaign is a loocv input of the wrong kind", "{exe} loocv --merge {good} --output {out}", "good.nc"},
      // impossible options
      {"lambda negative", "{exe} complete --campaign {good} --output {out} --lambda -1", "lambda"},
      {"measurements 0", "{exe} loocv --campaign {good} --output {out} --measurements 0", "measurements"},
      {"unknown setting", "{exe} loocv --campaign {good} --output {out} --settings IX", "IX"},
      {"negative cap", "{exe} loocv --campaign {good} --output {out} --cap -5", "cap"},
      {"unknown method", "{exe} loocv --campaign {good} --output {out} --methods magic-mf", "magic-mf"},
      // Issue 28, numbers that wrap: refused with the field's range before any work.
      {"epochs 2^32 wraps to 0", "{exe} measure --config {ci} --output {out} --train.epochs 4294967296", "in [1, 2147483647]"},
      {"batch size 2^31 turns negative", "{exe} measure --config {ci} --output {out} --train.batch_size 2147483648", "2147483647"},
      {"loocv rank 2^32", "{exe} loocv --campaign {good} --output {out} --rank 4294967299", "2147483647"},
      {"part 1/2^32 read as 1/0", "{exe} loocv --campaign {good} --output {out} --part 1/4294967296", "1/4294967296"},
      {"select unknown task", "{exe} select --campaign {good} --task {dir}/none.ini:foo --budget 1 --measurements 3 --output {out}", "none.ini"},
      // output = input
      {"output = campaign", "{exe} complete --campaign {good} --output {good}", "is the same file as the input"},
      {"output = campaign via link", "{exe} complete --campaign {good} --output {dir}/good-link.nc", "is the same file"},
      {"output = config", "{exe} measure --config {ci} --output {ci}" + syn, "is the same file"},
      // 2-rank variants
      {"2 ranks: epochs 0", "{mpi2} measure --config {ci} --output {out} --train.epochs 0", "epochs"},
      {"2 ranks: truncated gzip", "{mpi2} measure --config {ci} --output {out} --campaign.tasks " + cat_gz, "truncated gzip"},
      {"2 ranks: error above 1", "{mpi2} loocv --campaign " + err_high + " --output {out} --settings I --methods ed-mf --measurements 3", "holds 7"},
      {"2 ranks: output = input", "{mpi2} complete --campaign {good} --output {good}", "is the same file"},
      {"2 ranks: journal of another plan", "", "belongs to another plan"},
  };
  for (auto& c : round_two_cases(r2)) cases.push_back(c);
  // The last case needs a journal of another plan at {out}: made just before it runs.
  ASSERT_GE(cases.size(), 100u);
  const std::string out = dir + "/out.nc";
  const std::string good_hash = file_hash(good);
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    if (c.command.empty()) {  // journal of another plan
      ASSERT_EQ(test::run_command(exe + " measure --config " + ci + " --output " + out + syn +
                                  " --train.epochs 2 --run.progress_interval 0").exit_code, 0);
      fs::remove(out);
      c.command = "{mpi2} measure --config {ci} --output {out} --resume" + syn;
    }
    const bool had_journal = fs::exists(io::journal_dir(out));
    const std::string cmd = expand(c.command, vars);
    const auto r = test::run_command(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd << "\n" << r.output;
    EXPECT_EQ(error_lines(r.output), 1u) << cmd << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << cmd << "\n" << r.output;
    EXPECT_EQ(r.output.find("internal error"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(out)) << cmd;
    if (!had_journal) EXPECT_FALSE(fs::exists(io::journal_dir(out))) << cmd;
    EXPECT_FALSE(fs::exists(io::lock_path(out))) << cmd;
    for (const auto& e : fs::directory_iterator(dir))
      EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << cmd << ": " << e.path();
  }
  EXPECT_EQ(file_hash(good), good_hash);
}
