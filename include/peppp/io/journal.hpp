#pragma once
/// @file journal.hpp
/// @brief Per-rank journals of a measurement campaign (DESIGN.md §3):
/// `<campaign>.journal/rank-<r>.bin`, a header with the journal version and
/// the plan fingerprint, then one fixed-size record per finished cell, each
/// written, flushed and fsync'd before the next cell starts; beside them
/// `plan.txt`, the plan's identity text, so a journal of another plan is
/// refused naming what differs. Every record starts with a magic number and
/// ends with a checksum: a torn last record (crash mid-write) is ignored,
/// and a corrupt record in the middle is skipped by resynchronizing on the
/// next record's magic, so only that record's cell is lost. Not collective.

#include <cstdint>
#include <string>
#include <vector>

namespace peppp::io {

/// One finished cell replicate, as journaled (journal version 2: fixed 64
/// bytes on disk, little-endian host layout: magic u32 "JRC2" @0, rank i32
/// @4, cell u64 @8, error f64 @16, loss f64 @24, seconds f64 @32, replicate
/// u16 @40, status u8 @42, attempts u8 @43, epochs u16 @44 (entries of its
/// epoch record, 0 = none), zero @46..55, checksum u64 @56 over bytes 0..55).
/// A cell record announcing epochs whose epoch record is missing or corrupt
/// counts as corrupt (its cell is trained again).
struct JournalRecord {
  std::uint64_t cell = 0;  ///< flat cell index t * n_configs + c
  std::uint16_t replicate = 0;  ///< replicate of the cell (0..train.replicates−1)
  double error = 0;        ///< test misclassification rate (NaN if failed)
  double loss = 0;         ///< final training loss
  double seconds = 0;      ///< wall time of the cell, s
  std::uint8_t status = 0; ///< CellStatus (measured, diverged, failed)
  std::int32_t rank = 0;   ///< rank that trained it
  std::uint8_t attempts = 1;  ///< times it was trained in that run (2: retried once on the spot)
  /// Test error and training loss after each epoch (empty: not recorded).
  /// On disk an epoch record directly before the cell record, written with
  /// it: magic u32 "JEP2" @0, rank i32 @4, cell u64 @8, replicate u16 @16,
  /// count n u16 @18, zero @20, n × (error f64, loss f64) @24, checksum u64
  /// over everything before it. Journals without epoch records (written
  /// before them) read as before, with these empty.
  std::vector<double> error_by_epoch, loss_by_epoch;
};

/// Size in bytes of one record on disk.
constexpr std::size_t kJournalRecordBytes = 64;
/// Size in bytes of the file header: magic "PEPPJNL2" [8], version u32,
/// record bytes u32, fingerprint u64, zero [32], checksum u64 over 0..55.
constexpr std::size_t kJournalHeaderBytes = 64;
/// The journal version this peppp writes and reads.
constexpr std::uint32_t kJournalVersion = 2;

/// What reading a journal folder found.
struct JournalContents {
  std::vector<JournalRecord> records;  ///< valid records of every rank file, file by file
  int files = 0;                       ///< rank files read
  int torn = 0;                        ///< files whose tail was a torn/corrupt record (ignored)
  int corrupt = 0;                     ///< corrupt records skipped in the middle of a file (resynchronized)
};

/// The journal folder of a campaign output: "<output>.journal".
std::string journal_dir(const std::string& output);

/// Path of rank `r`'s journal in `dir`: "<dir>/rank-<r>.bin".
std::string journal_path(const std::string& dir, int rank);

/// Read every `rank-*.bin` in `dir` (a missing folder gives no records).
/// `identity_text` (the plan's, optional) lets a mismatch name what differs
/// from the journal's `plan.txt`.
/// @throws InputError naming the file when its header is not a peppp journal,
///         is of another journal version, or its plan fingerprint differs
///         from `fingerprint` (naming the differing keys; "pass --restart to
///         move it aside, or use another --output").
JournalContents read_journals(const std::string& dir, std::uint64_t fingerprint,
                              const std::string& identity_text = "");

/// What differs between two plans' identity texts, one phrase per section
/// ("task 'a' definition (classes: 0,1 -> 0,2)", "training keys (train.epochs:
/// 1 -> 2)", "configurations", "sampling", "replicates (1 -> 2)", "seed (1 -> 2)",
/// "plan version (1 -> 2)"), at most `max_items`, joined by "; ". Empty when equal.
std::string plan_differences(const std::string& old_text, const std::string& new_text, std::size_t max_items = 4);

/// Every rank file of `dir` read without checking any plan (`peppp info
/// DIR.journal`, progress, tests): records, files, torn tails, corrupt
/// records. Files that are not journals of this version are skipped (counted
/// in `torn`). A missing folder gives nothing.
JournalContents scan_journals(const std::string& dir);
/// Number of whole cell records in every rank file of `dir` (`scan_journals`).
std::size_t count_journal_records(const std::string& dir);
/// True when `dir` holds at least one rank journal file.
bool has_journals(const std::string& dir);

/// Path of the plan's identity text in a journal folder: "<dir>/plan.txt".
std::string plan_text_path(const std::string& dir);

/// Write `identity_text` to `<dir>/plan.txt` atomically (creating `dir`).
/// @throws RuntimeError on I/O errors.
void write_plan_text(const std::string& dir, const std::string& identity_text);

/// Move a journal folder aside (never deleted): renamed to
/// "<dir>.moved-<UTC yyyymmddThhmmssZ>" (plus "-N" if taken). Returns the new name.
/// @throws RuntimeError when the rename fails.
std::string move_journals_aside(const std::string& dir);

/// Rename `path` (a file or folder; `what` names it in messages) to
/// `<path>.moved-<UTC timestamp>` (a free name), nothing deleted.
/// @returns the new name. @throws RuntimeError when the rename fails.
std::string move_aside(const std::string& path, const std::string& what);

/// Appends records to one rank's journal. Opening creates the folder and the
/// file (with its header) if needed; an existing file must carry the same
/// fingerprint, and a torn tail is truncated away before appending.
///
/// Durability (group commit): `append` writes the record with write(2)
/// before it returns, so a killed process (SIGKILL, a node's ranks killed,
/// a Slurm requeue) never loses a finished cell; the fsync that makes it
/// survive a crash of the machine itself runs on a background thread while
/// the next cell trains (with `background_sync`), so a rank does not wait
/// 0.2–15 ms per cell on a busy or shared file system. Records appended
/// while an fsync runs are committed by the next one. Only a power loss or
/// kernel crash can then lose the records of the last cell or so per rank
/// (they are trained again on --resume, like a cell in flight); `sync()`
/// waits for everything written, and the campaign calls it before its file
/// is written. With `background_sync` the header's fsync and the folder's
/// (the new file's entry) also run on that thread, as its first commit.
class JournalWriter {
 public:
  /// @throws InputError on a fingerprint mismatch; RuntimeError on I/O errors.
  JournalWriter(const std::string& dir, int rank, std::uint64_t fingerprint, bool background_sync = true);
  /// Waits for the last fsync (errors are then only lost: call `sync()` first).
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  /// Write one record (its epoch record first) in one write(2); fsync it now
  /// (without background sync) or on the background thread.
  /// @throws RuntimeError naming the file (also for an earlier background fsync that failed).
  void append(const JournalRecord& r);
  /// Wait until every appended record is fsync'd. @throws RuntimeError naming the file.
  void sync();
  /// fsync calls of the background thread so far (each commits every record written before it).
  std::uint64_t fsyncs() const;
  /// The file written.
  const std::string& path() const { return path_; }

 private:
  struct Flusher;
  std::string path_;
  int fd_ = -1;
  Flusher* flusher_ = nullptr;
};

/// Encode a record into its 64 on-disk bytes (with magic and checksum); exposed for tests.
void encode_record(const JournalRecord& r, unsigned char out[kJournalRecordBytes]);
/// Decode 64 bytes; false when the magic or checksum does not match (torn or corrupt).
bool decode_record(const unsigned char in[kJournalRecordBytes], JournalRecord& r);
/// The bytes `JournalWriter::append` writes for `r`: its epoch record (when
/// it has per-epoch values) followed by its 64-byte cell record.
/// @throws RuntimeError with more than 65535 epochs.
std::string encode_entry(const JournalRecord& r);
/// Decode a sequence of entries (`encode_entry` output, concatenated) of `n`
/// bytes into `out`, skipping corrupt stretches (resynchronizing on the next
/// magic, counted in `corrupt`). Returns the offset just after the last valid
/// cell record (what follows it is a torn tail).
std::size_t decode_records(const unsigned char* p, std::size_t n, std::vector<JournalRecord>* out, int* corrupt);

}  // namespace peppp::io
