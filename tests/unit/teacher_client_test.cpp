// The teacher client against real loopback HTTP servers: protocol shape, retries, fallbacks, clear failures.
#include <doctest/doctest.h>

#include "config/resolve.h"
#include "core/error.h"
#include "core/parallel.h"
#include "support/scripted_server.h"
#include "teacher/client.h"

using namespace af::teacher;
using af::test::ScriptedServer;
using json = nlohmann::json;

namespace {
TeacherSettings settings_for(std::vector<std::string> hosts, std::string protocol = "ollama") {
  TeacherSettings s;
  s.hosts = std::move(hosts);
  s.protocol = std::move(protocol);
  s.model = "gpt-oss:20b";
  s.retries = 3;
  s.retry_wait_seconds = 0.001;
  s.timeout_seconds = 5;
  return s;
}
ChatRequest question() {
  ChatRequest r;
  r.system = "You write JSON.";
  r.user = "{\"task\": \"x\"}";
  r.format = {{"type", "object"}, {"required", {"answer"}}};
  r.seed = 7;
  return r;
}
}  // namespace

TEST_CASE("host names are normalised as Ollama reads OLLAMA_HOST") {
  CHECK(normalize_host("127.0.0.1:11434") == "http://127.0.0.1:11434");
  CHECK(normalize_host("0.0.0.0") == "http://127.0.0.1:11434");
  CHECK(normalize_host("http://gpu-box:8080/") == "http://gpu-box:8080");
  CHECK(normalize_host("https://api.example.com") == "https://api.example.com:443");
}

TEST_CASE("the first JSON object is taken out of model text") {
  CHECK(first_json_object("Sure! ```json\n{\"a\": {\"b\": \"}\"}}\n```") ==
        json::parse(R"({"a": {"b": "}"}})"));
  CHECK(first_json_object("{broken} then {\"ok\": 1}") == json::parse(R"({"ok": 1})"));
  CHECK_FALSE(first_json_object("no json here").has_value());
}

TEST_CASE("an Ollama request is non-streaming, carries the schema as format and explicit options") {
  ScriptedServer server;
  server.then(200, ScriptedServer::ollama("{\"answer\": 42}"));
  TeacherClient client(settings_for({server.url()}));
  ChatAnswer a = client.ask(question(), 0);
  CHECK(a.value == json::parse(R"({"answer": 42})"));
  CHECK(a.attempts == 1);
  REQUIRE(server.requests.size() == 1);
  CHECK(server.requests[0].path == "/api/chat");
  json body = json::parse(server.requests[0].body);
  CHECK(body["stream"] == false);
  CHECK(body["model"] == "gpt-oss:20b");
  CHECK(body["format"] == question().format);
  CHECK(body["options"]["seed"] == 7);
  CHECK(body["options"]["num_ctx"] == 16384);
  CHECK(body["messages"][0]["role"] == "system");
}

TEST_CASE("5xx, garbage, truncated and rejected answers are retried") {
  ScriptedServer server;
  server.then(500, {{"error", "overloaded"}});
  server.then(200, ScriptedServer::ollama("I cannot answer in JSON today"));
  server.then(200, ScriptedServer::ollama("{\"answer\": 1", "length"));
  server.then(200, ScriptedServer::ollama("{\"wrong\": 1}"));
  server.then(200, ScriptedServer::ollama("{\"answer\": 2}"));
  auto s = settings_for({server.url()});
  s.retries = 5;
  TeacherClient client(s);
  ChatAnswer a =
      client.ask(question(), 0, [](const json& v) { return v.contains("answer") ? "" : "no answer key"; });
  CHECK(a.value["answer"] == 2);
  CHECK(a.attempts == 5);
}

TEST_CASE("retries run out with the last reason") {
  ScriptedServer server;
  server.fallback = {500, R"({"error": "still down"})"};
  auto s = settings_for({server.url()});
  s.retries = 2;
  TeacherClient client(s);
  CHECK_THROWS_WITH_AS(client.ask(question(), 0), doctest::Contains("after 3 attempt(s); last: HTTP 500"),
                       af::Error);
  CHECK(server.requests.size() == 3);
}

TEST_CASE("an unknown model fails at once and says how to get it") {
  ScriptedServer server;
  server.then(404, {{"error", "model 'gpt-oss:20b' not found, try pulling it first"}});
  TeacherClient client(settings_for({server.url()}));
  try {
    client.ask(question(), 0);
    FAIL("expected an error");
  } catch (const af::Error& e) {
    CHECK(std::string(e.what()).find("model 'gpt-oss:20b' not found") != std::string::npos);
    CHECK(e.hint().find("ollama pull gpt-oss:20b") != std::string::npos);
  }
  CHECK(server.requests.size() == 1);
}

