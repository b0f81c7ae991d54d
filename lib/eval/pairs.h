// DPO preference pairs from teacher-judged evaluation records: the exact prompt the student saw, the
// teacher's AST as "chosen" and the student's as "rejected" (its canonical AST, or its raw text when it did
// not parse). Unusable records are skipped and counted by reason.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace af::eval {

/// How to pick the pairs.
struct PairSettings {
  bool only_rejected = true;  // keep only records the teacher rejected
  int64_t max_pairs = -1;     // <= 0: no cap
};

/// The pairs and why the other records gave none.
struct PairsResult {
  std::vector<nlohmann::json> pairs;  // {id, prompt, chosen, rejected, language, kind, teacher_reason}
  size_t records = 0;
  std::map<std::string, size_t> skipped;  // reason -> count
};

/// Builds pairs from the records of `eval_results_path` (evaluation_results.jsonl). A malformed line, or a
/// file with no teacher verdict at all (eval-teacher run without a teacher), is a usage error naming it.
PairsResult build_pairs(const std::string& eval_results_path, const PairSettings& settings);

}  // namespace af::eval
