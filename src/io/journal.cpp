#include "peppp/io/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "peppp/core/error.hpp"
#include "peppp/core/strings.hpp"

namespace fs = std::filesystem;

namespace peppp::io {

namespace {
constexpr char kMagic[8] = {'P', 'E', 'P', 'P', 'J', 'N', 'L', '1'};
constexpr std::uint32_t kVersion = 1;

std::uint64_t checksum(const unsigned char* p, std::size_t n) {
  return mix64(fnv1a64(std::string_view(reinterpret_cast<const char*>(p), n)));
}

// Header: magic[8] version u32 record_bytes u32 fingerprint u64 checksum u64.
void encode_header(std::uint64_t fingerprint, unsigned char out[kJournalHeaderBytes]) {
  std::memset(out, 0, kJournalHeaderBytes);
  std::memcpy(out, kMagic, 8);
  const std::uint32_t rb = kJournalRecordBytes;
  std::memcpy(out + 8, &kVersion, 4);
  std::memcpy(out + 12, &rb, 4);
  std::memcpy(out + 16, &fingerprint, 8);
  const std::uint64_t c = checksum(out, 24);
  std::memcpy(out + 24, &c, 8);
}

// Returns an empty string when valid, else why not.
std::string check_header(const unsigned char* h, std::size_t n, std::uint64_t fingerprint) {
  if (n < kJournalHeaderBytes || std::memcmp(h, kMagic, 8) != 0) return "is not a peppp journal";
  std::uint32_t version = 0, rb = 0;
  std::uint64_t fp = 0, c = 0;
  std::memcpy(&version, h + 8, 4);
  std::memcpy(&rb, h + 12, 4);
  std::memcpy(&fp, h + 16, 8);
  std::memcpy(&c, h + 24, 8);
  if (c != checksum(h, 24)) return "has a corrupt header";
  if (version != kVersion || rb != kJournalRecordBytes) return "has an unsupported journal version";
  if (fp != fingerprint) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "belongs to another plan (fingerprint %016llx, this plan %016llx)",
                  static_cast<unsigned long long>(fp), static_cast<unsigned long long>(fingerprint));
    return buf;
  }
  return {};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError(path + ": cannot read journal: " + std::strerror(errno));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Number of valid records at the start of `bytes` (after the header).
std::size_t scan(const std::string& bytes, std::vector<JournalRecord>* out) {
  std::size_t n = 0;
  for (std::size_t off = kJournalHeaderBytes; off + kJournalRecordBytes <= bytes.size(); off += kJournalRecordBytes) {
    JournalRecord r;
    if (!decode_record(reinterpret_cast<const unsigned char*>(bytes.data() + off), r)) break;
    if (out) out->push_back(r);
    ++n;
  }
  return n;
}

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw InputError("journal " + path + " " + why +
                   "; resume with the same configuration, or use another --output, or remove " +
                   fs::path(path).parent_path().string());
}
}  // namespace

void encode_record(const JournalRecord& r, unsigned char out[kJournalRecordBytes]) {
  std::memset(out, 0, kJournalRecordBytes);
  std::memcpy(out + 0, &r.cell, 8);
  std::memcpy(out + 8, &r.error, 8);
  std::memcpy(out + 16, &r.loss, 8);
  std::memcpy(out + 24, &r.seconds, 8);
  out[32] = r.status;
  std::memcpy(out + 34, &r.replicate, 2);
  std::memcpy(out + 36, &r.rank, 4);
  const std::uint64_t c = checksum(out, 40);
  std::memcpy(out + 40, &c, 8);
}

bool decode_record(const unsigned char in[kJournalRecordBytes], JournalRecord& r) {
  std::uint64_t c = 0;
  std::memcpy(&c, in + 40, 8);
  if (c != checksum(in, 40)) return false;
  std::memcpy(&r.cell, in + 0, 8);
  std::memcpy(&r.error, in + 8, 8);
  std::memcpy(&r.loss, in + 16, 8);
  std::memcpy(&r.seconds, in + 24, 8);
  r.status = in[32];
  std::memcpy(&r.replicate, in + 34, 2);
  std::memcpy(&r.rank, in + 36, 4);
  return true;
}

std::string journal_dir(const std::string& output) { return output + ".journal"; }

std::string journal_path(const std::string& dir, int rank) {
  return (fs::path(dir) / ("rank-" + std::to_string(rank) + ".bin")).string();
}

JournalContents read_journals(const std::string& dir, std::uint64_t fingerprint) {
  JournalContents jc;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return jc;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (starts_with(name, "rank-") && name.size() > 9 && name.substr(name.size() - 4) == ".bin")
      files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    const std::string bytes = read_file(path);
    // An empty file or a torn header: the rank died while creating it.
    if (bytes.size() < kJournalHeaderBytes) {
      ++jc.torn;
      ++jc.files;
      continue;
    }
    std::string why = check_header(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), fingerprint);
    if (!why.empty()) refuse(path, why);
    const std::size_t n = scan(bytes, &jc.records);
    if (kJournalHeaderBytes + n * kJournalRecordBytes != bytes.size()) ++jc.torn;
    ++jc.files;
  }
  return jc;
}

JournalWriter::JournalWriter(const std::string& dir, int rank, std::uint64_t fingerprint)
    : path_(journal_path(dir, rank)) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) throw RuntimeError("cannot create journal folder " + dir + ": " + ec.message());
  std::size_t keep = 0;
  bool fresh = true;
  if (fs::exists(path_)) {
    const std::string bytes = read_file(path_);
    if (bytes.size() >= kJournalHeaderBytes) {
      std::string why =
          check_header(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), fingerprint);
      if (!why.empty()) refuse(path_, why);
      keep = kJournalHeaderBytes + scan(bytes, nullptr) * kJournalRecordBytes;
      fresh = false;
    }
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw RuntimeError("cannot open journal " + path_ + ": " + std::strerror(errno));
  if (fresh) {
    unsigned char h[kJournalHeaderBytes];
    encode_header(fingerprint, h);
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, h, sizeof h, 0) != static_cast<ssize_t>(sizeof h) ||
        ::fsync(fd_) != 0)
      throw RuntimeError("cannot write journal header " + path_ + ": " + std::strerror(errno));
    keep = kJournalHeaderBytes;
  } else if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0) {  // drop a torn tail
    throw RuntimeError("cannot truncate journal " + path_ + ": " + std::strerror(errno));
  }
  if (::lseek(fd_, static_cast<off_t>(keep), SEEK_SET) < 0)
    throw RuntimeError("cannot seek journal " + path_ + ": " + std::strerror(errno));
  // Make the (possibly new) file's directory entry durable too.
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::append(const JournalRecord& r) {
  unsigned char buf[kJournalRecordBytes];
  encode_record(r, buf);
  std::size_t done = 0;
  while (done < sizeof buf) {
    ssize_t w = ::write(fd_, buf + done, sizeof buf - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw RuntimeError("cannot append to journal " + path_ + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd_) != 0) throw RuntimeError("cannot fsync journal " + path_ + ": " + std::strerror(errno));
}

}  // namespace peppp::io
