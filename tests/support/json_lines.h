// Parsing a tool's JSONL output in tests.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace af::test {

/// One JSON value per line of `text` (a tool's stdout or an output file).
inline std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> rows;
  for (size_t start = 0; start < text.size();) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (nl > start) rows.push_back(nlohmann::json::parse(text.substr(start, nl - start)));
    start = nl + 1;
  }
  return rows;
}

}  // namespace af::test
