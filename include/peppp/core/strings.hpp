#pragma once
/// @file strings.hpp
/// @brief Small string helpers shared by the parsers (config files, format
/// labels, task catalogs). Pure functions, no locale dependence.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace peppp {

/// `s` without leading and trailing whitespace.
std::string trim(std::string_view s);
/// Split `s` at every `sep`, trimming each piece; empty pieces are kept.
std::vector<std::string> split(std::string_view s, char sep);
/// Join `parts` with `sep` between them.
std::string join(const std::vector<std::string>& parts, std::string_view sep);
/// Lower-case ASCII copy of `s`.
std::string to_lower(std::string_view s);
/// True if `s` starts with `prefix`.
bool starts_with(std::string_view s, std::string_view prefix);
/// Levenshtein distance, used to suggest the nearest allowed key.
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to `word` by edit distance if it is close enough
/// (distance <= max(2, |word|/3)), else an empty string.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

/// `v` as printf's "%g" writes it (6 significant digits: "0.01", "1e-05").
std::string format_g(double v);
/// Each of `values` as `format_g` writes it, joined with `sep` ("0.01,0.1").
std::string join_g(const std::vector<double>& values, std::string_view sep);

/// Parse a whole string as a signed 64-bit integer; false on any junk.
bool parse_int(std::string_view s, std::int64_t& out);
/// Parse a whole string as a finite double; false on junk, NaN or inf.
bool parse_double(std::string_view s, double& out);
/// Parse true/false/yes/no/on/off/1/0 (case-insensitive); false on junk.
bool parse_bool(std::string_view s, bool& out);

/// 64-bit FNV-1a hash of bytes; stable across platforms and runs (seeds,
/// plan fingerprints).
std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t seed = 0xcbf29ce484222325ULL);
/// FNV-1a of every byte a stream yields from its current position to its
/// end (read in 1 MiB chunks), continuing from `seed`.
std::uint64_t fnv1a64(std::istream& in, std::uint64_t seed = 0xcbf29ce484222325ULL);
/// A 64-bit value as 16 lower-case hex digits, zero-padded (hashes and
/// fingerprints in files and messages).
std::string hex64(std::uint64_t v);
/// SplitMix64 finaliser: a strong 64-bit mix of `x` (seed derivation).
std::uint64_t mix64(std::uint64_t x);

}  // namespace peppp
