// serve's HTTP side: Ollama's /api/chat, /api/generate, /api/tags, /api/version and OpenAI's
// /v1/chat/completions, /v1/models (the wire of lib/teacher/chat_wire), each generation request answered
// through the Batcher.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "serve/batcher.h"
#include "serve/engine.h"

namespace httplib {
class Server;
}

namespace af::serve {

/// What /api/tags and /v1/models say about the loaded student.
struct ModelCard {
  std::string name;
  std::string family = "gemma3";
  uint64_t parameters = 0;
  uint64_t bytes = 0;  // the weights in memory
  std::string dtype;
  std::string folder;  // where it was loaded from (base + adapter)

  /// The entry of /api/tags' models list.
  nlohmann::json ollama_tag() const;
};

/// The card of `student` as served under `name`.
ModelCard model_card(const student::Student& student, const std::string& name, const std::string& dtype);

class Server {
 public:
  /// Answers through `batcher`, with enough connection threads for `max_batch` requests to wait together.
  Server(ModelCard card, Engine& engine, Batcher& batcher, size_t max_batch);
  ~Server();
  /// Binds `host`:`port` (0: a free port); returns the port, or -1.
  int bind(const std::string& host, int port);
  /// Serves until stop(); requests in flight are answered first.
  void listen();
  /// Stops taking connections (callable from another thread).
  void stop();
  uint64_t requests_answered() const { return answered_; }

 private:
  ModelCard card_;
  Engine& engine_;
  Batcher& batcher_;
  std::unique_ptr<httplib::Server> http_;
  std::atomic<uint64_t> answered_{0}, ids_{0};
};

}  // namespace af::serve
