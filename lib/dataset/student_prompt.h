// The student's prompt for one request: the schema and the request, in one place (corpus, eval, predict).
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace af::dataset {

/// The user turn the student sees (the chat template is applied around it at training and generation time).
std::string student_prompt(const nlohmann::json& schema, const std::string& query);

}  // namespace af::dataset
