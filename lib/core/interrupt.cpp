#include "core/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "core/error.h"

namespace af {
namespace {

std::atomic<bool> g_requested{false};

void on_signal(int) {
  if (g_requested.exchange(true)) _exit(130);  // a second Ctrl-C: the user means it
  const char msg[] = "\ninterrupt: finishing the current step and saving; press Ctrl-C again to quit now\n";
  ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupt_requested() {
  return g_requested.load();
}

void throw_if_interrupted(const char* what_is_saved) {
  if (g_requested.load()) {
    throw interrupted_error(std::string("interrupted; ") + what_is_saved,
                            "run the same command again to resume");
  }
}

}  // namespace af
