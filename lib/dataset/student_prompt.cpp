#include "dataset/student_prompt.h"

#include "core/canonical_json.h"

namespace af::dataset {

std::string student_prompt(const nlohmann::json& schema, const std::string& query) {
  // Canonical JSON: compact (fewer tokens) and identical wherever the same schema appears.
  return "Schema:\n" + canonical_json(schema) + "\nRequest: " + query + "\nAnswer with one JSON object.";
}

}  // namespace af::dataset
