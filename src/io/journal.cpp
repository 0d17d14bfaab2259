#include "peppp/io/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string_view>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"
#include "peppp/io/netcdf.hpp"

namespace fs = std::filesystem;

namespace peppp::io {

namespace {
constexpr char kMagic[8] = {'P', 'E', 'P', 'P', 'J', 'N', 'L', '2'};
constexpr std::uint32_t kRecordMagic = 0x3243524au;  // "JRC2" little-endian
constexpr std::uint32_t kEpochMagic = 0x3250454au;   // "JEP2" little-endian

std::uint64_t checksum(const unsigned char* p, std::size_t n) {
  return mix64(fnv1a64(std::string_view(reinterpret_cast<const char*>(p), n)));
}

void encode_header(std::uint64_t fingerprint, unsigned char out[kJournalHeaderBytes]) {
  std::memset(out, 0, kJournalHeaderBytes);
  std::memcpy(out, kMagic, 8);
  const std::uint32_t rb = kJournalRecordBytes;
  std::memcpy(out + 8, &kJournalVersion, 4);
  std::memcpy(out + 12, &rb, 4);
  std::memcpy(out + 16, &fingerprint, 8);
  const std::uint64_t c = checksum(out, 56);
  std::memcpy(out + 56, &c, 8);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Returns an empty string when valid, else why not.
std::string check_header(const unsigned char* h, std::size_t n, std::uint64_t fingerprint, const std::string& dir,
                         const std::string& identity_text) {
  // Every journal version starts with "PEPPJNL" and a u32 version at byte 8.
  if (n < 12 || std::memcmp(h, kMagic, 7) != 0) return "is not a peppp journal";
  std::uint32_t version = 0, rb = 0;
  std::memcpy(&version, h + 8, 4);
  if (version != kJournalVersion || h[7] != kMagic[7])
    return "was written by another peppp (journal version " + std::to_string(version) + "; this peppp reads version " +
           std::to_string(kJournalVersion) + "): finish that campaign with the peppp that started it, or pass "
           "--restart to move the journal aside and start over";
  if (n < kJournalHeaderBytes) return "has a torn header";
  std::uint64_t fp = 0, c = 0;
  std::memcpy(&rb, h + 12, 4);
  std::memcpy(&fp, h + 16, 8);
  std::memcpy(&c, h + 56, 8);
  if (c != checksum(h, 56)) return "has a corrupt header";
  if (rb != kJournalRecordBytes) return "has records of " + std::to_string(rb) + " bytes, expected " +
                                        std::to_string(kJournalRecordBytes);
  if (fp != fingerprint) {
    const std::string fingerprints = "fingerprint " + hex64(fp) + ", this plan " + hex64(fingerprint);
    std::string what;
    const std::string old_text = read_text(plan_text_path(dir));
    if (!old_text.empty() && !identity_text.empty()) what = plan_differences(old_text, identity_text);
    return "belongs to another plan (" + (what.empty() ? fingerprints : "differs in " + what) +
           "): pass --restart to move it aside and start over, or use another --output";
  }
  return {};
}

// The journal folder must be a real folder, not a link that would send every
// rank's journal somewhere else.
void check_journal_folder(const std::string& dir) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(dir, ec);
  if (fs::is_symlink(st))
    throw InputError("journal folder " + dir + " is a link: peppp writes journals only into a real folder "
                     "(remove the link, or pass --restart)");
  if (fs::exists(st) && !fs::is_directory(st))
    throw InputError("journal folder " + dir + " exists and is not a folder: remove it, or use another --output");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError(path + ": cannot read journal: " + std::strerror(errno));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Scan the records after the header. A record that fails its magic or
// checksum is skipped: the scan resynchronizes on the next offset where a
// whole valid record starts. Returns the offset just after the last valid
// record; counts skipped stretches in `corrupt` (a bad stretch at the very end
// is a torn tail, not counted).
std::size_t scan(const std::string& bytes, std::vector<JournalRecord>* out, int* corrupt) {
  int bad = 0;
  const std::size_t end = decode_records(reinterpret_cast<const unsigned char*>(bytes.data()) + kJournalHeaderBytes,
                                         bytes.size() - kJournalHeaderBytes, out, &bad);
  if (corrupt) *corrupt += bad;
  return kJournalHeaderBytes + end;
}

// The rank journals `rank-<r>.bin` of `dir`, sorted (none for a missing folder).
std::vector<std::string> rank_files(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  check_journal_folder(dir);
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!(starts_with(name, "rank-") && name.size() > 9 && name.substr(name.size() - 4) == ".bin")) continue;
    // A journal is a regular file of ours: a folder, a device or a link
    // under a journal's name is refused, never read or written through.
    if (!fs::is_regular_file(fs::symlink_status(e.path(), ec)))
      throw InputError("journal " + e.path().string() +
                       " is not a regular file (a folder, link or device): remove it, or pass --restart");
    files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw InputError("journal " + path + " " + why);
}
}  // namespace

void encode_record(const JournalRecord& r, unsigned char out[kJournalRecordBytes]) {
  std::memset(out, 0, kJournalRecordBytes);
  std::memcpy(out + 0, &kRecordMagic, 4);
  std::memcpy(out + 4, &r.rank, 4);
  std::memcpy(out + 8, &r.cell, 8);
  std::memcpy(out + 16, &r.error, 8);
  std::memcpy(out + 24, &r.loss, 8);
  std::memcpy(out + 32, &r.seconds, 8);
  std::memcpy(out + 40, &r.replicate, 2);
  out[42] = r.status;
  out[43] = r.attempts;
  // How many epochs its epoch record holds (0: none): a cell record whose epoch record was lost
  // is not taken (its cell is trained again), so no per-epoch value is silently missing.
  const auto epochs = static_cast<std::uint16_t>(std::min<std::size_t>(
      65535, std::max(r.error_by_epoch.size(), r.loss_by_epoch.size())));
  std::memcpy(out + 44, &epochs, 2);
  const std::uint64_t c = checksum(out, 56);
  std::memcpy(out + 56, &c, 8);
}

bool decode_record(const unsigned char in[kJournalRecordBytes], JournalRecord& r) {
  std::uint32_t m = 0;
  std::memcpy(&m, in, 4);
  if (m != kRecordMagic) return false;
  std::uint64_t c = 0;
  std::memcpy(&c, in + 56, 8);
  if (c != checksum(in, 56)) return false;
  std::memcpy(&r.rank, in + 4, 4);
  std::memcpy(&r.cell, in + 8, 8);
  std::memcpy(&r.error, in + 16, 8);
  std::memcpy(&r.loss, in + 24, 8);
  std::memcpy(&r.seconds, in + 32, 8);
  std::memcpy(&r.replicate, in + 40, 2);
  r.status = in[42];
  r.attempts = in[43];
  return true;
}

std::string encode_entry(const JournalRecord& r) {
  std::string out;
  const std::size_t n = std::max(r.error_by_epoch.size(), r.loss_by_epoch.size());
  if (n > 0) {
    if (n > 65535) throw RuntimeError("journal: " + std::to_string(n) + " epochs in one record; at most 65535");
    std::string e(24 + 16 * n + 8, '\0');
    auto* p = reinterpret_cast<unsigned char*>(e.data());
    const auto count = static_cast<std::uint16_t>(n);
    std::memcpy(p + 0, &kEpochMagic, 4);
    std::memcpy(p + 4, &r.rank, 4);
    std::memcpy(p + 8, &r.cell, 8);
    std::memcpy(p + 16, &r.replicate, 2);
    std::memcpy(p + 18, &count, 2);
    for (std::size_t k = 0; k < n; ++k) {
      const double err = k < r.error_by_epoch.size() ? r.error_by_epoch[k] : std::nan("");
      const double loss = k < r.loss_by_epoch.size() ? r.loss_by_epoch[k] : std::nan("");
      std::memcpy(p + 24 + 16 * k, &err, 8);
      std::memcpy(p + 32 + 16 * k, &loss, 8);
    }
    const std::uint64_t c = checksum(p, e.size() - 8);
    std::memcpy(p + e.size() - 8, &c, 8);
    out = std::move(e);
  }
  unsigned char buf[kJournalRecordBytes];
  encode_record(r, buf);
  out.append(reinterpret_cast<const char*>(buf), sizeof buf);
  return out;
}

namespace {
// An epoch record at `p` (at most `n` bytes): its length when whole and valid, else 0.
std::size_t decode_epochs(const unsigned char* p, std::size_t n, JournalRecord& r) {
  if (n < 32) return 0;
  std::uint32_t m = 0;
  std::memcpy(&m, p, 4);
  if (m != kEpochMagic) return 0;
  std::uint16_t count = 0;
  std::memcpy(&count, p + 18, 2);
  const std::size_t len = 24 + 16 * static_cast<std::size_t>(count) + 8;
  if (count == 0 || len > n) return 0;
  std::uint64_t c = 0;
  std::memcpy(&c, p + len - 8, 8);
  if (c != checksum(p, len - 8)) return 0;
  std::memcpy(&r.rank, p + 4, 4);
  std::memcpy(&r.cell, p + 8, 8);
  std::memcpy(&r.replicate, p + 16, 2);
  r.error_by_epoch.resize(count);
  r.loss_by_epoch.resize(count);
  for (std::size_t k = 0; k < count; ++k) {
    std::memcpy(&r.error_by_epoch[k], p + 24 + 16 * k, 8);
    std::memcpy(&r.loss_by_epoch[k], p + 32 + 16 * k, 8);
  }
  return len;
}
}  // namespace

std::size_t decode_records(const unsigned char* p, std::size_t n, std::vector<JournalRecord>* out, int* corrupt) {
  std::size_t off = 0, end_valid = 0;
  int bad = 0;
  bool in_bad = false;
  JournalRecord epochs;  // the epoch record just read, waiting for its cell record
  bool have_epochs = false;
  while (off + 32 <= n) {
    JournalRecord r;
    if (off + kJournalRecordBytes <= n && decode_record(p + off, r)) {
      // The epoch record written with it (same rank, cell and replicate) directly before.
      std::uint16_t expected = 0;
      std::memcpy(&expected, p + off + 44, 2);
      if (have_epochs && epochs.rank == r.rank && epochs.cell == r.cell && epochs.replicate == r.replicate &&
          (epochs.error_by_epoch.size() == expected || expected == 0)) {
        r.error_by_epoch = std::move(epochs.error_by_epoch);
        r.loss_by_epoch = std::move(epochs.loss_by_epoch);
      } else if (expected != 0) {
        // Its epoch record is lost: the cell record alone is not a whole result.
        have_epochs = false;
        in_bad = true;
        off += kJournalRecordBytes;
        continue;
      }
      if (in_bad) ++bad;
      in_bad = false;
      have_epochs = false;
      if (out) out->push_back(std::move(r));
      off += kJournalRecordBytes;
      end_valid = off;
      continue;
    }
    JournalRecord e;
    if (const std::size_t len = decode_epochs(p + off, n - off, e)) {
      if (in_bad) ++bad;
      in_bad = false;
      epochs = std::move(e);
      have_epochs = true;
      off += len;  // not end_valid: an epoch record without its cell record is a torn tail
      continue;
    }
    in_bad = true;
    have_epochs = false;
    ++off;  // resynchronize byte by byte on the next record magic
    while (off + 32 <= n) {
      std::uint32_t m = 0;
      std::memcpy(&m, p + off, 4);
      if (m == kRecordMagic || m == kEpochMagic) break;
      ++off;
    }
  }
  if (corrupt) *corrupt += bad;
  return end_valid;
}

std::string plan_text_path(const std::string& dir) { return (fs::path(dir) / "plan.txt").string(); }

void write_plan_text(const std::string& dir, const std::string& identity_text) {
  std::error_code ec;
  check_journal_folder(dir);
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) throw RuntimeError("cannot create journal folder " + dir + ": " + ec.message());
  AtomicPath out(plan_text_path(dir));
  write_file_durably(out.temp(), identity_text.data(), identity_text.size(), out.path());
  out.commit();
}

