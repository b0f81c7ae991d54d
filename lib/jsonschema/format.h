// `format` checks used when format is an assertion (by option or by the format-assertion vocabulary).
#pragma once
#include <string>

namespace af::jsonschema {

/// True when `value` is a valid `format` (date, date-time, time, duration, email, hostname, ipv4, ipv6, uri,
/// uri-reference, uuid, json-pointer, regex). Unknown formats are always valid, as the specification says.
bool format_matches(const std::string& format, const std::string& value);

}  // namespace af::jsonschema
