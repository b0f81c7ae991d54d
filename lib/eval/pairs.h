// DPO preference pairs from teacher-judged evaluation records: the exact prompt the student saw, the
// teacher's AST as "chosen" and the student's as "rejected" (its canonical AST, or its raw text when it did
// not parse). Unusable records are skipped and counted by reason.
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace af::config {
class Resolved;
}

namespace af::eval {

/// How to pick the pairs.
struct PairSettings {
  bool only_rejected = true;  // keep only records the teacher rejected
  int64_t max_pairs = -1;     // <= 0: no cap
};

/// Everything pairs-build does, as configured (alignment.*).
struct PairsBuildSettings {
  std::string eval_results, eval_summary, pairs_out;
  std::string negative_pairs;  // the dataset's negatives (d_06); "": none
  PairSettings pick;

  nlohmann::json to_json() const;
};

/// Reads every key pairs-build consumes.
PairsBuildSettings pairs_build_settings(const config::Resolved& cfg);

/// The pairs and why the other records gave none.
struct PairsResult {
  std::vector<nlohmann::json> pairs;  // {id, prompt, chosen, rejected, language, kind, teacher_reason}
  size_t records = 0;
  size_t from_dataset = 0;                // pairs taken from the dataset's negatives
  std::map<std::string, size_t> skipped;  // reason -> count
  std::set<std::string> seen;             // prompt/chosen/rejected of every pair, for the duplicate check
};

/// Builds pairs from the records of `eval_results_path` (evaluation_results.jsonl). A malformed line, or a
/// file with no teacher verdict at all (eval-teacher run without a teacher), is a usage error naming it.
PairsResult build_pairs(const std::string& eval_results_path, const PairSettings& settings);

/// Refuses (usage error) records that no finished, teacher-judged evaluation describes: the summary at
/// `summary_path` must exist, say a teacher judged, and count what the records of `eval_results_path` hold.
void check_eval_summary(const std::string& summary_path, const std::string& eval_results_path);

/// Appends the dataset's negative pairs (ds-build corpus, d_06) of `path` after the evaluation's, with the
/// same duplicate check and max_pairs cap; counted under "dataset negatives" in `result.skipped` when
/// skipped.
void append_negative_pairs(PairsResult& result, const std::string& path, const PairSettings& settings);

/// pairs-build: checks the summary, builds the evaluation's pairs, adds the dataset's negatives.
PairsResult build_all_pairs(const PairsBuildSettings& settings);

}  // namespace af::eval
