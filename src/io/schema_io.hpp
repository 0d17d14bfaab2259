#pragma once
// The generic half of the schema field tables (peppp/io/schema.hpp):
// allocate, validate, define + write and read any schema's variables from
// its table. Private to the io layer. Global attributes stay with each schema.

#include <algorithm>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/io/netcdf.hpp"
#include "peppp/io/schema.hpp"

namespace peppp::io::detail {

template <class S>
const SchemaDim<S>& find_dim(const Schema<S>& schema, const char* name) {
  for (const auto& d : schema.dims)
    if (std::string(d.name) == name) return d;
  throw RuntimeError(std::string("schema '") + schema.kind + "': field over unknown dimension '" + name + "'");
}

/// The NetCDF type a member's element type is stored as.
template <class T>
constexpr NcType nc_type_of() {
  if constexpr (std::is_same_v<T, double>) return NcType::f64;
  else if constexpr (std::is_same_v<T, int>) return NcType::i32;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return NcType::u8;
  else return NcType::str;
}

/// Check a table for programming errors (unknown dimensions, a type that
/// does not match the member, an index field without exactly one dimension).
/// @throws RuntimeError naming the schema and field.
template <class S>
void check_schema(const Schema<S>& schema) {
  for (const auto& f : schema.fields) {
    for (const char* d : f.dims) find_dim(schema, d);
    const std::string where = std::string("schema '") + schema.kind + "', field '" + f.name + "': ";
    const bool index = std::holds_alternative<std::monostate>(f.member);
    if (index != (f.presence == Presence::index))
      throw RuntimeError(where + "an index coordinate has no member, every other field has one");
    if (index && (f.dims.size() != 1 || f.type != NcType::i32))
      throw RuntimeError(where + "an index coordinate is one NC_INT dimension");
    std::visit(
        [&](auto mp) {
          using M = decltype(mp);
          if constexpr (!std::is_same_v<M, std::monostate>) {
            using T = typename std::remove_reference_t<decltype(std::declval<S&>().*mp)>::value_type;
            if (nc_type_of<T>() != f.type) throw RuntimeError(where + "NetCDF type does not match the member");
          }
        },
        f.member);
    if (f.flag_meanings && f.type != NcType::u8) throw RuntimeError(where + "flags need NC_UBYTE");
    if (f.int_fill && f.type != NcType::i32) throw RuntimeError(where + "an int _FillValue needs NC_INT");
  }
}

/// Number of values a field holds for `s`: the product of its dimensions.
template <class S>
std::size_t expected_size(const Schema<S>& schema, const SchemaField<S>& f, const S& s) {
  std::size_t n = 1;
  for (const char* d : f.dims) n *= find_dim(schema, d).length(s);
  return n;
}

/// True when every dimension of `f` is defined for `s` (optional dimensions
/// of length 0 are not).
template <class S>
bool dims_defined(const Schema<S>& schema, const SchemaField<S>& f, const S& s) {
  for (const char* d : f.dims) {
    const auto& dim = find_dim(schema, d);
    if (dim.optional && dim.length(s) == 0) return false;
  }
  return true;
}

/// Number of values the struct holds for field `f` (index: its dimension's length).
template <class S>
std::size_t held_size(const Schema<S>& schema, const SchemaField<S>& f, const S& s) {
  return std::visit(
      [&](auto mp) -> std::size_t {
        if constexpr (std::is_same_v<decltype(mp), std::monostate>) return expected_size(schema, f, s);
        else return (s.*mp).size();
      },
      f.member);
}

/// Call `fn(v)` with the member vector `v` of `s` that field `f` names;
/// nothing for a field without a member (an index).
template <class S, class Fn>
void with_member(const SchemaField<S>& f, S& s, Fn&& fn) {
  std::visit(
      [&](auto mp) {
        if constexpr (!std::is_same_v<decltype(mp), std::monostate>) fn(s.*mp);
      },
      f.member);
}

/// Size every field with an allocation mode to its dimensions.
template <class S>
void allocate(const Schema<S>& schema, S& s) {
  for (const auto& f : schema.fields) {
    if (f.alloc.mode == FieldAlloc::none) continue;
    const std::size_t n = expected_size(schema, f, s);
    with_member(f, s, [&](auto& v) {
      using T = typename std::remove_reference_t<decltype(v)>::value_type;
      T value{};
      if constexpr (!std::is_same_v<T, std::string>) value = static_cast<T>(f.alloc.value);
      if (f.alloc.mode == FieldAlloc::keep) v.resize(n, value);
      else v.assign(n, value);
    });
  }
}

/// Check every field's size: required ones exactly their dimensions'
/// product, optional ones that or empty; required fields first, then
/// optional ones, each in table order (index fields hold nothing to check).
/// @throws InputError "FILE: field 'NAME' has N values, expected M".
template <class S>
void validate(const Schema<S>& schema, const S& s, const std::string& file) {
  for (Presence pass : {Presence::required, Presence::optional})
    for (const auto& f : schema.fields) {
      if (f.presence != pass) continue;
      const std::size_t got = held_size(schema, f, s), want = expected_size(schema, f, s);
      if (got == want || (f.presence == Presence::optional && got == 0)) continue;
      throw InputError(file + ": field '" + f.name + "' has " + std::to_string(got) + " values, expected " +
                       std::to_string(want));
    }
}

/// Is field `f` written for `s`? Its dimensions must be defined, and an
/// optional field must hold its values (not be empty in place of them).
template <class S>
bool written(const Schema<S>& schema, const SchemaField<S>& f, const S& s) {
  if (!dims_defined(schema, f, s)) return false;
  return f.presence != Presence::optional || held_size(schema, f, s) == expected_size(schema, f, s);
}

void put_field_attributes(NcFile& file, int varid, NcType type, const char* units, const char* long_name,
                          const char* flag_meanings, const int* int_fill);

/// Define the schema's dimensions and variables with their CF attributes
/// (define mode); returns the variable id of each field, −1 where not written.
template <class S>
std::vector<int> define(NcFile& file, const Schema<S>& schema, const S& s) {
  std::map<std::string, int> dim_ids;
  for (const auto& d : schema.dims) {
    const std::size_t n = d.length(s);
    if (!d.optional || n > 0) dim_ids[d.name] = file.def_dim(d.written_name(s), n);
  }
  std::vector<int> ids;
  for (const auto& f : schema.fields) {
    if (!written(schema, f, s)) {
      ids.push_back(-1);
      continue;
    }
    std::vector<int> dims;
    for (const char* d : f.dims) dims.push_back(dim_ids.at(d));
    const int v = file.def_var(f.written_name(s), static_cast<int>(f.type), dims);
    put_field_attributes(file, v, f.type, f.units, f.long_name, f.flag_meanings, f.int_fill ? &*f.int_fill : nullptr);
    ids.push_back(v);
  }
  return ids;
}

/// Write the values of every defined field (data mode).
template <class S>
void put(NcFile& file, const Schema<S>& schema, const S& s, const std::vector<int>& ids) {
  for (std::size_t i = 0; i < schema.fields.size(); ++i) {
    if (ids[i] < 0) continue;
    const auto& f = schema.fields[i];
    std::visit(
        [&](auto mp) {
          if constexpr (std::is_same_v<decltype(mp), std::monostate>) {
            std::vector<int> index(expected_size(schema, f, s));
            for (std::size_t k = 0; k < index.size(); ++k) index[k] = static_cast<int>(k);
            file.put(ids[i], index);
          } else {
            file.put(ids[i], s.*mp);
          }
        },
        f.member);
  }
}

/// Define, write the global attributes with `attributes(file)` (define
/// mode), then the data: the body of every write_* function.
template <class S, class Attributes>
void write(NcFile& file, const Schema<S>& schema, const S& s, Attributes&& attributes) {
  const auto ids = define(file, schema, s);
  attributes(file);
  file.end_def();
  put(file, schema, s, ids);
}

/// Read every field of the schema present in `file` into `s`: required
/// fields first, then optional ones, each in table order; index fields are
/// skipped. Each is read with the size its dimensions give from the fields
/// read before (coordinates first: unchecked), multi-dimensional ones must
/// have the table's dimensions, and old names (SchemaDim::old_name,
/// SchemaField::old_name) are accepted.
/// @throws InputError naming the file and the variable or dimension.
template <class S>
void read(const NcFile& file, const Schema<S>& schema, S& s) {
  // Dimension names as this file spells them (old files: old names).
  std::map<std::string, std::string> spelled, canonical;
  std::vector<std::string> file_dims;
  for (const auto& [name, len] : file.dims()) file_dims.push_back(name);
  auto has_dim = [&](const std::string& n) { return std::find(file_dims.begin(), file_dims.end(), n) != file_dims.end(); };
  for (const auto& d : schema.dims) {
    std::string n = d.name;
    if (!has_dim(n) && d.old_name && has_dim(d.old_name)) n = d.old_name;
    if (!has_dim(n) && d.alt_name && has_dim(d.alt_name)) n = d.alt_name;
    spelled[d.name] = n;
    canonical[n] = d.name;
  }
  std::vector<std::string> length_checked;
  for (Presence pass : {Presence::required, Presence::optional})
    for (const auto& f : schema.fields) {
      if (f.presence != pass) continue;
      bool dims_in_file = true;
      for (const char* d : f.dims)
        if (find_dim(schema, d).optional && !has_dim(spelled[d])) dims_in_file = false;
      if (!dims_in_file) continue;
      std::string name = f.name;
      if (!file.has_var(name) && f.old_name && file.has_var(f.old_name)) name = f.old_name;
      if (!file.has_var(name) && f.alt_name && file.has_var(f.alt_name)) name = f.alt_name;
      if (f.presence == Presence::optional && !file.has_var(name)) continue;
      for (const char* d : f.dims) {
        const auto& dim = find_dim(schema, d);
        if (!dim.length_what || std::find(length_checked.begin(), length_checked.end(), d) != length_checked.end())
          continue;
        const std::size_t got = file.dim_len(spelled[d]), want = dim.length(s);
        if (got != want)
          throw InputError(file.name() + ": dimension '" + d + "' has length " + std::to_string(got) + ", expected " +
                           dim.length_what + " " + std::to_string(want));
        length_checked.emplace_back(d);
      }
      if (f.dims.size() >= 2) {
        std::vector<std::string> got;
        file.var_id(name);  // "variable missing" before any dimension message
        for (const auto& d : file.var_dims(name)) got.push_back(canonical.count(d) ? canonical[d] : d);
        if (got != std::vector<std::string>(f.dims.begin(), f.dims.end())) {
          std::string w;
          for (const char* d : f.dims) w += (w.empty() ? "" : ", ") + std::string(d);
          throw InputError(file.name() + ": variable '" + f.name + "' must have dimensions (" + w + ")");
        }
      }
      const std::size_t n = expected_size(schema, f, s);
      with_member(f, s, [&](auto& v) {
        using T = typename std::remove_reference_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, double>) v = file.get_double(name, n);
        else if constexpr (std::is_same_v<T, int>) v = file.get_int(name, n);
        else if constexpr (std::is_same_v<T, std::uint8_t>) v = file.get_ubyte(name, n);
        else v = file.get_strings(name, n);
      });
    }
}

/// Global attribute `key` of the file `path` (its attributes `attrs`, as
/// text) as a number; `fallback` when the file lacks it.
/// @throws InputError naming the file, the key and the value when it is not a number.
double number_attribute(const std::map<std::string, std::string>& attrs, const std::string& path, const char* key,
                        double fallback);

/// As `number_attribute`, but a missing attribute is refused too.
/// @throws InputError naming the file and the key.
double required_number_attribute(const std::map<std::string, std::string>& attrs, const std::string& path,
                                 const char* key);

}  // namespace peppp::io::detail
