#include "peppp/par/collectives.hpp"

#include <chrono>
#include <thread>

#include "peppp/par/progress.hpp"
#include "peppp/par/work_queue.hpp"

namespace peppp::par {

namespace detail {

int mpi_count(std::size_t n, int scale, const char* what) {
  if (n > static_cast<std::size_t>(INT_MAX) / static_cast<std::size_t>(scale))
    throw RuntimeError(std::string(what) + ": " + std::to_string(n) + " elements exceed one MPI message (INT_MAX)");
  return static_cast<int>(n) * scale;
}

std::vector<int> displacements(const std::vector<int>& counts, std::size_t& total, const char* what) {
  std::vector<int> displs(counts.size());
  total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    if (total > static_cast<std::size_t>(INT_MAX))
      throw RuntimeError(std::string(what) + ": the gathered data exceed one MPI message (INT_MAX elements)");
    displs[r] = static_cast<int>(total);
    total += static_cast<std::size_t>(counts[r]);
  }
  if (total > static_cast<std::size_t>(INT_MAX))
    throw RuntimeError(std::string(what) + ": the gathered data exceed one MPI message (INT_MAX elements)");
  return displs;
}

int comm_rank(MPI_Comm comm) {
  int r = 0;
  PEPPP_MPI(MPI_Comm_rank(comm, &r));
  return r;
}

int comm_size(MPI_Comm comm) {
  int s = 1;
  PEPPP_MPI(MPI_Comm_size(comm, &s));
  return s;
}

void RecordReader::need(std::size_t k) const {
  if (k > n - at) throw RuntimeError("records: a message arrived truncated");
}

void RecordReader::bytes(void* dst, std::size_t k) {
  need(k);
  if (k > 0) std::memcpy(dst, p + at, k);
  at += k;
}

std::size_t RecordReader::length() {
  std::uint64_t v = 0;
  bytes(&v, sizeof v);
  if (v > n) throw RuntimeError("records: a message arrived with an impossible length");
  return static_cast<std::size_t>(v);
}

}  // namespace detail

