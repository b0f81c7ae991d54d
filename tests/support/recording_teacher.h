// A teacher for propagation tests: a real teacher-sim (in this process) behind a loopback proxy that records
// every request a tool sends (path, body, Authorization header) and whether several were in flight at once,
// and can fail the first chat request, so the teacher.* keys show in what reaches the wire.
#pragma once
#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "teachersim/server.h"

namespace af::test {

class RecordingTeacher {
 public:
  /// teacher-sim with `faults` (seed 11), each chat request held `delay_ms` so concurrency shows.
  explicit RecordingTeacher(teachersim::Faults faults = {}, int delay_ms = 100);
  ~RecordingTeacher();
  RecordingTeacher(const RecordingTeacher&) = delete;
  RecordingTeacher& operator=(const RecordingTeacher&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  /// Forgets what was recorded; with `fail_first`, the next chat request is answered with HTTP 500.
  void reset(bool fail_first = false);
  /// The requests recorded since reset, in a canonical order (concurrency reorders them).
  std::string recorded();
  /// Whether more than one chat request was in flight at once since reset.
  bool overlapped() const { return max_in_flight_ > 1; }

 private:
  std::unique_ptr<teachersim::ServerThread> sim_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  int delay_ms_ = 0;
  std::mutex mutex_;
  std::vector<std::string> requests_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::atomic<bool> fail_next_{false};
  std::atomic<int> handling_{0};  // requests being handled
};

}  // namespace af::test
