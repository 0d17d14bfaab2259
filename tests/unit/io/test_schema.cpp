// The schema field tables: every field of every schema survives a round
// trip, minimal external files and old-style loocv files (dimension
// `method`) are read, and the campaign <-> core-type conversions.
#include <gtest/gtest.h>

#include <filesystem>
#include <netcdf.h>

#include <cmath>
#include <cstdlib>
#include <set>
#include <variant>

#include "peppp/core/error.hpp"
#include "peppp/io/campaign.hpp"
#include "peppp/io/completion.hpp"
#include "peppp/io/fidelity.hpp"
#include "peppp/io/loocv.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/io/selection.hpp"
#include "test_util.hpp"

using namespace peppp;

namespace {

// Fill every member field of `s` with distinct values of its table size.
template <class S>
void fill_every_field(const io::Schema<S>& schema, S& s) {
  int k = 1;
  for (const auto& f : schema.fields)
    std::visit(
        [&](auto mp) {
          if constexpr (!std::is_same_v<decltype(mp), std::monostate>) {
            auto& v = s.*mp;
            using T = typename std::decay_t<decltype(v)>::value_type;
            std::size_t n = 1;
            for (const char* d : f.dims)
              for (const auto& dim : schema.dims)
                if (std::string(dim.name) == d) n *= dim.length(s);
            if (v.size() == n) return;  // coordinates, already set
            v.resize(n);
            for (std::size_t i = 0; i < n; ++i, ++k) {
              if constexpr (std::is_same_v<T, std::string>) v[i] = std::string(f.name) + std::to_string(i);
              // status: measured, the one status whose finite error the campaign checks accept.
              else if constexpr (std::is_same_v<T, std::uint8_t>)
                v[i] = static_cast<std::uint8_t>(std::string(f.name) == "status" ? 2 : k % 2);
              else if constexpr (std::is_same_v<T, int>) v[i] = static_cast<int>(i % 3);  // valid indices
              else v[i] = 1.0 / (k + 1);  // distinct, and a possible value of every field (rates, MiB, s)
            }
          }
        },
        f.member);
}

// Every member field of `a` equals that of `b`; returns the names compared.
template <class S>
std::set<std::string> expect_every_field_equal(const io::Schema<S>& schema, const S& a, const S& b) {
  std::set<std::string> seen;
  for (const auto& f : schema.fields)
    std::visit(
        [&](auto mp) {
          if constexpr (!std::is_same_v<decltype(mp), std::monostate>) {
            EXPECT_EQ(a.*mp, b.*mp) << schema.kind << ": " << f.name;
            EXPECT_FALSE((a.*mp).empty()) << schema.kind << ": " << f.name;
            seen.insert(f.name);
          }
        },
        f.member);
  return seen;
}

}  // namespace

TEST(IoSchema, TablesAreConsistent) {
  const auto dims = io::all_schema_dimensions();  // checks every table
  EXPECT_EQ(dims.size(), 4u + 3u + 7u + 3u + 2u);  // campaign, completion, loocv, selection, fidelity
}

TEST(IoSchema, CampaignRoundTripOfEveryField) {
  const std::string path = test::scratch_dir(MPI_COMM_SELF) + "/campaign.nc";
  io::Campaign c;
  c.task = {"a", "b"};
  c.config = {"e4m3/e6m7", "e5m2/e8m7", "e3m1/e6m9"};
  c.replicate = {0, 1};
  c.epoch = {1, 2, 3, 4};
  fill_every_field(io::campaign_schema(), c);
  for (auto& s : c.status) s = 2;
  io::write_campaign(path, c);
  const io::Campaign r = io::read_campaign(path);
  EXPECT_EQ(expect_every_field_equal(io::campaign_schema(), c, r).size(), io::campaign_schema().fields.size());
  // With row columns the row dimension and its coordinate are spelled `row`.
  io::NcFile f = io::NcFile::open(path);
  EXPECT_TRUE(f.has_var("row"));
  EXPECT_FALSE(f.has_var("task"));
  EXPECT_EQ(f.var_dims("error"), (std::vector<std::string>{"row", "config"}));
  EXPECT_EQ(f.var_dims("error_by_epoch"), (std::vector<std::string>{"row", "config", "epoch"}));
}

