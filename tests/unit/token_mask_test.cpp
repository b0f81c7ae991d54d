// Token masks: at every step of a document, the allowed set equals trying every token through a fresh
// matcher. The vocabulary mixes the tokens the shortcuts treat apart (string-safe text, tokens that close a
// string, tokens that can never fit inside one, tokens ending mid-character), and the schema has states where
// a free string runs beside an enum value, a date and a pattern, and arrays and objects of several kinds.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "constrain/schema_grammar.h"
#include "constrain/token_mask.h"
#include "core/canonical_json.h"
#include "jsonschema/schema.h"
#include "support/matcher_walk.h"

using af::constrain::JsonMatcher;
using af::constrain::KeyOrder;
using af::constrain::SchemaConstraint;
using af::constrain::SchemaGrammar;
using af::constrain::TokenVocabulary;
using json = nlohmann::json;

namespace {

std::shared_ptr<const TokenVocabulary> test_vocabulary() {
  std::vector<std::string> bytes;
  for (int b = 0; b < 256; ++b) bytes.emplace_back(1, static_cast<char>(b));
  for (const char* t : {"\"",         "\",",
                        "\"}",        "\"]",
                        "\":",        "\">",
                        "\" ",        "\"\n",
                        "abc\"",      "ab\"x",
                        "x\n\"",      "\\\"",
                        "\\n",        "\\q",
                        "\\u00e9",    "\xc3",
                        "\xc3\xa9",   "\xa9",
                        "caf\xc3",    "\xe2\x82",
                        "Luf",        "Lufthansa",
                        "\"Luf",      "Lufthansa\"]",
                        "\",\"",      "\"},{\"",
                        "{\"",        "\":\"",
                        "\":[",       "2023-",
                        "-0",         "12",
                        "]}",         "]}}",
                        "}}",         "\",\"op",
                        "field",      "\"field\":\"",
                        "value",      "\\",
                        "e\"",        "\"\"",
                        "Air France", "Air",
                        " France\"",  "\"2024-01-31\"}",
                        "true",       "null",
                        "1.5e",       "0.",
                        "99}"})
    bytes.emplace_back(t);
  bytes.emplace_back("");  // a special token: never allowed
  bytes.emplace_back("");  // the stop token
  auto stop = static_cast<int32_t>(bytes.size() - 1);
  return std::make_shared<TokenVocabulary>(std::move(bytes), std::vector<int32_t>{stop});
}

// A condition like the DSL's: the field's value is a free string, one of the airlines, a date, or a code; an
// if on the field (which leaves the value's characters unread) and one on the note (which reads them).
const char* kSchema = R"({"type":"object","properties":{
  "filter":{"type":"object",
    "allOf":[{"if":{"properties":{"field":{"const":"code"}},"required":["field"]},
              "then":{"properties":{"op":{"const":"eq"}}}}],
    "properties":{
    "field":{"enum":["airline","city","code"]},
    "op":{"enum":["eq","among"]},
    "value":{"anyOf":[{"type":"string"},{"enum":["Air France","Lufthansa"]},
      {"type":"string","format":"date"},{"type":"string","pattern":"^[A-Z]-[0-9]{2}$"},
      {"type":"array","items":{"enum":["Air France","Iberia","Lufthansa"]},"uniqueItems":true,"minItems":1},
      {"type":"integer","minimum":0,"maximum":99}]}},
    "required":["field","op","value"],"additionalProperties":false},
  "keys":{"type":"object","additionalProperties":{"type":"number"}},
  "tags":{"type":"array","items":{"type":"string"},"uniqueItems":true},
  "note":{"type":"string","minLength":3}},
  "if":{"properties":{"note":{"const":"abcd"}},"required":["note"]},"then":{"required":["keys"]},
  "required":["filter"],"additionalProperties":false})";

