#include "serve/batcher.h"

#include "core/error.h"
#include "core/log.h"
#include "serve/request_options.h"

namespace af::serve {

Batcher::Batcher(size_t max_batch, std::chrono::milliseconds window, RunBatch run)
    : max_batch_(std::max<size_t>(1, max_batch)), window_(window), run_(std::move(run)) {
  thread_ = std::thread([this] { loop(); });
}

Batcher::~Batcher() {
  stop();
}

std::future<Answer> Batcher::submit(Job job) {
  Pending p{std::move(job), {}, std::chrono::steady_clock::now()};
  std::future<Answer> answer = p.answer.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw runtime_error("serve is shutting down");
    queue_.push_back(std::move(p));
  }
  changed_.notify_all();
  return answer;
}

void Batcher::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t Batcher::batches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return batches_;
}

std::vector<Batcher::Pending> Batcher::take_batch() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
  if (queue_.empty()) return {};
  // Wait for company until the window (counted from the oldest request's arrival) closes or the batch fills;
  // a stopping server does not wait.
  const auto deadline = queue_.front().arrived + window_;
  changed_.wait_until(lock, deadline, [&] { return stopping_ || queue_.size() >= max_batch_; });
  std::vector<Pending> batch;
  const model::GenerationSettings first = queue_.front().job.generation;
  for (auto it = queue_.begin(); it != queue_.end() && batch.size() < max_batch_;) {
    if (same_batch(first, it->job.generation)) {
      batch.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  ++batches_;
  return batch;
}

void Batcher::loop() {
  for (;;) {
    std::vector<Pending> batch = take_batch();
    if (batch.empty()) return;  // stopping, and nothing left to answer
    std::vector<const Job*> jobs;
    for (const Pending& p : batch) jobs.push_back(&p.job);
    std::vector<Answer> answers;
    try {
      answers = run_(jobs);
      if (answers.size() != batch.size())
        throw runtime_error("the generator gave " + std::to_string(answers.size()) + " answers for " +
                            std::to_string(batch.size()) + " requests");
    } catch (...) {
      for (Pending& p : batch) p.answer.set_exception(std::current_exception());
      continue;
    }
    size_t tokens = 0;
    for (const Answer& a : answers) tokens += a.generated_tokens;
    log_info("batch of ", batch.size(), batch.size() == 1 ? " request: " : " requests: ", tokens,
             " tokens in ", answers.front().seconds, " s");
    for (size_t i = 0; i < batch.size(); ++i) batch[i].answer.set_value(std::move(answers[i]));
  }
}

}  // namespace af::serve
