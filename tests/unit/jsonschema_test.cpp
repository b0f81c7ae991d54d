// lib/jsonschema beyond the official suite: error lists, hostile schemas and instances, local documents.
#include <doctest/doctest.h>

#include <sstream>

#include "core/error.h"
#include "core/limits.h"
#include "jsonschema/schema.h"
#include "jsonschema/uri.h"
#include "jsonschema/validate_stream.h"
#include "support/temp_dir.h"

using namespace af::jsonschema;
using json = nlohmann::json;

namespace {
Schema compile(const char* text, Options options = {}) {
  return Schema::compile(json::parse(text), options);
}
std::vector<std::string> paths(const std::vector<ValidationError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.instance_path + " " + e.keyword_path);
  return out;
}
}  // namespace

TEST_CASE("URI resolution follows RFC 3986") {
  CHECK(resolve_uri("http://a/b/c/d;p?q", "../g") == "http://a/b/g");
  CHECK(resolve_uri("http://a/b/c/d;p?q", "#s") == "http://a/b/c/d;p?q#s");
  CHECK(resolve_uri("http://a/b/c/d;p?q", "//g") == "http://g");
  CHECK(resolve_uri("http://a/b/c/d;p?q", "./g/.") == "http://a/b/c/g/");
  CHECK(resolve_uri("urn:example:root", "#/$defs/a") == "urn:example:root#/$defs/a");
  CHECK(resolve_uri("file:///data/s.json", "defs.json") == "file:///data/defs.json");
}

TEST_CASE("every error is reported, with instance and keyword paths") {
  Schema s = compile(R"({
    "type": "object",
    "properties": {"limit": {"type": "integer", "minimum": 1}, "fields": {"type": "array", "items": {"enum": ["a", "b"]},
                   "uniqueItems": true}},
    "required": ["limit"]
  })");
  auto errors = s.validate(json::parse(R"({"fields": ["a", "c", "a"], "limit": 0})"));
  CHECK(paths(errors) == std::vector<std::string>{"/fields /properties/fields/uniqueItems",
                                                  "/fields/1 /properties/fields/items/enum",
                                                  "/limit /properties/limit/minimum"});
  CHECK(errors[2].message == "0 is less than 1");
  CHECK_FALSE(s.is_valid(json::parse(R"({"limit": 0})")));
  CHECK(s.is_valid(json::parse(R"({"limit": 2.0, "fields": ["b"]})")));
}

TEST_CASE("oneOf near misses explain each branch") {
  Schema s = compile(R"({"oneOf": [{"required": ["query"]}, {"required": ["refusal"]}]})");
  auto errors = s.validate(json::object());
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].keyword_path == "/oneOf");
  CHECK(errors[1].message == "missing required property \"query\"");
  CHECK(s.validate(json::parse(R"({"query": 1, "refusal": 2})"))[0].message ==
        "matches more than one oneOf schema (0 and 1)");
}

TEST_CASE("the draft comes from $schema: draft-07 $ref ignores its siblings") {
  const char* text = R"({"$schema": "http://json-schema.org/draft-07/schema#",
                         "definitions": {"s": {"type": "string"}}, "$ref": "#/definitions/s", "maxLength": 1})";
  CHECK(compile(text).is_valid("long string"));
  const char* modern = R"({"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "maxLength": 1})";
  CHECK_FALSE(compile(modern).is_valid("long string"));
}

TEST_CASE("string lengths count code points") {
  Schema s = compile(R"({"maxLength": 4})");
  CHECK(s.is_valid("caf\xc3\xa9"));
  CHECK(s.is_valid("\xf0\x9f\x98\x80\xf0\x9f\x98\x80"));
  CHECK_FALSE(s.is_valid("cafes"));
}

TEST_CASE("format is an annotation unless asserted") {
  CHECK(compile(R"({"format": "email"})").is_valid("not an email"));
  Options strict;
  strict.format_assertion = true;
  Schema s = compile(R"({"format": "email"})", strict);
  CHECK_FALSE(s.is_valid("not an email"));
  CHECK(s.is_valid("jane@example.com"));
  Schema d = compile(R"({"format": "date-time"})", strict);
  CHECK(d.is_valid("2024-02-29T23:59:60Z"));
  CHECK_FALSE(d.is_valid("2023-02-29T10:00:00Z"));
  CHECK(compile(R"({"format": "uuid"})", strict).is_valid("2eb8aa08-aa98-11ea-b4aa-73b441d16380"));
  CHECK_FALSE(compile(R"({"format": "ipv4"})", strict).is_valid("192.168.01.1"));
  CHECK(compile(R"({"format": "ipv6"})", strict).is_valid("::ffff:192.168.0.1"));
}

