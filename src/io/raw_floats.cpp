// Raw little-endian float32 files (peppp quantize).
#include "peppp/io/raw_floats.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "peppp/core/error.hpp"

namespace peppp::io {

std::vector<float> read_raw_floats(const std::string& path, const std::string& display) {
  const std::string name = display + " " + path;
  std::error_code ec;
  // A FIFO would block the read forever, a folder or device is no input file: only a regular file is read.
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw InputError(name + ": is not a regular file (a folder, FIFO, device or socket); allowed: a raw float32 file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(name + ": cannot open the file (allowed: a readable raw float32 file)");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw RuntimeError(name + ": read error");
  if (bytes.size() % 4 != 0)
    throw InputError(name + ": " + std::to_string(bytes.size()) +
                     " bytes is not a whole number of float32 values (allowed: a multiple of 4 bytes)");
  std::vector<float> v(bytes.size() / 4);
  // Little-endian on disk; this code targets little-endian hosts (x86-64, aarch64).
  if (!v.empty()) std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

void write_raw_floats(AtomicPath& path, const float* values, std::size_t n, const std::string& display) {
  // Created exclusively (never through a link or over a file put at the temporary's name), fsync'd.
  write_file_durably(path.temp(), values, 4 * n, display + " " + path.path());
  path.commit();
}

}  // namespace peppp::io
