#include "peppp/io/netcdf.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <signal.h>
#include <netcdf.h>
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "peppp/core/error.hpp"
#include "peppp/core/version.hpp"
#include "schema_io.hpp"

namespace fs = std::filesystem;

namespace peppp::io {

namespace {

[[noreturn]] void fail(const std::string& file, const std::string& what, int rc) {
  throw RuntimeError(file + ": " + what + ": " + nc_strerror(rc));
}

void check(int rc, const std::string& file, const std::string& what) {
  if (rc != NC_NOERR) fail(file, what, rc);
}

// A failed call that wrote to disk: HDF5 reports "HDF error"; the system's
// reason (ENOSPC, EIO, EROFS, ...) is in errno, set to 0 before the call.
void check_write(int rc, const std::string& file, const std::string& what) {
  if (rc == NC_NOERR) return;
  const int err = errno;
  std::string why = nc_strerror(rc);
  if (err != 0) why = std::strerror(err) + std::string(" (") + why + ")";
  throw RuntimeError(file + ": " + what + ": " + why);
}

int nc_varid(int varid) { return varid < 0 ? NC_GLOBAL : varid; }

std::string format_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

static_assert(static_cast<int>(NcType::i32) == NC_INT && static_cast<int>(NcType::f64) == NC_DOUBLE &&
                  static_cast<int>(NcType::u8) == NC_UBYTE && static_cast<int>(NcType::str) == NC_STRING,
              "NcType values are NetCDF-C's nc_type codes");

// ------------------------------------------------------------------ schema fields

namespace detail {

void put_field_attributes(NcFile& file, int varid, NcType type, const char* units, const char* long_name,
                          const char* flag_meanings, const int* int_fill) {
  file.put_att(varid, "long_name", long_name);
  if (units && *units) file.put_att(varid, "units", units);
  if (type == NcType::f64) file.put_att(varid, "_FillValue", std::vector<double>{kNcNaN});
  if (int_fill) file.put_att_int(varid, "_FillValue", {*int_fill});
  if (flag_meanings) {
    std::istringstream words(flag_meanings);
    std::vector<std::uint8_t> values;
    for (std::string w; words >> w;) values.push_back(static_cast<std::uint8_t>(values.size()));
    file.put_att_ubyte(varid, "flag_values", values);
    file.put_att(varid, "flag_meanings", flag_meanings);
  }
}

}  // namespace detail

// ------------------------------------------------------------------ AtomicPath

std::string check_writable(const std::string& path) {
  fs::path p(path);
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return "output folder '" + dir.string() + "' (of '" + path + "') does not exist";
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return "output folder '" + dir.string() + "' (of '" + path + "') is not writable";
  if (fs::is_directory(p, ec)) return "output '" + path + "' is a folder, expected a file name";
  // The final rename replaces whatever the name holds: only a regular file
  // (or nothing) may be replaced, never a device, a FIFO or a socket.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
    return "output '" + path + "' exists and is not a regular file (a device, FIFO or socket): name a file";
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return "output '" + path + "' names a link to something that is not a regular file: name a file";
  // The temporary and the lock add at most 64 characters to the name.
  const std::string base = p.filename().string();
  if (base.size() + 64 > 255)
    return "output file name '" + base + "' is too long (at most 191 characters, to leave room for its temporary)";
  return {};
}

std::string random_suffix() {
  // Unpredictable: a name another user cannot plant a link at in advance.
  unsigned char bytes[8] = {0};
  bool ok = false;
  if (const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC); fd >= 0) {
    ok = ::read(fd, bytes, sizeof bytes) == static_cast<ssize_t>(sizeof bytes);
    ::close(fd);
  }
  std::uint64_t v = 0;
  for (unsigned char b : bytes) v = (v << 8) | b;
  if (!ok) v = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
               (static_cast<std::uint64_t>(::getpid()) << 32);
  static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
  std::string s;
  for (int i = 0; i < 12; ++i, v >>= 5) s += digits[v & 31u];
  return s;
}

namespace {

// "<name>.tmp-HOST-PID-RANDOM": the pid lets a later run of this host remove
// the leftovers of a killed one, the random part makes the name unpredictable.
std::string temp_prefix(const std::string& path) {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "host");
  return fs::path(path).filename().string() + ".tmp-" + host + "-";
}

// Temporaries left by a process of this host that was killed mid-write
// (SIGKILL leaves no chance to clean up): removed once their pid is gone.
void remove_dead_temporaries(const std::string& path) {
  const std::string prefix = temp_prefix(path);
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    std::string pid = name.substr(prefix.size());
    pid = pid.substr(0, pid.find('-'));
    if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH) fs::remove(e.path(), ec);
  }
}

}  // namespace

