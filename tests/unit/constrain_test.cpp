// Constrained decoding's grammar side: the pattern automaton, the schema compiler's list of what it does not
// enforce, and the byte-at-a-time matcher, checked against the project's validator on valid and invalid
// documents and on random walks that only take bytes the matcher allows.
#include <doctest/doctest.h>

#include <random>

#include "constrain/json_matcher.h"
#include "constrain/regex_nfa.h"
#include "constrain/schema_grammar.h"
#include "core/canonical_json.h"
#include "core/error.h"
#include "jsonschema/schema.h"
#include "support/matcher_walk.h"

using af::constrain::JsonMatcher;
using af::constrain::KeyOrder;
using af::constrain::RegexNfa;
using af::constrain::SchemaGrammar;
using json = nlohmann::json;

namespace {

bool full_match(const RegexNfa& re, const std::string& s) {
  RegexNfa::States st = re.start();
  for (unsigned char ch : s) {
    st = re.step(st, ch);
    if (st.empty()) return false;
  }
  return re.accepts(st);
}

// Whether the matcher takes every byte of `doc` and calls the result complete.
bool matches(const json& schema, const std::string& doc, KeyOrder order = KeyOrder::Free) {
  JsonMatcher m(SchemaGrammar::compile(schema), order);
  for (unsigned char ch : doc)
    if (!m.advance(ch)) return false;
  return m.complete();
}

}  // namespace

