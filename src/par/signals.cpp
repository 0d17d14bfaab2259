#include "peppp/par/signals.hpp"

#include <csignal>

namespace peppp::par {

namespace {
volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_signal = 0;

extern "C" void peppp_stop_handler(int sig) {
  g_signal = sig;
  g_stop = 1;
}
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = peppp_stop_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // blocking I/O continues; loops poll the flag
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGUSR1, &sa, nullptr);
}

bool stop_requested() { return g_stop != 0; }
int stop_signal() { return g_signal; }
void request_stop(int signal_number) {
  g_signal = signal_number;
  g_stop = 1;
}
void clear_stop() {
  g_stop = 0;
  g_signal = 0;
}

}  // namespace peppp::par
