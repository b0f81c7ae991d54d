// teacher-sim's HTTP server: Ollama's /api/chat, /api/generate, /api/tags, /api/version and OpenAI's
// /v1/chat/completions and /v1/models on loopback, answering through Sim, with faults injected on request.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "teachersim/tasks.h"

namespace httplib {
class Server;
}

namespace af::teachersim {

/// Faults for tests: shares of requests that get an HTTP 500, a non-JSON answer, or a connection closed
/// mid-answer; a share of first AST answers made schema-invalid (a correction request is answered right);
/// and a delay added to every answer.
struct Faults {
  double fail_rate = 0, garbage_rate = 0, drop_rate = 0, invalid_rate = 0;
  int delay_ms = 0;
};

class SimServer {
 public:
  SimServer(Sim sim, Faults faults, uint64_t seed);
  ~SimServer();
  /// Binds `host`:`port` (0: a free port); returns the port.
  int bind(const std::string& host, int port);
  /// Serves until stop(); returns when stopped.
  void listen();
  /// Stops serving (callable from another thread).
  void stop();
  uint64_t requests_served() const { return requests_; }

 private:
  std::string answer_chat(const std::string& user_message, int& status);
  bool fault(double rate, uint64_t request, uint64_t salt) const;

  Sim sim_;
  Faults faults_;
  uint64_t seed_;
  std::unique_ptr<httplib::Server> server_;
  std::atomic<uint64_t> requests_{0};
};

}  // namespace af::teachersim

namespace af::teachersim {

/// A SimServer on a free loopback port, serving from a thread for the life of this object
/// (dataset_generation.offline_fallback: a real HTTP teacher without a separate process).
class ServerThread {
 public:
  ServerThread(Sim sim, Faults faults, uint64_t seed);
  ~ServerThread();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  SimServer server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace af::teachersim
