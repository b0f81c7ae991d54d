// SIGTERM and SIGINT for servers (teacher-sim, serve): a handler that only writes the signal to a pipe, and a
// thread that reads it and calls a stop function, so a request in flight is answered before the process
// exits. Whichever thread the kernel hands the signal to (libtorch starts threads of its own, which block
// nothing), the handler runs: a sigwait on blocked signals would miss those.
#pragma once
#include <functional>
#include <thread>

namespace af {

class StopOnSignal {
 public:
  /// Takes SIGTERM and SIGINT from now on (a signal that comes before on_signal waits in the pipe).
  StopOnSignal();
  /// From now on, calls `stop` (with the signal) from a thread of its own when one arrives.
  void on_signal(std::function<void(int)> stop);
  /// Wakes the waiting thread if no signal came (the server stopped on its own), joins it, and gives the
  /// signals back their previous handlers.
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  int read_fd_ = -1;
  std::thread waiter_;
};

}  // namespace af
