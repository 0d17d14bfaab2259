#pragma once
/// @file schema.hpp
/// @brief Field tables of the NetCDF schemas (DESIGN.md §5). Each schema
/// header (campaign.hpp, completion.hpp, loocv.hpp, selection.hpp) declares
/// its struct and, next to it, one table naming every variable once: name,
/// dimensions, NetCDF type, CF units and long_name, whether a file may lack
/// it, and the struct member holding it. allocate, validate, write and read
/// are generated from that table (src/io/schema_io.hpp), so adding a variable
/// is one member plus one table row in one header. Torch-, MPI- and
/// NetCDF-free: plain descriptions.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace peppp::io {

/// NetCDF external type of a variable; the values are NetCDF-C's `nc_type`
/// codes (NC_INT, NC_DOUBLE, NC_UBYTE, NC_STRING), checked in netcdf.cpp.
enum class NcType : int {
  i32 = 4,   ///< NC_INT, member `std::vector<int>`
  f64 = 6,   ///< NC_DOUBLE, member `std::vector<double>` (`_FillValue` NaN)
  u8 = 7,    ///< NC_UBYTE, member `std::vector<std::uint8_t>`
  str = 12,  ///< NC_STRING, member `std::vector<std::string>`
};

/// Whether a variable must be in a file, and where its values come from.
enum class Presence {
  /// Always written; reading a file without it fails with
  /// "FILE: variable 'NAME' missing" (unless one of its dimensions is an
  /// optional one that the file lacks).
  required,
  /// May be empty in the struct (then not written) and absent from a file
  /// (then left empty): what a minimal external file may omit.
  optional,
  /// The coordinate 0, 1, ..., n−1 of its one dimension: written, not stored
  /// in the struct, not read.
  index,
};

/// What the struct's `allocate()` does with a field.
struct FieldAlloc {
  enum Mode {
    none,   ///< left alone (coordinates, fields the caller sets first)
    keep,   ///< resized to its dimensions, keeping existing values, new ones = `value`
    reset,  ///< every value set to `value`
  };
  Mode mode = none;
  double value = 0;  ///< converted to the member's element type (NaN for doubles where wanted)
  static constexpr FieldAlloc keep_or(double v) { return {keep, v}; }
  static constexpr FieldAlloc reset_to(double v) { return {reset, v}; }
};

/// NaN, the "not measured / not defined" value of the double fields.
inline constexpr double kNcNaN = std::numeric_limits<double>::quiet_NaN();

/// One dimension of a schema, with its length as a function of the struct.
template <class S>
struct SchemaDim {
  const char* name;                 ///< dimension name in the file
  std::size_t (*length)(const S&);  ///< its length for a struct
  /// Defined in a file only when its length is non-zero; fields over it are
  /// then written, and read (as required or optional) only when the file has it.
  bool optional = false;
  /// Name of this dimension (and of its coordinate variable) in files of
  /// earlier versions, still accepted on read (loocv: `method`).
  const char* old_name = nullptr;
  /// When set, reading checks the file's length against `length()` and
  /// names this in the message ("expected the largest count 5").
  const char* length_what = nullptr;
  /// Second spelling of the dimension (and of its coordinate variable):
  /// written instead of `name` when `use_alt_name(s)` is true (campaign: the
  /// `task` dimension is `row` when rows are task × model × learning rate),
  /// and accepted on read like `old_name`.
  const char* alt_name = nullptr;
  bool (*use_alt_name)(const S&) = nullptr;
  /// The name this struct's file gives the dimension.
  const char* written_name(const S& s) const { return alt_name && use_alt_name && use_alt_name(s) ? alt_name : name; }
};

/// One variable of a schema.
template <class S>
struct SchemaField {
  /// The struct member holding the values (row-major over `dims`), or
  /// std::monostate for an `index` coordinate.
  using Member = std::variant<std::monostate, std::vector<double> S::*, std::vector<int> S::*,
                              std::vector<std::uint8_t> S::*, std::vector<std::string> S::*>;
  const char* name;                ///< variable name in the file
  std::vector<const char*> dims;   ///< dimension names, outermost first
  NcType type;                     ///< NetCDF type (must match the member's element type)
  const char* units;               ///< CF units; "" = no attribute
  const char* long_name;           ///< CF long_name
  Presence presence;               ///< required / optional / index
  Member member;                   ///< where the values live
  FieldAlloc alloc = {};           ///< what `allocate()` does
  /// CF flag_meanings (space separated); flag_values are then 0..k−1 (NC_UBYTE).
  const char* flag_meanings = nullptr;
  std::optional<int> int_fill = std::nullopt;  ///< `_FillValue` of an NC_INT variable
  const char* old_name = nullptr;              ///< earlier variable name, accepted on read
  /// Second spelling, written instead of `name` when `use_alt_name(s)` (see
  /// SchemaDim::alt_name) and accepted on read.
  const char* alt_name = nullptr;
  bool (*use_alt_name)(const S&) = nullptr;
  const char* written_name(const S& s) const { return alt_name && use_alt_name && use_alt_name(s) ? alt_name : name; }
};

/// A schema: the `peppp_file` attribute value, dimensions in file order and
/// variables in file order.
template <class S>
struct Schema {
  const char* kind;
  std::vector<SchemaDim<S>> dims;
  std::vector<SchemaField<S>> fields;
};

/// Every dimension name of every schema (campaign, completion, loocv,
/// selection) as (schema kind, dimension name): for checks such as "no
/// dimension is named like a keyword argument of xarray's sel()". Also
/// checks every table for programming errors (a type not matching its
/// member, an unknown dimension). @throws RuntimeError on such an error.
std::vector<std::pair<std::string, std::string>> all_schema_dimensions();

}  // namespace peppp::io
