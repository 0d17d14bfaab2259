#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/io/journal.hpp"
#include "test_util.hpp"

using namespace peppp;
namespace fs = std::filesystem;

namespace {
io::JournalRecord rec(std::uint64_t cell, int rank) {
  io::JournalRecord r;
  r.cell = cell;
  r.error = 0.125 * static_cast<double>(cell);
  r.loss = 1.0 / (1.0 + static_cast<double>(cell));
  r.seconds = 0.5;
  r.status = 2;
  r.rank = rank;
  return r;
}
}  // namespace

TEST(IoJournal, RecordsRoundTripAcrossRankFiles) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF) + "/c.nc.journal";
  {
    io::JournalWriter w0(dir, 0, 42), w1(dir, 1, 42);
    w0.append(rec(3, 0));
    w1.append(rec(1, 1));
    w0.append(rec(7, 0));
  }
  EXPECT_EQ(fs::file_size(io::journal_path(dir, 0)), io::kJournalHeaderBytes + 2 * io::kJournalRecordBytes);
  auto jc = io::read_journals(dir, 42);
  EXPECT_EQ(jc.files, 2);
  EXPECT_EQ(jc.torn, 0);
  ASSERT_EQ(jc.records.size(), 3u);
  EXPECT_EQ(jc.records[0].cell, 3u);
  EXPECT_EQ(jc.records[1].cell, 7u);
  EXPECT_EQ(jc.records[2].cell, 1u);
  EXPECT_EQ(jc.records[2].rank, 1);
  EXPECT_DOUBLE_EQ(jc.records[1].error, 0.875);
  EXPECT_TRUE(io::read_journals(dir + "-missing", 42).records.empty());
}

TEST(IoJournal, TornLastRecordIsIgnoredAndTruncatedOnReopen) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF) + "/j";
  {
    io::JournalWriter w(dir, 0, 9);
    w.append(rec(1, 0));
    w.append(rec(2, 0));
  }
  const std::string path = io::journal_path(dir, 0);
  // Crash mid-write: half of a third record.
  unsigned char buf[io::kJournalRecordBytes];
  io::encode_record(rec(3, 0), buf);
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write(reinterpret_cast<const char*>(buf), 20);
  }
  auto jc = io::read_journals(dir, 9);
  EXPECT_EQ(jc.records.size(), 2u);
  EXPECT_EQ(jc.torn, 1);
  {
    io::JournalWriter w(dir, 0, 9);
    w.append(rec(4, 0));
  }
  jc = io::read_journals(dir, 9);
  ASSERT_EQ(jc.records.size(), 3u);
  EXPECT_EQ(jc.records[2].cell, 4u);
  EXPECT_EQ(jc.torn, 0);
}

TEST(IoJournal, CorruptRecordFailsChecksum) {
  unsigned char buf[io::kJournalRecordBytes];
  io::encode_record(rec(5, 2), buf);
  io::JournalRecord r;
  EXPECT_TRUE(io::decode_record(buf, r));
  EXPECT_EQ(r.cell, 5u);
  buf[9] ^= 0x10;  // one bit of the error value
  EXPECT_FALSE(io::decode_record(buf, r));
}

TEST(IoJournal, JournalOfAnotherPlanIsRefused) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF) + "/j";
  { io::JournalWriter w(dir, 0, 1); }
  try {
    io::read_journals(dir, 2);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("another plan"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("rank-0.bin"), std::string::npos) << e.what();
  }
  EXPECT_THROW(io::JournalWriter(dir, 0, 2), InputError);
  std::ofstream(dir + "/rank-1.bin") << "this is not a journal at all, no no no";
  EXPECT_THROW(io::read_journals(dir, 1), InputError);
}

// Journal version 2: magic at 0, replicate at 40, attempts at 43, checksum at 56.
TEST(IoJournal, RecordLayoutVersionTwo) {
  io::JournalRecord r = rec(5, 1);
  r.replicate = 513;
  r.attempts = 2;
  unsigned char b[io::kJournalRecordBytes];
  io::encode_record(r, b);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b), 4), "JRC2");
  EXPECT_EQ(b[40] | (b[41] << 8), 513);
  EXPECT_EQ(b[43], 2);
  io::JournalRecord back;
  ASSERT_TRUE(io::decode_record(b, back));
  EXPECT_EQ(back.replicate, 513);
  EXPECT_EQ(back.attempts, 2);
  EXPECT_EQ(back.cell, 5u);
  EXPECT_EQ(back.rank, 1);
  b[0] = 'X';  // wrong magic
  EXPECT_FALSE(io::decode_record(b, back));
}

