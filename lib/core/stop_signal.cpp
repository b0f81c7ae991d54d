#include "core/stop_signal.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.h"

namespace af {

namespace {

int g_write_fd = -1;  // the pipe the handler writes to (one StopOnSignal per process)
struct sigaction g_previous_term, g_previous_int;

void on_stop_signal(int sig) {
  const int saved = errno;
  const auto byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = write(g_write_fd, &byte, 1);  // async-signal-safe; a full pipe drops it
  errno = saved;
}

}  // namespace

StopOnSignal::StopOnSignal() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw runtime_error("cannot create the signal pipe");
  read_fd_ = fds[0];
  g_write_fd = fds[1];
  fcntl(g_write_fd, F_SETFL, O_NONBLOCK);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, &g_previous_term);
  sigaction(SIGINT, &action, &g_previous_int);
}

void StopOnSignal::on_signal(std::function<void(int)> stop) {
  if (waiter_.joinable()) return;
  waiter_ = std::thread([this, stop = std::move(stop)] {
    unsigned char byte = 0;
    ssize_t n = 0;
    do {
      n = read(read_fd_, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n == 1 && byte != 0) stop(byte);  // 0: the destructor's wake-up
  });
}

StopOnSignal::~StopOnSignal() {
  sigaction(SIGTERM, &g_previous_term, nullptr);
  sigaction(SIGINT, &g_previous_int, nullptr);
  if (waiter_.joinable()) {
    const unsigned char wake = 0;
    [[maybe_unused]] ssize_t n = write(g_write_fd, &wake, 1);
    waiter_.join();
  }
  close(g_write_fd);
  close(read_fd_);
  g_write_fd = -1;
}

}  // namespace af
