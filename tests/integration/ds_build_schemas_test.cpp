// `ds-build schemas`: d_01 -> d_02 through the real tool; the schemas are accepted by a third-party
// validator.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/jsonl_reader.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"

using af::test::run_tool;
using af::test::slurp;
using af::test::TempDir;
using json = nlohmann::json;

TEST_CASE("ds-build schemas writes one valid schema per domain, atomically, with a pretty copy") {
  TempDir dir;
  dir.write("d_01_domain_specs.jsonl",
            slurp(std::string(ASTFORGE_SOURCE_DIR) + "/tests/fixtures/domain_specs.jsonl"));
  auto run = run_tool("ds-build", {"schemas", "--set", "run.output_root=" + dir.path(), "--min-operators",
                                   "5", "--max-operators", "5"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  auto rows = af::read_jsonl(dir.file("d_02_final_schemas.jsonl"));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["schema_id"] == "retail_orders");
  CHECK(rows[1]["schema_id"] == "flights");
  CHECK(rows[0]["operators"].size() == 8);  // 5 sampled + and/or/not
  CHECK(json::parse(slurp(dir.file("pretty/d_02_final_schemas.json"))) == json(rows));
  CHECK(run.err.find("wrote 2 schemas") != std::string::npos);

  // Same seed, same bytes.
  std::string first = slurp(dir.file("d_02_final_schemas.jsonl"));
  run_tool("ds-build", {"schemas", "--set", "run.output_root=" + dir.path(), "--min-operators", "5",
                        "--max-operators", "5"});
  CHECK(slurp(dir.file("d_02_final_schemas.jsonl")) == first);

  // A third-party validator (Debian's python3-jsonschema, installed by make deps) accepts every schema.
  std::string check =
      "/usr/bin/python3 -c \"import json,sys,jsonschema\n"
      "for line in open(sys.argv[1]):\n"
      "    jsonschema.Draft202012Validator.check_schema(json.loads(line)['schema'])\" " +
      dir.file("d_02_final_schemas.jsonl");
  CHECK(std::system(check.c_str()) == 0);
}

TEST_CASE("ds-build schemas reports a missing or broken input with its place") {
  TempDir dir;
  auto missing = run_tool("ds-build", {"schemas", "--set", "run.output_root=" + dir.path()});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("d_01_domain_specs.jsonl: cannot open") != std::string::npos);
  dir.write("d_01_domain_specs.jsonl",
            "{\"domain_id\": \"x\", \"domain\": \"X\", \"entity\": \"e\", \"fields\": []}\n");
  auto bad = run_tool("ds-build", {"schemas", "--set", "run.output_root=" + dir.path()});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("d_01_domain_specs.jsonl:1: not a valid domain spec: /fields: fewer than 3 items") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("d_02_final_schemas.jsonl")));
}
