// The report's inputs, read leniently: a missing file or a malformed line is recorded, never fatal, so the
// report shows what exists and says what does not.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace af::report {

/// A JSONL input (metrics or evaluation records): its rows and what was wrong with it.
struct JsonlInput {
  std::string path;
  bool found = false;
  std::vector<nlohmann::json> rows;
  std::vector<std::string> problems;  // "file:line: reason", one per malformed or unusable line
};

/// A JSON document input (an evaluation summary).
struct JsonInput {
  std::string path;
  bool found = false;
  nlohmann::json value;  // null when missing or unreadable
  std::string problem;   // why an existing file could not be used
};

/// Reads a metrics file (training_metrics.jsonl, dpo_metrics.jsonl): every row must be an object with an
/// integer "step"; other lines are problems. An empty `path` counts as not found.
JsonlInput read_metrics(const std::string& path);

/// Reads evaluation_results.jsonl: every row must be an object with an "id".
JsonlInput read_eval_results(const std::string& path);

/// Reads evaluation_summary.json: an object with "samples".
JsonInput read_summary(const std::string& path);

}  // namespace af::report