JournalContents scan_journals(const std::string& dir) {
  JournalContents jc;
  const std::vector<std::string> files = rank_files(dir);
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ++jc.files;
    std::uint32_t version = 0;
    if (bytes.size() >= 12) std::memcpy(&version, bytes.data() + 8, 4);
    if (bytes.size() < kJournalHeaderBytes || std::memcmp(bytes.data(), kMagic, 8) != 0 || version != kJournalVersion) {
      ++jc.torn;
      continue;
    }
    if (scan(bytes, &jc.records, &jc.corrupt) != bytes.size()) ++jc.torn;
  }
  return jc;
}

std::size_t count_journal_records(const std::string& dir) { return scan_journals(dir).records.size(); }

bool has_journals(const std::string& dir) { return !rank_files(dir).empty(); }

std::string move_journals_aside(const std::string& dir) { return move_aside(dir, "journal folder"); }

std::string move_aside(const std::string& path, const std::string& what) {
  std::string base = fs::path(path).lexically_normal().string();
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  std::string stamp = iso8601_now();  // 2026-12-01T15:40:00Z -> 20261201T154000Z
  stamp.erase(std::remove(stamp.begin(), stamp.end(), '-'), stamp.end());
  stamp.erase(std::remove(stamp.begin(), stamp.end(), ':'), stamp.end());
  std::string target = base + ".moved-" + stamp;
  std::error_code ec;
  // The name is predictable: never rename onto anything there (a link planted at it,
  // dangling or not, a file another user made): RENAME_NOREPLACE, the next name on EEXIST.
  for (int k = 2; k < 1000; ++k) {
    if (!fs::exists(fs::symlink_status(target, ec))) {
      if (::renameat2(AT_FDCWD, base.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) return target;
      // A file system without RENAME_NOREPLACE (some network ones): the checked plain rename.
      if (errno == EINVAL && std::rename(base.c_str(), target.c_str()) == 0) return target;
      if (errno != EEXIST && errno != ENOTEMPTY) break;
    }
    target = base + ".moved-" + stamp + "-" + std::to_string(k);
  }
  throw RuntimeError("cannot move " + what + " " + base + " aside to " + target + ": " + std::strerror(errno));
}

std::string plan_differences(const std::string& old_text, const std::string& new_text, std::size_t max_items) {
  auto parse = [](const std::string& text) {
    std::map<std::string, std::string> kv;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      const auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return kv;
  };
  const auto a = parse(old_text), b = parse(new_text);
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  // Section of a key, and a phrase for it.
  std::vector<std::string> items;
  std::set<std::string> seen;
  auto value = [](const std::map<std::string, std::string>& m, const std::string& k) {
    const auto it = m.find(k);
    return it == m.end() ? std::string("(none)") : it->second;
  };
  for (const auto& k : keys) {
    const std::string va = value(a, k), vb = value(b, k);
    if (va == vb) continue;
    std::string section, phrase;
    const std::string change = va + " -> " + vb;
    if (k == "plan-version") {
      section = k;
      phrase = "plan version (" + change + ")";
    } else if (k == "seed" || k == "replicates") {
      section = k;
      phrase = k + " (" + change + ")";
    } else if (starts_with(k, "sampling.")) {
      section = "sampling";
      phrase = "sampling (" + k + ": " + change + ")";
    } else if (starts_with(k, "config.")) {
      section = "config";
      phrase = "configurations (" + k + ": " + change + ")";
    } else if (starts_with(k, "task.")) {
      const std::string rest = k.substr(5);
      const auto dot = rest.find('.');
      if (dot == std::string::npos) {
        section = "tasks";
        phrase = "tasks (task " + rest + ": " + change + ")";
      } else {
        const std::string task = rest.substr(0, dot);
        section = "task." + task;
        phrase = "task '" + task + "' definition (" + rest.substr(dot + 1) + ": " + change + ")";
      }
    } else {
      section = "training";
      phrase = "training keys (" + k + ": " + change + ")";
    }
    if (!seen.insert(section).second) continue;
    items.push_back(phrase);
    if (items.size() >= max_items) break;
  }
  return join(items, "; ");
}

std::string journal_dir(const std::string& output) { return output + ".journal"; }

std::string journal_path(const std::string& dir, int rank) {
  return (fs::path(dir) / ("rank-" + std::to_string(rank) + ".bin")).string();
}

JournalContents read_journals(const std::string& dir, std::uint64_t fingerprint, const std::string& identity_text) {
  JournalContents jc;
  const std::vector<std::string> files = rank_files(dir);
  for (const auto& path : files) {
    const std::string bytes = read_file(path);
    // An empty file or a torn header: the rank died while creating it.
    if (bytes.size() < kJournalHeaderBytes) {
      // A prefix of a header: the rank died while creating it. Anything else is not a journal.
      if (std::memcmp(bytes.data(), kMagic, std::min<std::size_t>(bytes.size(), 7)) != 0)
        refuse(path, "is not a peppp journal");
      ++jc.torn;
      ++jc.files;
      continue;
    }
    std::string why = check_header(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), fingerprint,
                                   dir, identity_text);
    if (!why.empty()) refuse(path, why);
    const std::size_t end = scan(bytes, &jc.records, &jc.corrupt);
    if (end != bytes.size()) ++jc.torn;
    ++jc.files;
  }
  return jc;
}

