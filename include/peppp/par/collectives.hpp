#pragma once
/// @file collectives.hpp
/// @brief Typed collectives over an explicit communicator, every MPI call
/// checked (`PEPPP_MPI`): broadcast of values, strings and vectors, gather
/// and allgather of per-rank values and of vectors (concatenated in rank
/// order) of trivially copyable types and of strings, the "agree or throw"
/// step that makes every rank raise the same error (STYLE.md rule 5), and
/// the one loop over a shared `WorkQueue` with rank 0's progress, and the
/// typed record path: structs described by a field table (`RecordFields`)
/// gathered, allgathered and broadcast without hand-packed offsets.
///
/// Every function here is collective on its communicator unless it says
/// otherwise: all ranks must call it, in the same order.

#include <mpi.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "peppp/core/error.hpp"
#include "peppp/par/mpi_error.hpp"

namespace peppp::par {

class Progress;
class WorkQueue;

namespace detail {

/// True for the types sent as their native MPI datatype.
template <typename T>
inline constexpr bool kNativeMpiType =
    std::is_same_v<T, double> || std::is_same_v<T, float> || std::is_same_v<T, char> ||
    std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int32_t> ||
    std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t> ||
    std::is_same_v<T, long long> || std::is_same_v<T, unsigned long long>;

/// MPI datatype and element multiplier for T: the native type for the
/// common arithmetic types, else T's bytes (homogeneous clusters).
template <typename T>
struct MpiType {
  static_assert(std::is_trivially_copyable_v<T>, "collectives move trivially copyable types (or strings)");
  static MPI_Datatype type() {
    if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
    else if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
    else if constexpr (std::is_same_v<T, char>) return MPI_CHAR;
    else if constexpr (std::is_same_v<T, std::int8_t>) return MPI_INT8_T;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return MPI_UINT8_T;
    else if constexpr (std::is_same_v<T, std::int32_t>) return MPI_INT32_T;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return MPI_UINT32_T;
    else if constexpr (std::is_same_v<T, std::int64_t>) return MPI_INT64_T;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return MPI_UINT64_T;
    else if constexpr (std::is_same_v<T, long long>) return MPI_LONG_LONG;
    else if constexpr (std::is_same_v<T, unsigned long long>) return MPI_UNSIGNED_LONG_LONG;
    else return MPI_BYTE;
  }
  /// MPI elements per T.
  static constexpr int scale() { return kNativeMpiType<T> ? 1 : static_cast<int>(sizeof(T)); }
};

/// `n` elements of T as an MPI count. @throws RuntimeError beyond INT_MAX.
int mpi_count(std::size_t n, int scale, const char* what);
/// Displacements of `counts` (exclusive prefix sum); their total in `total`.
std::vector<int> displacements(const std::vector<int>& counts, std::size_t& total, const char* what);
int comm_rank(MPI_Comm comm);
int comm_size(MPI_Comm comm);

}  // namespace detail

// ---- broadcast ----------------------------------------------------------

/// Broadcast one trivially copyable value from `root` (e.g. an int, a POD struct).
template <typename T>
void broadcast(T& value, MPI_Comm comm, int root = 0) {
  using M = detail::MpiType<T>;
  PEPPP_MPI(MPI_Bcast(&value, M::scale(), M::type(), root, comm));
}

/// Broadcast a string from `root`: every rank ends with root's text.
void broadcast(std::string& s, MPI_Comm comm, int root = 0);

/// Broadcast a vector of trivially copyable values from `root`, size included.
template <typename T>
void broadcast(std::vector<T>& v, MPI_Comm comm, int root = 0) {
  using M = detail::MpiType<T>;
  unsigned long long n = v.size();
  PEPPP_MPI(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, comm));
  v.resize(static_cast<std::size_t>(n));
  if (n > 0)
    PEPPP_MPI(MPI_Bcast(v.data(), detail::mpi_count(v.size(), M::scale(), "broadcast"), M::type(), root, comm));
}

/// Broadcast a vector of strings from `root`.
void broadcast(std::vector<std::string>& v, MPI_Comm comm, int root = 0);

// ---- gather -------------------------------------------------------------

