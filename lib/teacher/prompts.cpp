#include "teacher/prompts.h"

#include "dataset/domain_spec.h"

namespace af::teacher {
namespace {

using json = nlohmann::json;

const char* kSystem =
    "You are the teacher of a dataset pipeline for a query language described by JSON Schema. Follow the "
    "instructions exactly and answer with one JSON object that follows the requested format, with no prose "
    "and "
    "no code fences.";

ChatRequest make(const std::string& instructions, json input, json format, uint64_t seed) {
  ChatRequest r;
  r.system = kSystem;
  r.user = instructions + "\n\n" + kInputMarker + "\n" + input.dump();
  r.format = std::move(format);
  r.seed = seed;
  return r;
}

}  // namespace

ChatRequest domain_spec_request(const json& domain_prompt, int64_t examples, double french_ratio,
                                uint64_t seed) {
  json input = domain_prompt;
  input["task"] = "domain_spec";
  input["examples_per_schema"] = examples;
  input["french_ratio"] = french_ratio;
  return make(
      "Design the data of one domain. Follow the domain's prompt: invent the fields that queries over its "
      "records "
      "filter, sort and select on (snake_case names; type string, enum, number, integer, date or boolean; a "
      "one-sentence description; the allowed values of every enum; the unit of numbers when there is one). "
      "Then "
      "write `examples_per_schema` realistic requests a user of this data would type, about a `french_ratio` "
      "share "
      "of them in French and the rest in English, mixing filters, combinations with and/or/not, ranges, "
      "ordering "
      "and limits. Keep domain_id as given.",
      std::move(input), dataset::domain_spec_schema(), seed);
}

ChatRequest queries_request(const json& schema_row, int64_t count, int64_t first_index, double french_ratio,
                            double refusal_ratio, uint64_t seed) {
  json input = {{"task", "queries"},
                {"schema_id", schema_row.at("schema_id")},
                {"schema", schema_row.at("schema")},
                {"count", count},
                {"first_index", first_index},
                {"french_ratio", french_ratio},
                {"refusal_ratio", refusal_ratio}};
  json format = json::parse(R"({"type": "object", "required": ["queries"], "properties": {"queries": {
      "type": "array", "items": {"type": "object", "required": ["language", "text"], "properties": {
      "language": {"enum": ["en", "fr"]}, "text": {"type": "string", "minLength": 1}}}}}})");
  return make(
      "Write `count` different requests that a user could ask about the records this JSON Schema describes. "
      "Read "
      "the schema: its fields and what each operator means. About a `french_ratio` share must be in French, "
      "the "
      "rest in English. About a `refusal_ratio` share must ask for something the schema cannot express (a "
      "field or "
      "an operator it does not have); all others must be expressible with it. Vary them: single filters, "
      "combinations, negations, ranges, selected fields, ordering, limits.",
      std::move(input), std::move(format), seed);
}

ChatRequest ast_request(const json& schema, const std::string& query, uint64_t seed) {
  return make(
      "Translate the request into one JSON object that validates against the JSON Schema. Use only the "
      "fields and "
      "the operator names the schema defines, with the meaning its descriptions give. When the schema cannot "
      "express the request, answer {\"refusal\": {\"reason\": ..., \"suggestion\": ...}} saying what is "
      "missing "
      "and what close request it can express.",
      {{"task", "ast"}, {"schema", schema}, {"query", query}}, schema, seed);
}

ChatRequest ast_repair_request(const json& schema, const std::string& query, const json& previous,
                               const json& errors, uint64_t seed) {
  return make(
      "Your previous answer to this request does not validate against the JSON Schema; the validator's "
      "errors "
      "are listed. Write a corrected JSON object that validates, using only the fields and operator names "
      "the "
      "schema defines, with the meaning its descriptions give (or the refusal object when the schema cannot "
      "express the request).",
      {{"task", "ast_repair"},
       {"schema", schema},
       {"query", query},
       {"previous", previous},
       {"errors", errors}},
      schema, seed);
}

ChatRequest judge_request(const json& schema, const std::string& query, const json& candidate,
                          uint64_t seed) {
  json format = json::parse(R"({"type": "object", "required": ["verdict", "reason", "ast"], "properties": {
      "verdict": {"enum": ["accept", "reject"]}, "reason": {"type": "string"}, "ast": {"type": "object"}}})");
  return make(
      "Judge whether the candidate AST means exactly what the request asks, under the JSON Schema (operands "
      "of "
      "and/or may come in any order). Answer accept or reject with a one-sentence reason, and give the AST "
      "you "
      "would write for the request.",
      {{"task", "judge"}, {"schema", schema}, {"query", query}, {"candidate", candidate}}, std::move(format),
      seed);
}

std::optional<std::pair<std::string, json>> read_task(const std::string& user_message) {
  auto pos = user_message.rfind(kInputMarker);
  if (pos == std::string::npos) return std::nullopt;
  json input = json::parse(user_message.substr(pos + std::string(kInputMarker).size()), nullptr, false);
  if (input.is_discarded() || !input.is_object() || !input.contains("task") || !input["task"].is_string()) {
    return std::nullopt;
  }
  std::string task = input["task"];
  return std::make_pair(task, std::move(input));
}

}  // namespace af::teacher
