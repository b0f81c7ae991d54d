#include "teacher/client.h"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>

#include "config/resolve.h"
#include "core/error.h"
#include "core/log.h"
#include "core/utf8.h"

namespace af::teacher {
namespace {

using json = nlohmann::json;

// What one HTTP exchange came to.
struct Outcome {
  enum class Kind { Ok, Retry, Fatal, FormatRejected } kind = Kind::Ok;
  json value;
  std::string text;
  std::string reason;
};

std::string hint_start_teacher(const std::string& host) {
  return "start a teacher there: `ollama serve` (then `ollama pull MODEL`), or astforge's stand-in: "
         "`build/bin/teacher-sim --port " +
         host.substr(host.rfind(':') + 1) + "`; or point teacher.host / OLLAMA_HOST elsewhere";
}

std::string error_text(const json& body, const std::string& raw) {
  if (body.is_object() && body.contains("error")) {
    const json& e = body["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string())
      return e["message"].get<std::string>();
    return e.dump();
  }
  return utf8_shorten(raw, 300);
}

json request_body(const TeacherSettings& s, const ChatRequest& r, bool plain_json) {
  json messages = json::array();
  if (!r.system.empty()) messages.push_back({{"role", "system"}, {"content", r.system}});
  messages.push_back({{"role", "user"}, {"content", r.user}});
  if (s.protocol == "openai") {
    json body = {{"model", s.model},
                 {"messages", messages},
                 {"temperature", s.temperature},
                 {"seed", r.seed},
                 {"max_tokens", s.num_predict}};
    if (!r.format.is_null() && !plain_json) {
      body["response_format"] = {
          {"type", "json_schema"},
          {"json_schema", {{"name", "answer"}, {"schema", r.format}, {"strict", false}}}};
    } else {
      body["response_format"] = {{"type", "json_object"}};
    }
    return body;
  }
  // Ollama streams unless told not to; num_ctx must be explicit or long prompts are cut at 2048 tokens.
  json body = {{"model", s.model},
               {"messages", messages},
               {"stream", false},
               {"options",
                {{"temperature", s.temperature},
                 {"seed", r.seed},
                 {"num_predict", s.num_predict},
                 {"num_ctx", s.num_ctx}}}};
  body["format"] = r.format.is_null() || plain_json ? json("json") : r.format;
  return body;
}

Outcome exchange(const TeacherSettings& s, const std::string& host, const ChatRequest& r, bool plain_json) {
  httplib::Client client(host);
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm meets the server's
  // delayed ACK and a request can stall for up to 200 ms.
  client.set_tcp_nodelay(true);
  auto timeout = std::chrono::duration<double>(s.timeout_seconds);
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
  client.set_connection_timeout(std::min<time_t>(secs.count(), 10), usecs.count());
  client.set_read_timeout(secs.count(), usecs.count());
  client.set_write_timeout(secs.count(), usecs.count());
  httplib::Headers headers;
  if (!s.api_key.empty()) headers.emplace("Authorization", "Bearer " + s.api_key);
  const std::string path = s.protocol == "openai" ? "/v1/chat/completions" : "/api/chat";
  auto res = client.Post(path, headers, request_body(s, r, plain_json).dump(), "application/json");
  Outcome out;
  if (!res) {
    out.kind = Outcome::Kind::Retry;
    out.reason = "no answer from " + host + " (" + httplib::to_string(res.error()) + ")";
    return out;
  }
  json body = json::parse(res->body, nullptr, false);
  if (res->status >= 400) {
    std::string err = error_text(body, res->body);
    out.reason = "HTTP " + std::to_string(res->status) + " from " + host + ": " + err;
    bool about_format = err.find("format") != std::string::npos || err.find("schema") != std::string::npos ||
                        err.find("grammar") != std::string::npos;
    if (s.protocol == "ollama" && about_format && !plain_json && res->status != 404) {
      out.kind = Outcome::Kind::FormatRejected;
    } else if (res->status >= 500 || res->status == 408 || res->status == 429) {
      out.kind = Outcome::Kind::Retry;
    } else {
      out.kind = Outcome::Kind::Fatal;
    }
    return out;
  }
  if (body.is_discarded()) {
    out.kind = Outcome::Kind::Retry;
    out.reason = "the reply of " + host + " is not JSON";
    return out;
  }
  std::string content, finish;
  try {
    if (s.protocol == "openai") {
      content = body.at("choices").at(0).at("message").at("content").get<std::string>();
      finish = body.at("choices").at(0).value("finish_reason", "");
    } else {
      content = body.at("message").at("content").get<std::string>();
      finish = body.value("done_reason", "");
    }
  } catch (const json::exception&) {
    out.kind = Outcome::Kind::Retry;
    out.reason = "the reply of " + host + " has no message content";
    return out;
  }
  out.text = content;
  if (finish == "length") {
    out.kind = Outcome::Kind::Retry;
    out.reason = "the answer was cut at the token limit (num_predict " + std::to_string(s.num_predict) + ")";
    return out;
  }
  auto parsed = first_json_object(content);
  if (!parsed) {
    out.kind = Outcome::Kind::Retry;
    out.reason = "the answer holds no JSON object: " + utf8_shorten(content, 120);
    return out;
  }
  out.value = std::move(*parsed);
  return out;
}

}  // namespace

std::string normalize_host(const std::string& host_in) {
  std::string host = host_in;
  while (!host.empty() && host.back() == '/') host.pop_back();
  std::string scheme = "http://";
  if (host.rfind("http://", 0) == 0 || host.rfind("https://", 0) == 0) {
    scheme = host.substr(0, host.find("://") + 3);
    host = host.substr(scheme.size());
  }
  if (host.rfind("0.0.0.0", 0) == 0) host = "127.0.0.1" + host.substr(7);
  bool has_port = host.rfind(':') != std::string::npos && host.back() != ']';
  if (!has_port) host += scheme == "https://" ? ":443" : ":11434";
  return scheme + host;
}

TeacherSettings teacher_settings(const config::Resolved& cfg) {
  TeacherSettings s;
  for (const auto& h : cfg.get_list("teacher.host")) s.hosts.push_back(normalize_host(h));
  s.protocol = cfg.get_string("teacher.protocol");
  s.model = cfg.get_string("teacher.model");
  s.timeout_seconds = cfg.get_double("teacher.timeout");
  s.retries = static_cast<int>(cfg.get_int("teacher.retries"));
  s.retry_wait_seconds = cfg.get_double("teacher.retry_wait");
  s.concurrency = static_cast<int>(cfg.get_int("teacher.concurrency"));
  s.temperature = cfg.get_double("teacher.temperature");
  s.num_ctx = static_cast<int>(cfg.get_int("teacher.num_ctx"));
  s.num_predict = static_cast<int>(cfg.get_int("teacher.num_predict"));
  if (!cfg.is_null("teacher.api_key")) {
    s.api_key = cfg.get_string("teacher.api_key");
    s.api_key_source = "teacher.api_key";
  }
  if (!cfg.is_null("teacher.api_key_env")) {
    const std::string var = cfg.get_string("teacher.api_key_env");
    const char* key = std::getenv(var.c_str());
    if (key) s.api_key = key;
    s.api_key_source = "env " + var + (key ? "" : " (not set: no key is sent)");
  }
  return s;
}

json TeacherSettings::answer_settings() const {
  return {{"model", model}, {"temperature", temperature}, {"num_ctx", num_ctx}, {"num_predict", num_predict}};
}

json TeacherSettings::to_json() const {
  ChatRequest example{
      "<the task's instructions>", "<the task's input>", {{"$comment", "the answer's JSON Schema"}}, 0};
  json body = request_body(*this, example, false);
  return {{"hosts", hosts},
          {"protocol", protocol},
          {"endpoint", protocol == "openai" ? "/v1/chat/completions" : "/api/chat"},
          {"model", model},
          {"timeout_seconds", timeout_seconds},
          {"retries", retries},
          {"retry_wait_seconds", retry_wait_seconds},
          {"concurrency", concurrency},
          {"api_key", api_key.empty() ? json(nullptr) : json("<redacted>")},
          {"api_key_source", api_key_source.empty() ? json(nullptr) : json(api_key_source)},
          {"request_body", body}};
}

std::optional<json> first_json_object(const std::string& text) {
  for (size_t start = text.find('{'); start != std::string::npos; start = text.find('{', start + 1)) {
    // Find the matching brace, skipping strings, then parse that span.
    int depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = start; i < text.size(); ++i) {
      char c = text[i];
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{') {
        ++depth;
      } else if (c == '}' && --depth == 0) {
        json v = json::parse(text.substr(start, i - start + 1), nullptr, false);
        if (!v.is_discarded()) return v;
        break;
      }
    }
  }
  return std::nullopt;
}

TeacherClient::TeacherClient(TeacherSettings settings) : settings_(std::move(settings)) {
  if (settings_.hosts.empty()) throw usage_error("teacher.host lists no server");
}

void TeacherClient::check_reachable() const {
  for (const auto& host : settings_.hosts) {
    httplib::Client client(host);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(10, 0);
    auto res = client.Get(settings_.protocol == "openai" ? "/v1/models" : "/api/version");
    if (!res) {
      throw runtime_error(
          "cannot reach the teacher at " + host + " (" + httplib::to_string(res.error()) + ")",
          hint_start_teacher(host));
    }
  }
}

ChatAnswer TeacherClient::ask(const ChatRequest& request, size_t index, const AnswerCheck& check) const {
  const auto start = std::chrono::steady_clock::now();
  std::mt19937_64 jitter(request.seed * 1000003u + index);
  bool plain_json = false;
  std::string last_reason;
  for (int attempt = 1;; ++attempt) {
    const std::string& host =
        settings_.hosts[(index + static_cast<size_t>(attempt) - 1) % settings_.hosts.size()];
    Outcome out = exchange(settings_, host, request, plain_json);
    if (out.kind == Outcome::Kind::Ok && check) {
      std::string problem = check(out.value);
      if (!problem.empty()) {
        out.kind = Outcome::Kind::Retry;
        out.reason = "the answer was rejected: " + problem;
      }
    }
    switch (out.kind) {
      case Outcome::Kind::Ok: {
        ChatAnswer answer;
        answer.value = std::move(out.value);
        answer.text = std::move(out.text);
        answer.host = host;
        answer.attempts = attempt;
        answer.format_fallback = plain_json;
        answer.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return answer;
      }
      case Outcome::Kind::Fatal: {
        std::string hint =
            out.reason.find("not found") != std::string::npos
                ? "run `ollama pull " + settings_.model + "` on " + host + ", or set teacher.model"
                : "check teacher.model, teacher.protocol and teacher.api_key_env";
        throw runtime_error("the teacher refused the request: " + out.reason, hint);
      }
      case Outcome::Kind::FormatRejected:
        // Ollama turns the schema into a grammar and fails on some constructs: ask for plain JSON instead and
        // rely on our own validation of the answer.
        log_warn(host, " rejected the answer schema (", out.reason, "); asking for plain JSON instead");
        plain_json = true;
        --attempt;
        continue;
      case Outcome::Kind::Retry:
        break;
    }
    last_reason = out.reason;
    if (settings_.retries >= 0 && attempt > settings_.retries) {
      throw runtime_error("the teacher gave no usable answer after " + std::to_string(attempt) +
                              " attempt(s); last: " + last_reason,
                          "raise teacher.retries, or check the teacher's log");
    }
    double wait = settings_.retry_wait_seconds * std::pow(2.0, std::min(attempt - 1, 6));
    wait = std::min(wait, 60.0) * std::uniform_real_distribution<double>(1.0, 1.25)(jitter);
    log_debug("retry ", attempt, " in ", wait, "s: ", last_reason);
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
}

}  // namespace af::teacher