// Checks the mask against trying every token, at each step of `doc` fed byte by byte as single-byte tokens.
void check_every_step(const std::string& doc) {
  auto vocab = test_vocabulary();
  auto grammar = SchemaGrammar::compile(json::parse(kSchema));
  SchemaConstraint c(vocab, grammar, KeyOrder::Sorted);
  int32_t stop = vocab->stop_tokens().front();
  for (size_t step = 0; step <= doc.size(); ++step) {
    const auto& allowed = c.allowed();
    for (int32_t id = 0; id < static_cast<int32_t>(vocab->size()); ++id) {
      bool expect = false;
      if (id == stop) {
        expect = c.complete();
      } else if (!vocab->bytes(id).empty()) {
        JsonMatcher probe(grammar, KeyOrder::Sorted);
        REQUIRE(probe.advance(c.text()));
        expect = probe.advance(vocab->bytes(id));
      }
      CHECK_MESSAGE(af::constrain::has_token(allowed, id) == expect,
                    "after '" << c.text() << "': token " << id << " '" << vocab->bytes(id) << "'");
    }
    if (step < doc.size())
      REQUIRE_MESSAGE(c.accept(static_cast<unsigned char>(doc[step])), doc.substr(0, step + 1));
  }
  CHECK(c.complete());
}

}  // namespace

TEST_CASE("token masks equal trying every token: free strings beside enum values, dates and patterns") {
  check_every_step(R"({"filter":{"field":"airline","op":"eq","value":"Lufthansa"}})");
  check_every_step(R"({"filter":{"field":"city","op":"eq","value":"2024-01-31"}})");
  check_every_step(
      "{\"filter\":{\"field\":\"code\",\"op\":\"eq\",\"value\":\"Q-11\"},"
      "\"note\":\"caf\xc3\xa9 \\\"x\\\"\"}");
}

TEST_CASE("token masks equal trying every token: arrays, numbers, open objects") {
  check_every_step(R"({"filter":{"field":"airline","op":"among","value":["Air France","Lufthansa"]}})");
  check_every_step(R"({"filter":{"field":"code","op":"eq","value":42},"keys":{"a":1.5e3,"b":-0.25}})");
  // Unique free strings: an item's characters are read (it may not repeat an earlier one).
  check_every_step(R"({"filter":{"field":"city","op":"among","value":"x"},"tags":["ab","a","abc\""]})");
}