TEST_CASE("schemas can be checked against the installed 2020-12 meta-schema") {
  Schema meta = compile(R"({"$ref": "https://json-schema.org/draft/2020-12/schema"})");
  CHECK(meta.is_valid(json::parse(R"({"type": "object", "properties": {"a": {"type": "string"}}})")));
  CHECK_FALSE(meta.is_valid(json::parse(R"({"type": "objekt"})")));
  CHECK_FALSE(meta.is_valid(json::parse(R"({"minLength": -1})")));
}

TEST_CASE("references across local documents") {
  af::test::TempDir dir;
  dir.write("common/ops.json", R"({"$id": "ops.json", "$defs": {"op": {"enum": ["gt", "lt"]}}})");
  std::string main =
      dir.write("main.json", R"({"properties": {"op": {"$ref": "common/ops.json#/$defs/op"}}})");
  Options o;
  o.base_uri = "file://" + main;
  Schema s = Schema::compile(json::parse(af::test::slurp(main)), o);
  CHECK(s.is_valid(json::parse(R"({"op": "gt"})")));
  CHECK_FALSE(s.is_valid(json::parse(R"({"op": "eq"})")));
  auto loader = std::make_shared<DocumentLoader>();
  loader->add("https://example.com/unit.json", json::parse(R"({"enum": ["m", "s"]})"));
  Options mapped;
  mapped.loader = loader;
  CHECK(Schema::compile(json::parse(R"({"$ref": "https://example.com/unit.json"})"), mapped).is_valid("m"));
  // Nothing is fetched from the network: an unknown remote is a compile error.
  CHECK_THROWS_WITH_AS(compile(R"({"$ref": "https://example.org/remote.json"})"),
                       doctest::Contains("cannot be found"), af::Error);
}

TEST_CASE("hostile schemas and instances are errors, not crashes or hangs") {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "{\"items\":";
  deep += "true";
  deep += std::string(100000, '}');
  CHECK_THROWS_WITH_AS(Schema::compile(json::parse(deep)), doctest::Contains("nested deeper"), af::Error);

  Schema cycle =
      compile(R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})");
  CHECK_FALSE(cycle.is_valid(1));
  CHECK(cycle.validate(1).front().message.find("infinite $ref loop") != std::string::npos);
  CHECK_FALSE(compile(R"({"$ref": "#"})").is_valid(json::object()));

  Schema recursive = compile(R"({"items": {"$ref": "#"}})");
  json nested = json::parse(std::string(100000, '[') + std::string(100000, ']'));
  CHECK_FALSE(recursive.is_valid(nested));
  CHECK(recursive.validate(nested).front().message.find("too deep") != std::string::npos);

  json huge = {{"enum", json::array()}};
  for (int i = 0; i < 1000000; ++i) huge["enum"].push_back(i);
  Schema big = Schema::compile(huge);
  CHECK(big.is_valid(999999));
  CHECK_FALSE(big.is_valid(-1));

  CHECK_THROWS_WITH_AS(compile(R"j({"pattern": "(a"})j"), doctest::Contains("not a valid regular expression"),
                       af::Error);
  CHECK_THROWS_WITH_AS(compile(R"j({"pattern": "(?=lookahead)"})j"), doctest::Contains("pattern"), af::Error);
  // RE2 runs in linear time: the classic catastrophic-backtracking pattern is instant.
  Schema redos = compile(R"({"pattern": "^(a+)+$"})");
  CHECK_FALSE(redos.is_valid(std::string(100000, 'a') + "!"));
  CHECK_THROWS_AS(compile(R"({"minLength": -1})"), af::Error);
  CHECK_THROWS_AS(compile(R"({"type": 5})"), af::Error);
}

// issue 22: the message quoted the instance cut at a fixed byte count; inside "é" that left half a character,
// and writing the message as JSON threw (ds-build validate stopped at the line, samples failed every retry).
TEST_CASE("a message quoting French text cuts between characters and can be written as JSON") {
  Schema s = compile(R"({"enum": ["livrée"]})");
  const std::string instance = std::string(55, 'x') + "ée au client";
  auto errors = s.validate(json(instance));
  REQUIRE(errors.size() == 1);
  // 57 characters quoted ("\"" and 55 x's and "é"), then "...".
  CHECK(errors[0].message == "\"" + std::string(55, 'x') + "é... is not one of the allowed values");
  CHECK_NOTHROW((void)json(errors[0].message).dump());
}

// issue 22: an unknown type name made a schema that every instance failed, with no word about the schema.
TEST_CASE("an unknown or repeated type name is the schema's error") {
  CHECK_THROWS_WITH_AS(compile(R"({"type": "strin"})"),
                       doctest::Contains("\"type\" \"strin\" is not a JSON Schema type"), af::Error);
  CHECK_THROWS_WITH_AS(compile(R"({"properties": {"a": {"type": ["string", "nul"]}}})"),
                       doctest::Contains("\"nul\" is not a JSON Schema type"), af::Error);
  CHECK_THROWS_WITH_AS(compile(R"({"type": ["string", "string"]})"),
                       doctest::Contains("lists \"string\" twice"), af::Error);
  CHECK(compile(R"({"type": ["string", "null"]})").is_valid(nullptr));
}

// issue 22: ECMA-262 escapes RE2 lacks were refused as invalid patterns.
TEST_CASE("ECMA-262 escapes that RE2 lacks are translated: u-escapes, surrogate pairs, control letters") {
  CHECK(compile(R"({"pattern": "^[\\u00e9]$"})").is_valid("é"));
  CHECK_FALSE(compile(R"({"pattern": "^[\\u00e9]$"})").is_valid("e"));
  CHECK(compile(R"({"pattern": "^livr\\u00E9e$"})").is_valid("livrée"));
  CHECK(compile(R"({"pattern": "^\\uD83D\\uDE00$"})").is_valid("\xf0\x9f\x98\x80"));
  CHECK(compile(R"({"pattern": "^\\u{1F600}$"})").is_valid("\xf0\x9f\x98\x80"));
  CHECK(compile(R"({"pattern": "^a\\cJb$"})").is_valid("a\nb"));
  CHECK_FALSE(compile(R"({"pattern": "^a\\cJb$"})").is_valid("acJb"));
}

// issue 22: numbers were decided as doubles (and 64-bit unsigned integers wrapped as signed ones).
TEST_CASE("minimum, maximum and multipleOf are decided exactly on the decimals written") {
  auto valid = [](const char* schema, const char* instance) {
    return compile(schema).is_valid(json::parse(instance));
  };
  CHECK_FALSE(valid(R"({"multipleOf": 2})", "1e-9"));
  CHECK_FALSE(valid(R"({"multipleOf": 1e308})", "10"));
  CHECK(valid(R"({"multipleOf": 1e308})", "1e308"));
  CHECK(valid(R"({"multipleOf": 3})", "18446744073709551615"));
  CHECK_FALSE(valid(R"({"multipleOf": 2})", "18446744073709551615"));
  CHECK(valid(R"({"multipleOf": 0.1})", "0.3"));
  CHECK(valid(R"({"multipleOf": 0.0001})", "0.0075"));
  CHECK_FALSE(valid(R"({"multipleOf": 0.123456789})", "1e308"));
  CHECK(valid(R"({"multipleOf": 1e-8})", "12391239123"));
  CHECK(valid(R"({"multipleOf": 2.5})", "-7.5"));
  CHECK(valid(R"({"multipleOf": 7})", "0"));
  CHECK_FALSE(valid(R"({"maximum": 9007199254740992})", "9007199254740993"));
  CHECK(valid(R"({"maximum": 9007199254740993})", "9007199254740993"));
  CHECK_FALSE(valid(R"({"exclusiveMaximum": 9007199254740993})", "9007199254740993"));
  CHECK_FALSE(valid(R"({"minimum": -9007199254740992})", "-9007199254740993"));
  CHECK_FALSE(valid(R"({"minimum": 18446744073709551615})", "18446744073709551614"));
  CHECK(valid(R"({"maximum": 1.5})", "1.5"));
  CHECK_FALSE(valid(R"({"exclusiveMinimum": 0.1})", "0.1"));
  auto errors = compile(R"({"maximum": 9007199254740992})").validate(json::parse("9007199254740993"));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "9007199254740993 is greater than 9007199254740992");
}

// issue 22: `ds-build validate --schema /dev/zero` grew without limit; a huge line too.
TEST_CASE("schema files, documents and instance lines have size limits") {
  CHECK_THROWS_WITH_AS(compile_schema_file("/dev/zero"),
                       doctest::Contains("/dev/zero: more than 67108864 bytes"), af::Error);
  Schema s = compile(R"({"type": "string"})");
  std::istringstream lines("\"ok\"\n\"" + std::string(af::kMaxLineBytes + 1, 'x') + "\"\n");
  std::ostringstream out;
  CHECK_THROWS_WITH_AS(validate_stream(s, lines, false, out, "in.jsonl"),
                       "in.jsonl:2: a line longer than 16777216 bytes, the most one instance may hold",
                       af::Error);
  CHECK(out.str() == "{\"errors\":[],\"line\":1,\"valid\":true}\n");
}
