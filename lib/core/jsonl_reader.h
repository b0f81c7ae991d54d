// JSONL reading with simdjson On-Demand; a malformed line is reported as `file:line: reason`, never dropped
// silently: the caller chooses fail-fast or skip-and-count.
#pragma once
#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace af {

/// What to do with a line that is not valid JSON (or that the visitor rejects).
enum class OnBadLine { Fail, SkipAndCount };

/// Thrown by a visitor to reject a line with a reason ("missing key \"prompt\"").
class BadLine : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One physical line of the file (1-based number, text without the newline).
struct JsonlLine {
  uint64_t number = 0;
  std::string_view text;
};

/// Counts of one read. `bad_reasons` keeps the first 100 `file:line: reason` messages.
struct JsonlStats {
  uint64_t lines = 0;    // physical lines seen
  uint64_t records = 0;  // lines the visitor accepted
  uint64_t blank = 0;    // empty or whitespace-only lines (not records)
  uint64_t bad = 0;      // malformed or rejected lines (only with SkipAndCount)
  uint64_t bytes = 0;
  std::vector<std::string> bad_reasons;
};

using OnDemandVisitor = std::function<void(const JsonlLine&, simdjson::ondemand::document&)>;

/// Streams `path` line by line without copying lines; the visitor pulls the fields it needs. On-Demand
/// validates what the visitor touches (use `to_json` to validate and convert a whole line).
JsonlStats for_each_jsonl(const std::string& path, OnBadLine policy, const OnDemandVisitor& visit);

/// Converts an On-Demand value (or document) to nlohmann::json, visiting all of it.
nlohmann::json to_json(simdjson::ondemand::value value);
nlohmann::json to_json(simdjson::ondemand::document& doc);
/// Converts a DOM element to nlohmann::json; duplicate keys are rejected.
nlohmann::json to_json(simdjson::dom::element element);

/// One record with the line it came from (for messages that point at the input).
struct JsonlRecord {
  uint64_t line = 0;
  nlohmann::json value;
};

/// Reads every record with its line number; each line is validated completely (DOM parser).
std::vector<JsonlRecord> read_jsonl_records(const std::string& path, OnBadLine policy = OnBadLine::Fail,
                                            JsonlStats* stats = nullptr);

/// Reads every line fully into nlohmann::json values; each line is validated completely (DOM parser).
std::vector<nlohmann::json> read_jsonl(const std::string& path, OnBadLine policy = OnBadLine::Fail,
                                       JsonlStats* stats = nullptr);

}  // namespace af
