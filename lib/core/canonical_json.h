// Canonical JSON: the one text form of every stored AST and of exact match.
//
// Rules (docs/canonical-json.md explains them with examples):
//  1. No whitespace outside strings.
//  2. Object keys sorted by their UTF-8 bytes (= code point order); duplicate keys are an error.
//  3. Strings: UTF-8 kept as is (no \u escapes for non-ASCII); escaped are only '"' '\\' and control
//     characters U+0000..U+001F, as \b \f \n \r \t or \u00XX (lowercase hex). Invalid UTF-8 is an error.
//  4. Numbers: integers that fit 64 bits are written exactly. Every other number is an IEEE double written in
//     the shortest form that reads back to the same double, laid out as ECMAScript's Number::toString (and
//     RFC 8785): so 1.0 -> 1, 1e2 -> 100, -0 -> 0, 1.5e-7 -> 1.5e-7, 1e21 -> 1e+21. Integers beyond 64 bits
//     become doubles and lose precision. NaN and infinities are errors.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace af {

/// Canonical text of a JSON value.
std::string canonical_json(const nlohmann::json& value);

/// Canonical text of one double (rule 4).
std::string canonical_number(double value);

/// Parses JSON text strictly: one value, nothing after it, duplicate keys rejected. Errors are runtime errors
/// with the line and column of the problem.
nlohmann::json parse_json_strict(std::string_view text);

/// parse_json_strict then canonical_json.
std::string canonicalize_json_text(std::string_view text);

}  // namespace af
