// `ds-build validate`: one JSON line per instance, exit 0 / 1 / 2, schemas from files with sibling $refs.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support/json_lines.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"

using af::test::run_tool;
using af::test::TempDir;
using json = nlohmann::json;

TEST_CASE("each line gets a verdict with every error, exit 1 when any is invalid") {
  TempDir dir;
  dir.write("defs.json", R"({"$defs": {"op": {"enum": ["gt", "lt"]}}})");
  std::string schema = dir.write("s.json", R"({
    "type": "object",
    "properties": {"field": {"type": "string", "minLength": 1}, "op": {"$ref": "defs.json#/$defs/op"},
                   "value": {"type": "number"}},
    "required": ["field", "op", "value"],
    "additionalProperties": false
  })");
  std::string input = dir.write("in.jsonl",
                                "{\"field\":\"price\",\"op\":\"gt\",\"value\":3}\n"
                                "\n"
                                "{\"field\":\"\",\"op\":\"eq\",\"extra\":1}\n"
                                "{not json}\n");
  auto run = run_tool("ds-build", {"validate", "--schema", schema, "--input", input});
  CHECK(run.exit_code == 1);
  auto rows = af::test::json_lines(run.out);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == json({{"line", 1}, {"valid", true}, {"errors", json::array()}}));
  CHECK(rows[1]["line"] == 3);
  CHECK(rows[1]["valid"] == false);
  std::vector<std::string> where;
  for (const auto& e : rows[1]["errors"])
    where.push_back(e["instance_path"].get<std::string>() + " " + e["keyword_path"].get<std::string>());
  CHECK(where == std::vector<std::string>{" /required", "/extra /additionalProperties",
                                          "/field /properties/field/minLength",
                                          "/op /properties/op/$ref/enum"});
  CHECK(rows[1]["errors"][0]["message"] == "missing required property \"value\"");
  CHECK(rows[1]["errors"][2]["message"] == "has 0 characters, fewer than minLength 1");
  CHECK(rows[2]["line"] == 4);
  CHECK(rows[2]["errors"][0]["message"].get<std::string>().rfind("not JSON: ", 0) == 0);
  CHECK(run.err == "ds-build validate: 1 valid, 2 invalid\n");
}

TEST_CASE("all valid exits 0, --document reads one document") {
  TempDir dir;
  std::string schema = dir.write("s.json", R"({"type": "array", "items": {"type": "integer"}})");
  std::string doc = dir.write("doc.json", "[1,\n 2,\n 3]\n");
  auto run = run_tool("ds-build", {"validate", "--schema", schema, "--input", doc, "--document"});
  CHECK(run.exit_code == 0);
  CHECK(run.out == "{\"errors\":[],\"line\":1,\"valid\":true}\n");
}

TEST_CASE("a bad schema or bad usage exits 2 with the reason") {
  TempDir dir;
  std::string bad_regex = dir.write("r.json", R"({"pattern": "(unclosed"})");
  auto run =
      run_tool("ds-build", {"validate", "--schema", bad_regex, "--input", dir.write("i.jsonl", "\"x\"\n")});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("not a valid regular expression") != std::string::npos);
  CHECK(run_tool("ds-build", {"validate", "--schema", dir.file("missing.json")}).exit_code == 2);
  CHECK(run_tool("ds-build", {"validate"}).exit_code == 2);
  std::string bad_ref = dir.write("ref.json", R"({"$ref": "nowhere.json"})");
  auto unresolved = run_tool("ds-build", {"validate", "--schema", bad_ref, "--input", dir.file("i.jsonl")});
  CHECK(unresolved.exit_code == 2);
  CHECK(unresolved.err.find("cannot be found") != std::string::npos);
}

TEST_CASE("format is checked only on request") {
  TempDir dir;
  std::string schema = dir.write("f.json", R"({"format": "date"})");
  std::string input = dir.write("d.jsonl", "\"2024-02-30\"\n");
  CHECK(run_tool("ds-build", {"validate", "--schema", schema, "--input", input}).exit_code == 0);
  auto strict =
      run_tool("ds-build", {"validate", "--schema", schema, "--input", input, "--format-assertion"});
  CHECK(strict.exit_code == 1);
  CHECK(strict.out.find("is not a valid date") != std::string::npos);
}

// issue 22: the message cut the instance inside "é" and writing it as JSON killed ds-build at that line.
TEST_CASE("French text cut in a message does not stop ds-build validate, and /dev/zero is refused") {
  TempDir dir;
  std::string schema = dir.write("s.json", R"({"enum": ["livrée"]})");
  std::string input = dir.write("in.jsonl", "\"" + std::string(55, 'x') + "ée au client\"\n\"livrée\"\n");
  auto run = run_tool("ds-build", {"validate", "--schema", schema, "--input", input});
  CHECK(run.exit_code == 1);
  auto rows = af::test::json_lines(run.out);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["errors"][0]["message"] ==
        "\"" + std::string(55, 'x') + "é... is not one of the allowed values");
  CHECK(rows[1]["valid"] == true);
  CHECK(run.err == "ds-build validate: 1 valid, 1 invalid\n");
  auto zero = run_tool("ds-build", {"validate", "--schema", "/dev/zero", "--input", input});
  CHECK(zero.exit_code == 2);
  CHECK(zero.err.find("/dev/zero: more than 67108864 bytes; a schema file may be at most 67108864 bytes") !=
        std::string::npos);
}