TEST(IoSchema, PlainCampaignKeepsTheTaskDimension) {
  const std::string path = test::scratch_dir(MPI_COMM_SELF) + "/plain.nc";
  io::Campaign c;
  c.task = {"a", "b"};
  c.config = {"e4m3/e6m7"};
  c.a_exponent_bits = {4};
  c.a_mantissa_bits = {3};
  c.b_exponent_bits = {6};
  c.b_mantissa_bits = {7};
  c.replicate = {0};
  c.allocate();
  c.memory = {1.0, 2.0};
  io::write_campaign(path, c);
  io::NcFile f = io::NcFile::open(path);
  EXPECT_TRUE(f.has_var("task"));
  EXPECT_FALSE(f.has_var("row"));
  EXPECT_FALSE(f.has_var("row_task"));
  EXPECT_FALSE(f.has_var("epoch"));  // no per-epoch record: no epoch dimension
  EXPECT_EQ(f.var_dims("error"), (std::vector<std::string>{"task", "config"}));
}

TEST(IoSchema, LoocvRoundTripOfEveryField) {
  const std::string path = test::scratch_dir(MPI_COMM_SELF) + "/loocv.nc";
  io::Loocv l;
  l.setting = {"I", "IV"};
  l.method = {"ed-mf", "random-high-memory"};
  l.measurements = {2, 3};
  l.task = {"a", "b", "c"};
  l.fold = {"a", "b", "c"};
  l.config = {"x", "y"};
  fill_every_field(io::loocv_schema(), l);
  io::write_loocv(path, l);
  const io::Loocv r = io::read_loocv(path);
  // every field but the generated `step` index
  EXPECT_EQ(expect_every_field_equal(io::loocv_schema(), l, r).size(), io::loocv_schema().fields.size() - 1);
  // the metric variables, units and long_names come from the one list
  io::NcFile f = io::NcFile::open(path);
  int id = -1;
  ASSERT_EQ(nc_open(path.c_str(), NC_NOWRITE, &id), NC_NOERR);
  for (const auto& m : loocv_metric_info()) {
    int v = f.var_id(m.name);
    char buf[256] = {0};
    ASSERT_EQ(nc_get_att_text(id, v, "units", buf), NC_NOERR) << m.name;
    EXPECT_STREQ(buf, m.units);
    char ln[256] = {0};
    ASSERT_EQ(nc_get_att_text(id, v, "long_name", ln), NC_NOERR) << m.name;
    EXPECT_STREQ(ln, m.long_name);
  }
  nc_close(id);
  EXPECT_EQ(io::loocv_metric_names().size(), kLoocvMetricCount);
  EXPECT_EQ(io::loocv_metric_names().front(), "relative_error");
  EXPECT_EQ(f.var_dims("regret"), (std::vector<std::string>{"setting", "acquisition", "measurements", "fold"}));
  EXPECT_FALSE(f.has_var("method"));
}

TEST(IoSchema, FidelityRoundTripOfEveryField) {
  const std::string path = test::scratch_dir(MPI_COMM_SELF) + "/fidelity.nc";
  io::Fidelity f;
  f.row = {"a:small-cnn", "a:resnet8", "b:small-cnn"};
  f.epoch = {1, 3};
  fill_every_field(io::fidelity_schema(), f);
  io::write_fidelity(path, f);
  const io::Fidelity r = io::read_fidelity(path);
  EXPECT_EQ(expect_every_field_equal(io::fidelity_schema(), f, r).size(), io::fidelity_schema().fields.size());
  EXPECT_EQ(r.text_attributes.at("peppp_file"), "fidelity");
  io::NcFile nc = io::NcFile::open(path);
  EXPECT_EQ(nc.var_dims("kendall_tau"), (std::vector<std::string>{"row", "epoch"}));
}

TEST(IoSchema, SelectionAndCompletionRoundTripOfEveryField) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF);
  io::Selection s;
  s.config = {"x", "y", "z"};
  s.selection_order = {2, 0};
  s.round_expected_regret = {0.01, 0.02};  // the round dimension's length
  fill_every_field(io::selection_schema(), s);
  io::write_selection(dir + "/s.nc", s);
  EXPECT_EQ(expect_every_field_equal(io::selection_schema(), s, io::read_selection(dir + "/s.nc")).size(),
            io::selection_schema().fields.size() - 2);  // the index coordinates step and round hold nothing
  io::Completion c;
  c.task = {"a", "b"};
  c.config = {"x", "y", "z"};
  c.sweep_ratio = {0.1, 0.2, 0.5};
  fill_every_field(io::completion_schema(), c);
  io::write_completion(dir + "/c.nc", c);
  EXPECT_EQ(expect_every_field_equal(io::completion_schema(), c, io::read_completion(dir + "/c.nc")).size(),
            io::completion_schema().fields.size());
}

