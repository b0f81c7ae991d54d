// URI references as JSON Schema uses them ($id, $ref): parsing and RFC 3986 resolution against a base.
#pragma once
#include <string>
#include <string_view>

namespace af::jsonschema {

/// Resolves `ref` against the absolute URI `base` (RFC 3986 section 5.2, with dot-segment removal).
std::string resolve_uri(std::string_view base, std::string_view ref);

/// Splits "uri#fragment" into the part before '#' and the (still percent-encoded) fragment.
std::pair<std::string, std::string> split_fragment(std::string_view uri);

/// Decodes %XX escapes.
std::string percent_decode(std::string_view text);

/// True when `uri` has a scheme ("https:", "urn:", "file:").
bool has_scheme(std::string_view uri);

/// `s` as one JSON Pointer reference token ('~' -> "~0", '/' -> "~1").
std::string pointer_escape(const std::string& s);

}  // namespace af::jsonschema