AtomicPath::AtomicPath(std::string path) : path_(std::move(path)) {
  std::string why = check_writable(path_);
  if (!why.empty()) throw InputError(why);
  remove_dead_temporaries(path_);
  temp_ = path_.substr(0, path_.size() - fs::path(path_).filename().string().size()) + temp_prefix(path_) +
          std::to_string(::getpid()) + "-" + random_suffix();
}

AtomicPath::~AtomicPath() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

void AtomicPath::commit() {
  // The temporary was created exclusively (create_exclusive, NcFile::create):
  // it must still be a regular file, not a link put in its place meanwhile.
  struct stat st {};
  if (::lstat(temp_.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    throw RuntimeError("temporary '" + temp_ + "' of '" + path_ + "' was replaced or removed while peppp wrote it");
  if (std::rename(temp_.c_str(), path_.c_str()) != 0)
    throw RuntimeError("cannot rename '" + temp_ + "' to '" + path_ + "': " + std::strerror(errno));
  committed_ = true;
  // Make the rename durable: a crash right after commit must not bring the old file back.
  const fs::path dir = fs::path(path_).parent_path();
  sync_directory(dir.empty() ? "." : dir.string());
}

void sync_directory(const std::string& dir) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

int create_exclusive(const std::string& path, const std::string& display) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    throw RuntimeError((display.empty() ? path : display) + ": cannot create '" + path + "' exclusively: " +
                       std::strerror(err) + (err == EEXIST ? " (something already has this name)" : ""));
  }
  return fd;
}

void write_file_durably(const std::string& path, const void* data, std::size_t size, const std::string& display) {
  const std::string name = display.empty() ? path : display;
  const int fd = create_exclusive(path, name);
  auto fail = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    std::error_code ec;
    fs::remove(path, ec);
    throw RuntimeError(name + ": " + what + ": " + std::strerror(err));
  };
  const auto* p = static_cast<const unsigned char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t w = ::write(fd, p + done, size - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) fail("cannot flush to disk");
  if (::close(fd) != 0) {
    const int err = errno;
    std::error_code ec;
    fs::remove(path, ec);
    throw RuntimeError(name + ": cannot close: " + std::strerror(err));
  }
}

void prepare_netcdf() {
  // HDF5 closes every file still open from an exit handler; after a write
  // that failed half-way (a full disk) that handler crashes in H5F__close_cb.
  // peppp closes or aborts every file itself, so the handler is not needed:
  // H5dont_atexit(), found at run time (HDF5 is netCDF's dependency, not ours).
  using Fn = int (*)();
  if (auto fn = reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, "H5dont_atexit"))) fn();
}

std::string iso8601_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::map<std::string, std::string> provenance(const std::string& command_line, int mpi_ranks) {
  return {{"peppp_version", version()},
          {"git_commit", git_commit()},
          {"command_line", command_line},
          {"created", iso8601_now()},
          {"mpi_ranks", std::to_string(mpi_ranks)}};
}

// ------------------------------------------------------------------ NcFile

NcFile NcFile::create(const std::string& path, const std::string& display) {
  int id = -1;
  std::string name = display.empty() ? path : display;
  errno = 0;
  check_write(nc_create(path.c_str(), NC_NETCDF4 | NC_NOCLOBBER, &id), name, "cannot create");
  NcFile f(id, name);
  f.writing_ = true;
  return f;
}