// A journal of version 1 (tests/golden/before-replicates/journal) is refused naming its version.
TEST(IoJournal, VersionOneJournalRefusedNamingVersion) {
  try {
    io::read_journals(test::source_path("tests/golden/before-replicates/journal"), 0xe314b2b470172dcfULL);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("journal version 1; this peppp reads version 2"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--restart"), std::string::npos) << e.what();
  }
}

// A corrupt record in the middle costs only that record; a shifted stretch is resynchronized on the magic.
TEST(IoJournal, CorruptMiddleRecordIsSkippedAndReadingResynchronizes) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF) + "/j";
  {
    io::JournalWriter w(dir, 0, 5);
    for (int c = 0; c < 8; ++c) w.append(rec(static_cast<std::uint64_t>(c), 0));
  }
  const std::string path = io::journal_path(dir, 0);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  bytes[io::kJournalHeaderBytes + 2 * io::kJournalRecordBytes + 17] ^= 0x40;  // record 2 corrupt
  bytes.insert(io::kJournalHeaderBytes + 5 * io::kJournalRecordBytes, std::string(9, 'J'));  // 9 stray bytes before record 5
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto jc = io::read_journals(dir, 5);
  ASSERT_EQ(jc.records.size(), 7u);
  EXPECT_EQ(jc.corrupt, 2);
  EXPECT_EQ(jc.torn, 0);
  std::vector<std::uint64_t> cells;
  for (const auto& r : jc.records) cells.push_back(r.cell);
  EXPECT_EQ(cells, (std::vector<std::uint64_t>{0, 1, 3, 4, 5, 6, 7}));
  {  // appending keeps the earlier records and the new one is read back
    io::JournalWriter w(dir, 0, 5);
    w.append(rec(2, 0));
  }
  jc = io::read_journals(dir, 5);
  EXPECT_EQ(jc.records.size(), 8u);
  EXPECT_EQ(jc.records.back().cell, 2u);
}

TEST(IoJournal, PlanDifferencesNameTheSection) {
  const std::string a = "plan-version=2\ntrain.epochs=1\nseed=1\ntask.0=a\ntask.a.classes=0,1\nconfig.0=e4m3/e6m7\n";
  std::string b = a;
  b.replace(b.find("classes=0,1"), 11, "classes=0,2");
  EXPECT_EQ(io::plan_differences(a, b), "task 'a' definition (classes: 0,1 -> 0,2)");
  b.replace(b.find("train.epochs=1"), 14, "train.epochs=3");
  EXPECT_EQ(io::plan_differences(a, b), "task 'a' definition (classes: 0,1 -> 0,2); training keys (train.epochs: 1 -> 3)");
  EXPECT_EQ(io::plan_differences(a, a), "");
  EXPECT_EQ(io::plan_differences(a, "plan-version=3\n" + a.substr(15)), "plan version (2 -> 3)");
}

namespace {
io::JournalRecord rec_with_epochs(std::uint64_t cell, int rank, int epochs) {
  io::JournalRecord r = rec(cell, rank);
  for (int e = 1; e <= epochs; ++e) {
    r.error_by_epoch.push_back(0.5 / e + 0.01 * static_cast<double>(cell));
    r.loss_by_epoch.push_back(2.0 / e);
  }
  r.error_by_epoch.back() = r.error;  // the last epoch is the cell's error
  return r;
}
}  // namespace

TEST(IoJournal, EpochRecordsTravelWithTheirCellRecord) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF) + "/epochs.journal";
  {
    io::JournalWriter w(dir, 0, 5);
    w.append(rec_with_epochs(4, 0, 3));
    w.append(rec(5, 0));  // a cell without a per-epoch record (synthetic, or an older peppp)
    w.append(rec_with_epochs(6, 0, 3));
  }
  // 24-byte head + 3 x 16 bytes + checksum per epoch record, before its 64-byte cell record.
  const std::size_t epoch_bytes = 24 + 3 * 16 + 8;
  EXPECT_EQ(fs::file_size(io::journal_path(dir, 0)), io::kJournalHeaderBytes + 3 * io::kJournalRecordBytes + 2 * epoch_bytes);
  auto jc = io::read_journals(dir, 5);
  ASSERT_EQ(jc.records.size(), 3u);
  EXPECT_EQ(jc.corrupt, 0);
  EXPECT_EQ(jc.torn, 0);
  EXPECT_EQ(jc.records[0].error_by_epoch, rec_with_epochs(4, 0, 3).error_by_epoch);
  EXPECT_EQ(jc.records[0].loss_by_epoch, rec_with_epochs(4, 0, 3).loss_by_epoch);
  EXPECT_TRUE(jc.records[1].error_by_epoch.empty());
  EXPECT_EQ(jc.records[2].cell, 6u);
  EXPECT_EQ(jc.records[2].error_by_epoch.size(), 3u);
  // The gather path decodes the same bytes.
  const std::string bytes = io::encode_entry(rec_with_epochs(9, 2, 2)) + io::encode_entry(rec(10, 2));
  std::vector<io::JournalRecord> out;
  int corrupt = 0;
  EXPECT_EQ(io::decode_records(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), &out, &corrupt),
            bytes.size());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].error_by_epoch.size(), 2u);
  EXPECT_EQ(out[0].rank, 2);
  EXPECT_TRUE(out[1].error_by_epoch.empty());
}

