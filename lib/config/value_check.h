// Typing and checking one value against its field: types, ranges, enums, unsupported and invalid values.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config/field.h"
#include "config/findings.h"

namespace af::config {

/// Types a plain (unquoted) scalar by the YAML 1.2 core schema: null, true/false, integers, floats, or
/// string.
nlohmann::json type_plain_scalar(std::string_view text);

/// Parses a value given as text (a flag, --set, an environment variable) for `field`: strings stay
/// literal, lists split on commas (or parse as a JSON array), everything else is typed as a plain scalar.
nlohmann::json parse_text_value(const Field& field, std::string_view text);

/// True when `value` is a string holding a "${key}" reference, checked again after interpolation.
bool holds_reference(const nlohmann::json& value);

/// Checks `value` for `field` and normalises it in place (a single string becomes a list, an integer for a
/// number field becomes a float, "true" for a boolean-or-enum becomes true). Appends findings; returns true
/// when the value may be used.
bool check_value(const Field& field, nlohmann::json& value, const Origin& where, Findings& out);

/// A short human text of a value for messages ("-1", "\"yes\"", "a mapping", "null").
std::string describe_value(const nlohmann::json& value);
/// describe_value, or "<redacted>" for any value but null of a secret key, whatever its type: how a message
/// shows the value it found.
std::string describe_value_of(const Field& field, const nlohmann::json& value);

/// The range of a numeric field in words ("a number > 0 and <= 1").
std::string describe_expected(const Field& field);

/// The closest candidates to `word` (edit distance), best first, at most `max_results`.
std::vector<std::string> closest_matches(std::string_view word, const std::vector<std::string>& candidates,
                                         size_t max_results = 3);

}  // namespace af::config
