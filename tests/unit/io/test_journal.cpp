#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

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

// The replicate sits in bytes 34..35, zero padding before replicates existed:
// replicate 0 encodes exactly as before, and journals written before read as replicate 0.
TEST(IoJournal, ReplicateUsesFormerPaddingSoOldJournalsReadAsReplicateZero) {
  io::JournalRecord r = rec(5, 1);
  unsigned char b[io::kJournalRecordBytes];
  io::encode_record(r, b);
  EXPECT_EQ(b[33], 0);
  EXPECT_EQ(b[34], 0);
  EXPECT_EQ(b[35], 0);
  r.replicate = 513;
  io::encode_record(r, b);
  io::JournalRecord back;
  ASSERT_TRUE(io::decode_record(b, back));
  EXPECT_EQ(back.replicate, 513);
  EXPECT_EQ(back.cell, 5u);
  EXPECT_EQ(back.rank, 1);

  // tests/golden/before-replicates/journal: 3 records per rank of a synthetic ci campaign (2 ranks), written
  // by the code before replicates (plan fingerprint e314b2b470172dcf).
  const io::JournalContents jc =
      io::read_journals(test::source_path("tests/golden/before-replicates/journal"), 0xe314b2b470172dcfULL);
  EXPECT_EQ(jc.files, 2);
  EXPECT_EQ(jc.torn, 0);
  ASSERT_EQ(jc.records.size(), 6u);
  for (const auto& x : jc.records) {
    EXPECT_EQ(x.replicate, 0);
    EXPECT_LT(x.cell, 16u);
  }
}
