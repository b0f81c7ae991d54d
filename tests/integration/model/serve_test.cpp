// serve as a real HTTP server on a real tiny student, driven by the project's own teacher client (so serve
// can stand in for a teacher): answers held to the request's schema over both protocols, concurrent requests
// batched yet answered exactly as alone, the same answer predict gives, the HTTP surface (tags, streaming,
// generate), refusals as 400s, and a clean stop on SIGTERM that answers the request in flight.
#include "support/torch_doctest.h"

#include <httplib.h>

#include <regex>
#include <thread>

#include "core/error.h"
#include "dataset/student_prompt.h"
#include "jsonschema/schema.h"
#include "model/scratch.h"
#include "support/background_tool.h"
#include "support/json_lines.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"
#include "teacher/client.h"

using af::test::BackgroundTool;
using af::test::run_tool;
using af::test::TempDir;
using json = nlohmann::json;

namespace {

// The DSL's shape in small: a condition is allOf[oneOf[...], $ref] (what llama.cpp's grammar converters get
// wrong), with enums, a required list and closed objects.
const json kSchema = json::parse(R"({
  "type": "object",
  "additionalProperties": false,
  "required": ["filter"],
  "properties": {
    "filter": {"$ref": "#/$defs/condition"},
    "limit": {"type": "integer", "minimum": 1, "maximum": 50}
  },
  "$defs": {
    "base": {"type": "object", "required": ["field", "op"]},
    "condition": {
      "allOf": [
        {"oneOf": [
          {"type": "object", "additionalProperties": false, "required": ["field", "op", "value"],
           "properties": {"field": {"enum": ["total", "status"]}, "op": {"const": "above"},
                          "value": {"type": "number"}}},
          {"type": "object", "additionalProperties": false, "required": ["field", "op"],
           "properties": {"field": {"enum": ["status"]}, "op": {"const": "is_set"}}}
        ]},
        {"$ref": "#/$defs/base"}
      ]
    }
  }
})");

// A scratch student whose tokenizer was trained on JSON and requests (untrained weights: its answers are
// noise, which is what the constraint has to hold).
std::string scratch_model(const TempDir& dir) {
  std::vector<std::string> texts;
  for (int i = 0; i < 120; ++i)
    texts.push_back("{\"filter\":{\"field\":\"total\",\"op\":\"above\",\"value\":" + std::to_string(i) +
                    "},\"limit\":" + std::to_string(i % 50 + 1) + "} show orders above " + std::to_string(i) +
                    " Schema: Request: Answer with one JSON object. status is_set");
  af::model::ScratchSpec spec;
  spec.vocab_size = 320;
  spec.hidden_size = 32;
  spec.num_layers = 2;
  spec.num_heads = 2;
  spec.head_dim = 16;
  spec.intermediate_size = 64;
  af::model::build_scratch_model(spec, texts, dir.file("model"), 5);
  return dir.file("model");
}

// serve on a free port; `extra` flags after the common ones.
struct Served {
  BackgroundTool tool;
  std::string port;
  Served(const TempDir& dir, const std::string& model, std::vector<std::string> extra)
      : tool("serve", [&] {
          std::vector<std::string> args = {"--model", model,     "--adapter",        "null",
                                           "--port",  "0",       "--port-file",      dir.file("port"),
                                           "--name",  "student", "--max-new-tokens", "120"};
          args.insert(args.end(), extra.begin(), extra.end());
          return args;
        }()) {
    port = tool.wait_for_file(dir.file("port"), 60);
    while (!port.empty() && port.back() == '\n') port.pop_back();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", std::stoi(port));
    c.set_read_timeout(60, 0);
    return c;
  }
};

af::teacher::TeacherSettings client_settings(const std::string& port, const std::string& protocol) {
  af::teacher::TeacherSettings s;
  s.hosts = {"http://127.0.0.1:" + port};
  s.protocol = protocol;
  s.model = "student";
  s.retries = 0;  // serve answers right the first time, or the test fails
  s.timeout_seconds = 60;
  return s;
}

json chat_body(const std::string& user, const json& format, const json& options) {
  json body = {{"model", "student"},
               {"stream", false},
               {"messages", {{{"role", "user"}, {"content", user}}}},
               {"options", options}};
  if (!format.is_null()) body["format"] = format;
  return body;
}

std::string post(httplib::Client& c, const std::string& path, const json& body, int& status) {
  auto res = c.Post(path.c_str(), body.dump(), "application/json");
  status = res ? res->status : -1;
  return res ? res->body : std::string();
}

std::vector<int> batch_sizes(const std::string& err) {
  std::vector<int> sizes;
  std::regex line("batch of ([0-9]+) request");
  for (auto it = std::sregex_iterator(err.begin(), err.end(), line); it != std::sregex_iterator(); ++it)
    sizes.push_back(std::stoi((*it)[1]));
  return sizes;
}

}  // namespace

