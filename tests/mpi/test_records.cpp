// The typed record path (par/collectives.hpp): structs described by a field
// table encoded and decoded (values, strings, vectors, maps, nested
// records), truncated messages refused, and gathered, allgathered and
// broadcast in rank order at any rank count.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "peppp/core/error.hpp"
#include "peppp/par/collectives.hpp"
#include "peppp/par/mpi_session.hpp"

using namespace peppp;

namespace {
struct Inner {
  std::vector<double> values;
  std::int32_t tag = 0;
};

struct Outer {
  std::int64_t item = 0;
  bool flag = false;
  std::string name;
  std::vector<std::string> names;
  std::map<std::string, double> numbers;
  Inner inner;
  std::vector<Inner> inners;
  std::uint8_t status = 0;
  std::vector<int> ints;
};

// Rank r's k-th record, distinct in every field.
Outer make(int r, int k) {
  Outer o;
  o.item = 1000 * r + k;
  o.flag = (r + k) % 2 == 1;
  o.name = std::string(static_cast<std::size_t>(k), static_cast<char>('a' + r));
  o.names = {"r" + std::to_string(r), "", std::string("n\0l", 3)};
  o.numbers = {{"k", k}, {"nan", std::numeric_limits<double>::quiet_NaN()}};
  o.inner = {{0.1 * r, -0.0, 1e300}, r};
  o.inners.assign(static_cast<std::size_t>(k), Inner{{1.0 * k}, -k});
  o.status = static_cast<std::uint8_t>(r + k);
  o.ints.assign(static_cast<std::size_t>(r), -r);
  return o;
}

void expect_same(const Outer& a, const Outer& b) {
  EXPECT_EQ(a.item, b.item);
  EXPECT_EQ(a.flag, b.flag);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.names, b.names);
  ASSERT_EQ(a.numbers.size(), b.numbers.size());
  EXPECT_EQ(a.numbers.at("k"), b.numbers.at("k"));
  EXPECT_TRUE(std::isnan(b.numbers.at("nan")));
  EXPECT_EQ(a.inner.values, b.inner.values);
  EXPECT_TRUE(std::signbit(b.inner.values[1]));  // bytes, not values: -0 stays -0
  EXPECT_EQ(a.inner.tag, b.inner.tag);
  ASSERT_EQ(a.inners.size(), b.inners.size());
  for (std::size_t i = 0; i < a.inners.size(); ++i) {
    EXPECT_EQ(a.inners[i].values, b.inners[i].values);
    EXPECT_EQ(a.inners[i].tag, b.inners[i].tag);
  }
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.ints, b.ints);
}
}  // namespace

namespace peppp::par {
template <>
struct RecordFields<Inner> {
  static constexpr auto fields = std::make_tuple(record_field("values", &Inner::values), record_field("tag", &Inner::tag));
};
template <>
struct RecordFields<Outer> {
  static constexpr auto fields = std::make_tuple(
      record_field("item", &Outer::item), record_field("flag", &Outer::flag), record_field("name", &Outer::name),
      record_field("names", &Outer::names), record_field("numbers", &Outer::numbers),
      record_field("inner", &Outer::inner), record_field("inners", &Outer::inners),
      record_field("status", &Outer::status), record_field("ints", &Outer::ints));
};
}  // namespace peppp::par

// Every member named: the tables account for every byte (a member added
// without its row fails this, and every encode, at compile time).
static_assert(par::detail::table_covers<Inner>());
static_assert(par::detail::table_covers<Outer>());
static_assert(par::detail::table_covers<par::Failure>());

TEST(Records, RoundTripEveryKindOfMember) {
  const Outer a = make(2, 3);
  expect_same(a, par::decode_record<Outer>(par::encode_record(a)));
  const std::vector<Outer> v{make(0, 0), make(1, 4)};
  const std::vector<Outer> w = par::decode_records<Outer>(par::encode_records(v));
  ASSERT_EQ(w.size(), 2u);
  expect_same(v[0], w[0]);
  expect_same(v[1], w[1]);
  EXPECT_TRUE(par::decode_records<Outer>(par::encode_records(std::vector<Outer>{})).empty());
}

TEST(Records, TruncatedOrLongerMessagesAreRefused) {
  const std::string bytes = par::encode_record(make(1, 2));
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, bytes.size() / 2, bytes.size() - 1})
    EXPECT_THROW(par::decode_record<Outer>(bytes.substr(0, cut)), RuntimeError) << cut;
  EXPECT_THROW(par::decode_record<Outer>(bytes + "x"), RuntimeError);
  // A length beyond the message is refused before anything is allocated.
  std::string huge(sizeof(std::uint64_t), '\xff');
  EXPECT_THROW(par::decode_records<Outer>(huge), RuntimeError);
}

TEST(Records, GatheredAndAllgatheredInRankOrder) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int me = par::rank(comm), p = par::size(comm);
  std::vector<Outer> mine;  // rank r sends r + 1 records
  for (int k = 0; k <= me; ++k) mine.push_back(make(me, k));
  std::vector<Outer> expected;
  for (int r = 0; r < p; ++r)
    for (int k = 0; k <= r; ++k) expected.push_back(make(r, k));

  const std::vector<Outer> all = par::allgather_records(mine, comm);
  ASSERT_EQ(all.size(), expected.size());
  for (std::size_t i = 0; i < all.size(); ++i) expect_same(expected[i], all[i]);

  const std::vector<Outer> on_root = par::gather_records(mine, comm);
  if (me == 0) {
    ASSERT_EQ(on_root.size(), expected.size());
    for (std::size_t i = 0; i < on_root.size(); ++i) expect_same(expected[i], on_root[i]);
  } else {
    EXPECT_TRUE(on_root.empty());
  }

  const std::vector<Outer> one_each = par::gather_record(make(me, 1), comm);
  if (me == 0) {
    ASSERT_EQ(one_each.size(), static_cast<std::size_t>(p));
    for (int r = 0; r < p; ++r) expect_same(make(r, 1), one_each[r]);
  } else {
    EXPECT_TRUE(one_each.empty());
  }
  // Ranks with nothing to send: only the last rank's p records arrive.
  const auto last = par::allgather_records(me == p - 1 ? mine : std::vector<Outer>{}, comm);
  ASSERT_EQ(last.size(), static_cast<std::size_t>(p));
  expect_same(make(p - 1, p - 1), last.back());
}

TEST(Records, BroadcastAndRootDecides) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int me = par::rank(comm), p = par::size(comm);
  const int root = p - 1;
  Outer o = make(me, 2);
  par::broadcast_record(o, comm, root);
  expect_same(make(root, 2), o);

  Outer d = make(me, 1);
  EXPECT_NO_THROW(par::root_decides_record(par::Failure{}, d, comm));
  expect_same(make(0, 1), d);
  // The root failed: every rank throws its error, with its exit code.
  par::Failure f = me == 0 ? par::Failure::input("root: bad") : par::Failure{};
  try {
    par::root_decides_record(f, d, comm);
    ADD_FAILURE() << "root_decides_record did not throw";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "root: bad");
    EXPECT_TRUE(e.all_ranks());
  }
}
