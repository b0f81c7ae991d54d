#include "support/recording_teacher.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "dataset/domain_spec.h"
#include "teachersim/lexicon.h"

namespace af::test {

using nlohmann::json;

RecordingTeacher::RecordingTeacher(teachersim::Faults faults, int delay_ms) : delay_ms_(delay_ms) {
  const std::string root = ASTFORGE_SOURCE_DIR;
  sim_ = std::make_unique<teachersim::ServerThread>(
      teachersim::Sim(teachersim::Lexicon::load(root + "/data/teacher_sim"),
                      dataset::load_operator_catalog(root + "/data/operator_catalog.json"), 11),
      faults, 11);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    ++handling_;
    struct Done {
      std::atomic<int>& n;
      ~Done() { --n; }
    } done{handling_};
    json body = json::parse(req.body, nullptr, false);
    json entry = {{"method", req.method},
                  {"path", req.path},
                  {"body", body.is_discarded() ? json(req.body) : body},
                  {"authorization", req.get_header_value("Authorization")}};
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(entry.dump());
    }
    const bool chat = req.method == "POST";
    if (chat) {
      int now = ++in_flight_;
      int seen = max_in_flight_.load();
      while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
      if (fail_next_.exchange(false)) {
        --in_flight_;
        res.status = 500;
        res.set_content(R"({"error":"recording teacher: a failure on request"})", "application/json");
        return;
      }
    }
    httplib::Client client(sim_->url());
    client.set_read_timeout(60, 0);
    auto answer = chat ? client.Post(req.path, req.body, "application/json") : client.Get(req.path);
    if (chat) --in_flight_;
    if (!answer) {
      res.status = 502;
      return;
    }
    res.status = answer->status;
    res.set_content(answer->body, "application/json");
  };
  server_.Get(".*", handler);
  server_.Post(".*", handler);
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

RecordingTeacher::~RecordingTeacher() {
  server_.stop();
  thread_.join();
}

void RecordingTeacher::reset(bool fail_first) {
  // A request of the previous run may still be held (its client timed out): let it finish first, or it would
  // take this run's failure or land in this run's record.
  for (int i = 0; i < 500 && handling_ > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::lock_guard<std::mutex> lock(mutex_);
  requests_.clear();
  max_in_flight_ = 0;
  fail_next_ = fail_first;
}

std::string RecordingTeacher::recorded() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> sorted = requests_;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& r : sorted) out += r + "\n";
  return out;
}

}  // namespace af::test
