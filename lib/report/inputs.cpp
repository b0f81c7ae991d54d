#include "report/inputs.h"

#include <filesystem>

#include "core/files.h"
#include "core/jsonl_reader.h"

namespace af::report {
namespace {

using nlohmann::json;

// Reads `path` line by line; `required` is the key every row must carry (with `check` on its value).
JsonlInput read_rows(const std::string& path, const char* required, bool (*check)(const json&),
                     const char* expected) {
  JsonlInput in;
  in.path = path;
  std::error_code ec;
  if (path.empty() || !std::filesystem::is_regular_file(path, ec)) return in;
  in.found = true;
  JsonlStats stats;
  std::vector<JsonlRecord> records;
  try {
    records = read_jsonl_records(path, OnBadLine::SkipAndCount, &stats);
  } catch (const std::exception& e) {
    in.problems.push_back(e.what());
    return in;
  }
  in.problems = stats.bad_reasons;
  for (auto& r : records) {
    if (!r.value.is_object() || !r.value.contains(required) || !check(r.value[required])) {
      in.problems.push_back(path + ":" + std::to_string(r.line) + ": " + expected);
      continue;
    }
    in.rows.push_back(std::move(r.value));
  }
  return in;
}

}  // namespace

JsonlInput read_metrics(const std::string& path) {
  return read_rows(
      path, "step", [](const json& v) { return v.is_number_integer(); },
      "not a metrics line: expected an object with an integer \"step\"");
}

JsonlInput read_eval_results(const std::string& path) {
  return read_rows(
      path, "id", [](const json& v) { return v.is_string() || v.is_number(); },
      "not an evaluation record: expected an object with an \"id\"");
}

JsonInput read_summary(const std::string& path) {
  JsonInput in;
  in.path = path;
  std::error_code ec;
  if (path.empty() || !std::filesystem::is_regular_file(path, ec)) return in;
  in.found = true;
  try {
    json v = json::parse(read_file(path));
    if (!v.is_object() || !v.contains("samples")) {
      in.problem = path + ": not an evaluation summary (expected an object with \"samples\")";
    } else {
      in.value = std::move(v);
    }
  } catch (const json::parse_error& e) {
    in.problem = path + ": invalid JSON: " + e.what();
  } catch (const std::exception& e) {
    in.problem = e.what();
  }
  return in;
}

}  // namespace af::report
