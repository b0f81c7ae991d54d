// predict on a real scratch model folder: output rows, determinism across batch sizes, adapters (separate and
// merged give the same text), --tokenize, clear errors for bad rows and folders, and constrained decoding
// (valid documents from an untrained model; token masks equal to a brute-force check).
#include "support/torch_doctest.h"

#include <algorithm>
#include <filesystem>

#include "constrain/token_mask.h"
#include "dataset/student_prompt.h"
#include "jsonschema/schema.h"
#include "model/lora.h"
#include "model/model_folder.h"
#include "model/scratch.h"
#include "support/json_lines.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"
#include "text/chat_template.h"
#include "text/load_tokenizer.h"

using af::test::run_tool;
using af::test::TempDir;
using json = nlohmann::json;

namespace {

const json kSchema =
    json::parse(R"({"type":"object","properties":{"filter":{"type":"object"}},"required":["filter"]})");

// A scratch student (tokenizer trained on a few lines) in dir/model.
std::string scratch_model(const TempDir& dir) {
  std::vector<std::string> texts;
  for (int i = 0; i < 120; ++i)
    texts.push_back("{\"filter\":{\"field\":\"total\",\"op\":\"above\",\"value\":" + std::to_string(i) +
                    "}} show orders above " + std::to_string(i) +
                    " Schema: Request: Answer with one JSON object.");
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

std::string input_rows(const TempDir& dir) {
  json a = {{"id", "a"}, {"schema", kSchema}, {"query", "show orders above 10"}};
  json b = {{"schema", kSchema}, {"query", "orders above 3"}};
  json c = {{"prompt", "Request: anything"}};
  return dir.write("in.jsonl", a.dump() + "\n" + b.dump() + "\n\n" + c.dump() + "\n");
}

}  // namespace

TEST_CASE("predict writes one row per input with the output, its parse and timing, greedy is deterministic") {
  TempDir dir;
  std::string model = scratch_model(dir);
  std::string in = input_rows(dir);
  auto run = [&](const std::string& out, const std::string& batch) {
    return run_tool("predict", {"--model", model, "--adapter", "null", "--input", in, "--output", out,
                                "--max-new-tokens", "12", "--batch-size", batch, "--threads", "1"});
  };
  auto r = run(dir.file("out1.jsonl"), "1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.err.find("predicted 3 rows") != std::string::npos);
  std::vector<json> rows = af::test::json_lines(af::test::slurp(dir.file("out1.jsonl")));
  REQUIRE(rows.size() == 3);
  CHECK(rows[0]["id"] == "a");
  CHECK(rows[0]["query"] == "show orders above 10");
  CHECK(rows[2]["index"] == 2);
  for (const auto& row : rows) {
    CHECK(row["raw_output"].is_string());
    CHECK(row["generated_tokens"].get<int>() <= 12);
    CHECK((row["finish_reason"] == "stop" || row["finish_reason"] == "length"));
    if (row["finish_reason"] == "length") CHECK(row["generated_tokens"] == 12);
    CHECK(row["batch_seconds"].get<double>() >= 0);
    // An untrained model writes no valid AST: the reason is given instead.
    CHECK((row["ast"].is_null() == row.contains("parse_error")));
  }
  // The prompt the model saw is the chat template around the student prompt.
  auto tok = af::text::load_tokenizer(model);
  CHECK(rows[1]["prompt_tokens"] ==
        af::text::tokenize_prompt(*tok, af::dataset::student_prompt(kSchema, "orders above 3")).size());
  auto r3 = run(dir.file("out3.jsonl"), "3");
  REQUIRE(r3.exit_code == 0);
  std::vector<json> rows3 = af::test::json_lines(af::test::slurp(dir.file("out3.jsonl")));
  for (size_t i = 0; i < 3; ++i) CHECK(rows3[i]["raw_output"] == rows[i]["raw_output"]);
}

TEST_CASE("an adapter changes the output, and its merged folder gives the same output") {
  TempDir dir;
  std::string model = scratch_model(dir);
  std::string in = input_rows(dir);
  {
    auto m = af::model::load_model(model, at::TensorOptions().dtype(at::kFloat));
    af::model::LoraSettings s;
    s.r = 4;
    s.lora_alpha = 64;
    s.init_lora_weights = "false";  // B random: the adapter changes the model
    af::model::add_lora(*m, s, 9);
    af::model::save_adapter(*m, s, dir.file("adapter"));
    af::model::merge_lora(*m);
    af::model::save_model(*m, dir.file("merged"), at::kFloat, model);
  }
  auto run = [&](const std::vector<std::string>& extra, const std::string& out) {
    std::vector<std::string> args = {"--input", in, "--output", dir.file(out), "--max-new-tokens", "10"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = run_tool("predict", args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return af::test::json_lines(af::test::slurp(dir.file(out)));
  };
  auto base = run({"--model", model, "--adapter", "null"}, "base.jsonl");
  auto adapted = run({"--model", model, "--adapter", dir.file("adapter")}, "adapted.jsonl");
  auto merged = run({"--model", dir.file("merged"), "--adapter", "null"}, "merged.jsonl");
  bool differs = false;
  for (size_t i = 0; i < base.size(); ++i) {
    differs = differs || base[i]["raw_output"] != adapted[i]["raw_output"];
    CHECK(adapted[i]["raw_output"] == merged[i]["raw_output"]);
  }
  CHECK(differs);
  // bfloat16 runs the same folder.
  auto bf16 = run({"--model", model, "--adapter", dir.file("adapter"), "--dtype", "bfloat16"}, "bf16.jsonl");
  CHECK(bf16.size() == 3);
}

TEST_CASE("predict --tokenize prints the ids the model sees, without loading weights") {
  TempDir dir;
  std::string model = scratch_model(dir);
  std::filesystem::remove(dir.file("model/model.safetensors"));  // proves no weights are read
  json rows[] = {{{"text", "show orders"}},
                 {{"schema", kSchema}, {"query", "orders above 3"}},
                 {{"prompt", "p"}, {"completion", "{\"a\":1}"}}};
  std::string in =
      dir.write("in.jsonl", rows[0].dump() + "\n" + rows[1].dump() + "\n" + rows[2].dump() + "\n");
  auto r = run_tool("predict", {"--model", model, "--tokenize", "--input", in});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::vector<json> out = af::test::json_lines(r.out);
  auto tok = af::text::load_tokenizer(model);
  REQUIRE(out.size() == 3);
  CHECK(out[0] == json(tok->encode("show orders")));
  CHECK(out[1] ==
        json(af::text::tokenize_prompt(*tok, af::dataset::student_prompt(kSchema, "orders above 3"))));
  CHECK(out[2] == json(af::text::tokenize_example(*tok, "p", "{\"a\":1}").ids));
}

TEST_CASE("bad rows and bad folders are usage errors that say where and what to do") {
  TempDir dir;
  std::string model = scratch_model(dir);
  std::string bad = dir.write("bad.jsonl", "{\"prompt\":\"ok\"}\n{\"query\":\"no schema\"}\n");
  auto r = run_tool("predict", {"--model", model, "--adapter", "null", "--input", bad});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(bad + ":2: needs 'schema' and 'query' (or a raw 'prompt')") != std::string::npos);
  std::string broken = dir.write("broken.jsonl", "{\"prompt\":\n");
  r = run_tool("predict", {"--model", model, "--adapter", "null", "--input", broken});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(broken + ":1:") != std::string::npos);
  std::string ok = dir.write("ok.jsonl", "{\"prompt\":\"ok\"}\n");
  r = run_tool("predict", {"--model", dir.file("nope"), "--adapter", "null", "--input", ok});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("model folder not found: " + dir.file("nope")) != std::string::npos);
  r = run_tool("predict", {"--model", model, "--adapter", dir.file("nope"), "--input", ok});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("checkpoint not found: " + dir.file("nope")) != std::string::npos);
  std::filesystem::create_directories(dir.file("empty"));  // a folder that is neither an adapter nor a model
  r = run_tool("predict", {"--model", model, "--adapter", dir.file("empty"), "--input", ok});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no adapter_config.json") != std::string::npos);
  CHECK(!std::filesystem::exists(dir.file("out.jsonl")));
}