// The background fsync of a JournalWriter: one thread that fsyncs whenever
// records were written since its last fsync.
struct JournalWriter::Flusher {
  int fd;
  std::string path;
  // The folder whose entry for the file the first sync makes durable too
  // (with the header, which counts as the first write), off the rank's
  // path: opening a journal costs no fsync on the rank's path either.
  std::string dir;
  std::mutex mutex;
  std::condition_variable wake, done;
  std::uint64_t written = 0, synced = 0, calls = 0;
  std::string error;  // first fsync failure
  bool stop = false;
  std::thread thread;

  Flusher(int f, std::string p, std::string d)
      : fd(f), path(std::move(p)), dir(std::move(d)), written(1), thread([this] { run(); }) {}
  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return stop || written > synced; });
      if (written == synced) return;  // stopping, nothing left
      const std::uint64_t target = written;
      const bool first = synced == 0;
      lock.unlock();
      int rc = ::fsync(fd);
      int err = errno;
      std::string dir_error;
      if (first) {
        try {
          sync_directory(dir);
        } catch (const Error& e) {
          dir_error = e.what();
        }
      }
      lock.lock();
      ++calls;
      if (rc != 0 && error.empty()) error = "cannot fsync journal " + path + ": " + std::strerror(err);
      if (!dir_error.empty() && error.empty()) error = dir_error;
      synced = target;
      done.notify_all();
    }
  }
  void check_locked() const {
    if (!error.empty()) throw RuntimeError(error);
  }
};

