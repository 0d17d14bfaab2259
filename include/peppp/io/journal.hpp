#pragma once
/// @file journal.hpp
/// @brief Per-rank journals of a measurement campaign (DESIGN.md §3):
/// `<campaign>.journal/rank-<r>.bin`, a header with the plan fingerprint,
/// then one fixed-size record per finished cell, each written, flushed and
/// fsync'd before the next cell starts. A record carries a checksum, so a
/// torn last record (crash mid-write) is detected and ignored. Not collective.

#include <cstdint>
#include <string>
#include <vector>

namespace peppp::io {

/// One finished cell replicate, as journaled (fixed 48 bytes on disk,
/// little-endian host layout: cell u64 @0, error f64 @8, loss f64 @16,
/// seconds f64 @24, status u8 @32, zero u8 @33, replicate u16 @34, rank
/// i32 @36, checksum u64 @40 over bytes 0..39). The replicate sits in what
/// was zero padding before replicates existed, so every older record reads
/// as replicate 0 with its checksum intact (journal version 1 unchanged).
struct JournalRecord {
  std::uint64_t cell = 0;  ///< flat cell index t * n_configs + c
  std::uint16_t replicate = 0;  ///< replicate of the cell (0..train.replicates−1)
  double error = 0;        ///< test misclassification rate (NaN if failed)
  double loss = 0;         ///< final training loss
  double seconds = 0;      ///< wall time of the cell, s
  std::uint8_t status = 0; ///< CellStatus (measured, diverged, failed)
  std::int32_t rank = 0;   ///< rank that trained it
};

/// Size in bytes of one record on disk.
constexpr std::size_t kJournalRecordBytes = 48;
/// Size in bytes of the file header.
constexpr std::size_t kJournalHeaderBytes = 32;

/// What reading a journal folder found.
struct JournalContents {
  std::vector<JournalRecord> records;  ///< valid records of every rank file, file by file
  int files = 0;                       ///< rank files read
  int torn = 0;                        ///< files whose tail was a torn/corrupt record (ignored)
};

/// The journal folder of a campaign output: "<output>.journal".
std::string journal_dir(const std::string& output);

/// Path of rank `r`'s journal in `dir`: "<dir>/rank-<r>.bin".
std::string journal_path(const std::string& dir, int rank);

/// Read every `rank-*.bin` in `dir` (a missing folder gives no records).
/// @throws InputError naming the file when its header is not a peppp journal
///         or its plan fingerprint differs from `fingerprint` (a journal of
///         another plan: "use another --output or remove the folder").
JournalContents read_journals(const std::string& dir, std::uint64_t fingerprint);

/// Appends records to one rank's journal. Opening creates the folder and the
/// file (with its header) if needed; an existing file must carry the same
/// fingerprint, and a torn tail is truncated away before appending.
class JournalWriter {
 public:
  /// @throws InputError on a fingerprint mismatch; RuntimeError on I/O errors.
  JournalWriter(const std::string& dir, int rank, std::uint64_t fingerprint);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  /// Write one record and fsync it. @throws RuntimeError naming the file.
  void append(const JournalRecord& r);
  /// The file written.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

/// Encode a record into its 48 on-disk bytes (with checksum); exposed for tests.
void encode_record(const JournalRecord& r, unsigned char out[kJournalRecordBytes]);
/// Decode 48 bytes; false when the checksum does not match (torn or corrupt).
bool decode_record(const unsigned char in[kJournalRecordBytes], JournalRecord& r);

}  // namespace peppp::io
