// The samples eval-teacher judges: rows of the d_05 eval set (or d_03-style dataset rows) joined with their
// schema from d_02, filtered and drawn as the evaluation.* keys say.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace af::eval {

/// One request to evaluate.
struct EvalSample {
  std::string id;
  std::string where;  // file:line, for messages
  std::string schema_id, domain_id, language, kind;
  std::string query;
  std::string
      prompt;  // the exact user prompt the student sees (the row's own, else built from schema + query)
  const nlohmann::json* schema = nullptr;  // points into EvalSet::schemas
  std::optional<std::string> target;       // the stored target AST, canonical; none when the row has none
  bool is_valid = true;
};

/// The samples and the schemas they point at.
struct EvalSet {
  std::map<std::string, nlohmann::json> schemas;  // schema_id -> JSON Schema
  std::vector<EvalSample> samples;
  size_t rows = 0;             // rows in the dataset file
  size_t skipped_invalid = 0;  // rows with is_valid false, left out without include_invalid
};

/// How to pick the samples.
struct EvalSelection {
  bool include_invalid = false;
  int64_t max_samples = -1;  // <= 0: all
  uint64_t sample_seed = 0;  // the shuffle before max_samples
};

/// Reads `dataset_path` and the schemas of `schemas_path`. Rows need schema_id (known to the schemas file)
/// and query; the target is `target` (canonical text) or `ast_canonical` / `ast`. Errors name the file, the
/// line and the key.
EvalSet load_eval_set(const std::string& dataset_path, const std::string& schemas_path,
                      const EvalSelection& selection);

}  // namespace af::eval