TEST_CASE(
    "a free string is blind when nothing reads its characters: not keys, conditions or a short minLength") {
  auto grammar = SchemaGrammar::compile(json::parse(kSchema));
  auto blind_after = [&](const std::string& text) {
    JsonMatcher m(grammar, KeyOrder::Sorted);
    REQUIRE(m.advance(text));
    m.restore(m.split_free_strings().first);  // the threads in a free string, as the mask search asks
    return m.in_blind_free_string();
  };
  // The value: the if reads only the field.
  CHECK(blind_after(R"({"filter":{"field":"code","op":"eq","value":")"));
  CHECK(blind_after(R"({"filter":{"field":"code","op":"eq","value":"Q)"));
  // An enum value, a key, a number: not free strings.
  CHECK_FALSE(blind_after(R"({"filter":{"field":"a)"));
  CHECK_FALSE(blind_after(R"({"filter":{"field":"code","op":"eq","value":4)"));
  CHECK_FALSE(blind_after(R"({"filter":{"field":"code","op":"eq","value":"Q"},"keys":{")"));
  CHECK_FALSE(blind_after(R"({"filter":{"field":"code","op":"eq","value":"Q"},"tags":["ab","a)"));
  // The note: the root's if compares it.
  CHECK_FALSE(blind_after(R"({"filter":{"field":"code","op":"eq","value":"Q"},"note":"abcd)"));
}

TEST_CASE("the vocabulary sorts tokens for free strings: safe, may leave, never fits") {
  auto vocab = test_vocabulary();
  auto id_of = [&](const std::string& t) {
    for (int32_t id = 0; id < static_cast<int32_t>(vocab->size()); ++id)
      if (vocab->bytes(id) == t) return id;
    FAIL("no token " << t);
    return -1;
  };
  auto in_exits = [&](const std::string& t) {
    const auto& trie = vocab->string_exits();
    uint32_t at = 0;
    for (unsigned char b : t) {
      const auto& kids = trie.nodes[at].children;
      auto it = std::find_if(kids.begin(), kids.end(), [&](const auto& k) { return k.first == b; });
      if (it == kids.end()) return false;
      at = it->second;
    }
    const auto& ids = trie.nodes[at].tokens;
    return std::find(ids.begin(), ids.end(), id_of(t)) != ids.end();
  };
  auto safe = [&](const std::string& t) { return af::constrain::has_token(vocab->string_safe(), id_of(t)); };
  for (const char* t : {"Lufthansa", "Air France", "\xc3\xa9", "2023-", "a"}) {
    CHECK_MESSAGE(safe(t), t);
    CHECK_MESSAGE(!in_exits(t), t);
  }
  // May leave the string: a closing quote followed by what canonical JSON writes next, an escape, or a
  // character whose last bytes come with the next token.
  for (const char* t : {"\"", "\",", "\"}", "abc\"", "\\\"", "\\n", "\\u00e9", "\xc3", "caf\xc3", "\xe2\x82",
                        "Lufthansa\"]", "\"},{\"", "\\"}) {
    CHECK_MESSAGE(!safe(t), t);
    CHECK_MESSAGE(in_exits(t), t);
  }
  // Never inside a free string: a control byte first, a stray continuation byte, or a quote or backslash
  // followed by something canonical JSON never writes there.
  for (const char* t : {"\n", "x\n\"", "\xa9", "\">", "\" ", "\"\n", "ab\"x", "\\q", "\"\""}) {
    CHECK_MESSAGE(!safe(t), t);
    CHECK_MESSAGE(!in_exits(t), t);
  }
}

TEST_CASE("a token budget always closes the document, from the shortest document up") {
  auto vocab = test_vocabulary();
  auto grammar = SchemaGrammar::compile(json::parse(kSchema));
  auto validator = af::jsonschema::Schema::compile(json::parse(kSchema));
  SchemaConstraint probe(vocab, grammar, KeyOrder::Sorted);
  int64_t shortest = probe.shortest_document();
  // {"filter":{"field":"city","op":"eq","value":0}}: the shortest field name, operator and value.
  CHECK(shortest == 47);
  std::mt19937 rng(5);
  int closed = 0, cut_without = 0;
  for (int64_t budget = shortest; budget < shortest + 40; ++budget)
    for (int k = 0; k < 4; ++k) {
      int64_t taken = 0;
      std::string doc = af::test::budget_walk(vocab, grammar, budget, true, rng, &taken);
      CHECK_MESSAGE(!doc.empty(), "budget " << budget);
      CHECK(taken <= budget);
      if (!doc.empty()) {
        bool ok = validator.is_valid(af::parse_json_strict(doc));
        CHECK_MESSAGE(ok, doc);
        closed += ok;
      }
      // The same walk without the budget runs out of tokens: what the budget prevents.
      cut_without += af::test::budget_walk(vocab, grammar, budget, false, rng, &taken).empty();
    }
  CHECK(closed == 160);
  CHECK(cut_without > 40);
}

TEST_CASE("at the shortest budget only the shortest document's path is open") {
  auto vocab = test_vocabulary();
  const json schema = json::parse(
      R"({"type":"object","properties":{"k":{"enum":["long value","v"]},"n":{"type":"integer","minimum":10}},
          "required":["k","n"],"additionalProperties":false})");
  auto grammar = SchemaGrammar::compile(schema);
  SchemaConstraint c(vocab, grammar, KeyOrder::Sorted, 16);
  CHECK(c.shortest_document() == 16);  // {"k":"v","n":10}
  for (char ch : std::string("{\"k\":\"")) REQUIRE(c.accept(static_cast<unsigned char>(ch)));
  const auto& allowed = c.allowed();
  for (int32_t id = 0; id < static_cast<int32_t>(vocab->size()); ++id) {
    bool expect = vocab->bytes(id) == "v";  // "long value" no longer fits; nor any token ending past 'v'
    CHECK_MESSAGE(af::constrain::has_token(allowed, id) == expect, "token '" << vocab->bytes(id) << "'");
  }
}