JournalWriter::JournalWriter(const std::string& dir, int rank, std::uint64_t fingerprint, bool background_sync)
    : path_(journal_path(dir, rank)) {
  std::error_code ec;
  check_journal_folder(dir);
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) throw RuntimeError("cannot create journal folder " + dir + ": " + ec.message());
  std::size_t keep = 0;
  bool fresh = true;
  if (fs::exists(fs::symlink_status(path_, ec))) {
    if (!fs::is_regular_file(fs::symlink_status(path_, ec)))
      refuse(path_, "is not a regular file (a folder, link or device): remove it, or pass --restart");
    const std::string bytes = read_file(path_);
    if (bytes.size() >= kJournalHeaderBytes) {
      std::string why =
          check_header(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), fingerprint, dir, "");
      if (!why.empty()) refuse(path_, why);
      keep = scan(bytes, nullptr, nullptr);  // drop a torn tail; corrupt records in the middle stay (skipped on read)
      fresh = false;
    }
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd_ < 0) throw RuntimeError("cannot open journal " + path_ + ": " + std::strerror(errno));
  if (fresh) {
    unsigned char h[kJournalHeaderBytes];
    encode_header(fingerprint, h);
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, h, sizeof h, 0) != static_cast<ssize_t>(sizeof h) ||
        (!background_sync && ::fsync(fd_) != 0))
      throw RuntimeError("cannot write journal header " + path_ + ": " + std::strerror(errno));
    keep = kJournalHeaderBytes;
  } else if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0) {  // drop a torn tail
    throw RuntimeError("cannot truncate journal " + path_ + ": " + std::strerror(errno));
  }
  if (::lseek(fd_, static_cast<off_t>(keep), SEEK_SET) < 0)
    throw RuntimeError("cannot seek journal " + path_ + ": " + std::strerror(errno));
  // Make the (possibly new) file's directory entry durable too: now, or on
  // the background thread's first sync (before any record counts as durable).
  if (background_sync) {
    flusher_ = new Flusher(fd_, path_, dir);
    flusher_->wake.notify_one();
  } else {
    sync_directory(dir);
  }
}

