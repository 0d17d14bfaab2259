// Readers on small files written here, and corrupted variants of them.
#include <gtest/gtest.h>
#include <netcdf.h>
#include <zlib.h>

#include <fstream>
#include <functional>

#include "peppp/core/error.hpp"
#include "peppp/data/images.hpp"
#include "test_util.hpp"

using namespace peppp;
using namespace peppp::data;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

Bytes idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  Bytes b;
  put32(b, 0x00000803);
  put32(b, n);
  put32(b, rows);
  put32(b, cols);
  for (std::uint32_t i = 0; i < n * rows * cols; ++i) b.push_back(static_cast<std::uint8_t>(i * 7 + 3));
  return b;
}

Bytes idx_labels(const std::vector<std::uint8_t>& labels) {
  Bytes b;
  put32(b, 0x00000801);
  put32(b, static_cast<std::uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

void write(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, b.data(), static_cast<unsigned>(b.size())), static_cast<int>(b.size()));
  gzclose(f);
}

Bytes slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The error message of `f`, failing the test when it does not throw InputError.
std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected InputError, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected InputError, nothing was thrown";
  return {};
}

}  // namespace

TEST(IdxReader, ReadsPlainAndGzipIdentically) {
  const auto dir = test::scratch_dir();
  const auto img = idx_images(5, 3, 4);
  const auto lab = idx_labels({0, 9, 3, 3, 1});
  write(dir + "/img", img);
  write(dir + "/lab", lab);
  write_gz(dir + "/img.gz", img);
  write_gz(dir + "/lab.gz", lab);
  const auto a = read_idx_pair(dir + "/img", dir + "/lab", 10);
  const auto b = read_idx_pair(dir + "/img.gz", dir + "/lab.gz", 10);
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a.channels, 1);
  EXPECT_EQ(a.height, 3);
  EXPECT_EQ(a.width, 4);
  EXPECT_EQ(a.labels, (std::vector<std::int32_t>{0, 9, 3, 3, 1}));
  ASSERT_EQ(a.pixels.size(), 60u);
  EXPECT_EQ(a.pixels[13], static_cast<std::uint8_t>(13 * 7 + 3));
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.labels, b.labels);
}

TEST(IdxReader, RejectsCorruptFiles) {
  const auto dir = test::scratch_dir();
  auto img = idx_images(4, 2, 2);
  write(dir + "/ok-img", img);
  write(dir + "/ok-lab", idx_labels({0, 1, 2, 3}));

  Bytes truncated(img.begin(), img.end() - 3);
  write(dir + "/trunc", truncated);
  auto msg = input_error([&] { read_idx_images(dir + "/trunc"); });
  EXPECT_NE(msg.find(dir + "/trunc"), std::string::npos) << msg;
  EXPECT_NE(msg.find("4 x 2 x 2 = 16 bytes of data, found 13"), std::string::npos) << msg;

  write(dir + "/short", Bytes{0, 0, 8, 3, 0, 0});
  msg = input_error([&] { read_idx_images(dir + "/short"); });
  EXPECT_NE(msg.find("truncated IDX header"), std::string::npos) << msg;

  auto bad = img;
  bad[3] = 0x01;  // a label file's magic where images are expected
  write(dir + "/magic", bad);
  msg = input_error([&] { read_idx_images(dir + "/magic"); });
  EXPECT_NE(msg.find("wrong IDX magic"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected 0x00000803"), std::string::npos) << msg;
  EXPECT_NE(msg.find("found 0x00000801"), std::string::npos) << msg;

  bad = img;
  bad[2] = 0x0d;  // float element type
  write(dir + "/type", bad);
  msg = input_error([&] { read_idx_images(dir + "/type"); });
  EXPECT_NE(msg.find("only ubyte"), std::string::npos) << msg;

  write(dir + "/range", idx_labels({0, 1, 10, 3}));
  msg = input_error([&] { read_idx_labels(dir + "/range", 10); });
  EXPECT_NE(msg.find("label out of range at item 2: found 10, expected 0..9"), std::string::npos) << msg;

  write(dir + "/three", idx_labels({0, 1, 2}));
  msg = input_error([&] { read_idx_pair(dir + "/ok-img", dir + "/three", 10); });
  EXPECT_NE(msg.find("3 labels, expected 4"), std::string::npos) << msg;

  msg = input_error([&] { read_idx_images(dir + "/does-not-exist.gz"); });
  EXPECT_NE(msg.find("cannot open"), std::string::npos) << msg;
}

TEST(IdxReader, RejectsCorruptGzip) {
  const auto dir = test::scratch_dir();
  write_gz(dir + "/img.gz", idx_images(50, 8, 8));
  auto gz = slurp(dir + "/img.gz");
  write(dir + "/cut.gz", Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)));
  auto msg = input_error([&] { read_idx_images(dir + "/cut.gz"); });
  EXPECT_NE(msg.find(dir + "/cut.gz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gzip"), std::string::npos) << msg;

  auto flipped = gz;
  flipped[flipped.size() - 6] ^= 0xff;  // CRC32 of the trailer
  write(dir + "/crc.gz", flipped);
  msg = input_error([&] { read_idx_images(dir + "/crc.gz"); });
  EXPECT_NE(msg.find("gzip"), std::string::npos) << msg;

  write(dir + "/plain.gz", idx_images(2, 2, 2));
  msg = input_error([&] { read_idx_images(dir + "/plain.gz"); });
  EXPECT_NE(msg.find("expected a gzip stream"), std::string::npos) << msg;
}

