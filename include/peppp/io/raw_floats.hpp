#pragma once
/// @file raw_floats.hpp
/// @brief Raw little-endian float32 files (`peppp quantize`): read whole,
/// written atomically. This code targets little-endian hosts (x86-64,
/// aarch64). Not collective.

#include <cstddef>
#include <string>
#include <vector>

#include "peppp/io/netcdf.hpp"

namespace peppp::io {

/// Every float32 value of `path`, in file order. `display` names the file's
/// role in messages ("--input": "--input in.f32: ...").
/// @throws InputError when the file cannot be opened or its size is not a
/// multiple of 4 bytes; RuntimeError on a read error.
std::vector<float> read_raw_floats(const std::string& path, const std::string& display);

/// Write `n` values to `path`'s temporary file and commit it (the folder was
/// checked when `path` was made, before any work). `display` names the role.
/// @throws RuntimeError naming `display`, the path and the temporary on a write error.
void write_raw_floats(AtomicPath& path, const float* values, std::size_t n, const std::string& display);

}  // namespace peppp::io