TEST(IoSchema, OldLoocvFileWithMethodDimensionIsRead) {
  // A loocv.nc as written before the rename: dimension and coordinate `method`.
  const std::string path = test::scratch_dir(MPI_COMM_SELF) + "/old.nc";
  const std::size_t S = 1, M = 2, L = 1, F = 2, n = 2, d = 1, P = 2;
  {
    int id = -1;
    ASSERT_EQ(nc_create(path.c_str(), NC_NETCDF4 | NC_CLOBBER, &id), NC_NOERR);
    std::map<std::string, int> dim;
    for (auto [name, len] : std::vector<std::pair<const char*, std::size_t>>{
             {"setting", S}, {"method", M}, {"measurements", L}, {"fold", F}, {"task", n}, {"config", d}, {"step", P}})
      ASSERT_EQ(nc_def_dim(id, name, len, &dim[name]), NC_NOERR);
    auto def = [&](const char* name, nc_type t, std::vector<const char*> dims) {
      std::vector<int> ids;
      for (const char* x : dims) ids.push_back(dim.at(x));
      int v = -1;
      EXPECT_EQ(nc_def_var(id, name, t, static_cast<int>(ids.size()), ids.data(), &v), NC_NOERR) << name;
      return v;
    };
    auto strings = [&](const char* name, std::vector<const char*> values) {
      int v = def(name, NC_STRING, {name});
      return std::make_pair(v, values);
    };
    auto vs = strings("setting", {"I"}), vm = strings("method", {"ed-mf", "random-high-memory"}),
         vf = strings("fold", {"a", "b"}), vt = strings("task", {"a", "b"}), vc = strings("config", {"e4m3/e6m7"});
    int vl = def("measurements", NC_INT, {"measurements"});
    int vft = def("fold_task", NC_INT, {"fold"});
    const std::vector<const char*> m4{"setting", "method", "measurements", "fold"};
    std::vector<int> metrics;
    for (const auto& name : io::loocv_metric_names()) metrics.push_back(def(name.c_str(), NC_DOUBLE, m4));
    int vsel = def("selected_config", NC_INT, m4);
    int vord = def("selection_order", NC_INT, {"setting", "method", "fold", "step"});
    int vlam = def("lambda", NC_DOUBLE, {"setting", "fold"}), vfr = def("sampled_fraction", NC_DOUBLE, {"setting", "fold"});
    int vmask = def("sampling_mask", NC_UBYTE, {"setting", "fold", "task", "config"});
    const double budget = 3.5;
    ASSERT_EQ(nc_put_att_double(id, NC_GLOBAL, "budget", NC_DOUBLE, 1, &budget), NC_NOERR);
    ASSERT_EQ(nc_enddef(id), NC_NOERR);
    for (auto* p : {&vs, &vm, &vf, &vt, &vc}) ASSERT_EQ(nc_put_var_string(id, p->first, p->second.data()), NC_NOERR);
    const int counts[] = {2}, ft[] = {0, 1}, sel[] = {0, -1, 0, -1}, ord[] = {0, -1, 0, -1, -1, -1, -1, -1};
    ASSERT_EQ(nc_put_var_int(id, vl, counts), NC_NOERR);
    ASSERT_EQ(nc_put_var_int(id, vft, ft), NC_NOERR);
    for (std::size_t i = 0; i < metrics.size(); ++i) {
      const double v[] = {0.1 * i, 0.2, 0.3, 0.4};
      ASSERT_EQ(nc_put_var_double(id, metrics[i], v), NC_NOERR);
    }
    ASSERT_EQ(nc_put_var_int(id, vsel, sel), NC_NOERR);
    ASSERT_EQ(nc_put_var_int(id, vord, ord), NC_NOERR);
    const double lam[] = {0.5, 0.6};
    ASSERT_EQ(nc_put_var_double(id, vlam, lam), NC_NOERR);
    ASSERT_EQ(nc_put_var_double(id, vfr, lam), NC_NOERR);
    const unsigned char mask[] = {0, 1, 1, 0};
    ASSERT_EQ(nc_put_var_uchar(id, vmask, mask), NC_NOERR);
    ASSERT_EQ(nc_close(id), NC_NOERR);
  }
  const io::Loocv l = io::read_loocv(path);
  EXPECT_EQ(l.method, (std::vector<std::string>{"ed-mf", "random-high-memory"}));
  EXPECT_EQ(l.selected_config, (std::vector<int>{0, -1, 0, -1}));
  EXPECT_DOUBLE_EQ(l.regret[0], 0.5);
  EXPECT_DOUBLE_EQ(l.budget, 3.5);
  // Written again, it carries the new name.
  const std::string again = test::scratch_dir(MPI_COMM_SELF) + "/new.nc";
  io::write_loocv(again, l);
  io::NcFile f = io::NcFile::open(again);
  EXPECT_EQ(f.dim_len("acquisition"), 2u);
  EXPECT_EQ(f.get_strings("acquisition"), l.method);
}

