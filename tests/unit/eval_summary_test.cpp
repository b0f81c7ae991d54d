// The eval set loader (d_05 and d_03 rows, schema lookup, invalid rows, seeded max_samples draw, errors that
// name file, line and key) and the summary's rates, counts and splits.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/permutation.h"
#include "eval/eval_set.h"
#include "eval/summary.h"
#include "support/temp_dir.h"

using namespace af::eval;
using af::test::TempDir;
using json = nlohmann::json;

namespace {

const char* kSchemas =
    R"({"schema_id":"orders","schema":{"type":"object","properties":{"query":{"type":"object"}}}})"
    "\n";

std::string d05_row(int i, const std::string& language, bool valid = true) {
  json row = {{"id", "orders/" + std::to_string(i)},
              {"schema_id", "orders"},
              {"domain_id", "orders"},
              {"language", language},
              {"kind", "filter"},
              {"is_valid", valid},
              {"query", "orders above " + std::to_string(i)},
              {"prompt", "PROMPT " + std::to_string(i)},
              {"target", R"({ "query": {"limit": )" + std::to_string(i) + "}}"}};
  return row.dump() + "\n";
}

json record(const std::string& language, const std::string& kind, bool parsed, bool valid, json exact,
            json verdict) {
  json r = {{"language", language},      {"kind", kind},
            {"parsed", parsed},          {"schema_valid", valid},
            {"exact_match", exact},      {"finish_reason", parsed ? "stop" : "length"},
            {"generation_seconds", 0.5}, {"generated_tokens", 10}};
  if (!verdict.is_null()) {
    r["teacher_verdict"] = verdict;
    r["semantic_pass"] = valid && verdict == "accept";
    r["teacher_seconds"] = 0.25;
  }
  return r;
}

}  // namespace

TEST_CASE("eval rows join their schema, targets are canonical, invalid rows are left out unless asked") {
  TempDir dir;
  std::string schemas = dir.write("s.jsonl", kSchemas);
  std::string data = dir.write("d.jsonl", d05_row(1, "en") + d05_row(2, "fr", false) + d05_row(3, "fr"));
  EvalSet set = load_eval_set(data, schemas, {});
  CHECK(set.rows == 3);
  CHECK(set.skipped_invalid == 1);
  REQUIRE(set.samples.size() == 2);
  CHECK(set.samples[0].id == "orders/1");
  CHECK(set.samples[0].prompt == "PROMPT 1");
  CHECK(*set.samples[0].target == R"({"query":{"limit":1}})");
  CHECK(set.samples[1].language == "fr");
  CHECK((*set.samples[1].schema)["type"] == "object");
  CHECK(set.samples[1].where == data + ":3");
  EvalSelection all;
  all.include_invalid = true;
  CHECK(load_eval_set(data, schemas, all).samples.size() == 3);
}

TEST_CASE("d_03-style rows: the prompt is built from schema and query, the target from ast_canonical") {
  TempDir dir;
  std::string schemas = dir.write("s.jsonl", kSchemas);
  json row = {{"schema_id", "orders"},
              {"query", "all orders"},
              {"ast_canonical", R"({"query":{}})"},
              {"is_valid", true}};
  EvalSet set = load_eval_set(dir.write("d.jsonl", row.dump() + "\n"), schemas, {});
  REQUIRE(set.samples.size() == 1);
  CHECK(set.samples[0].prompt.find("all orders") != std::string::npos);
  CHECK(set.samples[0].prompt.find("Schema:") == 0);
  CHECK(*set.samples[0].target == R"({"query":{}})");
  CHECK(set.samples[0].kind == "selection");  // from the target when the row has no kind
  CHECK(set.samples[0].language == "unknown");
}

