// Reading the student's text: the first balanced JSON object, strict parsing, canonical form, and the
// reasons.
#include <doctest/doctest.h>

#include "eval/student_output.h"

using af::eval::first_json_object;
using af::eval::parse_student_output;

TEST_CASE("the first balanced object is found around prose, fences and braces inside strings") {
  CHECK(first_json_object("{\"a\":1}") == std::string_view("{\"a\":1}"));
  CHECK(first_json_object("Sure:\n```json\n{\"a\":{\"b\":\"}{\"}}\n```\nthen {\"c\":2}") ==
        std::string_view("{\"a\":{\"b\":\"}{\"}}"));
  CHECK(first_json_object("{\"a\":\"\\\"}\"}") == std::string_view("{\"a\":\"\\\"}\"}"));
  CHECK(!first_json_object("no object here"));
  CHECK(!first_json_object("{\"a\":{\"b\":1}"));
}

TEST_CASE("parsed outputs are canonical, failures say why") {
  auto ok = parse_student_output("```json\n{ \"b\": 1.0, \"a\": [true, null] }\n```");
  CHECK(ok.parsed);
  CHECK(ok.canonical == "{\"a\":[true,null],\"b\":1}");
  CHECK(ok.error.empty());
  auto none = parse_student_output("I cannot do that");
  CHECK(!none.parsed);
  CHECK(none.error == "no JSON object in the output");
  auto cut = parse_student_output("{\"query\":{\"filter\":");
  CHECK(cut.error == "the JSON object is not closed (output cut short?)");
  auto dup = parse_student_output("{\"a\":1,\"a\":2}");
  CHECK(!dup.parsed);
  CHECK(dup.error.find("duplicate") != std::string::npos);
  auto bad = parse_student_output("{\"a\":tru}");
  CHECK(!bad.parsed);
  CHECK(!bad.error.empty());
}