namespace {

// Strings travel as their concatenated bytes plus one length per string.
std::vector<std::string> split_strings(const std::vector<char>& bytes, const std::vector<std::uint64_t>& lengths) {
  std::vector<std::string> out;
  out.reserve(lengths.size());
  std::size_t off = 0;
  for (std::uint64_t n : lengths) {
    out.emplace_back(bytes.data() + off, static_cast<std::size_t>(n));
    off += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace

void broadcast(std::string& s, MPI_Comm comm, int root) {
  unsigned long long n = s.size();
  PEPPP_MPI(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, comm));
  s.resize(static_cast<std::size_t>(n));
  if (n > 0) PEPPP_MPI(MPI_Bcast(s.data(), detail::mpi_count(s.size(), 1, "broadcast"), MPI_CHAR, root, comm));
}

void broadcast(std::vector<std::string>& v, MPI_Comm comm, int root) {
  std::vector<std::uint64_t> lengths;
  std::vector<char> bytes;
  for (const auto& s : v) {
    lengths.push_back(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  broadcast(lengths, comm, root);
  broadcast(bytes, comm, root);
  v = split_strings(bytes, lengths);
}

std::vector<std::string> gather(const std::string& mine, MPI_Comm comm, int root) {
  // Two collectives: gatherv's counts are the lengths.
  std::vector<int> counts;
  const std::vector<char> bytes = gatherv(std::vector<char>(mine.begin(), mine.end()), comm, root, &counts);
  return split_strings(bytes, std::vector<std::uint64_t>(counts.begin(), counts.end()));
}

std::vector<std::string> allgather(const std::string& mine, MPI_Comm comm) {
  const std::vector<std::uint64_t> lengths = allgather(static_cast<std::uint64_t>(mine.size()), comm);
  const std::vector<char> bytes = allgatherv(std::vector<char>(mine.begin(), mine.end()), comm);
  return split_strings(bytes, lengths);
}

bool all_true(bool flag, MPI_Comm comm) {
  int in = flag ? 1 : 0, out = 0;
  PEPPP_MPI(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LAND, comm));
  return out != 0;
}

bool any_true(bool flag, MPI_Comm comm) {
  int in = flag ? 1 : 0, out = 0;
  PEPPP_MPI(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, comm));
  return out != 0;
}

std::int64_t sum(std::int64_t value, MPI_Comm comm) {
  std::int64_t out = 0;
  PEPPP_MPI(MPI_Allreduce(&value, &out, 1, MPI_INT64_T, MPI_SUM, comm));
  return out;
}

void barrier(MPI_Comm comm) { PEPPP_MPI(MPI_Barrier(comm)); }

void raise_agreed(const Failure& f) {
  switch (f.code) {
    case ExitCode::ok: return;
    case ExitCode::bad_input: throw InputError(f.message, true);
    case ExitCode::incomplete: throw Interrupted(f.message);
    default: throw RuntimeError(f.message, true);
  }
}

void agree(const Failure& mine, MPI_Comm comm) {
  const int size = detail::comm_size(comm);
  const int me = detail::comm_rank(comm);
  int candidate = mine.failed() ? me : size, first = size;
  PEPPP_MPI(MPI_Allreduce(&candidate, &first, 1, MPI_INT, MPI_MIN, comm));
  if (first == size) return;
  int code = static_cast<int>(mine.code);
  std::string message = mine.message;
  broadcast(code, comm, first);
  broadcast(message, comm, first);
  raise_agreed(Failure{static_cast<ExitCode>(code), message});
}

void root_decides(const Failure& failure, std::string& payload, MPI_Comm comm, int root) {
  // One string broadcast (two MPI_Bcast): a code byte, then the message or the payload.
  std::string wire;
  if (detail::comm_rank(comm) == root) {
    wire.push_back(static_cast<char>(failure.code));
    wire += failure.failed() ? failure.message : payload;
  }
  broadcast(wire, comm, root);
  if (wire.empty()) throw RuntimeError("root_decides: an empty broadcast arrived");
  const auto code = static_cast<ExitCode>(static_cast<unsigned char>(wire[0]));
  if (code != ExitCode::ok) raise_agreed(Failure{code, wire.substr(1)});
  payload = wire.substr(1);
}

QueueLoopResult for_each_item(WorkQueue& queue, const std::function<ItemOutcome(std::int64_t)>& work,
                              const QueueLoopOptions& options) {
  const MPI_Comm comm = queue.comm();
  const bool root = detail::comm_rank(comm) == 0;
  auto report = [&] {
    if (!root || !options.progress) return;
    const auto c = queue.counts();
    options.progress->update(options.done_before + c.finished, options.failed_before + c.failed);
  };
  QueueLoopResult result;
  auto stop = [&] { return options.should_stop && options.should_stop(); };
  // A finished item is reported together with the next take (one round trip
  // to rank 0 per item instead of two), unless the loop stops after it.
  std::int64_t item = -1;
  if (stop()) {
    result.stopped = true;
  } else {
    item = queue.next();
  }
  while (item >= 0) {
    const ItemOutcome outcome = work(item);
    if (outcome == ItemOutcome::abandoned) {
      result.stopped = true;
      break;
    }
    ++result.items;
    if (outcome == ItemOutcome::abort) {
      queue.drain();
      queue.finished(true);
      break;
    }
    const bool failed = outcome == ItemOutcome::failed;
    if (stop()) {
      queue.finished(failed);
      result.stopped = true;
      break;
    }
    item = queue.finished_and_next(failed);
    report();
  }
  // Tell every rank to stop taking items (a signal may reach one rank only).
  if (result.stopped) queue.drain();
  // Wait for the others without spinning: a blocking collective busy-polls,
  // which starves ranks still working when ranks outnumber cores. Rank 0
  // keeps reporting progress meanwhile.
  MPI_Request req;
  PEPPP_MPI(MPI_Ibarrier(comm, &req));
  for (int flag = 0;;) {
    PEPPP_MPI(MPI_Test(&req, &flag, MPI_STATUS_IGNORE));
    if (flag) break;
    report();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // Every rank's last request was answered before it entered that barrier.
  queue.all_done();
  if (root && options.progress) options.progress->finish();
  return result;
}

}  // namespace peppp::par