namespace {
Bytes cifar_records(const std::vector<std::vector<std::uint8_t>>& labels) {
  Bytes b;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    b.insert(b.end(), labels[i].begin(), labels[i].end());
    for (int p = 0; p < 3072; ++p) b.push_back(static_cast<std::uint8_t>((p / 1024) * 50 + i));
  }
  return b;
}
}  // namespace

TEST(CifarReader, Cifar10ConcatenatesBatches) {
  const auto dir = test::scratch_dir();
  write(dir + "/b1.bin", cifar_records({{3}, {9}}));
  write(dir + "/b2.bin", cifar_records({{0}}));
  const auto s = read_cifar10({dir + "/b1.bin", dir + "/b2.bin"});
  EXPECT_EQ(s.channels, 3);
  EXPECT_EQ(s.height, 32);
  EXPECT_EQ(s.labels, (std::vector<std::int32_t>{3, 9, 0}));
  ASSERT_EQ(s.pixels.size(), 3u * 3072);
  EXPECT_EQ(s.pixels[0], 0);              // image 0, R plane
  EXPECT_EQ(s.pixels[3072 + 1024], 51);   // image 1, G plane
  EXPECT_EQ(s.pixels[2 * 3072 + 2048], 100);  // image 2 (first of batch 2), B plane
}

TEST(CifarReader, Cifar10RejectsCorruptFiles) {
  const auto dir = test::scratch_dir();
  auto b = cifar_records({{1}, {2}});
  write(dir + "/trunc.bin", Bytes(b.begin(), b.end() - 100));
  auto msg = input_error([&] { read_cifar10({dir + "/trunc.bin"}); });
  EXPECT_NE(msg.find("6046 bytes is not a positive multiple of the 3073-byte record"), std::string::npos) << msg;
  write(dir + "/label.bin", cifar_records({{1}, {10}}));
  msg = input_error([&] { read_cifar10({dir + "/label.bin"}); });
  EXPECT_NE(msg.find("label out of range in record 1: found 10, expected 0..9"), std::string::npos) << msg;
  // A CIFAR-100 file read as CIFAR-10 has the wrong record size.
  write(dir + "/c100.bin", cifar_records({{1, 2}, {3, 4}, {5, 6}}));
  msg = input_error([&] { read_cifar10({dir + "/c100.bin"}); });
  EXPECT_NE(msg.find("3073-byte record"), std::string::npos) << msg;
}

TEST(CifarReader, Cifar100FineAndCoarse) {
  const auto dir = test::scratch_dir();
  write(dir + "/train.bin", cifar_records({{4, 72}, {19, 99}, {0, 4}}));
  const auto fine = read_cifar100(dir + "/train.bin", true);
  const auto coarse = read_cifar100(dir + "/train.bin", false);
  EXPECT_EQ(fine.labels, (std::vector<std::int32_t>{72, 99, 4}));
  EXPECT_EQ(coarse.labels, (std::vector<std::int32_t>{4, 19, 0}));
  EXPECT_EQ(fine.pixels, coarse.pixels);
  EXPECT_EQ(fine.pixels[3072 + 5], 1);

  write(dir + "/coarse.bin", cifar_records({{20, 1}}));
  auto msg = input_error([&] { read_cifar100(dir + "/coarse.bin", true); });
  EXPECT_NE(msg.find("coarse label out of range in record 0: found 20, expected 0..19"), std::string::npos) << msg;
  write(dir + "/fine.bin", cifar_records({{2, 1}, {2, 100}}));
  msg = input_error([&] { read_cifar100(dir + "/fine.bin", true); });
  EXPECT_NE(msg.find("fine label out of range in record 1: found 100, expected 0..99"), std::string::npos) << msg;
  auto b = cifar_records({{1, 1}});
  write(dir + "/trunc.bin", Bytes(b.begin(), b.end() - 1));
  msg = input_error([&] { read_cifar100(dir + "/trunc.bin", true); });
  EXPECT_NE(msg.find("3074-byte record"), std::string::npos) << msg;
}