TEST_CASE("regex automaton: anchored and unanchored patterns, classes, quantifiers") {
  RegexNfa date = RegexNfa::compile("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
  CHECK(full_match(date, "2024-01-31"));
  CHECK_FALSE(full_match(date, "2024-1-31"));
  CHECK_FALSE(full_match(date, "2024-01-311"));
  // A prefix that cannot become a match is refused at its first wrong character.
  RegexNfa::States st = date.step(date.start(), '2');
  CHECK_FALSE(st.empty());
  CHECK(date.step(st, 'x').empty());

  RegexNfa code = RegexNfa::compile("^[A-Z]{2}-\\d+(\\.\\d{1,2})?$");
  CHECK(full_match(code, "AB-12"));
  CHECK(full_match(code, "AB-12.5"));
  CHECK_FALSE(full_match(code, "AB-12."));
  CHECK_FALSE(full_match(code, "ab-12"));
  RegexNfa any = RegexNfa::compile("ab|cd");  // unanchored: anywhere in the string
  CHECK(full_match(any, "xxcdyy"));
  CHECK_FALSE(full_match(any, "xacy"));
  RegexNfa neg = RegexNfa::compile("^[^0-9]*$");
  CHECK(full_match(neg, "abc"));
  CHECK_FALSE(full_match(neg, "a1"));
  CHECK_THROWS_AS(RegexNfa::compile("^(?=a)"), af::Error);
  CHECK_THROWS_AS(RegexNfa::compile("a{3,1}"), af::Error);
}

TEST_CASE("the compiler lists what it cannot enforce") {
  auto g = SchemaGrammar::compile(json::parse(R"({"type":"object","propertyNames":{"maxLength":3},
      "properties":{"a":{"type":"string","format":"email"},"b":{"not":{"type":"null"}},
      "c":{"type":"array","items":{"type":"string"},"uniqueItems":true}}})"));
  std::string all;
  for (const auto& u : g->unenforced) all += u + "\n";
  CHECK(all.find("uniqueItems") == std::string::npos);  // enforced for scalar items
  CHECK(all.find("propertyNames at /:") != std::string::npos);
  CHECK(all.find("format at /properties/a") != std::string::npos);
  CHECK(all.find("not at /properties/b") != std::string::npos);
  // Disjoint oneOf alternatives (different required consts) are exact; overlapping ones are listed.
  auto exact = SchemaGrammar::compile(json::parse(R"({"oneOf":[
      {"type":"object","properties":{"op":{"const":"a"}},"required":["op"]},
      {"type":"object","properties":{"op":{"const":"b"}},"required":["op"]}]})"));
  CHECK(exact->unenforced.empty());
  auto loose = SchemaGrammar::compile(json::parse(R"({"oneOf":[{"type":"integer"},{"type":"number"}]})"));
  REQUIRE(loose->unenforced.size() == 1);
  CHECK(loose->unenforced[0].rfind("oneOf at /", 0) == 0);
  CHECK_THROWS_AS(SchemaGrammar::compile(json::parse(R"({"$ref":"other.json#/a"})")), af::Error);
}

TEST_CASE("matcher: types, enums, numbers with bounds, strings with patterns and dates") {
  CHECK(matches(json::parse(R"({"type":"integer","minimum":3,"maximum":120})"), "42"));
  CHECK_FALSE(matches(json::parse(R"({"type":"integer","minimum":3,"maximum":120})"), "121"));
  CHECK_FALSE(matches(json::parse(R"({"type":"integer","minimum":3,"maximum":120})"), "2"));
  CHECK_FALSE(matches(json::parse(R"({"type":"integer"})"), "1.5"));
  CHECK_FALSE(matches(json::parse(R"({"type":"integer"})"), "012"));
  CHECK(matches(json::parse(R"({"type":"number","exclusiveMinimum":0})"), "0.25"));
  CHECK_FALSE(matches(json::parse(R"({"type":"number","exclusiveMinimum":0})"), "0"));
  CHECK(matches(json::parse(R"({"type":"number"})"), "-1.5e+3"));
  CHECK(matches(json::parse(R"({"enum":["a","b",3,null]})"), "null"));
  CHECK_FALSE(matches(json::parse(R"({"enum":["a","b"]})"), "\"c\""));
  CHECK(matches(json::parse(R"({"type":"string","format":"date"})"), "\"2024-02-29\""));
  CHECK_FALSE(matches(json::parse(R"({"type":"string","format":"date"})"), "\"2023-02-29\""));
  CHECK(matches(json::parse(R"({"type":"string","pattern":"^x+$","maxLength":3})"), "\"xxx\""));
  CHECK_FALSE(matches(json::parse(R"({"type":"string","pattern":"^x+$","maxLength":3})"), "\"xxxx\""));
  CHECK(matches(json::parse(R"({"type":"string"})"), R"("caf\u00e9 \"q\" été")"));
  CHECK_FALSE(matches(json::parse(R"({"type":"string"})"), "\"a\nb\""));  // raw control character
  CHECK_FALSE(matches(json::parse(R"({"type":"boolean"})"), "tru"));
  CHECK_FALSE(matches(json::parse(R"({"type":"object"})"), R"({"a":1} )"));  // canonical: no whitespace
}

TEST_CASE("matcher: objects, required keys, closed sets, sorted order, recursion through $ref") {
  json obj = json::parse(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},
      "required":["b"],"additionalProperties":false})");
  CHECK(matches(obj, R"({"a":1,"b":"x"})"));
  CHECK(matches(obj, R"({"b":"x","a":1})"));
  CHECK_FALSE(matches(obj, R"({"b":"x","a":1})", KeyOrder::Sorted));
  CHECK_FALSE(matches(obj, R"({"a":1})"));
  CHECK_FALSE(matches(obj, R"({"a":1,"c":2,"b":"x"})"));
  CHECK_FALSE(matches(obj, R"({"b":"x","b":"y"})"));
  CHECK_FALSE(matches(obj, R"({"b":"x",})"));
  json counted = json::parse(R"({"type":"object","minProperties":1,"maxProperties":2})");
  CHECK_FALSE(matches(counted, "{}"));
  CHECK(matches(counted, R"({"a":1,"b":2})"));
  CHECK_FALSE(matches(counted, R"({"a":1,"b":2,"c":3})"));
  json open = json::parse(R"({"type":"object"})");
  CHECK(matches(open, R"({"any":[1,{"x":null}],"k":"v"})"));
  CHECK_FALSE(matches(open, R"({"k":1,"k":2})"));  // duplicate keys never parse
  json tree = json::parse(R"({"$defs":{"e":{"oneOf":[{"type":"integer"},{"type":"object",
      "properties":{"all":{"type":"array","items":{"$ref":"#/$defs/e"},"minItems":1,"maxItems":2}},
      "required":["all"],"additionalProperties":false}]}},"$ref":"#/$defs/e"})");
  CHECK(matches(tree, R"({"all":[1,{"all":[2,{"all":[3]}]}]})"));
  CHECK_FALSE(matches(tree, R"({"all":[]})"));
  CHECK_FALSE(matches(tree, R"({"all":[1,2,3]})"));
  json unique = json::parse(R"({"type":"array","items":{"enum":["x","y"]},"uniqueItems":true})");
  CHECK(matches(unique, R"(["y","x"])"));
  CHECK_FALSE(matches(unique, R"(["x","x"])"));
  CHECK_FALSE(matches(unique, R"(["x","y",)"));  // no third distinct value: ',' is refused
  json free =
      json::parse(R"({"type":"array","items":{"type":["integer","string","boolean"]},"uniqueItems":true})");
  CHECK(matches(free, R"([1,10,"a","ab",true,false])"));
  CHECK_FALSE(matches(free, R"([1,1])"));
  CHECK_FALSE(matches(free, R"(["a","a"])"));
  CHECK_FALSE(matches(free, R"([true,true])"));
  CHECK(matches(free, R"([1,12])"));  // "1" repeated is refused at ',', so the number grows instead
}

