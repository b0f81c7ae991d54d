// Constrained decoding on the DSL's real schemas (ds-build schemas, every operator): random walks through the
// matcher end in documents the project's validator accepts, and every teacher-style document of the corpus
// builder's shapes is accepted whole.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "constrain/json_matcher.h"
#include "constrain/schema_grammar.h"
#include "core/canonical_json.h"
#include "core/jsonl_reader.h"
#include "jsonschema/schema.h"
#include "support/matcher_walk.h"
#include "support/run_tool.h"
#include "support/temp_dir.h"

using af::test::run_tool;
using af::test::slurp;
using af::test::TempDir;
using json = nlohmann::json;

TEST_CASE("every d_02 schema: constrained random documents validate, and the compiler leaves nothing out") {
  TempDir dir;
  dir.write("d_01_domain_specs.jsonl",
            slurp(std::string(ASTFORGE_SOURCE_DIR) + "/tests/fixtures/domain_specs.jsonl"));
  auto run = run_tool("ds-build", {"schemas", "--set", "run.output_root=" + dir.path(), "--min-operators",
                                   "8", "--max-operators", "8"});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  auto rows = af::read_jsonl(dir.file("d_02_final_schemas.jsonl"));
  REQUIRE(rows.size() == 2);
  std::mt19937 rng(11);
  int valid = 0, total = 0;
  for (const json& row : rows) {
    const json& schema = row["schema"];
    auto grammar = af::constrain::SchemaGrammar::compile(schema);
    // Everything the DSL asks is enforced.
    for (const auto& u : grammar->unenforced) FAIL_CHECK(u);
    auto validator = af::jsonschema::Schema::compile(schema);
    for (int i = 0; i < 60; ++i) {
      bool stuck = false;
      std::string doc = af::test::random_walk(schema, rng, &stuck);
      CHECK_MESSAGE(!stuck, doc);
      ++total;
      try {
        json value = af::parse_json_strict(doc);
        bool ok = validator.is_valid(value);
        CHECK_MESSAGE(ok, doc);
        valid += ok;
      } catch (const std::exception& e) {
        FAIL_CHECK(doc << ": " << e.what());
      }
    }
  }
  CHECK(total == 120);
  CHECK(valid == 120);
}