TEST_CASE("max_samples draws the same samples for the same seed, and others for another") {
  TempDir dir;
  std::string schemas = dir.write("s.jsonl", kSchemas);
  std::string text;
  for (int i = 0; i < 40; ++i) text += d05_row(i, "en");
  std::string data = dir.write("d.jsonl", text);
  EvalSelection sel;
  sel.max_samples = 5;
  sel.sample_seed = 7;
  auto ids = [&](const EvalSelection& s) {
    std::vector<std::string> out;
    for (const auto& x : load_eval_set(data, schemas, s).samples) out.push_back(x.id);
    return out;
  };
  auto a = ids(sel);
  CHECK(a.size() == 5);
  CHECK(ids(sel) == a);
  sel.sample_seed = 8;
  CHECK(ids(sel) != a);
  CHECK(af::seeded_permutation(5, 1) == af::seeded_permutation(5, 1));
  auto order = af::seeded_permutation(100, 3);
  std::sort(order.begin(), order.end());
  for (size_t i = 0; i < order.size(); ++i) CHECK(order[i] == i);
}

TEST_CASE("bad eval rows name the file, the line and the key") {
  TempDir dir;
  std::string schemas = dir.write("s.jsonl", kSchemas);
  std::string data = dir.write("d.jsonl", d05_row(1, "en") + R"({"schema_id":"orders"})" + "\n");
  try {
    load_eval_set(data, schemas, {});
    FAIL("no error");
  } catch (const af::Error& e) {
    CHECK(std::string(e.what()) == data + ":2: missing key 'query'");
  }
  data = dir.write("e.jsonl", R"({"schema_id":"nope","query":"x"})"
                              "\n");
  CHECK_THROWS_WITH_AS(load_eval_set(data, schemas, {}),
                       (data + ":1: schema_id 'nope' is not in " + schemas).c_str(), af::Error);
}

TEST_CASE("rates and counts over every sample, split by language and kind") {
  std::vector<json> records = {
      record("en", "filter", true, true, true, "accept"),     // all good
      record("en", "filter", true, true, false, "accept"),    // another valid reading
      record("fr", "refusal", true, false, false, "reject"),  // invalid
      record("fr", "filter", false, false, false, "reject"),  // did not parse (truncated)
  };
  json s = rates(records);
  CHECK(s["samples"] == 4);
  CHECK(s["parsed_count"] == 3);
  CHECK(s["parsed_rate"] == 0.75);
  CHECK(s["schema_valid_rate"] == 0.5);
  CHECK(s["exact_match_count"] == 1);
  CHECK(s["exact_match_rate"] == 0.25);
  CHECK(s["teacher_accept_rate"] == 0.5);
  CHECK(s["semantic_pass_count"] == 2);
  CHECK(s["semantic_pass_rate"] == 0.5);
  CHECK(s["truncated_count"] == 1);
  CHECK(s["by_language"]["fr"]["samples"] == 2);
  CHECK(s["by_language"]["fr"]["parsed_rate"] == 0.5);
  CHECK(s["by_language"]["en"]["semantic_pass_rate"] == 1.0);
  CHECK(s["by_kind"]["refusal"]["schema_valid_rate"] == 0.0);
  CHECK(s["by_kind"]["filter"]["samples"] == 3);

  json full = summarize(records, {{"adapter", "a"}});
  CHECK(full["adapter"] == "a");
  CHECK(full["throughput"]["generation_seconds"] == 2.0);
  CHECK(full["throughput"]["tokens_per_second"] == 20.0);
  CHECK(full["throughput"]["teacher_seconds"] == 1.0);
  CHECK_FALSE(full.contains("teacher_rates_missing"));
}

TEST_CASE("without a teacher the teacher rates are null and said to be missing") {
  std::vector<json> records = {record("en", "filter", true, true, true, nullptr),
                               record("en", "filter", true, false, nullptr, nullptr)};
  json s = summarize(records, json::object());
  CHECK(s["parsed_rate"] == 1.0);
  CHECK(s["exact_match_rate"] == 1.0);  // over the one sample that has a target
  CHECK(s["exact_match_samples"] == 1);
  CHECK(s["teacher_accept_rate"].is_null());
  CHECK(s["semantic_pass_rate"].is_null());
  CHECK(s["teacher_rates_missing"].get<std::string>().find("without a teacher") != std::string::npos);
}
