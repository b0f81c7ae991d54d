// evaluation_summary.json from the per-sample records: the five rates with their counts, split by language
// and by query kind, plus throughput. Teacher rates are null (and said to be missing) when nobody judged.
#pragma once
#include <nlohmann/json.hpp>
#include <vector>

namespace af::eval {

/// The rates of `records` (rows of evaluation_results.jsonl) as one object: samples, parsed/schema_valid/
/// exact_match/teacher_accept/semantic_pass counts and rates, truncated_count, by_language, by_kind.
nlohmann::json rates(const std::vector<nlohmann::json>& records);

/// The whole summary: rates(records) plus `context` (adapter, dataset, teacher, settings) and throughput.
nlohmann::json summarize(const std::vector<nlohmann::json>& records, const nlohmann::json& context);

}  // namespace af::eval