JournalWriter::~JournalWriter() {
  if (flusher_) {
    {
      std::lock_guard<std::mutex> lock(flusher_->mutex);
      flusher_->stop = true;
    }
    flusher_->wake.notify_all();
    flusher_->thread.join();
    delete flusher_;
  }
  if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::sync() {
  if (!flusher_) return;
  std::unique_lock<std::mutex> lock(flusher_->mutex);
  flusher_->done.wait(lock, [&] { return flusher_->synced == flusher_->written; });
  flusher_->check_locked();
}

std::uint64_t JournalWriter::fsyncs() const {
  if (!flusher_) return 0;
  std::lock_guard<std::mutex> lock(flusher_->mutex);
  return flusher_->calls;
}

void JournalWriter::append(const JournalRecord& r) {
  // The epoch record and the cell record in one write, then one fsync: the
  // cell counts as done only once both are on disk.
  const std::string buf = encode_entry(r);
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t w = ::write(fd_, buf.data() + done, buf.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw RuntimeError("cannot append to journal " + path_ + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(w);
  }
  if (!flusher_) {
    if (::fsync(fd_) != 0) throw RuntimeError("cannot fsync journal " + path_ + ": " + std::strerror(errno));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(flusher_->mutex);
    flusher_->check_locked();
    ++flusher_->written;
  }
  flusher_->wake.notify_one();
}

}  // namespace peppp::io