/// One value per rank, in rank order, on `root` (empty elsewhere).
template <typename T>
std::vector<T> gather(const T& value, MPI_Comm comm, int root = 0) {
  using M = detail::MpiType<T>;
  std::vector<T> all(detail::comm_rank(comm) == root ? static_cast<std::size_t>(detail::comm_size(comm)) : 0);
  PEPPP_MPI(MPI_Gather(&value, M::scale(), M::type(), all.data(), M::scale(), M::type(), root, comm));
  return all;
}

/// Every rank's vector, concatenated in rank order, on `root` (empty elsewhere).
/// `counts`, when given, receives on `root` each rank's MPI element count
/// (elements of T times MpiType<T>::scale()).
template <typename T>
std::vector<T> gatherv(const std::vector<T>& mine, MPI_Comm comm, int root = 0,
                       std::vector<int>* counts_out = nullptr) {
  using M = detail::MpiType<T>;
  const bool is_root = detail::comm_rank(comm) == root;
  const int count = detail::mpi_count(mine.size(), M::scale(), "gatherv");
  const std::vector<int> counts = gather(count, comm, root);
  if (counts_out) *counts_out = counts;
  std::vector<T> all;
  std::vector<int> displs;
  if (is_root) {
    std::size_t total = 0;
    displs = detail::displacements(counts, total, "gatherv");
    all.resize(total / M::scale());
  }
  PEPPP_MPI(MPI_Gatherv(mine.data(), count, M::type(), all.data(), counts.data(), displs.data(), M::type(), root,
                        comm));
  return all;
}

/// Every rank's string, in rank order, on `root` (empty elsewhere).
std::vector<std::string> gather(const std::string& mine, MPI_Comm comm, int root = 0);

/// One value per rank, in rank order, on every rank.
template <typename T>
std::vector<T> allgather(const T& value, MPI_Comm comm) {
  using M = detail::MpiType<T>;
  std::vector<T> all(static_cast<std::size_t>(detail::comm_size(comm)));
  PEPPP_MPI(MPI_Allgather(&value, M::scale(), M::type(), all.data(), M::scale(), M::type(), comm));
  return all;
}

/// Every rank's vector, concatenated in rank order, on every rank.
template <typename T>
std::vector<T> allgatherv(const std::vector<T>& mine, MPI_Comm comm) {
  using M = detail::MpiType<T>;
  const int count = detail::mpi_count(mine.size(), M::scale(), "allgatherv");
  const std::vector<int> counts = allgather(count, comm);
  std::size_t total = 0;
  const std::vector<int> displs = detail::displacements(counts, total, "allgatherv");
  std::vector<T> all(total / M::scale());
  PEPPP_MPI(MPI_Allgatherv(mine.data(), count, M::type(), all.data(), counts.data(), displs.data(), M::type(), comm));
  return all;
}

/// Every rank's string, in rank order, on every rank.
std::vector<std::string> allgather(const std::string& mine, MPI_Comm comm);

// ---- reductions and synchronisation -------------------------------------

/// Logical AND of `flag` over all ranks: every rank gets the same decision
/// before a collective step (STYLE.md rule 5).
bool all_true(bool flag, MPI_Comm comm);
/// Logical OR of `flag` over all ranks.
bool any_true(bool flag, MPI_Comm comm);
/// Sum of `value` over all ranks, on every rank.
std::int64_t sum(std::int64_t value, MPI_Comm comm);
/// Wait for every rank.
void barrier(MPI_Comm comm);

// ---- agree or throw -----------------------------------------------------

/// What one rank contributes to `agree`: nothing (ok), or the error it met.
struct Failure {
  ExitCode code = ExitCode::ok;  ///< ok, or the exit code of the error
  std::string message;           ///< the error's one-line message
  /// True when this rank failed.
  bool failed() const { return code != ExitCode::ok; }
  /// The failure a peppp exception describes.
  static Failure of(const Error& e) { return {e.code(), e.what()}; }
  /// A bad-input failure (exit code 1).
  static Failure input(std::string message) { return {ExitCode::bad_input, std::move(message)}; }
  /// A runtime failure (exit code 2).
  static Failure runtime(std::string message) { return {ExitCode::runtime, std::move(message)}; }
};

/// Every rank contributes `mine`; when any rank failed, every rank throws the
/// same error: the lowest failing rank's message, as `InputError` (exit 1),
/// `Interrupted` (3) or `RuntimeError` (2, also for any other code), all with
/// `all_ranks()` true, so `main` exits without `MPI_Abort`. "Root decides,
/// everyone throws alike" is the case where only the root may fail.
void agree(const Failure& mine, MPI_Comm comm);