TEST_CASE("a schema Ollama cannot turn into a grammar falls back to format \"json\"") {
  ScriptedServer server;
  server.then(500, {{"error", "failed to load model vocabulary required for format: invalid schema"}});
  server.then(200, ScriptedServer::ollama("{\"answer\": 3}"));
  TeacherClient client(settings_for({server.url()}));
  ChatAnswer a = client.ask(question(), 0);
  CHECK(a.format_fallback);
  CHECK(a.attempts == 1);
  CHECK(json::parse(server.requests[1].body)["format"] == "json");
}

TEST_CASE("the OpenAI protocol sends response_format json_schema and the bearer key") {
  ScriptedServer server;
  server.then(200,
              {{"choices", {{{"message", {{"content", "{\"answer\": 4}"}}}, {"finish_reason", "stop"}}}}});
  auto s = settings_for({server.url()}, "openai");
  s.api_key = "sk-test";
  TeacherClient client(s);
  CHECK(client.ask(question(), 0).value["answer"] == 4);
  CHECK(server.requests[0].path == "/v1/chat/completions");
  CHECK(server.requests[0].authorization == "Bearer sk-test");
  json body = json::parse(server.requests[0].body);
  CHECK(body["response_format"]["type"] == "json_schema");
  CHECK(body["response_format"]["json_schema"]["schema"] == question().format);
}

TEST_CASE("requests spread over several hosts with bounded concurrency") {
  ScriptedServer a, b;
  a.fallback = {200, ScriptedServer::ollama("{\"answer\": \"a\"}").dump()};
  b.fallback = {200, ScriptedServer::ollama("{\"answer\": \"b\"}").dump()};
  TeacherClient client(settings_for({a.url(), b.url()}));
  std::vector<std::string> got(8);
  af::parallel_for(8, 3, [&](size_t i) { got[i] = client.ask(question(), i).value["answer"]; });
  CHECK(a.requests.size() == 4);
  CHECK(b.requests.size() == 4);
  CHECK(got[0] == "a");
  CHECK(got[1] == "b");
}

TEST_CASE("an unreachable teacher is one clear error naming the host and how to start one") {
  TeacherClient client(settings_for({"http://127.0.0.1:9"}));
  try {
    client.check_reachable();
    FAIL("expected an error");
  } catch (const af::Error& e) {
    CHECK(std::string(e.what()).rfind("cannot reach the teacher at http://127.0.0.1:9", 0) == 0);
    CHECK(e.hint().find("teacher-sim --port 9") != std::string::npos);
  }
}

TEST_CASE("teacher.num_ctx and teacher.num_predict reach the request, from the config") {
  af::config::Findings findings;
  af::config::ResolveInput in;
  in.getenv = [](const std::string&) { return std::optional<std::string>(); };
  in.sets = {"teacher.num_ctx=4096", "teacher.num_predict=256", "teacher.retries=0"};
  af::config::Resolved cfg = af::config::resolve(in, findings);
  REQUIRE_FALSE(findings.has_errors());
  TeacherSettings s = teacher_settings(cfg);
  CHECK(s.num_ctx == 4096);
  CHECK(s.num_predict == 256);
  ScriptedServer ollama;
  ollama.then(200, ScriptedServer::ollama("{\"answer\": 1}"));
  s.hosts = {ollama.url()};
  TeacherClient(s).ask(question(), 0);
  json body = json::parse(ollama.requests[0].body);
  CHECK(body["options"]["num_ctx"] == 4096);
  CHECK(body["options"]["num_predict"] == 256);
  // OpenAI-compatible servers size their context themselves: num_predict is max_tokens, num_ctx is not sent.
  ScriptedServer openai;
  openai.then(200,
              {{"choices", {{{"message", {{"content", "{\"answer\": 1}"}}}, {"finish_reason", "stop"}}}}});
  s.hosts = {openai.url()};
  s.protocol = "openai";
  TeacherClient(s).ask(question(), 0);
  json o = json::parse(openai.requests[0].body);
  CHECK(o["max_tokens"] == 256);
  CHECK_FALSE(o.contains("num_ctx"));
  // An answer cut at num_predict is retried, and the reason names the limit.
  ScriptedServer cut;
  cut.then(200, ScriptedServer::ollama("{\"answer\":", "length"));
  s.hosts = {cut.url()};
  s.protocol = "ollama";
  CHECK_THROWS_WITH_AS(TeacherClient(s).ask(question(), 0),
                       doctest::Contains("the answer was cut at the token limit (num_predict 256)"),
                       af::Error);
}