TEST_CASE("matcher: if/then on an earlier key ties the value to it (the DSL's field_values rule)") {
  json schema = json::parse(R"({"type":"object","properties":{"field":{"enum":["n","s"]},"value":{}},
      "required":["field","value"],"additionalProperties":false,
      "allOf":[{"if":{"properties":{"field":{"const":"n"}},"required":["field"]},
                "then":{"properties":{"value":{"type":"number"}}}},
               {"if":{"properties":{"field":{"const":"s"}},"required":["field"]},
                "then":{"properties":{"value":{"type":"string"}}}}]})");
  CHECK(matches(schema, R"({"field":"n","value":2})", KeyOrder::Sorted));
  CHECK_FALSE(matches(schema, R"({"field":"n","value":"2"})", KeyOrder::Sorted));
  CHECK(matches(schema, R"({"field":"s","value":"2"})", KeyOrder::Sorted));
  // In free order the value waits for the field it depends on.
  CHECK_FALSE(matches(schema, R"({"value":2,"field":"n"})"));
}

TEST_CASE("random walks through the matcher always end in documents the validator accepts") {
  const std::vector<json> schemas = {
      json::parse(R"({"type":"object","properties":{"a":{"type":"integer","minimum":-5,"maximum":500},
          "b":{"type":"array","items":{"type":"string","pattern":"^[a-c]{1,3}$"},"maxItems":3},
          "c":{"enum":["x",1,true,null]},"d":{"type":"string","format":"date"}},
          "required":["a"],"additionalProperties":false})"),
      json::parse(R"({"$defs":{"e":{"oneOf":[{"type":"object","properties":{"op":{"const":"eq"},
          "v":{"type":["number","string"]}},"required":["op","v"],"additionalProperties":false},
          {"type":"object","properties":{"op":{"const":"and"},"args":{"type":"array","minItems":1,
          "maxItems":2,"items":{"$ref":"#/$defs/e"}}},"required":["op","args"],"additionalProperties":false}]}},
          "oneOf":[{"type":"object","properties":{"q":{"$ref":"#/$defs/e"}},"required":["q"],
          "additionalProperties":false},{"type":"object","properties":{"refusal":{"type":"string"}},
          "required":["refusal"],"additionalProperties":false}]})"),
      json::parse(R"({"type":"object","properties":{"n":{"type":"number","exclusiveMaximum":10},
          "s":{"type":"string","minLength":2},"t":{"type":"object","maxProperties":3}},"required":["n","s"],
          "additionalProperties":false})"),
  };
  std::mt19937 rng(7);
  int walks = 0;
  for (const json& schema : schemas) {
    auto validator = af::jsonschema::Schema::compile(schema);
    for (int i = 0; i < 150; ++i) {
      bool stuck = false;
      std::string doc = af::test::random_walk(schema, rng, &stuck);
      CHECK_MESSAGE(!stuck, doc);
      json value;
      try {
        value = af::parse_json_strict(doc);
      } catch (const std::exception& e) {
        FAIL_CHECK(doc << ": " << e.what());
        continue;
      }
      CHECK_MESSAGE(validator.is_valid(value), doc);
      ++walks;
    }
  }
  CHECK(walks == 450);
}

