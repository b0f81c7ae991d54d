// The chat wire's server side: what each endpoint's request body asks, and the reply bodies Ollama's and
// OpenAI's clients read.
#include <doctest/doctest.h>

#include "teacher/chat_wire.h"

using af::teacher::ChatEndpoint;
using json = nlohmann::json;

TEST_CASE("an Ollama /api/chat request: last user message, joined system messages, schema, options") {
  json body = {{"model", "student"},
               {"messages",
                {{{"role", "system"}, {"content", "be brief"}},
                 {{"role", "user"}, {"content", "first"}},
                 {{"role", "assistant"}, {"content", "{}"}},
                 {{"role", "system"}, {"content", "JSON only"}},
                 {{"role", "user"}, {"content", "second"}}}},
               {"format", {{"type", "object"}}},
               {"options", {{"temperature", 0}, {"num_predict", 64}}}};
  std::string error;
  auto call = af::teacher::parse_chat_call(ChatEndpoint::OllamaChat, body, error);
  REQUIRE(call);
  CHECK(call->model == "student");
  CHECK(call->user == "second");
  CHECK(call->system == "be brief\n\nJSON only");
  CHECK(call->schema == json{{"type", "object"}});
  CHECK_FALSE(call->json_only);
  CHECK(call->options == json{{"temperature", 0}, {"num_predict", 64}});
  body["format"] = "json";
  call = af::teacher::parse_chat_call(ChatEndpoint::OllamaChat, body, error);
  CHECK(call->schema.is_null());
  CHECK(call->json_only);
}

TEST_CASE("an Ollama /api/generate request and an OpenAI request with response_format") {
  std::string error;
  auto gen = af::teacher::parse_chat_call(ChatEndpoint::OllamaGenerate,
                                          {{"model", "m"}, {"prompt", "hello"}, {"system", "sys"}}, error);
  REQUIRE(gen);
  CHECK(gen->user == "hello");
  CHECK(gen->system == "sys");
  CHECK(gen->options == json::object());
  json openai = {
      {"model", "m"},
      {"messages", {{{"role", "user"}, {"content", "q"}}}},
      {"temperature", 0.5},
      {"max_tokens", 32},
      {"stream", false},
      {"response_format",
       {{"type", "json_schema"}, {"json_schema", {{"name", "answer"}, {"schema", {{"enum", {1}}}}}}}}};
  auto call = af::teacher::parse_chat_call(ChatEndpoint::OpenAiChat, openai, error);
  REQUIRE(call);
  CHECK(call->schema == json{{"enum", {1}}});
  CHECK(call->options == json{{"temperature", 0.5}, {"max_tokens", 32}});
  openai["response_format"] = {{"type", "json_object"}};
  CHECK(af::teacher::parse_chat_call(ChatEndpoint::OpenAiChat, openai, error)->json_only);
}

TEST_CASE("requests that are not requests are refused with the reason") {
  std::string error;
  CHECK_FALSE(af::teacher::parse_chat_call(ChatEndpoint::OllamaChat, json::array(), error));
  CHECK(error == "the request body is not a JSON object");
  CHECK_FALSE(af::teacher::parse_chat_call(ChatEndpoint::OpenAiChat, {{"model", "m"}}, error));
  CHECK(error == "the request has no messages array");
}

TEST_CASE("replies are shaped as each endpoint's clients read them") {
  CHECK(af::teacher::chat_reply(ChatEndpoint::OllamaChat, "m", "{}", "stop", 3) ==
        json{{"model", "m"},
             {"message", {{"role", "assistant"}, {"content", "{}"}}},
             {"done", true},
             {"done_reason", "stop"}});
  CHECK(af::teacher::chat_reply(ChatEndpoint::OllamaGenerate, "m", "x", "length", 3) ==
        json{{"model", "m"}, {"response", "x"}, {"done", true}, {"done_reason", "length"}});
  json openai = af::teacher::chat_reply(ChatEndpoint::OpenAiChat, "m", "x", "stop", 7);
  CHECK(openai["id"] == "chatcmpl-7");
  CHECK(openai["choices"][0]["message"]["content"] == "x");
  CHECK(openai["choices"][0]["finish_reason"] == "stop");
  CHECK(std::string(af::teacher::chat_path(ChatEndpoint::OpenAiChat)) == "/v1/chat/completions");
}