namespace {

// Bytes this process may hold: the machine's memory, lowered by an address-space
// or data limit and by a cgroup (v2) memory limit when there is one.
std::uint64_t memory_available() {
  std::uint64_t bytes = static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                        static_cast<std::uint64_t>(sysconf(_SC_PAGE_SIZE));
  for (const int which : {RLIMIT_AS, RLIMIT_DATA}) {
    rlimit lim{};
    if (getrlimit(which, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY)
      bytes = std::min<std::uint64_t>(bytes, static_cast<std::uint64_t>(lim.rlim_cur));
  }
  if (std::FILE* f = std::fopen("/sys/fs/cgroup/memory.max", "r")) {
    unsigned long long v = 0;
    if (std::fscanf(f, "%llu", &v) == 1 && v > 0) bytes = std::min<std::uint64_t>(bytes, v);
    std::fclose(f);
  }
  return bytes;
}

std::string gib(long double bytes) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3Lg GiB", bytes / (1024.0L * 1024.0L * 1024.0L));
  return buf;
}

// What the variables of an open file declare (dimension lengths x value size), summed
// without overflow; refused, naming the largest variable and its dimensions, when it
// exceeds the memory this process may hold: reading it would fail (or call the OOM
// killer), and a damaged or hostile file can declare any size in a few bytes.
void check_declared_size(int id, const std::string& path) {
  int nvars = 0;
  if (nc_inq_nvars(id, &nvars) != NC_NOERR) return;
  long double total = 0, largest = 0;
  std::string largest_what;
  for (int v = 0; v < nvars; ++v) {
    char name[NC_MAX_NAME + 1] = {0};
    int ndims = 0, dims[NC_MAX_VAR_DIMS] = {0};
    nc_type type = NC_NAT;
    if (nc_inq_var(id, v, name, &type, &ndims, dims, nullptr) != NC_NOERR) continue;
    std::size_t value_size = 0;
    if (nc_inq_type(id, type, nullptr, &value_size) != NC_NOERR) continue;
    if (type == NC_STRING) value_size = sizeof(char*) + 1;
    long double n = 1;
    std::string shape;
    for (int k = 0; k < ndims; ++k) {
      char dname[NC_MAX_NAME + 1] = {0};
      std::size_t len = 0;
      if (nc_inq_dim(id, dims[k], dname, &len) != NC_NOERR) continue;
      n *= static_cast<long double>(len);
      shape += std::string(k ? " x " : "") + dname + " = " + std::to_string(len);
    }
    const long double bytes = n * static_cast<long double>(value_size);
    total += bytes;
    if (bytes > largest) {
      largest = bytes;
      char count[48];
      std::snprintf(count, sizeof count, "%.0Lf", n);
      largest_what = std::string("variable '") + name + "' declares " + count + " values (" + shape + ", " +
                     gib(bytes) + ")";
    }
  }
  const std::uint64_t limit = memory_available();
  if (total > static_cast<long double>(limit))
    throw InputError(path + ": " + largest_what + "; its variables need " + gib(total) + ", more than the " +
                     gib(static_cast<long double>(limit)) +
                     " of memory this process may use; allowed: a file whose declared size fits in memory (this "
                     "one is damaged or not a peppp file)");
}

}  // namespace

NcFile NcFile::open(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": file not found");
  // A FIFO would block the open forever, a device or folder is no file to read.
  if (!fs::is_regular_file(path, ec))
    throw InputError(path + ": not a regular file (" +
                     (fs::is_directory(path, ec) ? std::string("a folder")
                      : fs::is_fifo(path, ec)    ? std::string("a FIFO")
                                                 : std::string("a device or socket")) +
                     "); allowed: a NetCDF file");
  int id = -1;
  int rc = nc_open(path.c_str(), NC_NOWRITE, &id);
  if (rc != NC_NOERR) throw InputError(path + ": not a readable NetCDF file (" + nc_strerror(rc) + ")");
  try {
    check_declared_size(id, path);
  } catch (...) {
    nc_close(id);
    throw;
  }
  return NcFile(id, path);
}

NcFile::NcFile(NcFile&& o) noexcept : id_(o.id_), display_(std::move(o.display_)), writing_(o.writing_) {
  o.id_ = -1;
}

NcFile& NcFile::operator=(NcFile&& o) noexcept {
  if (this != &o) {
    if (id_ >= 0) nc_close(id_);
    id_ = o.id_;
    display_ = std::move(o.display_);
    writing_ = o.writing_;
    o.id_ = -1;
  }
  return *this;
}

NcFile::~NcFile() {
  if (id_ < 0) return;
  // A file being written that was never closed explicitly is on an error
  // path: abort (no more writes), so a failing disk is not written again.
  if (writing_) nc_abort(id_);
  else nc_close(id_);
}