TEST_CASE(
    "serve answers the project's teacher client over both protocols, every answer valid under its schema") {
  TempDir dir;
  Served serve(dir, scratch_model(dir), {});
  auto schema = af::jsonschema::Schema::compile(kSchema);
  for (const std::string protocol : {"ollama", "openai"}) {
    af::teacher::TeacherClient client(client_settings(serve.port, protocol));
    client.check_reachable();
    for (uint64_t i = 0; i < 6; ++i) {
      af::teacher::ChatRequest q;
      q.system = "Answer with one JSON object.";
      q.user = "show orders above " + std::to_string(i * 7);
      q.format = kSchema;
      q.seed = i;
      af::teacher::ChatAnswer a = client.ask(q, i);
      CAPTURE(a.text);
      CHECK(a.attempts == 1);
      CHECK(schema.validate(a.value).empty());
    }
  }
  CHECK(serve.tool.terminate() == 0);
  CHECK(serve.tool.err().find("stopped after 12 answers") != std::string::npos);
}

TEST_CASE("concurrent requests share generation batches and get exactly the answers they get alone") {
  TempDir dir;
  Served serve(dir, scratch_model(dir), {"--max-batch", "8", "--batch-window-ms", "400"});
  std::vector<json> bodies;
  for (int i = 0; i < 6; ++i)
    bodies.push_back(chat_body("orders above " + std::to_string(i), i % 2 == 0 ? kSchema : json(),
                               {{"temperature", 0.9}, {"seed", 100 + i}, {"num_predict", 60}}));
  std::vector<std::string> alone(bodies.size()), together(bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    auto c = serve.client();
    int status = 0;
    alone[i] = json::parse(post(c, "/api/chat", bodies[i], status))["message"]["content"];
    REQUIRE(status == 200);
  }
  std::vector<std::thread> threads;
  std::vector<int> statuses(bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i)
    threads.emplace_back([&, i] {
      auto c = serve.client();
      std::string body = post(c, "/api/chat", bodies[i], statuses[i]);
      if (statuses[i] == 200) together[i] = json::parse(body)["message"]["content"];
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < bodies.size(); ++i) {
    CAPTURE(i);
    CHECK(statuses[i] == 200);
    CHECK(together[i] == alone[i]);
  }
  // Sampled rows with their own seeds differ from one another: the comparison above is not of six copies.
  CHECK(alone[1] != alone[3]);
  CHECK(serve.tool.terminate() == 0);
  std::vector<int> sizes = batch_sizes(serve.tool.err());
  REQUIRE(sizes.size() >= 7);
  for (size_t i = 0; i < bodies.size(); ++i) CHECK(sizes[i] == 1);  // the requests sent one at a time
  CHECK(*std::max_element(sizes.begin() + 6, sizes.end()) >= 3);    // the concurrent ones, together
}

TEST_CASE("serve's constrained greedy answer is predict's for the same row") {
  TempDir dir;
  std::string model = scratch_model(dir);
  const std::string query = "show orders above 12";
  dir.write("in.jsonl", json{{"schema", kSchema}, {"query", query}}.dump() + "\n");
  auto predicted = run_tool("predict", {"--model", model, "--adapter", "null", "--input",
                                        dir.file("in.jsonl"), "--constrained", "--max-new-tokens", "120"});
  REQUIRE_MESSAGE(predicted.exit_code == 0, predicted.err);
  const std::string expected = json::parse(predicted.out)["raw_output"];
  Served serve(dir, model, {});
  auto c = serve.client();
  int status = 0;
  json answer = json::parse(
      post(c, "/api/chat",
           chat_body(af::dataset::student_prompt(kSchema, query), kSchema, {{"temperature", 0}}), status));
  REQUIRE(status == 200);
  CHECK(answer["message"]["content"] == expected);
  CHECK(answer["done_reason"] == "stop");
  CHECK(answer["eval_count"].get<int>() > 0);
  // Without the format, the same greedy model is free: its answer is predict's unconstrained one.
  auto free_run = run_tool("predict", {"--model", model, "--adapter", "null", "--input", dir.file("in.jsonl"),
                                       "--max-new-tokens", "120"});
  REQUIRE(free_run.exit_code == 0);
  json unconstrained = json::parse(
      post(c, "/api/chat",
           chat_body(af::dataset::student_prompt(kSchema, query), json(), {{"temperature", 0}}), status));
  CHECK(unconstrained["message"]["content"] == json::parse(free_run.out)["raw_output"]);
  CHECK(serve.tool.terminate() == 0);
}

TEST_CASE("serve's HTTP surface: tags, models, generate, streaming, and refusals as 400s") {
  TempDir dir;
  Served serve(dir, scratch_model(dir), {});
  auto c = serve.client();
  auto tags = c.Get("/api/tags");
  REQUIRE(tags);
  json models = json::parse(tags->body)["models"];
  REQUIRE(models.size() == 1);
  CHECK(models[0]["name"] == "student");
  CHECK(models[0]["details"]["family"] == "gemma3");
  CHECK(models[0]["details"]["quantization_level"] == "float32");
  CHECK(models[0]["size"].get<int64_t>() > 0);
  auto v1 = c.Get("/v1/models");
  REQUIRE(v1);
  CHECK(json::parse(v1->body)["data"][0]["id"] == "student");

  int status = 0;
  json generated = json::parse(post(c, "/api/generate",
                                    {{"model", "student"},
                                     {"prompt", "orders above 3"},
                                     {"format", kSchema},
                                     {"stream", false},
                                     {"options", {{"temperature", 0}}}},
                                    status));
  REQUIRE(status == 200);
  CHECK(af::jsonschema::Schema::compile(kSchema)
            .validate(json::parse(generated["response"].get<std::string>()))
            .empty());
  CHECK(generated["done"] == true);

  // Ollama streams unless told not to: NDJSON, the answer then a closing line with done.
  json streamed_body = chat_body("orders above 3", kSchema, {{"temperature", 0}});
  streamed_body.erase("stream");
  std::vector<json> lines = af::test::json_lines(post(c, "/api/chat", streamed_body, status));
  REQUIRE(status == 200);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["done"] == false);
  CHECK(lines[1]["done"] == true);
  std::string text = lines[0]["message"]["content"];
  json whole =
      json::parse(post(c, "/api/chat", chat_body("orders above 3", kSchema, {{"temperature", 0}}), status));
  CHECK(text == whole["message"]["content"]);
  // OpenAI: server-sent events ending in [DONE]; json_schema enforced the same way.
  json openai = {
      {"model", "student"},
      {"stream", true},
      {"temperature", 0},
      {"messages", {{{"role", "user"}, {"content", "orders above 3"}}}},
      {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "q"}, {"schema", kSchema}}}}}};
  std::string events = post(c, "/v1/chat/completions", openai, status);
  REQUIRE(status == 200);
  CHECK(events.find("data: [DONE]") != std::string::npos);
  json first = json::parse(events.substr(6, events.find('\n') - 6));
  CHECK(first["choices"][0]["delta"]["content"] == text);

  // Refusals: each a 400 whose error says what is wrong.
  auto refused = [&](const json& body, const std::string& says) {
    std::string reply = post(c, "/api/chat", body, status);
    CAPTURE(reply);
    CHECK(status == 400);
    CHECK(reply.find(says) != std::string::npos);
  };
  refused(chat_body("x", kSchema, {{"temperature", "hot"}}), "option temperature must be a number");
  refused(chat_body("x", kSchema, {{"num_predict", 2}}), "the shortest answer the format allows takes");
  refused(chat_body("x", json{{"type", 12}}, json::object()), "error");
  refused(json{{"model", "student"}, {"stream", false}}, "no messages array");
  auto broken = c.Post("/api/chat", "{not json", "application/json");
  REQUIRE(broken);
  CHECK(broken->status == 400);
  // A refused request does not stop the server.
  post(c, "/api/chat", chat_body("orders above 4", json(), {{"num_predict", 3}}), status);
  CHECK(status == 200);
  CHECK(serve.tool.terminate() == 0);
}

