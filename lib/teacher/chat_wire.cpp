#include "teacher/chat_wire.h"

namespace af::teacher {

using json = nlohmann::json;

const char* chat_path(ChatEndpoint endpoint) {
  switch (endpoint) {
    case ChatEndpoint::OllamaChat:
      return "/api/chat";
    case ChatEndpoint::OllamaGenerate:
      return "/api/generate";
    case ChatEndpoint::OpenAiChat:
      return "/v1/chat/completions";
  }
  return "";
}

std::optional<ChatCall> parse_chat_call(ChatEndpoint endpoint, const json& body, std::string& error) {
  if (!body.is_object()) {
    error = "the request body is not a JSON object";
    return std::nullopt;
  }
  ChatCall call;
  call.model = body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : "";
  auto text_of = [](const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); };
  if (endpoint == ChatEndpoint::OllamaGenerate) {
    call.user = text_of(body.value("prompt", json()));
    call.system = text_of(body.value("system", json()));
  } else {
    const json messages = body.value("messages", json());
    if (!messages.is_array()) {
      error = "the request has no messages array";
      return std::nullopt;
    }
    for (const auto& m : messages) {
      if (!m.is_object()) continue;
      const std::string role = text_of(m.value("role", json()));
      const std::string content = text_of(m.value("content", json()));
      if (role == "user") call.user = content;
      if (role == "system") call.system += (call.system.empty() ? "" : "\n\n") + content;
    }
  }
  if (endpoint == ChatEndpoint::OpenAiChat) {
    const json format = body.value("response_format", json());
    if (format.is_object() && format.value("type", "") == "json_schema" && format.contains("json_schema") &&
        format["json_schema"].is_object())
      call.schema = format["json_schema"].value("schema", json());
    call.json_only = format.is_object() && format.value("type", "") == "json_object";
    call.options = json::object();
    for (const char* key : {"temperature", "top_p", "max_tokens", "max_completion_tokens", "seed"})
      if (body.contains(key)) call.options[key] = body[key];
  } else {
    const json format = body.value("format", json());
    if (format.is_object()) call.schema = format;
    call.json_only = format.is_string() && format.get<std::string>() == "json";
    call.options = body.value("options", json::object());
  }
  return call;
}

json chat_reply(ChatEndpoint endpoint, const std::string& model, const std::string& content,
                const std::string& finish_reason, uint64_t id) {
  switch (endpoint) {
    case ChatEndpoint::OpenAiChat:
      return {{"id", "chatcmpl-" + std::to_string(id)},
              {"object", "chat.completion"},
              {"model", model},
              {"choices",
               {{{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", content}}},
                 {"finish_reason", finish_reason}}}}};
    case ChatEndpoint::OllamaGenerate:
      return {{"model", model}, {"response", content}, {"done", true}, {"done_reason", finish_reason}};
    case ChatEndpoint::OllamaChat:
      break;
  }
  return {{"model", model},
          {"message", {{"role", "assistant"}, {"content", content}}},
          {"done", true},
          {"done_reason", finish_reason}};
}

}  // namespace af::teacher