void NcFile::check_written(int rc, const std::string& what) {
  if (rc == NC_NOERR) return;
  // After a write failed (full disk, EIO), HDF5's state of this file is
  // broken and closing or aborting it crashes inside HDF5 (H5G_rootof):
  // the handle is given up, never touched again (the caller removes the
  // temporary file; prepare_netcdf keeps HDF5's exit handler away from it).
  id_ = -1;
  check_write(rc, display_, what);
}

void NcFile::close() {
  if (id_ < 0) return;
  int id = id_;
  id_ = -1;
  errno = 0;
  const int rc = nc_close(id);
  if (writing_) check_written(rc, "cannot write (close)");
  else check(rc, display_, "cannot close");
}

int NcFile::def_dim(const std::string& name, std::size_t length) {
  int d = -1;
  check(nc_def_dim(id_, name.c_str(), length, &d), display_, "cannot define dimension '" + name + "'");
  return d;
}

int NcFile::def_var(const std::string& name, int type, const std::vector<int>& dims) {
  int v = -1;
  check(nc_def_var(id_, name.c_str(), type, static_cast<int>(dims.size()), dims.data(), &v), display_,
        "cannot define variable '" + name + "'");
  return v;
}

void NcFile::put_att(int varid, const std::string& name, const std::string& value) {
  check(nc_put_att_text(id_, nc_varid(varid), name.c_str(), value.size(), value.c_str()), display_,
        "cannot write attribute '" + name + "'");
}

void NcFile::put_att(int varid, const std::string& name, const std::vector<double>& values) {
  check(nc_put_att_double(id_, nc_varid(varid), name.c_str(), NC_DOUBLE, values.size(), values.data()),
        display_, "cannot write attribute '" + name + "'");
}

void NcFile::put_att_int(int varid, const std::string& name, const std::vector<int>& values) {
  check(nc_put_att_int(id_, nc_varid(varid), name.c_str(), NC_INT, values.size(), values.data()), display_,
        "cannot write attribute '" + name + "'");
}

void NcFile::put_att_ubyte(int varid, const std::string& name, const std::vector<std::uint8_t>& values) {
  check(nc_put_att_uchar(id_, nc_varid(varid), name.c_str(), NC_UBYTE, values.size(), values.data()),
        display_, "cannot write attribute '" + name + "'");
}

void NcFile::end_def() {
  errno = 0;
  check_written(nc_enddef(id_), "cannot write the header (leave define mode)");
}

std::size_t NcFile::var_size(int varid) const {
  int ndims = 0;
  check(nc_inq_varndims(id_, varid, &ndims), display_, "cannot inquire variable");
  std::vector<int> dims(static_cast<std::size_t>(ndims));
  check(nc_inq_vardimid(id_, varid, dims.data()), display_, "cannot inquire variable");
  std::size_t n = 1;
  for (int d : dims) {
    std::size_t len = 0;
    check(nc_inq_dimlen(id_, d, &len), display_, "cannot inquire dimension");
    n *= len;
  }
  return n;
}

namespace {
std::string var_name(int file, int varid) {
  char name[NC_MAX_NAME + 1] = {0};
  nc_inq_varname(file, varid, name);
  return name;
}
}  // namespace

#define PEPPP_NC_PUT(TYPE, CALL)                                                                       \
  void NcFile::put(int varid, const std::vector<TYPE>& values) {                                       \
    if (values.size() != var_size(varid))                                                              \
      throw RuntimeError(display_ + ": variable '" + var_name(id_, varid) + "' needs " +              \
                         std::to_string(var_size(varid)) + " values, got " + std::to_string(values.size())); \
    if (values.empty()) return;                                                                        \
    errno = 0;                                                                                         \
    const std::string what_ = "cannot write variable '" + var_name(id_, varid) + "'";                 \
    check_written(CALL(id_, varid, values.data()), what_);                                            \
  }
PEPPP_NC_PUT(double, nc_put_var_double)
PEPPP_NC_PUT(int, nc_put_var_int)
PEPPP_NC_PUT(std::uint8_t, nc_put_var_uchar)
#undef PEPPP_NC_PUT