TEST_CASE("predict --constrained: every row is a complete document the schema accepts, greedy and sampled") {
  TempDir dir;
  std::string model = scratch_model(dir);
  const json schema = json::parse(R"({"type":"object","properties":{"op":{"enum":["above","below"]},
      "value":{"type":"integer","minimum":0,"maximum":99}},"required":["op","value"],
      "additionalProperties":false})");
  std::string rows;
  for (int i = 0; i < 6; ++i)
    rows += json{{"schema", schema}, {"query", "orders above " + std::to_string(i)}}.dump() + "\n";
  std::string in = dir.write("in.jsonl", rows);
  auto validator = af::jsonschema::Schema::compile(schema);
  for (const char* sample : {"false", "true"}) {
    std::string out = dir.file(std::string("out-") + sample + ".jsonl");
    auto r = run_tool(
        "predict", {"--model", model, "--adapter", "null", "--input", in, "--output", out, "--max-new-tokens",
                    "64", "--batch-size", "4", "--threads", "1", "--constrained", "--do-sample", sample});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    for (const json& row : af::test::json_lines(af::test::slurp(out))) {
      CHECK(row["constrained"] == true);
      CHECK(row["constraint_unenforced"].empty());
      CHECK(row["finish_reason"] == "stop");  // the document closes long before 64 tokens
      REQUIRE_MESSAGE(!row["ast"].is_null(), row.dump());
      CHECK_MESSAGE(validator.is_valid(row["ast"]), row.dump());
      CHECK(row["raw_output"] == row["ast_canonical"]);  // canonical text, key order included
    }
  }
  // Without a schema there is nothing to constrain to.
  std::string bare = dir.write("bare.jsonl", json{{"prompt", "Request: anything"}}.dump() + "\n");
  auto r = run_tool("predict", {"--model", model, "--adapter", "null", "--input", bare, "--constrained"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("bare.jsonl:1: --constrained needs the row's 'schema'") != std::string::npos);
}

