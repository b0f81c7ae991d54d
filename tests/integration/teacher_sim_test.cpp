// teacher-sim as a real HTTP server, driven by the real teacher client: every task over both protocols,
// answers that survive injected faults, and a clean stop on SIGTERM.
#include <doctest/doctest.h>

#include "core/error.h"
#include "core/files.h"
#include "core/parallel.h"
#include "dataset/schema_builder.h"
#include "jsonschema/schema.h"
#include "support/background_tool.h"
#include "support/temp_dir.h"
#include "teacher/client.h"
#include "teacher/prompts.h"

using namespace af::teacher;
using af::test::BackgroundTool;
using af::test::TempDir;
using json = nlohmann::json;

namespace {
const std::string kRoot = ASTFORGE_SOURCE_DIR;

TeacherSettings sim_settings(const std::string& port, std::string protocol = "ollama") {
  TeacherSettings s;
  s.hosts = {"http://127.0.0.1:" + port};
  s.protocol = std::move(protocol);
  s.model = "teacher-sim";
  s.retries = 30;
  s.retry_wait_seconds = 0.001;
  s.timeout_seconds = 10;
  return s;
}
}  // namespace

TEST_CASE("the dataset tasks end to end through teacher-sim, under injected faults") {
  TempDir dir;
  BackgroundTool sim("teacher-sim", {"--port", "0", "--port-file", dir.file("port"), "--fail-rate", "0.2",
                                     "--garbage-rate", "0.15", "--drop-rate", "0.15", "--seed", "4"});
  std::string port = sim.wait_for_file(dir.file("port"));
  TeacherClient client(sim_settings(port));
  client.check_reachable();

  json prompt = json::parse(R"({"domain_id": "shipments", "domain": "Shipments", "entity": "shipment"})");
  auto spec_answer = client.ask(domain_spec_request(prompt, 5, 0.3, 4), 0, [](const json& v) {
    try {
      af::dataset::parse_domain_spec(v, "answer");
      return std::string();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
  });
  auto spec = af::dataset::parse_domain_spec(spec_answer.value, "answer");
  CHECK(spec.domain_id == "shipments");
  CHECK(spec_answer.value["example_queries"].size() == 5);

  auto catalog = af::dataset::load_operator_catalog(kRoot + "/data/operator_catalog.json");
  auto built = af::dataset::build_schema(
      spec, json::parse(af::read_file(kRoot + "/data/base_schema_template.json")), catalog, {4, 7}, 4);
  json row = built.to_row(spec);
  auto queries = client.ask(queries_request(row, 24, 0, 0.3, 0.2, 4), 1).value["queries"];
  REQUIRE(queries.size() == 24);

  auto schema = af::jsonschema::Schema::compile(built.schema);
  std::vector<json> asts(queries.size());
  af::parallel_for(queries.size(), 4, [&](size_t i) {
    asts[i] = client
                  .ask(ast_request(built.schema, queries[i]["text"], 4), i,
                       [&](const json& v) { return schema.is_valid(v) ? "" : "not valid under the schema"; })
                  .value;
  });
  for (const auto& a : asts) CHECK(schema.validate(a).empty());

  json verdict = client.ask(judge_request(built.schema, queries[0]["text"], asts[0], 4), 0).value;
  CHECK(verdict["verdict"] == "accept");
  CHECK(verdict["ast"] == asts[0]);
  CHECK(sim.terminate() == 0);
  CHECK(sim.err().find("stopping (signal 15)") != std::string::npos);
}

TEST_CASE("teacher-sim speaks the OpenAI protocol and answers unknown tasks with a 400") {
  TempDir dir;
  BackgroundTool sim("teacher-sim", {"--port", "0", "--port-file", dir.file("port")});
  std::string port = sim.wait_for_file(dir.file("port"));
  TeacherClient openai(sim_settings(port, "openai"));
  openai.check_reachable();
  json prompt = json::parse(R"({"domain_id": "films", "domain": "Films", "entity": "film"})");
  CHECK(openai.ask(domain_spec_request(prompt, 2, 0.5, 1), 0).value["domain_id"] == "films");
  json unknown = json::parse(R"({"domain_id": "dinosaurs", "domain": "Dinosaurs", "entity": "fossil"})");
  TeacherClient ollama(sim_settings(port));
  CHECK_THROWS_WITH_AS(ollama.ask(domain_spec_request(unknown, 2, 0.5, 1), 0),
                       doctest::Contains("teacher-sim has no lexicon for the domain \"dinosaurs\""),
                       af::Error);
}

TEST_CASE("the same seed gives the same answers across server runs") {
  TempDir dir;
  json prompt =
      json::parse(R"({"domain_id": "restaurants", "domain": "Restaurants", "entity": "restaurant"})");
  json first, second;
  for (json* out : {&first, &second}) {
    std::string port_file = dir.file(out == &first ? "p1" : "p2");
    BackgroundTool sim("teacher-sim", {"--port", "0", "--port-file", port_file, "--seed", "77"});
    TeacherClient client(sim_settings(sim.wait_for_file(port_file)));
    *out = client.ask(domain_spec_request(prompt, 6, 0.5, 77), 0).value;
  }
  CHECK(first == second);
}
