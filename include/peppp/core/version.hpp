#pragma once
/// @file version.hpp
/// @brief Version and provenance of this peppp build.

namespace peppp {

/// Semantic version of peppp, e.g. "0.1.0".
const char* version();

/// Git commit the library was built from (12 hex digits, "-dirty" when the
/// work tree had changes, "unknown" outside a git checkout).
const char* git_commit();

}  // namespace peppp