namespace {

// A random schema within the supported subset: nested objects (closed or open, some keys required), arrays
// with bounds, enums and consts, strings with a pattern, a date format or lengths, bounded numbers, anyOf and
// oneOf of distinguishable alternatives, and a recursive $ref.
json random_schema(std::mt19937& rng, int depth) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  int kind = depth > 2 ? 4 + pick(6) : pick(10);
  switch (kind) {
    case 0:
    case 1: {
      json props = json::object(), required = json::array();
      int n = 1 + pick(3);
      for (int i = 0; i < n; ++i) {
        std::string key = std::string(1, static_cast<char>('a' + pick(6))) + std::to_string(i);
        props[key] = random_schema(rng, depth + 1);
        if (pick(2) == 0) required.push_back(key);
      }
      json s = {{"type", "object"}, {"properties", props}, {"required", required}};
      // Open objects have no required keys: a random walk would hardly type a required name itself.
      if (pick(3) != 0) {
        s["additionalProperties"] = false;
      } else {
        s["required"] = json::array();
      }
      if (pick(4) == 0) s["maxProperties"] = n;
      return s;
    }
    case 2: {
      json s = {{"type", "array"}, {"items", random_schema(rng, depth + 1)}};
      if (pick(2) == 0) s["minItems"] = pick(2);
      if (pick(2) == 0) s["maxItems"] = 2 + pick(2);
      return s;
    }
    case 3:
      return {{"anyOf", json::array({random_schema(rng, depth + 1), random_schema(rng, depth + 1)})}};
    case 4:
      return {{"enum", json::array({"x", "y z", 3, nullptr, true})}};
    case 5:
      return {{"type", "string"}, {"pattern", pick(2) == 0 ? "^[a-c]{2,4}$" : "^(ab|cd)+x?$"}};
    case 6:
      return pick(2) == 0 ? json{{"type", "string"}, {"format", "date"}}
                          : json{{"type", "string"}, {"minLength", 1}, {"maxLength", 4}};
    case 7:
      return {{"type", pick(2) == 0 ? "integer" : "number"}, {"minimum", -20}, {"exclusiveMaximum", 300}};
    case 8:
      return {{"type", json::array({"string", "null", "boolean"})}};
    default:
      return {{"oneOf", json::array({{{"type", "object"},
                                      {"properties", {{"k", {{"const", "p"}}}}},
                                      {"required", {"k"}},
                                      {"additionalProperties", false}},
                                     {{"type", "object"},
                                      {"properties", {{"k", {{"const", "q"}}}, {"v", {{"type", "integer"}}}}},
                                      {"required", {"k", "v"}},
                                      {"additionalProperties", false}}})}};
  }
}

}  // namespace

TEST_CASE("random schemas within the supported subset: every constrained walk validates, and none is stuck") {
  std::mt19937 rng(2026);
  int walks = 0, valid = 0;
  for (int i = 0; i < 300; ++i) {
    json schema = random_schema(rng, 0);
    if (i % 5 == 0)
      schema = {
          {"$defs",
           {{"t",
             {{"anyOf",
               json::array({{{"type", "integer"}, {"maximum", 9}},
                            {{"type", "array"}, {"maxItems", 2}, {"items", {{"$ref", "#/$defs/t"}}}}})}}}}},
          {"$ref", "#/$defs/t"}};
    auto validator = af::jsonschema::Schema::compile(schema);
    for (int k = 0; k < 10; ++k) {
      bool stuck = false;
      std::string doc = af::test::random_walk(schema, rng, &stuck);
      ++walks;
      CHECK_MESSAGE(!stuck, schema.dump() << " -> " << doc);
      json value;
      try {
        value = af::parse_json_strict(doc);
      } catch (const std::exception& e) {
        FAIL_CHECK(schema.dump() << " -> " << doc << ": " << e.what());
        continue;
      }
      bool ok = validator.is_valid(value);
      CHECK_MESSAGE(ok, schema.dump() << " -> " << doc);
      valid += ok;
    }
  }
  CHECK(walks == 3000);
  CHECK(valid == 3000);
}

