// Concurrent requests gathered into generation batches: the first request of a batch waits up to the window
// for others (or until max_batch have come), then the batch runs on the one generation thread while new
// requests gather for the next.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "serve/engine.h"

namespace af::serve {

class Batcher {
 public:
  /// Runs batches through `run` (requests that same_batch groups together; at most `max_batch`).
  using RunBatch = std::function<std::vector<Answer>(const std::vector<const Job*>&)>;
  Batcher(size_t max_batch, std::chrono::milliseconds window, RunBatch run);
  /// Stops after the requests already submitted are answered.
  ~Batcher();

  /// Queues `job`; the future holds its answer, or the error its batch failed with.
  std::future<Answer> submit(Job job);
  /// Answers what is queued, then stops the generation thread (later submits fail).
  void stop();
  /// Batches run so far.
  uint64_t batches() const;

 private:
  struct Pending {
    Job job;
    std::promise<Answer> answer;
    std::chrono::steady_clock::time_point arrived;
  };
  void loop();
  // Takes the next batch off the queue: the oldest request and the next ones that can share its batch.
  std::vector<Pending> take_batch();

  size_t max_batch_;
  std::chrono::milliseconds window_;
  RunBatch run_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  uint64_t batches_ = 0;
  std::thread thread_;
};

}  // namespace af::serve
