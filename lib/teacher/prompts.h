// The teacher's tasks, in one place: instructions written for a real LLM, the inputs as JSON after a marker
// line, and the JSON Schema each answer must follow.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "teacher/client.h"

namespace af::teacher {

/// The line after which every user message carries its inputs as JSON (with a "task" key).
inline constexpr const char* kInputMarker = "INPUT (JSON):";

/// Invent a domain's fields and example requests, from a data/domain_prompts.jsonl row.
ChatRequest domain_spec_request(const nlohmann::json& domain_prompt, int64_t examples, double french_ratio,
                                uint64_t seed);

/// Write `count` requests for a schema (a d_02 row), numbered from `first_index`, a share in French and a
/// share that the schema cannot express.
ChatRequest queries_request(const nlohmann::json& schema_row, int64_t count, int64_t first_index,
                            double french_ratio, double refusal_ratio, uint64_t seed);

/// Turn one request into the AST the schema describes (the schema is the answer format).
ChatRequest ast_request(const nlohmann::json& schema, const std::string& query, uint64_t seed);

/// Correct an AST that failed the schema: the request, the previous answer and the validator's errors.
ChatRequest ast_repair_request(const nlohmann::json& schema, const std::string& query,
                               const nlohmann::json& previous, const nlohmann::json& errors, uint64_t seed);

/// Judge a candidate AST for a request; the answer carries the teacher's own AST. The stored target is never
/// sent.
ChatRequest judge_request(const nlohmann::json& schema, const std::string& query,
                          const nlohmann::json& candidate, uint64_t seed);

/// The (task, input) of a user message built by this file; nullopt for any other text.
std::optional<std::pair<std::string, nlohmann::json>> read_task(const std::string& user_message);

}  // namespace af::teacher