TEST(IoSchema, LoocvWithoutAcquisitionNamesTheNewName) {
  const std::string path = test::scratch_dir(MPI_COMM_SELF) + "/broken.nc";
  {
    io::NcFile f = io::NcFile::create(path);
    int ds = f.def_dim("setting", 1);
    int v = f.def_var("setting", NC_STRING, {ds});
    f.end_def();
    f.put(v, std::vector<std::string>{"I"});
    f.close();
  }
  try {
    io::read_loocv(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": variable 'acquisition' missing");
  }
}

TEST(IoSchema, MinimalCampaignDefaultsAndWrongDimensions) {
  const std::string path = test::scratch_dir(MPI_COMM_SELF) + "/external.nc";
  auto write = [&](bool transposed) {
    std::filesystem::remove(path);  // NcFile::create is exclusive
    io::NcFile f = io::NcFile::create(path);
    int dt = f.def_dim("task", 2), dc = f.def_dim("config", 2);
    int vt = f.def_var("task", NC_STRING, {dt}), vc = f.def_var("config", NC_STRING, {dc});
    int b[4];
    const char* names[4] = {"a_exponent_bits", "a_mantissa_bits", "b_exponent_bits", "b_mantissa_bits"};
    for (int i = 0; i < 4; ++i) b[i] = f.def_var(names[i], NC_INT, {dc});
    int ve = f.def_var("error", NC_DOUBLE, {dt, dc});
    int vm = f.def_var("memory", NC_DOUBLE, transposed ? std::vector<int>{dc, dt} : std::vector<int>{dt, dc});
    f.end_def();
    f.put(vt, std::vector<std::string>{"x", "y"});
    f.put(vc, std::vector<std::string>{"e4m3/e6m7", "e9m3/e6m7"});
    for (int i = 0; i < 4; ++i) f.put(b[i], std::vector<int>{4, 3});
    f.put(ve, std::vector<double>{0.1, std::nan(""), std::nan(""), 0.3});
    f.put(vm, std::vector<double>{5, 6, 5, 6});
    f.close();
  };
  write(false);
  const io::Campaign c = io::read_campaign(path);
  EXPECT_EQ(c.status, (std::vector<std::uint8_t>{2, 0, 0, 2}));
  for (const auto* v : {&c.memory_weights, &c.memory_activations, &c.memory_optimizer, &c.train_seconds,
                        &c.final_loss, &c.sampling_probability})
    EXPECT_TRUE(v->empty());
  EXPECT_TRUE(c.task_dataset.empty());
  EXPECT_TRUE(c.task_classes.empty());
  // Rows of a minimal campaign: names only.
  const auto rows = io::task_rows(c);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].name, "y");
  EXPECT_EQ(rows[1].dataset, "");
  EXPECT_EQ(rows[1].classes, 0);
  write(true);
  try {
    io::read_campaign(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": variable 'memory' must have dimensions (task, config)");
  }
}

