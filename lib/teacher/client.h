// Teacher clients: Ollama /api/chat and OpenAI-compatible /v1/chat/completions, with the answer format given
// as a JSON Schema, requests spread over several hosts, timeouts, and retries with exponential backoff.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace af::config {
class Resolved;
}

namespace af::teacher {

/// Everything the client needs, from the teacher.* keys.
struct TeacherSettings {
  std::vector<std::string> hosts;  // normalised to http(s)://host:port
  std::string protocol = "ollama";
  std::string model;
  double timeout_seconds = 300;
  int retries = 3;  // -1: forever
  double retry_wait_seconds = 1;
  int concurrency = 4;
  double temperature = 0.2;
  std::string api_key;         // from teacher.api_key or the variable teacher.api_key_env names
  std::string api_key_source;  // where the key came from ("teacher.api_key", "env NAME"), for --dry-run
  int num_ctx = 16384;         // Ollama's default (2048) silently cuts long prompts
  int num_predict = 4096;

  /// What --dry-run shows: hosts, endpoint, limits and the body of a request as it would be sent (the key
  /// redacted).
  nlohmann::json to_json() const;
  /// The settings the teacher's answers depend on (model, temperature, context and answer limits): part of
  /// what a resumable output records, so a resume with another teacher temperature is refused by name.
  nlohmann::json answer_settings() const;
};

/// Reads the teacher.* keys (and the API key variable): the one place the client's settings come from.
TeacherSettings teacher_settings(const config::Resolved& cfg);

/// "127.0.0.1:11434" -> "http://127.0.0.1:11434"; "0.0.0.0" -> "http://127.0.0.1:11434" (as Ollama reads
/// OLLAMA_HOST).
std::string normalize_host(const std::string& host);

/// One question: instructions, the inputs, and the JSON Schema the answer must follow.
struct ChatRequest {
  std::string system;
  std::string user;
  nlohmann::json format;  // a JSON Schema (null: any JSON)
  uint64_t seed = 0;
};

/// A parsed answer and how it was obtained.
struct ChatAnswer {
  nlohmann::json value;
  std::string text;
  std::string host;
  int attempts = 0;
  double seconds = 0;
  bool format_fallback = false;  // the server rejected the schema; format "json" was used instead
};

/// Checks a parsed answer: an empty string accepts it, anything else is the reason to ask again.
using AnswerCheck = std::function<std::string(const nlohmann::json&)>;

/// Extracts the first JSON object from model text (code fences and prose around it are ignored).
std::optional<nlohmann::json> first_json_object(const std::string& text);

class TeacherClient {
 public:
  explicit TeacherClient(TeacherSettings settings);
  const TeacherSettings& settings() const { return settings_; }

  /// Contacts every host once; an unreachable one is a single clear error naming it and how to start a
  /// teacher.
  void check_reachable() const;

  /// Asks one question. Request `index` picks the first host (requests spread round-robin) and seeds the
  /// backoff jitter. Connection errors, timeouts, 5xx, truncated or unparseable answers and answers `check`
  /// rejects are retried with exponential backoff; a 4xx (an unknown model) fails at once.
  ChatAnswer ask(const ChatRequest& request, size_t index, const AnswerCheck& check = {}) const;

 private:
  TeacherSettings settings_;
};

}  // namespace af::teacher