void NcFile::put(int varid, const std::vector<std::string>& values) {
  if (values.size() != var_size(varid))
    throw RuntimeError(display_ + ": variable '" + var_name(id_, varid) + "' needs " +
                       std::to_string(var_size(varid)) + " strings, got " + std::to_string(values.size()));
  if (values.empty()) return;
  std::vector<const char*> p;
  for (const auto& s : values) p.push_back(s.c_str());
  errno = 0;
  const std::string what = "cannot write variable '" + var_name(id_, varid) + "'";
  check_written(nc_put_var_string(id_, varid, p.data()), what);
}

bool NcFile::has_var(const std::string& name) const {
  int v = -1;
  return nc_inq_varid(id_, name.c_str(), &v) == NC_NOERR;
}

int NcFile::var_id(const std::string& name) const {
  int v = -1;
  if (nc_inq_varid(id_, name.c_str(), &v) != NC_NOERR)
    throw InputError(display_ + ": variable '" + name + "' missing");
  return v;
}

std::vector<std::string> NcFile::var_dims(const std::string& name) const {
  int v = var_id(name);
  int ndims = 0;
  check(nc_inq_varndims(id_, v, &ndims), display_, "cannot inquire variable '" + name + "'");
  std::vector<int> dims(static_cast<std::size_t>(ndims));
  check(nc_inq_vardimid(id_, v, dims.data()), display_, "cannot inquire variable '" + name + "'");
  std::vector<std::string> out;
  for (int d : dims) {
    char dn[NC_MAX_NAME + 1] = {0};
    check(nc_inq_dimname(id_, d, dn), display_, "cannot inquire dimension");
    out.emplace_back(dn);
  }
  return out;
}

std::size_t NcFile::dim_len(const std::string& name) const {
  int d = -1;
  if (nc_inq_dimid(id_, name.c_str(), &d) != NC_NOERR)
    throw InputError(display_ + ": dimension '" + name + "' missing");
  std::size_t len = 0;
  check(nc_inq_dimlen(id_, d, &len), display_, "cannot inquire dimension '" + name + "'");
  return len;
}

std::vector<std::pair<std::string, std::size_t>> NcFile::dims() const {
  int n = 0;
  check(nc_inq_ndims(id_, &n), display_, "cannot inquire dimensions");
  std::vector<std::pair<std::string, std::size_t>> out;
  for (int d = 0; d < n; ++d) {
    char dn[NC_MAX_NAME + 1] = {0};
    std::size_t len = 0;
    check(nc_inq_dim(id_, d, dn, &len), display_, "cannot inquire dimension");
    out.emplace_back(dn, len);
  }
  return out;
}

std::vector<std::string> NcFile::var_names() const {
  int n = 0;
  check(nc_inq_nvars(id_, &n), display_, "cannot inquire variables");
  std::vector<std::string> out;
  for (int v = 0; v < n; ++v) out.push_back(var_name(id_, v));
  return out;
}

namespace {
void check_size(const NcFile& f, const std::string& name, std::size_t got, std::size_t expected) {
  if (expected != 0 && got != expected)
    throw InputError(f.name() + ": variable '" + name + "' has " + std::to_string(got) + " values, expected " +
                     std::to_string(expected));
}
}  // namespace

// NetCDF converts numeric types on read; NC_ERANGE means a value did not fit.
#define PEPPP_NC_GET(FN, TYPE, CALL)                                                          \
  std::vector<TYPE> NcFile::FN(const std::string& name, std::size_t expected) const {         \
    int v = var_id(name);                                                                     \
    std::size_t n = var_size(v);                                                              \
    check_size(*this, name, n, expected);                                                     \
    std::vector<TYPE> out(n);                                                                 \
    if (n == 0) return out;                                                                   \
    int rc = CALL(id_, v, out.data());                                                        \
    if (rc != NC_NOERR)                                                                       \
      throw InputError(display_ + ": variable '" + name + "' cannot be read as " #TYPE " (" + \
                       nc_strerror(rc) + ")");                                                \
    return out;                                                                               \
  }
PEPPP_NC_GET(get_double, double, nc_get_var_double)
PEPPP_NC_GET(get_int, int, nc_get_var_int)
PEPPP_NC_GET(get_ubyte, std::uint8_t, nc_get_var_uchar)
#undef PEPPP_NC_GET