TEST(IoSchema, CampaignConversionsToCoreTypes) {
  io::Campaign c;
  const std::vector<TaskRow> rows{{"a", "fashion-mnist", 10, 28, 600, 100}, {"b", "cifar10", 5, 14, 300, 50}};
  io::set_task_rows(c, rows);
  const std::vector<Configuration> configs{Configuration::parse("e4m3/e6m7"), Configuration::parse("e5m2/e8m7")};
  io::set_configurations(c, configs);
  c.allocate();
  EXPECT_EQ(c.task, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.config, (std::vector<std::string>{"e4m3/e6m7", "e5m2/e8m7"}));
  EXPECT_EQ(c.a_exponent_bits, (std::vector<int>{4, 5}));
  EXPECT_EQ(c.b_mantissa_bits, (std::vector<int>{7, 7}));
  EXPECT_EQ(c.task_resolution, (std::vector<int>{28, 14}));  // allocate keeps the columns
  EXPECT_EQ(c.memory.size(), 4u);
  const auto back = io::task_rows(c);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].dataset, "cifar10");
  EXPECT_EQ(back[1].test_size, 50);
  EXPECT_EQ(io::configurations(c), configs);
  c.a_exponent_bits[1] = 9;
  try {
    io::configurations(c, "x.nc");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("x.nc: configuration 'e5m2/e8m7' (index 1): ", 0), 0u) << what;
  }
  c.b_mantissa_bits.pop_back();
  EXPECT_THROW(io::configurations(c, "x.nc"), InputError);
}

namespace {
// Keyword parameters of xarray's Dataset/DataArray methods that take
// dimension names as **kwargs (sel, isel, interp, reindex, rename,
// rename_dims, drop_sel, drop_isel, expand_dims, squeeze, to_array, stack,
// pad, shift, roll, thin, head, tail, coarsen, rolling, assign_coords,
// chunk, swap_dims, set_index): a dimension of that name cannot be given as
// such a keyword (`ds.sel(method="ed-mf")` selects nothing). Kept in step
// with the installed xarray by tests/scripts/test_xarray_dims.py.
const std::set<std::string> kXarrayKeywords{
    "append", "args", "assume_sorted", "axis", "boundary", "center", "chunks", "chunks_kwargs", "constant_values",
    "coord_func", "coords", "coords_kwargs", "copy", "create_index", "dim", "dim_kwargs", "dimensions",
    "dimensions_kwargs", "dims", "dims_dict", "dims_kwargs", "dims_or_levels", "drop", "end_values", "errors",
    "exclude", "fill_value", "index_cls", "indexer", "indexers", "indexers_kwargs", "indexes", "indexes_kwargs",
    "inline_array", "keep_attrs", "kwargs", "label", "labels", "labels_kwargs", "lock", "method",
    "method_non_numeric", "min_periods", "missing_dims", "mode", "name", "name_dict", "name_prefix", "names",
    "new_dim", "new_name_or_name_dict", "pad_width", "pad_width_kwargs", "promote_attrs", "reflect_type",
    "roll_coords", "shifts", "shifts_kwargs", "side", "skipna", "stat_length", "token", "tolerance", "variables",
    "window", "window_kwargs",
};

bool is_xarray_keyword(const std::string& name) { return kXarrayKeywords.count(name) > 0; }
}  // namespace

TEST(IoSchema, NoDimensionIsAnXarrayKeyword) {
  ASSERT_TRUE(is_xarray_keyword("method"));  // the check would catch the old loocv dimension
  for (const auto& [kind, dim] : io::all_schema_dimensions())
    EXPECT_FALSE(is_xarray_keyword(dim)) << kind << ": dimension '" << dim
                                         << "' is a keyword argument of xarray's sel()/isel()/...";
}

// One file of each schema, for tests/scripts/test_xarray_dims.py (folder
// $PEPPP_SCHEMA_OUT when set).
TEST(IoSchema, WritesOneFileOfEachSchema) {
  const char* env = std::getenv("PEPPP_SCHEMA_OUT");
  const std::string dir = env ? env : test::scratch_dir(MPI_COMM_SELF);
  io::Campaign c;
  c.task = {"a", "b"};
  c.config = {"e4m3/e6m7", "e5m2/e8m7"};
  fill_every_field(io::campaign_schema(), c);
  for (auto& s : c.status) s = 2;
  io::write_campaign(dir + "/campaign.nc", c);
  io::Loocv l;
  l.setting = {"I"};
  l.method = {"ed-mf", "random-high-memory"};
  l.measurements = {2};
  l.task = l.fold = {"a", "b"};
  l.config = c.config;
  fill_every_field(io::loocv_schema(), l);
  io::write_loocv(dir + "/loocv.nc", l);
  io::Selection s;
  s.config = c.config;
  s.selection_order = {1};
  fill_every_field(io::selection_schema(), s);
  io::write_selection(dir + "/selection.nc", s);
  io::Completion k;
  k.task = c.task;
  k.config = c.config;
  k.sweep_ratio = {0.5};
  fill_every_field(io::completion_schema(), k);
  io::write_completion(dir + "/completed.nc", k);
}
