#include "teachersim/server.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "core/hash.h"
#include "core/log.h"
#include "core/net.h"
#include "teacher/chat_wire.h"
#include "teacher/prompts.h"

namespace af::teachersim {
namespace {

using json = nlohmann::json;

const char* kGarbage = "Sure! Here is the information you asked for, in plain words rather than JSON.";

}  // namespace

SimServer::SimServer(Sim sim, Faults faults, uint64_t seed)
    : sim_(std::move(sim)), faults_(faults), seed_(seed), server_(std::make_unique<httplib::Server>()) {
  server_->set_tcp_nodelay(true);  // answers are written in pieces: see the client's note on Nagle
  server_->set_socket_options(reuse_address_only);
  auto json_reply = [](httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  };
  server_->Get("/api/version", [=](const httplib::Request&, httplib::Response& res) {
    json_reply(res, 200, {{"version", "0.0.0-teacher-sim"}});
  });
  server_->Get("/api/tags", [=](const httplib::Request&, httplib::Response& res) {
    json_reply(res, 200, {{"models", {{{"name", "teacher-sim"}, {"model", "teacher-sim"}}}}});
  });
  server_->Get("/v1/models", [=](const httplib::Request&, httplib::Response& res) {
    json_reply(res, 200, {{"object", "list"}, {"data", {{{"id", "teacher-sim"}, {"object", "model"}}}}});
  });
  // One handler for the three generation endpoints: the wire (lib/teacher/chat_wire) says where the text
  // goes.
  auto generate = [this, json_reply](teacher::ChatEndpoint endpoint) {
    return [this, json_reply, endpoint](const httplib::Request& req, httplib::Response& res) {
      uint64_t n = requests_++;
      if (faults_.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(faults_.delay_ms));
      if (fault(faults_.fail_rate, n, 1))
        return json_reply(res, 500, {{"error", "teacher-sim: injected failure"}});
      json body = json::parse(req.body, nullptr, false);
      if (body.is_discarded()) return json_reply(res, 400, {{"error", "the request body is not JSON"}});
      std::string error;
      std::optional<teacher::ChatCall> call = teacher::parse_chat_call(endpoint, body, error);
      if (!call) return json_reply(res, 400, {{"error", error}});
      const std::string model = call->model.empty() ? "teacher-sim" : call->model;
      int status = 200;
      std::string content = fault(faults_.garbage_rate, n, 2) ? kGarbage : answer_chat(call->user, status);
      if (status != 200) return json_reply(res, status, {{"error", content}});
      json reply = teacher::chat_reply(endpoint, model, content, "stop", n);
      std::string text = reply.dump();
      if (fault(faults_.drop_rate, n, 3)) {
        // Send half of the answer, then close the connection.
        res.set_content_provider(text.size(), "application/json",
                                 [text](size_t offset, size_t, httplib::DataSink& sink) {
                                   if (offset == 0) sink.write(text.data(), text.size() / 2);
                                   return false;
                                 });
        return;
      }
      res.set_content(text, "application/json");
    };
  };
  for (auto endpoint : {teacher::ChatEndpoint::OllamaChat, teacher::ChatEndpoint::OllamaGenerate,
                        teacher::ChatEndpoint::OpenAiChat})
    server_->Post(teacher::chat_path(endpoint), generate(endpoint));
}

SimServer::~SimServer() = default;

bool SimServer::fault(double rate, uint64_t request, uint64_t salt) const {
  if (rate <= 0) return false;
  // Deterministic per (seed, request number): the same run injects the same faults.
  uint64_t h = (seed_ + 0x9E3779B97F4A7C15ull * (request + 1)) ^ (salt * 0xBF58476D1CE4E5B9ull);
  h ^= h >> 31;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 29;
  return static_cast<double>(h % 1000000) / 1e6 < rate;
}

std::string SimServer::answer_chat(const std::string& user_message, int& status) {
  auto task = teacher::read_task(user_message);
  if (!task) {
    status = 400;
    return "teacher-sim answers only astforge's tasks (a message with an \"" +
           std::string(teacher::kInputMarker) + "\" block)";
  }
  try {
    json answer = sim_.answer(task->first, task->second);
    // A first answer the schema refuses (an extra key at the root), as a real LLM sometimes writes. Chosen by
    // the question, not by its arrival order, so concurrent clients get the same dataset every run.
    if (task->first == "ast" && fault(faults_.invalid_rate, fnv1a64(user_message), 4))
      answer["note"] = "teacher-sim: a key the schema does not allow";
    return answer.dump();
  } catch (const TaskError& e) {
    status = 400;
    return std::string("teacher-sim: ") + e.what();
  }
}

int SimServer::bind(const std::string& host, int port) {
  int bound = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (bound > 0) widen_listen_backlog(bound);
  return bound;
}

void SimServer::listen() {
  server_->listen_after_bind();
}

void SimServer::stop() {
  server_->stop();
}

}  // namespace af::teachersim

namespace af::teachersim {

ServerThread::ServerThread(Sim sim, Faults faults, uint64_t seed) : server_(std::move(sim), faults, seed) {
  port_ = server_.bind("127.0.0.1", 0);
  if (port_ <= 0) throw std::runtime_error("teacher-sim: cannot bind a loopback port");
  thread_ = std::thread([this] { server_.listen(); });
}

ServerThread::~ServerThread() {
  server_.stop();
  thread_.join();
}

}  // namespace af::teachersim
