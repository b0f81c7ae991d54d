// Constrained decoding on the DSL's real schemas (ds-build schemas, every operator): random walks through the
// matcher end in documents the project's validator accepts, and every teacher-style document of the corpus
// builder's shapes is accepted whole.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "constrain/json_matcher.h"
#include "constrain/schema_grammar.h"
#include "constrain/token_mask.h"
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

namespace {

// Every string a schema holds (key names, enum values, ...), as `out` gathers them.
void strings_of(const json& v, std::set<std::string>& out) {
  if (v.is_string()) out.insert(v.get<std::string>());
  if (v.is_object())
    for (const auto& [k, x] : v.items()) {
      out.insert(k);
      strings_of(x, out);
    }
  if (v.is_array())
    for (const auto& x : v) strings_of(x, out);
}

}  // namespace

TEST_CASE(
    "every d_02 schema under tiny token budgets: each constrained answer closes within max_new_tokens") {
  TempDir dir;
  dir.write("d_01_domain_specs.jsonl",
            slurp(std::string(ASTFORGE_SOURCE_DIR) + "/tests/fixtures/domain_specs.jsonl"));
  auto run = run_tool("ds-build", {"schemas", "--set", "run.output_root=" + dir.path()});
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  auto rows = af::read_jsonl(dir.file("d_02_final_schemas.jsonl"));
  REQUIRE(rows.size() == 2);
  std::mt19937 rng(23);
  int closed = 0, cut_without = 0, walks = 0;
  int64_t max_rise = 0;
  for (const json& row : rows) {
    const json& schema = row["schema"];
    // A vocabulary like a real one: every byte, and whole words of the schema with their JSON around them
    // (so one token can open a long enum value or a key whose value needs many more).
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
    std::set<std::string> words;
    strings_of(schema, words);
    for (const auto& w : words)
      for (const std::string& t : {w, "\"" + w + "\"", "\"" + w + "\":", "{\"" + w + "\":", w + "\"}"})
        tokens.push_back(t);
    for (const char* t : {"{\"", "\":\"", "\"}", "\"},{\"", "]}", "}}", "\":[", "\":{\"", "\",\"", "}]}"})
      tokens.emplace_back(t);
    tokens.emplace_back("");  // the stop token
    auto vocab = std::make_shared<af::constrain::TokenVocabulary>(
        tokens, std::vector<int32_t>{static_cast<int32_t>(tokens.size() - 1)});
    auto grammar = af::constrain::SchemaGrammar::compile(schema);
    auto validator = af::jsonschema::Schema::compile(schema);
    int64_t shortest =
        af::constrain::SchemaConstraint(vocab, grammar, af::constrain::KeyOrder::Sorted).shortest_document();
    // How much one token can raise what the document still needs, over unbudgeted random walks.
    for (int k = 0; k < 20; ++k) {
      af::constrain::SchemaConstraint c(vocab, grammar, af::constrain::KeyOrder::Sorted);
      af::constrain::JsonMatcher shadow(grammar, af::constrain::KeyOrder::Sorted);
      int32_t stop = static_cast<int32_t>(tokens.size() - 1);
      for (int step = 0; step < 300; ++step) {
        const auto& allowed = c.allowed();
        std::vector<int32_t> ids;
        for (int32_t id = 0; id < stop; ++id)
          if (af::constrain::has_token(allowed, id)) ids.push_back(id);
        if (ids.empty()) break;
        int32_t id = ids[rng() % ids.size()];
        auto before = static_cast<int64_t>(shadow.shortest_completion().value().size());
        REQUIRE(c.accept(id));
        REQUIRE(shadow.advance(tokens[static_cast<size_t>(id)]));
        max_rise =
            std::max(max_rise, static_cast<int64_t>(shadow.shortest_completion().value().size()) - before);
      }
    }
    REQUIRE(shortest > 10);
    for (int64_t extra : {0, 1, 2, 3, 5, 8, 13, 21, 34}) {
      for (int k = 0; k < 4; ++k) {
        int64_t taken = 0;
        std::string doc = af::test::budget_walk(vocab, grammar, shortest + extra, true, rng, &taken);
        ++walks;
        CHECK_MESSAGE(!doc.empty(), "budget " << shortest + extra);
        CHECK(taken <= shortest + extra);
        if (!doc.empty()) {
          bool ok = validator.is_valid(af::parse_json_strict(doc));
          CHECK_MESSAGE(ok, doc);
          closed += ok;
        }
        cut_without += af::test::budget_walk(vocab, grammar, shortest + extra, false, rng, &taken).empty();
      }
    }
  }
  CHECK(walks == 72);
  // Far from the budget tokens are not checked one by one: that holds only while no single token raises what
  // the document needs by SchemaConstraint::kCheckWindow or more. The largest rise met on these walks:
  CHECK(max_rise > 0);
  CHECK_MESSAGE(max_rise < af::constrain::SchemaConstraint::kCheckWindow / 2, max_rise);  // 54 at this seed
  CHECK(closed == 72);
  CHECK(cut_without > 12);  // unguarded, many of the same walks run out of tokens
}
