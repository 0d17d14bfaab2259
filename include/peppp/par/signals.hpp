#pragma once
/// @file signals.hpp
/// @brief Graceful stop on SIGTERM / SIGUSR1 (Slurm time limit, preemption):
/// the handler only sets a flag; long work polls `stop_requested()` and ends
/// cleanly (DESIGN.md §3). Not collective.

namespace peppp::par {

/// Install the SIGTERM and SIGUSR1 handlers (idempotent). Call after MPI_Init
/// so peppp's handlers are the ones in place.
void install_stop_handlers();
/// True once a stop signal arrived (or `request_stop()` was called).
bool stop_requested();
/// The signal that asked to stop (0 if none, or a programmatic request).
int stop_signal();
/// Ask to stop, as if a signal had arrived (tests, programmatic use).
void request_stop(int signal_number = 0);
/// Forget a stop request (tests; a new campaign in the same process).
void clear_stop();

}  // namespace peppp::par
