// A real loopback HTTP server that answers from a script, for protocol cases a real teacher cannot be made to
// produce on demand (a rejected schema, a 404 for an unknown model, a truncated answer). Records every
// request.
#pragma once
#include <httplib.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace af::test {

class ScriptedServer {
 public:
  struct Reply {
    int status = 200;
    std::string body;
  };

  ScriptedServer() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mutex_);
      requests.push_back({req.path, req.body, req.get_header_value("Authorization")});
      Reply r = script_.empty() ? fallback : script_.front();
      if (!script_.empty()) script_.pop_front();
      res.status = r.status;
      res.set_content(r.body, "application/json");
    };
    server_.Post(".*", handler);
    server_.Get(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ScriptedServer() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void then(int status, const nlohmann::json& body) { script_.push_back({status, body.dump()}); }
  void then_text(int status, std::string body) { script_.push_back({status, std::move(body)}); }
  /// An Ollama /api/chat reply whose message content is `content`.
  static nlohmann::json ollama(const std::string& content, const std::string& done_reason = "stop") {
    return {{"model", "m"},
            {"message", {{"role", "assistant"}, {"content", content}}},
            {"done", true},
            {"done_reason", done_reason}};
  }

  struct Seen {
    std::string path, body, authorization;
  };
  std::vector<Seen> requests;
  Reply fallback{200, "{}"};

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::deque<Reply> script_;
};

}  // namespace af::test