TEST(NetcdfImages, RoundTrip) {
  const auto dir = test::scratch_dir();
  ImageSet s;
  s.channels = 3;
  s.height = 4;
  s.width = 5;
  s.labels = {1, 0, 2, 1};
  for (std::size_t i = 0; i < 4 * 60; ++i) s.pixels.push_back(static_cast<std::uint8_t>(i % 251));
  write_image_netcdf(dir + "/x.nc", s, {"cat", "dog", "fish"});
  std::vector<std::string> names;
  const auto r = read_image_netcdf(dir + "/x.nc", names);
  EXPECT_EQ(names, (std::vector<std::string>{"cat", "dog", "fish"}));
  EXPECT_EQ(r.channels, 3);
  EXPECT_EQ(r.height, 4);
  EXPECT_EQ(r.width, 5);
  EXPECT_EQ(r.labels, s.labels);
  EXPECT_EQ(r.pixels, s.pixels);
}

namespace {
// A NetCDF-4 file with `images` of the given dims (ubyte), `labels` (omitted
// when empty) and `classes` class names, written with NetCDF-C directly.
std::string raw_nc(const std::string& path, const std::vector<std::size_t>& dims,
                   const std::vector<int>& labels, int classes) {
  int nc, vi, vl, vn, dk, dl;
  EXPECT_EQ(nc_create(path.c_str(), NC_CLOBBER | NC_NETCDF4, &nc), NC_NOERR);
  std::vector<int> ids;
  std::size_t total = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    int id;
    nc_def_dim(nc, ("d" + std::to_string(d)).c_str(), dims[d], &id);
    ids.push_back(id);
    total *= dims[d];
  }
  nc_def_var(nc, "images", NC_UBYTE, static_cast<int>(ids.size()), ids.data(), &vi);
  if (!labels.empty()) {
    nc_def_dim(nc, "nl", labels.size(), &dl);
    nc_def_var(nc, "labels", NC_INT, 1, &dl, &vl);
  }
  nc_def_dim(nc, "class", classes, &dk);
  nc_def_var(nc, "class_names", NC_STRING, 1, &dk, &vn);
  nc_enddef(nc);
  std::vector<unsigned char> px(total, 7);
  nc_put_var_uchar(nc, vi, px.data());
  if (!labels.empty()) nc_put_var_int(nc, vl, labels.data());
  std::vector<std::string> names;
  std::vector<const char*> p;
  for (int i = 0; i < classes; ++i) names.push_back("c" + std::to_string(i));
  for (auto& n : names) p.push_back(n.c_str());
  nc_put_var_string(nc, vn, p.data());
  nc_close(nc);
  return path;
}
}  // namespace

TEST(NetcdfImages, RejectsBadFiles) {
  const auto dir = test::scratch_dir();
  ImageSet s;
  s.channels = 1;
  s.height = s.width = 2;
  s.labels = {0, 1};
  s.pixels.assign(8, 9);
  write_image_netcdf(dir + "/ok.nc", s, {"a", "b"});
  std::vector<std::string> names;

  // Hand-made files the writer would refuse to produce.
  auto msg = input_error([&] { read_image_netcdf(raw_nc(dir + "/range.nc", {2, 1, 2, 2}, {0, 2}, 2), names); });
  EXPECT_NE(msg.find("label out of range at image 1: found 2, expected 0..1"), std::string::npos) << msg;
  msg = input_error([&] { read_image_netcdf(raw_nc(dir + "/dims.nc", {2, 2, 2}, {0, 1}, 2), names); });
  EXPECT_NE(msg.find("variable 'images' has 3 dims, expected 4"), std::string::npos) << msg;
  msg = input_error([&] { read_image_netcdf(raw_nc(dir + "/count.nc", {3, 1, 2, 2}, {0, 1}, 2), names); });
  EXPECT_NE(msg.find("labels has 2 entries, expected 3"), std::string::npos) << msg;
  msg = input_error([&] { read_image_netcdf(raw_nc(dir + "/chan.nc", {2, 2, 2, 2}, {0, 1}, 2), names); });
  EXPECT_NE(msg.find("2 channels, expected 1 or 3"), std::string::npos) << msg;
  msg = input_error([&] { read_image_netcdf(raw_nc(dir + "/nolabels.nc", {2, 1, 2, 2}, {}, 2), names); });
  EXPECT_NE(msg.find("variable 'labels' is missing"), std::string::npos) << msg;

  // Truncated file.
  auto bytes = slurp(dir + "/ok.nc");
  write(dir + "/trunc.nc", Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 3)));
  msg = input_error([&] { read_image_netcdf(dir + "/trunc.nc", names); });
  EXPECT_NE(msg.find(dir + "/trunc.nc"), std::string::npos) << msg;

  // Not NetCDF at all.
  write(dir + "/junk.nc", Bytes(100, 0x42));
  msg = input_error([&] { read_image_netcdf(dir + "/junk.nc", names); });
  EXPECT_NE(msg.find("cannot open as NetCDF"), std::string::npos) << msg;
}
