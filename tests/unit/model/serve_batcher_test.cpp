// serve's batcher with a stand-in generator: requests that come within the window share a batch (up to
// max_batch), requests with other settings wait for their own, a full batch does not wait out the window,
// a failed batch fails each of its requests, and stop() answers what is queued.
#include "support/torch_doctest.h"

#include <atomic>
#include <mutex>

#include "serve/batcher.h"

using af::serve::Answer;
using af::serve::Batcher;
using af::serve::Job;
using namespace std::chrono_literals;

namespace {

// Records the batches it is given and answers each job with its first prompt token.
struct Recorder {
  std::mutex mutex;
  std::vector<std::vector<int32_t>> batches;
  Batcher::RunBatch run() {
    return [this](const std::vector<const Job*>& jobs) {
      std::vector<int32_t> ids;
      std::vector<Answer> answers;
      for (const Job* j : jobs) {
        ids.push_back(j->prompt.at(0));
        Answer a;
        a.text = std::to_string(j->prompt.at(0));
        a.batch_rows = jobs.size();
        answers.push_back(a);
      }
      std::lock_guard<std::mutex> lock(mutex);
      batches.push_back(ids);
      return answers;
    };
  }
};

Job job(int32_t id, int64_t max_tokens = 10) {
  Job j;
  j.prompt = {id};
  j.generation.max_new_tokens = max_tokens;
  return j;
}

}  // namespace

TEST_CASE("requests within the window share one batch, up to max_batch, in arrival order") {
  Recorder r;
  Batcher b(3, 300ms, r.run());
  std::vector<std::future<Answer>> answers;
  for (int32_t i = 0; i < 5; ++i) answers.push_back(b.submit(job(i)));
  for (int32_t i = 0; i < 5; ++i) CHECK(answers[static_cast<size_t>(i)].get().text == std::to_string(i));
  b.stop();
  REQUIRE(r.batches.size() == 2);
  CHECK(r.batches[0] == std::vector<int32_t>{0, 1, 2});
  CHECK(r.batches[1] == std::vector<int32_t>{3, 4});
  CHECK(b.batches() == 2);
}

TEST_CASE("a full batch runs at once, and a lone request waits out the window") {
  Recorder r;
  Batcher b(2, 2000ms, r.run());
  auto t0 = std::chrono::steady_clock::now();
  auto first = b.submit(job(1));
  auto second = b.submit(job(2));
  CHECK(first.get().batch_rows == 2);
  CHECK(second.get().batch_rows == 2);
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
  Batcher lone(8, 300ms, r.run());
  t0 = std::chrono::steady_clock::now();
  CHECK(lone.submit(job(3)).get().batch_rows == 1);
  CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
}

TEST_CASE("requests with other settings get batches of their own") {
  Recorder r;
  Batcher b(8, 300ms, r.run());
  auto a = b.submit(job(1, 10));
  auto c = b.submit(job(2, 20));
  auto d = b.submit(job(3, 10));
  CHECK(a.get().batch_rows == 2);
  CHECK(c.get().batch_rows == 1);
  CHECK(d.get().batch_rows == 2);
  b.stop();
  REQUIRE(r.batches.size() == 2);
  CHECK(r.batches[0] == std::vector<int32_t>{1, 3});
  CHECK(r.batches[1] == std::vector<int32_t>{2});
}

TEST_CASE("a batch that fails fails each of its requests, and the batcher goes on") {
  std::atomic<bool> fail{true};
  Batcher b(4, 100ms, [&](const std::vector<const Job*>& jobs) {
    if (fail) throw std::runtime_error("out of memory");
    return std::vector<Answer>(jobs.size());
  });
  auto x = b.submit(job(1));
  auto y = b.submit(job(2));
  CHECK_THROWS_WITH(x.get(), "out of memory");
  CHECK_THROWS_WITH(y.get(), "out of memory");
  fail = false;
  CHECK_NOTHROW(b.submit(job(3)).get());
}

TEST_CASE("stop answers what is queued without waiting out the window, then refuses new requests") {
  Recorder r;
  Batcher b(8, 60000ms, r.run());
  auto t0 = std::chrono::steady_clock::now();
  auto a = b.submit(job(7));
  b.stop();
  CHECK(a.get().text == "7");
  CHECK(std::chrono::steady_clock::now() - t0 < 10000ms);
  CHECK_THROWS_WITH(b.submit(job(8)), doctest::Contains("shutting down"));
}
