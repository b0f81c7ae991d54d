// Building DSL schemas: operator sampling and aliases, determinism, and what the schemas accept.
#include <doctest/doctest.h>

#include <set>

#include "core/error.h"
#include "core/files.h"
#include "core/jsonl_reader.h"
#include "dataset/schema_builder.h"
#include "jsonschema/schema.h"

using namespace af::dataset;
using json = nlohmann::json;

namespace {
const std::string kRoot = ASTFORGE_SOURCE_DIR;
const std::vector<OperatorSpec>& catalog() {
  static const auto c = load_operator_catalog(kRoot + "/data/operator_catalog.json");
  return c;
}
const json& base() {
  static const json t = json::parse(af::read_file(kRoot + "/data/base_schema_template.json"));
  return t;
}
DomainSpec retail() {
  auto rows = af::read_jsonl(kRoot + "/tests/fixtures/domain_specs.jsonl");
  return parse_domain_spec(rows.at(0), "fixture:1");
}
}  // namespace

TEST_CASE("the shipped catalog has at least 14 operators with 3+ synonyms each") {
  CHECK(catalog().size() >= 14);
  for (const auto& op : catalog()) CHECK(op.synonyms.size() >= 3);
}

TEST_CASE("operators are sampled within bounds, logical ones always, each under one of its synonyms") {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    BuiltSchema b = build_schema(retail(), base(), catalog(), {4, 7}, seed);
    int optional = 0;
    for (const auto& [name, alias] : b.operators) {
      const OperatorSpec& op =
          *std::find_if(catalog().begin(), catalog().end(), [&](auto& o) { return o.name == name; });
      CHECK(std::find(op.synonyms.begin(), op.synonyms.end(), alias) != op.synonyms.end());
      optional += !op.always;
    }
    CHECK(optional >= 4);
    CHECK(optional <= 7);
    CHECK(b.operators.count("and"));
    CHECK(b.operators.count("or"));
    CHECK(b.operators.count("not"));
  }
}

TEST_CASE("the same seed gives the same schema, domains do not depend on each other's order") {
  auto a = build_schema(retail(), base(), catalog(), {4, 7}, 11);
  auto b = build_schema(retail(), base(), catalog(), {4, 7}, 11);
  CHECK(a.schema == b.schema);
  std::set<std::string> variants;
  for (uint64_t seed = 0; seed < 10; ++seed)
    variants.insert(build_schema(retail(), base(), catalog(), {4, 7}, seed).schema.dump());
  CHECK(variants.size() > 5);
}

TEST_CASE("built schemas are valid 2020-12 and accept exactly the DSL") {
  auto meta = af::jsonschema::Schema::compile(json{{"$ref", "https://json-schema.org/draft/2020-12/schema"}});
  // min = max = every operator, so every alias is known here.
  BuiltSchema b = build_schema(retail(), base(), catalog(), {20, 20}, 3);
  CHECK(meta.validate(b.schema).empty());
  auto s = af::jsonschema::Schema::compile(b.schema);
  auto op = [&](const char* name) { return b.operators.at(name); };
  json good = {
      {"query",
       {{"select", {"customer_name", "total"}},
        {"filter",
         {{"op", op("and")},
          {"args",
           {{{"op", op("eq")}, {"field", "status"}, {"value", "shipped"}},
            {{"op", op("between")},
             {"field", "order_date"},
             {"value", {{"from", "2024-01-01"}, {"to", "2024-03-31"}}}},
            {{"op", op("not")}, {"arg", {{"op", op("in")}, {"field", "items_count"}, {"value", {1, 2}}}}}}}}},
        {"order_by", {{{"field", "total"}, {"direction", "desc"}}}},
        {"limit", 10}}}};
  CHECK(s.validate(good).empty());
  CHECK(s.is_valid(
      json{{"refusal", {{"reason", "no field for the courier"}, {"suggestion", "filter by status"}}}}));
  CHECK(s.is_valid(json{{"query", {{"filter", {{"op", op("is_null")}, {"field", "customer_name"}}}}}}));

  auto bad = [&](json filter) { return !s.is_valid(json{{"query", {{"filter", filter}}}}); };
  CHECK(bad({{"op", op("eq")}, {"field", "status"}, {"value", "lost"}}));  // not an allowed value
  CHECK(bad({{"op", op("eq")}, {"field", "colour"}, {"value", "red"}}));   // no such field
  CHECK(bad({{"op", "eq"}, {"field", "status"}, {"value", "shipped"}}));   // the catalog name, not the alias
  CHECK(bad({{"op", op("gt")}, {"field", "customer_name"}, {"value", "a"}}));  // gt does not apply to text
  CHECK(bad({{"op", op("eq")}, {"field", "total"}, {"value", "100"}}));        // a number field takes numbers
  CHECK(bad({{"op", op("gt")}, {"field", "order_date"}, {"value", "next week"}}));  // dates are YYYY-MM-DD
  CHECK(bad(
      {{"op", op("and")}, {"args", {{{"op", op("is_null")}, {"field", "total"}}}}}));  // and needs 2 operands
  CHECK_FALSE(s.is_valid(json{{"query", json::object()}}));
  CHECK_FALSE(
      s.is_valid(json{{"query", {{"limit", 5}}}, {"refusal", {{"reason", "x"}, {"suggestion", "y"}}}}));
}

TEST_CASE("bad specs and catalogs are reported with their place") {
  json spec = json::parse(R"({"domain_id": "x", "domain": "X", "entity": "thing",
    "fields": [{"name": "a", "type": "enum", "description": "A."}, {"name": "a", "type": "number", "description": "B."},
               {"name": "Bad Name", "type": "decimal", "description": "C."}]})");
  try {
    parse_domain_spec(spec, "d_01.jsonl:7");
    FAIL("expected an error");
  } catch (const af::Error& e) {
    std::string m = e.what();
    CHECK(m.rfind("d_01.jsonl:7: not a valid domain spec: ", 0) == 0);
    CHECK(m.find("/fields/0: missing required property \"values\"") != std::string::npos);
    CHECK(m.find("/fields/2/name") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(load_operator_catalog("/nonexistent/catalog.json"), doctest::Contains("cannot open"),
                       af::Error);
}
