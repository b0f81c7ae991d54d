#include "eval/student_output.h"

#include "core/canonical_json.h"
#include "core/error.h"

namespace af::eval {

std::optional<std::string_view> first_json_object(std::string_view text) {
  for (size_t start = text.find('{'); start != std::string_view::npos; start = text.find('{', start + 1)) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = start; i < text.size(); ++i) {
      char c = text[i];
      if (in_string) {
        if (escaped)
          escaped = false;
        else if (c == '\\')
          escaped = true;
        else if (c == '"')
          in_string = false;
        continue;
      }
      if (c == '"')
        in_string = true;
      else if (c == '{')
        ++depth;
      else if (c == '}' && --depth == 0)
        return text.substr(start, i - start + 1);
    }
    return std::nullopt;  // unbalanced from here on: every later '{' is inside this one
  }
  return std::nullopt;
}

ParsedOutput parse_student_output(std::string_view text) {
  ParsedOutput out;
  auto object = first_json_object(text);
  if (!object) {
    out.error = text.find('{') == std::string_view::npos
                    ? "no JSON object in the output"
                    : "the JSON object is not closed (output cut short?)";
    return out;
  }
  try {
    out.value = parse_json_strict(*object);
    out.canonical = canonical_json(out.value);
    out.parsed = true;
  } catch (const Error& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace af::eval
