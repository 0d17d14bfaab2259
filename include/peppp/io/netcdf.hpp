#pragma once
/// @file netcdf.hpp
/// @brief Small RAII helpers over NetCDF-C: one open file, typed whole-variable
/// reads and writes, attributes, and atomic output (temporary name, then
/// rename). Every error names the file and the variable or attribute at
/// fault ("campaign.nc: variable 'error' missing"). Not collective: only the
/// root writes files (DESIGN.md §3).

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace peppp::io {

/// An output path written atomically: write to `temp()`
/// (`<path>.tmp-<host>-<pid>-<12 random characters>`, not yet created: the
/// writer creates it exclusively, `NcFile::create` or `create_exclusive`),
/// then `commit()` renames it onto `path` and fsyncs the folder. If `commit()` is never called the destructor removes
/// the temporary, so a failed write leaves no partial file; temporaries of
/// this host whose process is gone (killed mid-write) are removed when the
/// next AtomicPath for the same path is made.
class AtomicPath {
 public:
  /// @throws InputError (`check_writable`) if the folder of `path` does not
  /// exist or is not writable, or `path` names something other than a file.
  explicit AtomicPath(std::string path);
  ~AtomicPath();
  AtomicPath(const AtomicPath&) = delete;
  AtomicPath& operator=(const AtomicPath&) = delete;
  /// The temporary file to write.
  const std::string& temp() const { return temp_; }
  /// The final path.
  const std::string& path() const { return path_; }
  /// Rename the temporary onto the final path (atomic on one filesystem).
  /// @throws RuntimeError naming both paths when the rename fails.
  void commit();

 private:
  std::string path_;
  std::string temp_;
  bool committed_ = false;
};

/// fsync a folder, so that entries created or renamed in it survive a crash
/// (best effort: a folder that cannot be opened is left alone).
void sync_directory(const std::string& dir);

/// Create `path` exclusively for writing (O_CREAT | O_EXCL | O_NOFOLLOW, 0644
/// less the umask): never through a link, never over an existing file.
/// @returns the descriptor. @throws RuntimeError naming `display` (or the path).
int create_exclusive(const std::string& path, const std::string& display = "");

/// 12 unpredictable characters [0-9a-v] (from /dev/urandom) for file names
/// that another user must not be able to plant a link at in advance.
std::string random_suffix();

/// Write `size` bytes to `path` (created exclusively: `create_exclusive`), fsync'd, with POSIX
/// I/O; on any failure the partial file is removed and a RuntimeError names
/// `display` (or the path) and the system error (e.g. "No space left on device").
void write_file_durably(const std::string& path, const void* data, std::size_t size, const std::string& display = "");

/// Call once at program start, before any NetCDF call: keeps HDF5 from
/// registering its exit handler, which crashes after a write that failed
/// half-way (e.g. on a full disk). Every peppp file is closed explicitly.
void prepare_netcdf();

/// Check that a file could be created at `path` (its folder exists and is
/// writable, `path` is not a folder, a device, a FIFO or a socket, nor a
/// link to one, and its name leaves room for its temporary); returns an
/// empty string when it can, else a one-line reason naming the path.
/// Creates nothing.
std::string check_writable(const std::string& path);

/// Global provenance attributes every peppp file carries (DESIGN.md §5):
/// peppp_version, git_commit, command_line, created (ISO 8601 UTC), mpi_ranks.
std::map<std::string, std::string> provenance(const std::string& command_line, int mpi_ranks);

/// Current time as ISO 8601 UTC, e.g. "2026-11-28T23:45:30Z".
std::string iso8601_now();

/// One open NetCDF file (closed by the destructor). Variable data is moved
/// as whole flat arrays in C (row-major) order.
class NcFile {
 public:
  /// Create a NetCDF-4 file at `path`, exclusively (NC_NOCLOBBER: fails when
  /// anything, a link included, has the name), in define mode.
  /// `display` is the name used in messages (e.g. the final path when writing
  /// a temporary). A created file that is destroyed without `close()` (an
  /// error path) is aborted, not flushed. @throws RuntimeError.
  static NcFile create(const std::string& path, const std::string& display = "");
  /// Open an existing file read-only.
  /// @throws InputError naming the file when it is missing or not NetCDF.
  static NcFile open(const std::string& path);

  NcFile(NcFile&& other) noexcept;
  NcFile& operator=(NcFile&& other) noexcept;
  NcFile(const NcFile&) = delete;
  NcFile& operator=(const NcFile&) = delete;
  ~NcFile();
  /// Close now (errors reported, unlike in the destructor). @throws
  /// RuntimeError naming the file and, for a write, the system's reason
  /// (e.g. "No space left on device").
  void close();
  /// Name used in messages.
  const std::string& name() const { return display_; }

  // ---- define mode
  /// Define a dimension of `length`; returns its id.
  int def_dim(const std::string& name, std::size_t length);
  /// Define a variable of NetCDF type `nc_type` (NC_DOUBLE, NC_INT, NC_BYTE,
  /// NC_UBYTE, NC_STRING) over the given dimension ids; returns its id.
  int def_var(const std::string& name, int nc_type, const std::vector<int>& dims);
  /// Text attribute on variable `varid` (-1 = global).
  void put_att(int varid, const std::string& name, const std::string& value);
  /// Double attribute (one value, or several).
  void put_att(int varid, const std::string& name, const std::vector<double>& values);
  /// Integer attribute (one value, or several).
  void put_att_int(int varid, const std::string& name, const std::vector<int>& values);
  /// Write the caller's extra global attributes (provenance, options), except
  /// the `reserved` names the schema itself writes. Define mode.
  void put_extra_atts(const std::map<std::string, std::string>& text, const std::map<std::string, double>& numbers,
                      const std::vector<std::string>& reserved);
  /// Unsigned-byte attribute (CF `flag_values` of a NC_UBYTE variable).
  void put_att_ubyte(int varid, const std::string& name, const std::vector<std::uint8_t>& values);
  /// Leave define mode.
  void end_def();

  // ---- data (data mode), whole variables; sizes are checked
  void put(int varid, const std::vector<double>& values);
  void put(int varid, const std::vector<int>& values);
  void put(int varid, const std::vector<std::uint8_t>& values);
  void put(int varid, const std::vector<std::string>& values);

  // ---- reading
  /// True if the file has a variable `name`.
  bool has_var(const std::string& name) const;
  /// Id of variable `name`. @throws InputError "FILE: variable 'name' missing".
  int var_id(const std::string& name) const;
  /// Dimension names of variable `name`, in order.
  std::vector<std::string> var_dims(const std::string& name) const;
  /// Length of dimension `name`. @throws InputError when missing.
  std::size_t dim_len(const std::string& name) const;
  /// Every dimension (name -> length), in id order.
  std::vector<std::pair<std::string, std::size_t>> dims() const;
  /// Every variable name.
  std::vector<std::string> var_names() const;
  /// Whole variable as doubles / ints / bytes / strings; `expected` elements
  /// (checked unless 0). @throws InputError naming file and variable on a
  /// wrong size or type.
  std::vector<double> get_double(const std::string& name, std::size_t expected = 0) const;
  std::vector<int> get_int(const std::string& name, std::size_t expected = 0) const;
  std::vector<std::uint8_t> get_ubyte(const std::string& name, std::size_t expected = 0) const;
  /// Text values; @throws InputError also when one holds a control character
  /// (a newline in a label would forge lines of peppp's messages).
  std::vector<std::string> get_strings(const std::string& name, std::size_t expected = 0) const;
  /// Global attributes: text ones verbatim, numeric ones formatted
  /// (several values comma-separated).
  std::map<std::string, std::string> global_attributes() const;

 private:
  NcFile(int id, std::string display) : id_(id), display_(std::move(display)) {}
  std::size_t var_size(int varid) const;
  /// `get_strings` without the check of control characters.
  std::vector<std::string> get_strings_raw(const std::string& name, std::size_t expected) const;
  /// Throw naming the system's reason when a writing call failed; the
  /// handle is given up first (HDF5 cannot close it safely any more).
  void check_written(int rc, const std::string& what);
  int id_ = -1;
  std::string display_;
  bool writing_ = false;  ///< created by create(): aborted, not closed, when never closed explicitly
};

}  // namespace peppp::io
