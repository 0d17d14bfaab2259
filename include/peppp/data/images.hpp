#pragma once
/// @file images.hpp
/// @brief Readers (and a writer) of the image file formats peppp takes as
/// source data: IDX (MNIST, Fashion-MNIST; plain or gzip), the CIFAR-10 and
/// CIFAR-100 binary versions, and peppp's own NetCDF image arrays.
///
/// Every reader validates headers, dimensions, label ranges and the file
/// size, and throws `peppp::InputError` with one line naming the file, what
/// was expected and what was found, on a truncated, corrupt or mismatched
/// file. None is collective; none includes torch.

#include <cstdint>
#include <string>
#include <vector>

namespace peppp::data {

/// A set of same-sized 8-bit images with integer labels, in memory.
struct ImageSet {
  int channels = 0;                  ///< 1 or 3
  int height = 0;                    ///< pixels
  int width = 0;                     ///< pixels
  std::vector<std::uint8_t> pixels;  ///< [n, channels, height, width], row-major, 0..255
  std::vector<std::int32_t> labels;  ///< [n], 0..classes-1

  /// Number of images.
  std::size_t size() const { return labels.size(); }
  /// Bytes per image (channels * height * width).
  std::size_t image_bytes() const {
    return static_cast<std::size_t>(channels) * height * width;
  }
};

/// Read a whole file into memory, transparently gunzipping it when its name
/// ends in `.gz` (zlib). @throws InputError if missing, unreadable or a
/// corrupt/truncated gzip stream.
std::vector<std::uint8_t> read_file_bytes(const std::string& path);

/// Read an IDX image file (magic 0x00000803: ubyte, 3 dims n x rows x cols),
/// plain or `.gz`. Returns one channel, no labels yet.
/// @throws InputError on wrong magic, wrong type or dims, or size mismatch.
ImageSet read_idx_images(const std::string& path);

/// Read an IDX label file (magic 0x00000801: ubyte, 1 dim), plain or `.gz`.
/// @throws InputError on a bad header, size mismatch or a label >= `num_classes`.
std::vector<std::int32_t> read_idx_labels(const std::string& path, int num_classes);

/// Read an IDX image + label pair and check they have the same count.
ImageSet read_idx_pair(const std::string& images_path, const std::string& labels_path,
                       int num_classes);

/// Read CIFAR-10 binary batch files (records of 1 label byte + 3072 pixel
/// bytes, 3 x 32 x 32, R, G, B planes) and concatenate them in order.
/// @throws InputError on a size that is not a whole number of records or a
///         label >= 10.
ImageSet read_cifar10(const std::vector<std::string>& paths);

/// Read a CIFAR-100 binary file (records of coarse label, fine label, 3072
/// pixel bytes). `fine` picks the fine (100) or coarse (20) labels.
/// @throws InputError on a size that is not a whole number of records, a
///         coarse label >= 20 or a fine label >= 100.
ImageSet read_cifar100(const std::string& path, bool fine);

/// Read peppp's NetCDF image-array file: `images(n, channel, y, x)` ubyte,
/// `labels(n)` int, `class_names(class)` string (NetCDF-4). `class_names`
/// receives the names.
/// @throws InputError on missing variables, wrong types or dims, or a label
///         outside 0..class-1.
ImageSet read_image_netcdf(const std::string& path, std::vector<std::string>& class_names);

/// Write `set` in peppp's NetCDF image-array format (NetCDF-4), the format
/// `scripts/images-to-netcdf.py` writes. @throws RuntimeError on I/O failure,
/// InputError if labels or sizes are inconsistent.
void write_image_netcdf(const std::string& path, const ImageSet& set,
                        const std::vector<std::string>& class_names);

}  // namespace peppp::data