/// Throw `f` as `agree` does (nothing when `f` is ok); for decisions that
/// reached every rank by other means.
void raise_agreed(const Failure& f);

/// "Root decides" in one broadcast: `root`'s `failure` and `payload` (both
/// ignored elsewhere) reach every rank; when root failed, every rank throws
/// as `agree` would, else every rank's `payload` is root's. Two MPI_Bcast
/// instead of agree's allreduce plus a separate broadcast of the data: at
/// 64 oversubscribed ranks every collective costs milliseconds.
void root_decides(const Failure& failure, std::string& payload, MPI_Comm comm, int root = 0);

/// Run `step` on this rank (it may do nothing on some ranks), turning a
/// `peppp::Error` it throws into a `Failure`, then `agree`. Other exceptions
/// propagate on this rank only (they are bugs: `main` aborts).
template <typename Step>
void agreed(Step&& step, MPI_Comm comm) {
  Failure f;
  try {
    step();
  } catch (const Error& e) {
    f = Failure::of(e);
  }
  agree(f, comm);
}

// ---- typed records ------------------------------------------------------
//
// A record is a struct whose members travel by a field table, the way
// io/schema.hpp drives NetCDF: specialise `RecordFields<T>` with
//
//   template <> struct RecordFields<MyRecord> {
//     static constexpr auto fields = std::make_tuple(record_field("item", &MyRecord::item),
//                                                    record_field("values", &MyRecord::values));
//   };
//
// naming every member once, in declaration order. A member may be a
// trivially copyable value (number, bool, enum, POD), a std::string, a
// record, or a std::vector / std::map of those. Adding a member to a record
// is one row in its table; a member added without its row fails to compile
// (the table's layout must give sizeof(T); only a member that fits into
// padding escapes the check). The wire format is host byte order
// (homogeneous clusters, like the journal); lengths travel as uint64.

/// One row of a field table: the member's name and pointer.
template <typename T, typename M>
struct RecordField {
  using record_type = T;  ///< the struct
  using member_type = M;  ///< the member's type
  const char* name;       ///< the member's name (for messages)
  M T::*member;           ///< the member
};

/// A field table row: `record_field("name", &T::name)`.
template <typename T, typename M>
constexpr RecordField<T, M> record_field(const char* name, M T::*member) {
  return {name, member};
}

/// The field table of record type T (specialise it; see above).
template <typename T>
struct RecordFields;

