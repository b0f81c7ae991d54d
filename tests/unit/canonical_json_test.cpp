// Canonical JSON: the form of stored ASTs and of exact match (rules in core/canonical_json.h).
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "core/canonical_json.h"
#include "core/error.h"

using af::canonical_number;
using af::canonicalize_json_text;

TEST_CASE("keys are sorted by UTF-8 bytes at every level and whitespace is dropped") {
  CHECK(canonicalize_json_text(R"({ "b": 1, "a": {"z": true, "y": null}, "A": [3, 2, 1] })") ==
        R"({"A":[3,2,1],"a":{"y":null,"z":true},"b":1})");
  // Code point order: "é" (U+00E9) sorts after "z", and an uppercase letter before lowercase.
  CHECK(canonicalize_json_text(R"({"é":1,"z":2,"Z":3})") == "{\"Z\":3,\"z\":2,\"\xc3\xa9\":1}");
}

TEST_CASE("strings keep UTF-8 as is and escape only quotes, backslashes and control characters") {
  CHECK(canonicalize_json_text(R"("caf\u00e9 \ud83d\ude00")") == "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  CHECK(canonicalize_json_text(R"("a\"b\\c\/d")") == R"("a\"b\\c/d")");
  CHECK(canonicalize_json_text(R"("\b\f\n\r\t\u0001\u001f\u007f")") ==
        "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"");
}

TEST_CASE("numbers: one form per value") {
  CHECK(canonicalize_json_text("1.0") == "1");
  CHECK(canonicalize_json_text("1") == "1");
  CHECK(canonicalize_json_text("[1.0, 1, 1e0, 10e-1]") == "[1,1,1,1]");
  CHECK(canonicalize_json_text("-0") == "0");
  CHECK(canonicalize_json_text("-0.0") == "0");
  CHECK(canonicalize_json_text("1e2") == "100");
  CHECK(canonicalize_json_text("0.1") == "0.1");
  CHECK(canonicalize_json_text("1.5e-7") == "1.5e-7");
  CHECK(canonicalize_json_text("0.000001") == "0.000001");
  CHECK(canonicalize_json_text("1e21") == "1e+21");
  CHECK(canonicalize_json_text("1e20") == "100000000000000000000");
  CHECK(canonicalize_json_text("-12.50") == "-12.5");
  CHECK(canonical_number(0.1 + 0.2) == "0.30000000000000004");
  CHECK(canonical_number(5e-324) == "5e-324");
  CHECK(canonical_number(1.7976931348623157e308) == "1.7976931348623157e+308");
}

TEST_CASE("big integers: exact within 64 bits, doubles beyond") {
  CHECK(canonicalize_json_text("9007199254740993") == "9007199254740993");
  CHECK(canonicalize_json_text("-9223372036854775808") == "-9223372036854775808");
  CHECK(canonicalize_json_text("18446744073709551615") == "18446744073709551615");
  CHECK(canonicalize_json_text("123456789012345678901234") == "1.2345678901234569e+23");
  // The same value written as a float rounds to the nearest double.
  CHECK(canonicalize_json_text("9007199254740993.0") == "9007199254740992");
}

TEST_CASE("invalid input is an error, never a different value") {
  CHECK_THROWS_WITH_AS(canonicalize_json_text(R"({"a":1,"a":2})"), doctest::Contains("duplicate key \"a\""),
                       af::Error);
  CHECK_THROWS_WITH_AS(canonicalize_json_text("{\"a\":1} x"), doctest::Contains("line 1"), af::Error);
  CHECK_THROWS_WITH_AS(canonicalize_json_text("{\n  \"a\": tru\n}"), doctest::Contains("line 2"), af::Error);
  CHECK_THROWS_AS(canonicalize_json_text("\"\xff\""), af::Error);
  CHECK_THROWS_AS(canonicalize_json_text(""), af::Error);
  CHECK_THROWS_AS(canonical_number(NAN), af::Error);
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  CHECK_THROWS_WITH_AS(canonicalize_json_text(deep), doctest::Contains("nested deeper"), af::Error);
}

TEST_CASE("canonical form is a fixed point") {
  const char* text =
      R"({"query":{"filter":{"op":"gt","field":"price","value":1.50},"limit":10,"fields":["a","b"]}})";
  std::string once = canonicalize_json_text(text);
  CHECK(once ==
        R"({"query":{"fields":["a","b"],"filter":{"field":"price","op":"gt","value":1.5},"limit":10}})");
  CHECK(canonicalize_json_text(once) == once);
}
