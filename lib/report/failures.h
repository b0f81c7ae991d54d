// The worst failures of an evaluation: which samples to show first, and why each failed.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace af::report {

/// One failed sample as the report shows it.
struct Failure {
  int severity = 0;  // 5 truncated, 4 not JSON, 3 schema-invalid, 2 teacher rejected, 1 differs from target
  std::string outcome;  // "not JSON", "schema-invalid", ...
  std::string detail;   // the parse error, first schema error, or the teacher's reason
  const nlohmann::json* record = nullptr;
};

/// How `record` (an evaluation_results.jsonl row) failed; severity 0 when it did not.
Failure classify(const nlohmann::json& record);

/// The `limit` worst failures: most severe first, file order within a severity.
std::vector<Failure> worst_failures(const std::vector<nlohmann::json>& records, size_t limit);

}  // namespace af::report