namespace detail {

template <typename T, typename = void>
struct IsRecord : std::false_type {};
template <typename T>
struct IsRecord<T, std::void_t<decltype(RecordFields<T>::fields)>> : std::true_type {};
template <typename T>
struct IsVector : std::false_type {};
template <typename E, typename A>
struct IsVector<std::vector<E, A>> : std::true_type {};
template <typename T>
struct IsMap : std::false_type {};
template <typename K, typename V, typename C, typename A>
struct IsMap<std::map<K, V, C, A>> : std::true_type {};

/// Vectors of E travel as one block of bytes (else element by element).
template <typename E>
inline constexpr bool kBlockCopy = std::is_trivially_copyable_v<E> && !IsRecord<E>::value && !std::is_same_v<E, bool>;

constexpr std::size_t round_up(std::size_t n, std::size_t a) { return (n + a - 1) / a * a; }

/// sizeof(T) as its table lays the members out (declaration order, natural alignment).
template <typename T, typename... F>
constexpr std::size_t table_size(const std::tuple<F...>*) {
  std::size_t off = 0;
  ((off = round_up(off, alignof(typename F::member_type)) + sizeof(typename F::member_type)), ...);
  return round_up(off, alignof(T));
}

/// True when T's table accounts for every byte of T.
template <typename T>
constexpr bool table_covers() {
  using Table = std::remove_cv_t<decltype(RecordFields<T>::fields)>;
  return table_size<T>(static_cast<const Table*>(nullptr)) == sizeof(T);
}

/// Appends values to a byte string.
struct RecordWriter {
  std::string& out;
  void bytes(const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }
  void length(std::size_t n) {
    const auto v = static_cast<std::uint64_t>(n);
    bytes(&v, sizeof v);
  }
};

/// Reads values back from a byte string. @throws RuntimeError when it ends early.
struct RecordReader {
  const char* p;
  std::size_t n;
  std::size_t at = 0;
  /// Throws unless `k` more bytes are left.
  void need(std::size_t k) const;
  void bytes(void* dst, std::size_t k);
  std::size_t length();
};

template <typename M>
void put(RecordWriter& w, const M& v);
template <typename M>
void take(RecordReader& r, M& v);

template <typename T>
void put_record(RecordWriter& w, const T& rec) {
  static_assert(table_covers<T>(),
                "RecordFields<T> must name every member of T once, in declaration order (a member was added "
                "without its row?)");
  std::apply([&](const auto&... f) { (put(w, rec.*(f.member)), ...); }, RecordFields<T>::fields);
}

template <typename T>
void take_record(RecordReader& r, T& rec) {
  static_assert(table_covers<T>(),
                "RecordFields<T> must name every member of T once, in declaration order (a member was added "
                "without its row?)");
  std::apply([&](const auto&... f) { (take(r, rec.*(f.member)), ...); }, RecordFields<T>::fields);
}

template <typename M>
void put(RecordWriter& w, const M& v) {
  if constexpr (IsRecord<M>::value) {
    put_record(w, v);
  } else if constexpr (std::is_same_v<M, std::string>) {
    w.length(v.size());
    w.bytes(v.data(), v.size());
  } else if constexpr (IsVector<M>::value) {
    using E = typename M::value_type;
    w.length(v.size());
    if constexpr (kBlockCopy<E>)
      w.bytes(v.data(), v.size() * sizeof(E));
    else
      for (const E& e : v) put(w, static_cast<const E&>(e));
  } else if constexpr (IsMap<M>::value) {
    w.length(v.size());
    for (const auto& [key, value] : v) {
      put(w, key);
      put(w, value);
    }
  } else {
    static_assert(std::is_trivially_copyable_v<M>, "a record member must be a value, string, record, vector or map");
    w.bytes(&v, sizeof v);
  }
}

template <typename M>
void take(RecordReader& r, M& v) {
  if constexpr (IsRecord<M>::value) {
    take_record(r, v);
  } else if constexpr (std::is_same_v<M, std::string>) {
    v.resize(r.length());
    r.bytes(v.data(), v.size());
  } else if constexpr (IsVector<M>::value) {
    using E = typename M::value_type;
    const std::size_t n = r.length();
    if constexpr (kBlockCopy<E>) {
      if (n > (r.n - r.at) / sizeof(E)) r.need(r.n);  // throws: truncated
      v.resize(n);
      r.bytes(v.data(), n * sizeof(E));
    } else {
      v.clear();
      for (std::size_t i = 0; i < n; ++i) {
        E e{};
        take(r, e);
        v.push_back(std::move(e));
      }
    }
  } else if constexpr (IsMap<M>::value) {
    v.clear();
    for (std::size_t i = r.length(); i > 0; --i) {
      typename M::key_type key{};
      typename M::mapped_type value{};
      take(r, key);
      take(r, value);
      v.emplace(std::move(key), std::move(value));
    }
  } else {
    r.bytes(&v, sizeof v);
  }
}

}  // namespace detail

/// The bytes of `records` (count, then each record by its table). Not collective.
template <typename T>
std::string encode_records(const std::vector<T>& records) {
  std::string out;
  detail::RecordWriter w{out};
  detail::put(w, records);
  return out;
}

/// The records of `encode_records` output. Not collective.
/// @throws RuntimeError when `bytes` is truncated or longer than its records.
template <typename T>
std::vector<T> decode_records(const std::string& bytes) {
  detail::RecordReader r{bytes.data(), bytes.size()};
  std::vector<T> out;
  detail::take(r, out);
  if (r.at != bytes.size()) throw RuntimeError("records: a message arrived with trailing bytes");
  return out;
}

/// The bytes of one record. Not collective.
template <typename T>
std::string encode_record(const T& record) {
  std::string out;
  detail::RecordWriter w{out};
  detail::put_record(w, record);
  return out;
}