TEST(IoJournal, EpochRecordWithoutItsCellRecordIsATornTail) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF) + "/torn-epochs.journal";
  {
    io::JournalWriter w(dir, 0, 5);
    w.append(rec_with_epochs(1, 0, 4));
  }
  const std::string path = io::journal_path(dir, 0);
  const auto good = fs::file_size(path);
  // Crash after the epoch record of the next cell reached the disk, before its cell record.
  const std::string entry = io::encode_entry(rec_with_epochs(2, 0, 4));
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write(entry.data(), static_cast<std::streamsize>(entry.size() - io::kJournalRecordBytes));
  }
  auto jc = io::read_journals(dir, 5);
  ASSERT_EQ(jc.records.size(), 1u);
  EXPECT_EQ(jc.torn, 1);
  EXPECT_EQ(jc.corrupt, 0);
  { io::JournalWriter w(dir, 0, 5); }  // reopening drops the torn tail
  EXPECT_EQ(fs::file_size(path), good);
  {
    io::JournalWriter w(dir, 0, 5);
    w.append(rec_with_epochs(3, 0, 4));
  }
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(good) + 30);
    f.put('\x7f');
  }
  // A flipped byte inside an epoch record: the cell record alone is not a whole result, so the
  // cell counts as lost (trained again on resume), not as done without its per-epoch values.
  jc = io::read_journals(dir, 5);
  ASSERT_EQ(jc.records.size(), 1u);
  EXPECT_EQ(jc.records[0].cell, 1u);
  EXPECT_EQ(jc.corrupt, 0);  // a bad stretch at the end is a torn tail
  EXPECT_EQ(jc.torn, 1);
  {
    io::JournalWriter w(dir, 0, 5);
    w.append(rec_with_epochs(4, 0, 4));
  }
  jc = io::read_journals(dir, 5);
  ASSERT_EQ(jc.records.size(), 2u);
  EXPECT_EQ(jc.records[1].cell, 4u);
  EXPECT_EQ(jc.records[1].error_by_epoch.size(), 4u);
}

// Group commit: every appended record is written before append returns (a
// killed process loses nothing) and durable after sync(); the background
// thread commits records that arrived during an fsync together.
TEST(IoJournal, BackgroundSyncCommitsEveryRecord) {
  const std::string dir = test::scratch_dir(MPI_COMM_SELF) + "/group.journal";
  std::uint64_t calls = 0;
  {
    io::JournalWriter w(dir, 0, 11);
    for (std::uint64_t c = 0; c < 200; ++c) {
      w.append(rec_with_epochs(c, 0, 2));
      // written (not only queued): the file already holds the record
      if (c == 57) EXPECT_EQ(io::count_journal_records(dir), 58u);
    }
    w.sync();
    calls = w.fsyncs();
  }
  EXPECT_GE(calls, 1u);
  EXPECT_LE(calls, 201u);  // at most one per record, plus the header's (with the folder entry)
  const auto jc = io::read_journals(dir, 11);
  ASSERT_EQ(jc.records.size(), 200u);
  for (std::uint64_t c = 0; c < 200; ++c) {
    EXPECT_EQ(jc.records[c].cell, c);
    EXPECT_EQ(jc.records[c].error_by_epoch.size(), 2u);
  }
  // Without background sync every append fsyncs itself.
  {
    io::JournalWriter w(dir + "-direct", 0, 11, false);
    w.append(rec(1, 0));
    w.sync();
    EXPECT_EQ(w.fsyncs(), 0u);
  }
  EXPECT_EQ(io::count_journal_records(dir + "-direct"), 1u);
}