TEST_CASE("predict --constrained closes every document within --max-new-tokens, down to the shortest one") {
  TempDir dir;
  std::string model = scratch_model(dir);
  // The shortest document: {"note":"","op":"above","value":0} (34 bytes); an untrained model wanders.
  const json schema = json::parse(R"({"type":"object","properties":{"op":{"enum":["above","below"]},
      "note":{"type":"string"},"value":{"type":"integer","minimum":0,"maximum":99}},
      "required":["note","op","value"],"additionalProperties":false})");
  std::string rows;
  for (int i = 0; i < 4; ++i)
    rows += json{{"schema", schema}, {"query", "orders above " + std::to_string(i)}}.dump() + "\n";
  std::string in = dir.write("in.jsonl", rows);
  auto validator = af::jsonschema::Schema::compile(schema);
  for (int budget : {34, 35, 38, 46}) {
    for (const char* sample : {"false", "true"}) {
      std::string out = dir.file("out-" + std::to_string(budget) + sample + ".jsonl");
      auto r = run_tool("predict", {"--model", model, "--adapter", "null", "--input", in, "--output", out,
                                    "--max-new-tokens", std::to_string(budget), "--threads", "1",
                                    "--constrained", "--do-sample", sample, "--seed", "3"});
      REQUIRE_MESSAGE(r.exit_code == 0, r.err);
      for (const json& row : af::test::json_lines(af::test::slurp(out))) {
        CHECK_MESSAGE(row["finish_reason"] == "stop", row.dump());
        CHECK(row["generated_tokens"].get<int>() <= budget);
        REQUIRE_MESSAGE(!row["ast"].is_null(), row.dump());
        CHECK_MESSAGE(validator.is_valid(row["ast"]), row.dump());
      }
    }
  }
  // One token short of the shortest document: refused before the model loads, naming the row.
  auto r = run_tool("predict", {"--model", model, "--adapter", "null", "--input", in, "--output",
                                dir.file("short.jsonl"), "--max-new-tokens", "33", "--constrained"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(in + ":1: the shortest document its schema allows takes 34 tokens") != std::string::npos);
  CHECK(r.err.find("raise evaluation.max_new_tokens to at least 34") != std::string::npos);
  CHECK(!std::filesystem::exists(dir.file("short.jsonl")));
}

TEST_CASE("token masks equal trying every token through the matcher, on the scratch tokenizer") {
  TempDir dir;
  std::string model = scratch_model(dir);
  auto tok = af::text::load_tokenizer(model);
  std::vector<int32_t> stops = af::text::stop_tokens(*tok);
  auto vocab = af::constrain::TokenVocabulary::of(*tok, stops);
  auto grammar = af::constrain::SchemaGrammar::compile(json::parse(R"({"type":"object","properties":{
      "filter":{"type":"object","properties":{"field":{"enum":["total","city"]},"value":{"type":"string"}},
      "required":["field","value"],"additionalProperties":false}},"required":["filter"],
      "additionalProperties":false})"));
  af::constrain::SchemaConstraint c(vocab, grammar, af::constrain::KeyOrder::Sorted);
  // Walk a valid document token by token; at each step the mask must be exactly the tokens whose bytes the
  // matcher takes (and the stop tokens only at the end).
  std::vector<int32_t> ids = tok->encode(R"({"filter":{"field":"city","value":"Lyon \"2\""}})");
  for (size_t step = 0; step <= ids.size(); ++step) {
    const af::constrain::TokenBits& allowed = c.allowed();
    for (size_t id = 0; id < vocab->size(); ++id) {
      af::constrain::JsonMatcher probe(grammar, af::constrain::KeyOrder::Sorted);
      bool expect = false;
      bool is_stop = std::find(stops.begin(), stops.end(), static_cast<int32_t>(id)) != stops.end();
      if (is_stop) {
        expect = c.complete();
      } else if (!vocab->bytes(static_cast<int32_t>(id)).empty()) {
        REQUIRE(probe.advance(c.text()));
        expect = probe.advance(vocab->bytes(static_cast<int32_t>(id)));
      }
      CHECK_MESSAGE(
          af::constrain::has_token(allowed, static_cast<int32_t>(id)) == expect,
          "step " << step << " token " << id << " '" << vocab->bytes(static_cast<int32_t>(id)) << "'");
    }
    if (step < ids.size()) REQUIRE(c.accept(ids[step]));
  }
  CHECK(c.complete());
}