/// The record of `encode_record` output. Not collective.
/// @throws RuntimeError when `bytes` is truncated or longer than the record.
template <typename T>
T decode_record(const std::string& bytes) {
  detail::RecordReader r{bytes.data(), bytes.size()};
  T out{};
  detail::take_record(r, out);
  if (r.at != bytes.size()) throw RuntimeError("records: a message arrived with trailing bytes");
  return out;
}

/// Broadcast one record from `root`: every rank ends with root's.
template <typename T>
void broadcast_record(T& record, MPI_Comm comm, int root = 0) {
  std::string bytes = detail::comm_rank(comm) == root ? encode_record(record) : std::string();
  broadcast(bytes, comm, root);
  if (detail::comm_rank(comm) != root) record = decode_record<T>(bytes);
}

/// Every rank's records, concatenated in rank order, on `root` (empty elsewhere).
template <typename T>
std::vector<T> gather_records(const std::vector<T>& mine, MPI_Comm comm, int root = 0) {
  std::vector<T> all;
  for (const std::string& part : gather(encode_records(mine), comm, root)) {
    std::vector<T> theirs = decode_records<T>(part);
    all.insert(all.end(), std::make_move_iterator(theirs.begin()), std::make_move_iterator(theirs.end()));
  }
  return all;
}

/// One record per rank, in rank order, on `root` (empty elsewhere).
template <typename T>
std::vector<T> gather_record(const T& mine, MPI_Comm comm, int root = 0) {
  std::vector<T> all;
  for (const std::string& part : gather(encode_record(mine), comm, root)) all.push_back(decode_record<T>(part));
  return all;
}

/// Every rank's records, concatenated in rank order, on every rank.
template <typename T>
std::vector<T> allgather_records(const std::vector<T>& mine, MPI_Comm comm) {
  std::vector<T> all;
  for (const std::string& part : allgather(encode_records(mine), comm)) {
    std::vector<T> theirs = decode_records<T>(part);
    all.insert(all.end(), std::make_move_iterator(theirs.begin()), std::make_move_iterator(theirs.end()));
  }
  return all;
}

/// A rank's failure as a record (its code and message).
template <>
struct RecordFields<Failure> {
  static constexpr auto fields =
      std::make_tuple(record_field("code", &Failure::code), record_field("message", &Failure::message));
};

/// `root_decides` with a record as the payload: when root did not fail,
/// every rank's `record` is root's.
template <typename T>
void root_decides_record(const Failure& failure, T& record, MPI_Comm comm, int root = 0) {
  const bool is_root = detail::comm_rank(comm) == root;
  std::string bytes = is_root && !failure.failed() ? encode_record(record) : std::string();
  root_decides(failure, bytes, comm, root);
  if (!is_root) record = decode_record<T>(bytes);
}

// ---- the work-queue loop ------------------------------------------------

/// What became of one queue item.
enum class ItemOutcome {
  done,       ///< finished
  failed,     ///< finished, counted as failed; the loop goes on
  abort,      ///< failed and nothing else is worth doing: counted failed, the queue drained, the loop ends
  abandoned,  ///< not finished (stop request): not counted, the queue drained, the loop ends
};

/// How `for_each_item` runs.
struct QueueLoopOptions {
  Progress* progress = nullptr;        ///< updated on rank 0 after each item and while waiting; may be null
  std::int64_t done_before = 0;        ///< items finished before this run (resumed), added to the progress count
  std::int64_t failed_before = 0;      ///< of which failed
  std::function<bool()> should_stop;   ///< polled before each item: true = stop (the queue is drained)
};

/// What `for_each_item` saw on this rank.
struct QueueLoopResult {
  std::int64_t items = 0;  ///< items this rank finished (done, failed or abort)
  bool stopped = false;    ///< this rank stopped on `should_stop` or an abandoned item
};

/// Take items from `queue` until none is left, calling `work(item)` for each
/// (item in 0..queue.total()−1, each handed to exactly one rank), reporting
/// progress on rank 0; then wait for every rank without busy-polling (a
/// blocking collective would starve ranks still working when ranks
/// outnumber cores), rank 0 still reporting, and finish the progress line.
/// `work` must not throw (turn errors into an outcome). Collective on the
/// queue's communicator (the final wait).
QueueLoopResult for_each_item(WorkQueue& queue, const std::function<ItemOutcome(std::int64_t item)>& work,
                              const QueueLoopOptions& options = {});

}  // namespace peppp::par