TEST_CASE("shortest completion: the fewest bytes that close each state, and they do close it") {
  auto shortest = [](const char* schema, const std::string& prefix) -> std::string {
    JsonMatcher m(SchemaGrammar::compile(json::parse(schema)), KeyOrder::Sorted);
    REQUIRE(m.advance(prefix));
    std::optional<std::string> rest = m.shortest_completion();
    REQUIRE(rest);
    JsonMatcher closed = m;
    CHECK(closed.advance(*rest));
    CHECK(closed.complete());
    return *rest;
  };
  const char* object = R"({"type":"object","properties":{"a":{"type":"string","minLength":3},
      "b":{"enum":["xyz","q"]},"c":{"type":"integer","minimum":100},"d":{"type":"boolean"}},
      "required":["a","b","c"],"additionalProperties":false})";
  CHECK(shortest(object, "") == R"({"a":"aaa","b":"q","c":100})");
  CHECK(shortest(object, R"({"a":"x)") == R"(aa","b":"q","c":100})");
  CHECK(shortest(object, R"({"a":"xyzw","b":"x)") == R"(yz","c":100})");
  CHECK(shortest(object, R"({"a":"xyz","b":"q","c":1)") == "00}");
  CHECK(shortest(object, R"({"a":"xyz","b":"q","c":100)") == "}");
  CHECK(shortest(object, R"({"a":"xyz","b":"q","c":100})") == "");
  // Patterns run to their shortest match; unique items differ; a date is whole.
  CHECK(shortest(R"({"type":"array","items":{"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"},"minItems":3,
                     "uniqueItems":true})",
                 "") == R"(["AA-000","AA-001","AA-010"])");
  CHECK(shortest(R"({"type":"string","format":"date"})", "\"2024-1") == "0-01\"");
  CHECK(shortest(R"({"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1})", "") == "0.1");
  CHECK(shortest(R"({"type":"string","pattern":"^(ab|cd)+x?$"})", "\"abc") == "d\"");
  // Recursion: the alternative that needs itself twice over is never the way out.
  const char* tree = R"({"$defs":{"e":{"anyOf":[{"type":"object","properties":{"and":{"type":"array",
      "items":{"$ref":"#/$defs/e"},"minItems":2}},"required":["and"],"additionalProperties":false},
      {"type":"object","properties":{"f":{"enum":["name","age"]},"v":{"type":"string"}},"required":["f","v"],
      "additionalProperties":false}]}},"$ref":"#/$defs/e"})";
  CHECK(shortest(tree, "") == R"({"f":"age","v":""})");
  CHECK(shortest(tree, R"({"and":[)") == R"({"f":"age","v":""},{"f":"age","v":""}]})");
  CHECK(shortest(tree, R"({"and":[{"f":"name")") == R"(,"v":""},{"f":"age","v":""}]})");
}

TEST_CASE("shortest completion along random walks: it closes every prefix and is never beaten by a step") {
  // Minimal means no byte b and completion of the state after b together come shorter: along every walk,
  // len(before) <= 1 + len(after). Along its own path, each byte takes exactly one off.
  std::mt19937 rng(404);
  int states = 0;
  for (int i = 0; i < 120; ++i) {
    json schema = random_schema(rng, 0);
    auto grammar = SchemaGrammar::compile(schema);
    bool stuck = false;
    std::string doc = af::test::random_walk(schema, rng, &stuck);
    JsonMatcher m(grammar, KeyOrder::Sorted);
    std::optional<size_t> before;
    for (size_t at = 0; at <= doc.size(); ++at) {
      std::optional<std::string> rest = m.shortest_completion();
      REQUIRE_MESSAGE(rest, schema.dump() << " after '" << doc.substr(0, at) << "'");
      JsonMatcher closed = m;
      CHECK_MESSAGE((closed.advance(*rest) && closed.complete()), schema.dump() << " + " << *rest);
      if (before)
        CHECK_MESSAGE(*before <= 1 + rest->size(), schema.dump() << " after '" << doc.substr(0, at));
      if (!rest->empty()) {
        JsonMatcher next = m;
        REQUIRE(next.advance(static_cast<unsigned char>((*rest)[0])));
        std::optional<std::string> on = next.shortest_completion();
        CHECK_MESSAGE((on && on->size() + 1 == rest->size()), schema.dump() << " + " << *rest);
      }
      before = rest->size();
      ++states;
      if (at < doc.size()) REQUIRE(m.advance(static_cast<unsigned char>(doc[at])));
    }
  }
  CHECK(states > 1500);
}
