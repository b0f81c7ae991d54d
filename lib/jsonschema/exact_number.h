// JSON numbers decided exactly, as JSON Schema defines `minimum`, `maximum` and `multipleOf` on the decimal
// values written in the document, not on doubles: {"multipleOf": 2} must refuse 1e-9, {"multipleOf": 3}
// accept 18446744073709551615, {"maximum": 9007199254740992} refuse 9007199254740993.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace af::jsonschema {

/// A JSON number as the decimal it stands for: (negative ? -1 : 1) x digits x 10^exponent, with `digits`
/// free of leading and trailing zeros ("" for zero). 64-bit integers are exact; a double is the shortest
/// decimal that reads back as it, which is the number as written whenever it has at most 17 significant
/// digits (the JSON parser keeps no more of a longer one).
struct ExactNumber {
  bool negative = false;
  std::string digits;
  int exponent = 0;
};

/// `number` (a JSON number) as an exact decimal.
ExactNumber exact_number(const nlohmann::json& number);

/// -1, 0 or 1 as a is less than, equal to or greater than b.
int compare_exact(const ExactNumber& a, const ExactNumber& b);

/// True when a / b is an integer (b > 0).
bool is_multiple_exact(const ExactNumber& a, const ExactNumber& b);

/// True when comparing `a` and `b` as doubles could be wrong: one is an integer beyond 2^53.
bool needs_exact_compare(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace af::jsonschema
