// IDX and CIFAR binary readers: whole-file reads, every size checked before
// a byte is interpreted.
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "peppp/core/error.hpp"
#include "peppp/data/images.hpp"

namespace peppp::data {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::uint32_t big_endian32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Common IDX header check; returns the dimension sizes.
std::vector<std::uint32_t> idx_header(const std::string& path, const std::vector<std::uint8_t>& b,
                                      int expected_dims, const char* what) {
  const std::uint32_t expected_magic = 0x00000800u | static_cast<std::uint32_t>(expected_dims);
  if (b.size() < 4)
    throw InputError(path + ": not an IDX " + what + " file: expected magic " + hex32(expected_magic) +
                     ", found only " + std::to_string(b.size()) + " bytes");
  const std::uint32_t magic = big_endian32(b.data());
  if (magic != expected_magic) {
    std::string found = hex32(magic);
    if ((magic & 0xffff0000u) == 0 && ((magic >> 8) & 0xff) != 0x08)
      found += " (element type " + hex32((magic >> 8) & 0xff) + ", only ubyte 0x08 is supported)";
    else if ((magic & 0xffffff00u) == 0x00000800u)
      found += " (" + std::to_string(magic & 0xff) + " dims)";
    throw InputError(path + ": wrong IDX magic for " + what + ": expected " + hex32(expected_magic) +
                     " (ubyte, " + std::to_string(expected_dims) + " dims), found " + found);
  }
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(expected_dims);
  if (b.size() < header)
    throw InputError(path + ": truncated IDX header: expected " + std::to_string(header) +
                     " bytes, found " + std::to_string(b.size()));
  std::vector<std::uint32_t> dims(expected_dims);
  unsigned __int128 payload = 1;  // three 32-bit sizes can overflow 64 bits in a corrupt header
  for (int d = 0; d < expected_dims; ++d) {
    dims[d] = big_endian32(b.data() + 4 + 4 * d);
    payload *= dims[d];
  }
  if (static_cast<unsigned __int128>(b.size() - header) != payload) {
    std::ostringstream os;
    os << path << ": IDX " << what << " size mismatch: header says ";
    for (int d = 0; d < expected_dims; ++d) os << (d ? " x " : "") << dims[d];
    os << " = ";
    if (payload >> 64)
      os << "more than 2^64";
    else
      os << static_cast<std::uint64_t>(payload);
    os << " bytes of data, found " << (b.size() - header)
       << (static_cast<unsigned __int128>(b.size() - header) < payload ? " (truncated file?)" : " (trailing bytes)");
    throw InputError(os.str());
  }
  return dims;
}

// zlib's messages may start with the file name; ours already does.
std::string zlib_message(const char* msg, const std::string& path) {
  std::string m = msg ? msg : "unknown zlib error";
  if (m.compare(0, path.size() + 2, path + ": ") == 0) m.erase(0, path.size() + 2);
  return m;
}

}  // namespace

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  std::vector<std::uint8_t> out;
  {
    // A FIFO would block the read forever, a folder or device is no dataset file.
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
      throw InputError(path + ": is not a regular file (a folder, FIFO, device or socket); allowed: a dataset file");
  }
  if (ends_with(path, ".gz")) {
    std::unique_ptr<gzFile_s, int (*)(gzFile)> f(gzopen(path.c_str(), "rb"), &gzclose);
    if (!f) throw InputError(path + ": cannot open for reading (missing or unreadable)");
    gzbuffer(f.get(), 1 << 17);
    std::uint8_t buf[1 << 16];
    for (;;) {
      const int n = gzread(f.get(), buf, sizeof buf);
      if (n < 0) {
        int code = 0;
        const char* msg = gzerror(f.get(), &code);
        throw InputError(path + ": corrupt gzip stream: " + zlib_message(msg, path));
      }
      if (n == 0) break;
      out.insert(out.end(), buf, buf + n);
    }
    int code = 0;
    const char* msg = gzerror(f.get(), &code);
    if (code != Z_OK && code != Z_STREAM_END)
      throw InputError(path + ": corrupt or truncated gzip stream: " + zlib_message(msg, path));
    if (gzdirect(f.get()))
      throw InputError(path + ": expected a gzip stream (name ends in .gz), found uncompressed data");
    return out;
  }
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw InputError(path + ": cannot open for reading (missing or unreadable)");
  const std::streamsize size = in.tellg();
  in.seekg(0);
  out.resize(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(out.data()), size))
    throw InputError(path + ": read failed after " + std::to_string(in.gcount()) + " of " +
                     std::to_string(size) + " bytes");
  return out;
}

