#include "serve/server.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/net.h"
#include "teacher/chat_wire.h"

namespace af::serve {

namespace {

using json = nlohmann::json;

void json_reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// The answer's counts and timing as each API reports them (Ollama: nanoseconds and token counts; OpenAI:
// usage).
void add_usage(teacher::ChatEndpoint endpoint, json& reply, const Answer& a, double seconds) {
  if (endpoint == teacher::ChatEndpoint::OpenAiChat) {
    reply["usage"] = {{"prompt_tokens", a.prompt_tokens},
                      {"completion_tokens", a.generated_tokens},
                      {"total_tokens", a.prompt_tokens + a.generated_tokens}};
    return;
  }
  reply["total_duration"] = static_cast<int64_t>(seconds * 1e9);
  reply["prompt_eval_count"] = a.prompt_tokens;
  reply["eval_count"] = a.generated_tokens;
}

// Ollama and OpenAI say "length" for an answer cut at the token limit and "stop" otherwise; a constraint that
// allowed nothing more (an unsatisfiable schema) ended the answer too.
std::string wire_finish_reason(const std::string& reason) {
  return reason == "length" ? "length" : "stop";
}

// A streamed answer, for clients that ask for one (Ollama streams unless told not to): the whole text in one
// chunk, then the closing chunk. Batched generation finishes a request's tokens together, so there is nothing
// to send earlier.
void stream_reply(teacher::ChatEndpoint endpoint, httplib::Response& res, const json& reply) {
  std::string body;
  if (endpoint == teacher::ChatEndpoint::OpenAiChat) {
    json chunk = reply;
    chunk["object"] = "chat.completion.chunk";
    chunk.erase("usage");
    json last = chunk;
    chunk["choices"][0]["delta"] = chunk["choices"][0]["message"];
    chunk["choices"][0].erase("message");
    chunk["choices"][0]["finish_reason"] = nullptr;
    last["choices"][0].erase("message");
    last["choices"][0]["delta"] = json::object();
    body = "data: " + chunk.dump() + "\n\ndata: " + last.dump() + "\n\ndata: [DONE]\n\n";
    res.status = 200;
    res.set_content(body, "text/event-stream");
    return;
  }
  json chunk = {{"model", reply["model"]}, {"done", false}};
  json last = reply;
  if (endpoint == teacher::ChatEndpoint::OllamaGenerate) {
    chunk["response"] = reply["response"];
    last["response"] = "";
  } else {
    chunk["message"] = reply["message"];
    last["message"]["content"] = "";
  }
  body = chunk.dump() + "\n" + last.dump() + "\n";
  res.status = 200;
  res.set_content(body, "application/x-ndjson");
}

// Ollama streams unless "stream": false; OpenAI only with "stream": true.
bool wants_stream(teacher::ChatEndpoint endpoint, const json& body) {
  const json stream = body.value("stream", json());
  if (stream.is_boolean()) return stream.get<bool>();
  return endpoint != teacher::ChatEndpoint::OpenAiChat;
}

}  // namespace

json ModelCard::ollama_tag() const {
  return {{"name", name},
          {"model", name},
          {"size", bytes},
          {"digest", ""},
          {"details",
           {{"format", "safetensors"},
            {"family", family},
            {"families", {family}},
            {"parameter_size", std::to_string(parameters)},
            {"quantization_level", dtype}}}};
}

ModelCard model_card(const student::Student& student, const std::string& name, const std::string& dtype) {
  ModelCard card;
  card.name = name;
  card.dtype = dtype;
  card.folder = student.model_dir;
  for (const auto& w : student.model->named_weights()) {
    card.parameters += static_cast<uint64_t>(w.tensor->numel());
    card.bytes += static_cast<uint64_t>(w.tensor->numel() * w.tensor->element_size());
  }
  return card;
}

Server::Server(ModelCard card, Engine& engine, Batcher& batcher, size_t max_batch)
    : card_(std::move(card)), engine_(engine), batcher_(batcher), http_(std::make_unique<httplib::Server>()) {
  // A connection waits on its thread while its request is in a batch: httplib's pool (8 threads) would cap
  // batches at 8 whatever serve.max_batch says, so it gets one thread per batch row and a few to spare.
  const size_t threads = std::max<size_t>(8, max_batch + 4);
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_tcp_nodelay(true);
  http_->set_socket_options(reuse_address_only);
  // A request is a chat, not a file: bounded before it is read (issue 22).
  http_->set_payload_max_length(kMaxDocumentBytes);
  http_->Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    json_reply(res, 200, {{"version", "0.0.0-astforge"}});
  });
  http_->Get("/api/tags", [this](const httplib::Request&, httplib::Response& res) {
    json_reply(res, 200, {{"models", {card_.ollama_tag()}}});
  });
  http_->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json_reply(res, 200,
               {{"object", "list"},
                {"data", {{{"id", card_.name}, {"object", "model"}, {"owned_by", "astforge"}}}}});
  });
  auto generate = [this](teacher::ChatEndpoint endpoint) {
    return [this, endpoint](const httplib::Request& req, httplib::Response& res) {
      auto t0 = std::chrono::steady_clock::now();
      json body = json::parse(req.body, nullptr, false);
      if (body.is_discarded()) return json_reply(res, 400, {{"error", "the request body is not JSON"}});
      std::string error;
      std::optional<teacher::ChatCall> call = teacher::parse_chat_call(endpoint, body, error);
      if (!call) return json_reply(res, 400, {{"error", error}});
      Answer answer;
      try {
        std::future<Answer> pending = batcher_.submit(engine_.prepare(*call));
        answer = pending.get();
      } catch (const Error& e) {
        log_debug(teacher::chat_path(endpoint), ": refused: ", e.what());
        return json_reply(res, e.code() == ExitCode::Usage ? 400 : 503, {{"error", e.describe()}});
      } catch (const std::exception& e) {
        log_error(teacher::chat_path(endpoint), ": ", e.what());
        return json_reply(res, 500, {{"error", e.what()}});
      }
      const std::string model = call->model.empty() ? card_.name : call->model;
      json reply =
          teacher::chat_reply(endpoint, model, answer.text, wire_finish_reason(answer.finish_reason), ids_++);
      add_usage(endpoint, reply, answer,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      ++answered_;
      if (wants_stream(endpoint, body)) return stream_reply(endpoint, res, reply);
      res.status = 200;
      res.set_content(reply.dump(), "application/json");
    };
  };
  for (auto endpoint : {teacher::ChatEndpoint::OllamaChat, teacher::ChatEndpoint::OllamaGenerate,
                        teacher::ChatEndpoint::OpenAiChat})
    http_->Post(teacher::chat_path(endpoint), generate(endpoint));
}

Server::~Server() = default;

int Server::bind(const std::string& host, int port) {
  int bound = port == 0 ? http_->bind_to_any_port(host) : (http_->bind_to_port(host, port) ? port : -1);
  if (bound > 0) widen_listen_backlog(bound);
  return bound;
}

void Server::listen() {
  http_->listen_after_bind();
}

void Server::stop() {
  http_->stop();
}

}  // namespace af::serve