namespace {

// A text value as a message may show it: control characters escaped (\n, \xNN).
std::string escaped(const std::string& s) {
  std::string out;
  for (const unsigned char ch : s) {
    if (ch == '\n') {
      out += "\\n";
    } else if (ch < 0x20 || ch == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      out += buf;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out;
}

// Labels are printed in messages, tables and logs: a control character (a newline above
// all) would forge output lines ("error: ..."), so a file holding one is refused.
void check_printable(const std::vector<std::string>& values, const std::string& file, const std::string& name) {
  for (std::size_t i = 0; i < values.size(); ++i)
    for (const unsigned char ch : values[i])
      if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
        throw InputError(file + ": variable '" + name + "' entry " + std::to_string(i) + " ('" + escaped(values[i]) +
                         "') holds a control character; allowed: printable text");
}

}  // namespace

std::vector<std::string> NcFile::get_strings(const std::string& name, std::size_t expected) const {
  std::vector<std::string> out = get_strings_raw(name, expected);
  check_printable(out, display_, name);
  return out;
}

std::vector<std::string> NcFile::get_strings_raw(const std::string& name, std::size_t expected) const {
  int v = var_id(name);
  nc_type type = NC_NAT;
  check(nc_inq_vartype(id_, v, &type), display_, "cannot inquire variable '" + name + "'");
  std::vector<std::string> out;
  if (type == NC_STRING) {
    std::size_t n = var_size(v);
    check_size(*this, name, n, expected);
    std::vector<char*> p(n, nullptr);
    if (n == 0) return out;
    check(nc_get_var_string(id_, v, p.data()), display_, "cannot read variable '" + name + "'");
    for (char* s : p) out.emplace_back(s ? s : "");
    nc_free_string(n, p.data());
    return out;
  }
  if (type == NC_CHAR) {  // classic char array [n, len]
    auto dn = var_dims(name);
    if (dn.size() != 2) throw InputError(display_ + ": variable '" + name + "' is a char variable without 2 dimensions");
    std::size_t n = dim_len(dn[0]), len = dim_len(dn[1]);
    check_size(*this, name, n, expected);
    std::vector<char> buf(n * len);
    if (!buf.empty()) check(nc_get_var_text(id_, v, buf.data()), display_, "cannot read variable '" + name + "'");
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * len, len);
      out.push_back(s.substr(0, s.find('\0')));
    }
    return out;
  }
  throw InputError(display_ + ": variable '" + name + "' is not a string variable");
}

std::map<std::string, std::string> NcFile::global_attributes() const {
  int n = 0;
  check(nc_inq_natts(id_, &n), display_, "cannot inquire attributes");
  std::map<std::string, std::string> out;
  for (int a = 0; a < n; ++a) {
    char an[NC_MAX_NAME + 1] = {0};
    check(nc_inq_attname(id_, NC_GLOBAL, a, an), display_, "cannot inquire attribute");
    nc_type type = NC_NAT;
    std::size_t len = 0;
    check(nc_inq_att(id_, NC_GLOBAL, an, &type, &len), display_, std::string("cannot inquire attribute '") + an + "'");
    std::string value;
    if (type == NC_CHAR) {
      value.resize(len);
      if (len) check(nc_get_att_text(id_, NC_GLOBAL, an, value.data()), display_, "cannot read attribute");
    } else if (type == NC_STRING) {
      std::vector<char*> p(len, nullptr);
      check(nc_get_att_string(id_, NC_GLOBAL, an, p.data()), display_, "cannot read attribute");
      for (std::size_t i = 0; i < len; ++i) value += (i ? "," : "") + std::string(p[i] ? p[i] : "");
      nc_free_string(len, p.data());
    } else {
      std::vector<double> d(len);
      if (len) check(nc_get_att_double(id_, NC_GLOBAL, an, d.data()), display_, "cannot read attribute");
      for (std::size_t i = 0; i < len; ++i) value += (i ? "," : "") + format_double(d[i]);
    }
    out[an] = value;
  }
  return out;
}

void NcFile::put_extra_atts(const std::map<std::string, std::string>& text,
                            const std::map<std::string, double>& numbers, const std::vector<std::string>& reserved) {
  auto free_key = [&](const std::string& k) {
    return k != "Conventions" && k != "peppp_file" && std::find(reserved.begin(), reserved.end(), k) == reserved.end();
  };
  for (const auto& [k, v] : text)
    if (free_key(k)) put_att(-1, k, v);
  for (const auto& [k, v] : numbers)
    if (free_key(k)) put_att(-1, k, std::vector<double>{v});
}

}  // namespace peppp::io