ImageSet read_idx_images(const std::string& path) {
  auto bytes = read_file_bytes(path);
  const auto dims = idx_header(path, bytes, 3, "images");
  if (dims[1] == 0 || dims[2] == 0)
    throw InputError(path + ": IDX images have zero size " + std::to_string(dims[1]) + " x " +
                     std::to_string(dims[2]) + "; expected rows, cols >= 1");
  ImageSet s;
  s.channels = 1;
  s.height = static_cast<int>(dims[1]);
  s.width = static_cast<int>(dims[2]);
  s.pixels.assign(bytes.begin() + 16, bytes.end());
  s.labels.assign(dims[0], 0);
  return s;
}

std::vector<std::int32_t> read_idx_labels(const std::string& path, int num_classes) {
  auto bytes = read_file_bytes(path);
  const auto dims = idx_header(path, bytes, 1, "labels");
  std::vector<std::int32_t> labels(dims[0]);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    labels[i] = bytes[8 + i];
    if (labels[i] >= num_classes)
      throw InputError(path + ": label out of range at item " + std::to_string(i) + ": found " +
                       std::to_string(labels[i]) + ", expected 0.." + std::to_string(num_classes - 1));
  }
  return labels;
}

ImageSet read_idx_pair(const std::string& images_path, const std::string& labels_path, int num_classes) {
  ImageSet s = read_idx_images(images_path);
  auto labels = read_idx_labels(labels_path, num_classes);
  if (labels.size() != s.size())
    throw InputError(labels_path + ": " + std::to_string(labels.size()) + " labels, expected " +
                     std::to_string(s.size()) + " to match the images in " + images_path);
  s.labels = std::move(labels);
  return s;
}

namespace {

constexpr std::size_t kCifarPixels = 3 * 32 * 32;

void read_cifar_file(const std::string& path, std::size_t label_bytes, bool fine, ImageSet& s) {
  const auto bytes = read_file_bytes(path);
  const std::size_t record = label_bytes + kCifarPixels;
  if (bytes.empty() || bytes.size() % record != 0)
    throw InputError(path + ": CIFAR-" + (label_bytes == 1 ? "10" : "100") + " file size " +
                     std::to_string(bytes.size()) + " bytes is not a positive multiple of the " +
                     std::to_string(record) + "-byte record (truncated or wrong format?)");
  const std::size_t n = bytes.size() / record;
  const std::size_t base = s.pixels.size();
  s.pixels.resize(base + n * kCifarPixels);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* r = bytes.data() + i * record;
    std::int32_t label;
    if (label_bytes == 1) {
      label = r[0];
      if (label >= 10)
        throw InputError(path + ": label out of range in record " + std::to_string(i) + ": found " +
                         std::to_string(label) + ", expected 0..9 (CIFAR-10)");
    } else {
      if (r[0] >= 20)
        throw InputError(path + ": coarse label out of range in record " + std::to_string(i) +
                         ": found " + std::to_string(r[0]) + ", expected 0..19 (CIFAR-100)");
      if (r[1] >= 100)
        throw InputError(path + ": fine label out of range in record " + std::to_string(i) +
                         ": found " + std::to_string(r[1]) + ", expected 0..99 (CIFAR-100)");
      label = fine ? r[1] : r[0];
    }
    s.labels.push_back(label);
    std::copy(r + label_bytes, r + record, s.pixels.begin() + base + i * kCifarPixels);
  }
}

}  // namespace

ImageSet read_cifar10(const std::vector<std::string>& paths) {
  ImageSet s;
  s.channels = 3;
  s.height = s.width = 32;
  for (const auto& p : paths) read_cifar_file(p, 1, false, s);
  return s;
}

ImageSet read_cifar100(const std::string& path, bool fine) {
  ImageSet s;
  s.channels = 3;
  s.height = s.width = 32;
  read_cifar_file(path, 2, fine, s);
  return s;
}

}  // namespace peppp::data
