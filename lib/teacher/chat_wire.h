// The server side of the chat wire astforge speaks: Ollama's /api/chat and /api/generate and OpenAI's
// /v1/chat/completions, as request bodies read and reply bodies written. teacher-sim answers through it, and
// so will anything else that serves a model behind those endpoints.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace af::teacher {

/// The three generation endpoints.
enum class ChatEndpoint { OllamaChat, OllamaGenerate, OpenAiChat };

/// The URL path of `endpoint` (/api/chat, /api/generate, /v1/chat/completions).
const char* chat_path(ChatEndpoint endpoint);

/// What a generation request asks, whichever endpoint it came to.
struct ChatCall {
  std::string model;
  std::string system;  // the system messages (or generate's system), joined by blank lines
  std::string user;    // the last user message (or generate's prompt)
  nlohmann::json
      schema;  // the JSON Schema the answer must follow (Ollama's format, OpenAI's json_schema); null
  bool json_only = false;  // format "json" / response_format json_object: any JSON value
  nlohmann::json
      options;  // Ollama's options, or OpenAI's sampling fields (temperature, top_p, max_tokens, seed)
};

/// Reads a request body sent to `endpoint`; nullopt with the reason in `error` when it is not one.
std::optional<ChatCall> parse_chat_call(ChatEndpoint endpoint, const nlohmann::json& body,
                                        std::string& error);

/// The reply body `endpoint` answers with: `content` as the assistant's text, `finish_reason` "stop" or
/// "length", `id` numbering OpenAI's completion ids.
nlohmann::json chat_reply(ChatEndpoint endpoint, const std::string& model, const std::string& content,
                          const std::string& finish_reason, uint64_t id);

}  // namespace af::teacher
