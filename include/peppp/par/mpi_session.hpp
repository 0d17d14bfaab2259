#pragma once
/// @file mpi_session.hpp
/// @brief RAII start and end of MPI, and the few communicator queries peppp
/// needs. Communicators are always passed explicitly: only `main` names
/// `MPI_COMM_WORLD`.

#include <mpi.h>

#include <string>

#include "peppp/core/error.hpp"
#include "peppp/par/mpi_error.hpp"

namespace peppp::par {

/// Initialises MPI on construction (needing `MPI_THREAD_FUNNELED`: only
/// the main thread calls MPI, torch's worker threads never do; asking for
/// `MPI_THREAD_MULTIPLE`, which the work queue's message fallback needs for
/// its service thread on rank 0) and finalises
/// it on destruction. Sets MPI's error handler on `MPI_COMM_WORLD` to return
/// errors (turned into exceptions by `PEPPP_MPI`) and tells the logger the
/// rank. Exactly one per process, created first in `main`.
class MpiSession {
 public:
  /// Not collective beyond MPI_Init_thread itself.
  /// @throws RuntimeError if MPI provides a lower thread level than needed.
  MpiSession(int& argc, char**& argv, int required_thread_level = MPI_THREAD_FUNNELED);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  /// Rank in MPI_COMM_WORLD.
  int rank() const { return rank_; }
  /// Size of MPI_COMM_WORLD.
  int size() const { return size_; }
  /// Thread level MPI provided.
  int thread_level() const { return provided_; }

 private:
  int rank_ = 0;
  int size_ = 1;
  int provided_ = 0;
};

/// Rank of this process in `comm`. Not collective.
int rank(MPI_Comm comm);
/// Number of processes in `comm`. Not collective.
int size(MPI_Comm comm);
/// Rank and size among the processes sharing this node
/// (`MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)`); collective on `comm`.
struct LocalRank { int rank; int size; };
LocalRank local_rank(MPI_Comm comm);

/// Typed collectives (broadcast, gather, agree-or-throw, the queue loop):
/// `peppp/par/collectives.hpp`.

}  // namespace peppp::par