TEST_CASE("SIGTERM stops serve after the request in flight is answered") {
  TempDir dir;
  // A long batch window keeps the request waiting when the signal comes.
  Served serve(dir, scratch_model(dir), {"--batch-window-ms", "1500"});
  int status = 0;
  std::string reply;
  std::thread request([&] {
    auto c = serve.client();
    reply = post(c, "/api/chat", chat_body("orders above 5", kSchema, {{"temperature", 0}}), status);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(serve.tool.terminate() == 0);
  request.join();
  CHECK(status == 200);
  CHECK(json::parse(reply)["done"] == true);
  CHECK(serve.tool.err().find("stopping (signal 15)") != std::string::npos);
}

TEST_CASE("serve refuses a port that is taken and a model folder that is not there, naming them") {
  TempDir dir;
  std::string model = scratch_model(dir);
  Served first(dir, model, {});
  auto taken = run_tool("serve", {"--model", model, "--adapter", "null", "--port", first.port});
  CHECK(taken.exit_code == 1);
  CHECK(taken.err.find("cannot listen on 127.0.0.1:" + first.port) != std::string::npos);
  auto missing = run_tool("serve", {"--model", dir.file("nowhere"), "--adapter", "null", "--port", "0"});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find(dir.file("nowhere")) != std::string::npos);
  CHECK(first.tool.terminate() == 0);
}
