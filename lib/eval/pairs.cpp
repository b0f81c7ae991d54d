#include "eval/pairs.h"

#include <set>

#include "core/error.h"
#include "core/jsonl_reader.h"

namespace af::eval {

using nlohmann::json;

namespace {

const std::string* string_at(const json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

}  // namespace

PairsResult build_pairs(const std::string& path, const PairSettings& settings) {
  PairsResult out;
  std::set<std::string> seen;
  size_t judged = 0;
  for (const auto& rec : read_jsonl_records(path)) {
    ++out.records;
    const json& r = rec.value;
    std::string where = path + ":" + std::to_string(rec.line);
    if (!r.is_object()) throw usage_error(where + ": expected a JSON object (an evaluation record)");
    const std::string* prompt = string_at(r, "prompt_text");
    if (prompt == nullptr)
      throw usage_error(where + ": missing key 'prompt_text'", "pairs are built from eval-teacher's records");
    const std::string* verdict = string_at(r, "teacher_verdict");
    const std::string* chosen = string_at(r, "teacher_canonical");
    // An answer that did not parse is still what the student said: as the rejected side it teaches the
    // student away from broken JSON, the failure DPO most needs to fix on a young student.
    const std::string* rejected = string_at(r, "student_canonical");
    const bool rejected_parsed = rejected != nullptr;
    if (rejected == nullptr) rejected = string_at(r, "raw_output");
    if (rejected != nullptr && rejected->empty()) rejected = nullptr;
    auto skip = [&](const char* reason) { ++out.skipped[reason]; };
    if (verdict != nullptr) ++judged;
    if (verdict == nullptr || chosen == nullptr) {
      skip("no teacher AST");
    } else if (settings.only_rejected && *verdict == "accept") {
      skip("teacher accepted (only_rejected)");
    } else if (r.contains("teacher_schema_valid") && r["teacher_schema_valid"] == false) {
      skip("teacher AST not schema-valid");
    } else if (rejected == nullptr) {
      skip("no student output");
    } else if (*chosen == *rejected) {
      skip("chosen equals rejected");
    } else if (!seen.insert(*prompt + '\n' + *chosen + '\n' + *rejected).second) {
      skip("duplicate");
    } else if (settings.max_pairs > 0 && out.pairs.size() >= static_cast<size_t>(settings.max_pairs)) {
      skip("over max_pairs");
    } else {
      out.pairs.push_back({{"id", r.value("id", json(nullptr))},
                           {"schema_id", r.value("schema_id", json(nullptr))},
                           {"prompt", *prompt},
                           {"chosen", *chosen},
                           {"rejected", *rejected},
                           {"rejected_parsed", rejected_parsed},
                           {"language", r.value("language", json(nullptr))},
                           {"kind", r.value("kind", json(nullptr))},
                           {"teacher_reason", r.value("teacher_reason", json(nullptr))}});
    }
  }
  if (out.records > 0 && judged == 0)
    throw usage_error(path + " has no teacher verdicts: it was evaluated without a teacher",
                      "run eval-teacher with a teacher (--teacher-model) before pairs-build");
  return out;
}

}  // namespace af::eval
