// Reading what the student generated: the first JSON object in its text, parsed strictly and put in canonical
// form, or why that failed. One rule for predict and eval-teacher.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace af::eval {

/// The outcome of reading one generation.
struct ParsedOutput {
  bool parsed = false;    // a JSON object was found and parsed
  nlohmann::json value;   // the object, when parsed
  std::string canonical;  // its canonical text, when parsed
  std::string error;      // why not, when not parsed
};

/// The text of the first balanced {...} in `text` (strings and escapes respected), or nullopt. Code fences
/// and prose around the object are skipped, as models often add them.
std::optional<std::string_view> first_json_object(std::string_view text);

/// Finds, parses (strictly: duplicate keys are errors) and canonicalises the first JSON object of `text`.
ParsedOutput parse_student_output(std::string_view text);

}  // namespace af::eval
