#include "eval/pairs.h"

#include <set>
#include <string>

#include <filesystem>

#include "config/resolve.h"
#include "config/run_settings.h"
#include "core/canonical_json.h"
#include "core/error.h"
#include "core/files.h"
#include "core/jsonl_reader.h"
#include "eval/summary.h"

namespace af::eval {

using nlohmann::json;

namespace {

const std::string* string_at(const json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

}  // namespace

namespace {

std::string pair_key(const std::string& prompt, const std::string& chosen, const std::string& rejected) {
  return prompt + '\n' + chosen + '\n' + rejected;
}

}  // namespace

PairsResult build_pairs(const std::string& path, const PairSettings& settings) {
  PairsResult out;
  std::set<std::string>& seen = out.seen;
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
    } else if (!seen.insert(pair_key(*prompt, *chosen, *rejected)).second) {
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

void check_eval_summary(const std::string& summary_path, const std::string& results_path) {
  const std::string hint =
      "run eval-teacher with a teacher to the end (it writes both files), or point "
      "alignment.eval_summary at the summary of " +
      results_path;
  if (!std::filesystem::exists(summary_path))
    throw usage_error("evaluation summary not found: " + summary_path +
                          " (eval-teacher writes it once every sample is evaluated)",
                      hint);
  json summary = parse_json_strict(read_file(summary_path));
  if (!summary.is_object())
    throw usage_error(summary_path + ": expected a JSON object (evaluation_summary.json)");
  if (summary.contains("teacher_rates_missing") || !summary.contains("teacher_accept_rate") ||
      summary["teacher_accept_rate"].is_null())
    throw usage_error(
        summary_path + " says no teacher judged this evaluation (eval-teacher ran with --no-judge)",
        "run eval-teacher with a teacher (--teacher-model) before pairs-build");
  // The summary's counts must be those of the records: otherwise the records are from another run.
  json now = rates(read_jsonl(results_path));
  for (const char* key :
       {"samples", "parsed_count", "schema_valid_count", "exact_match_count", "teacher_accept_count"}) {
    if (summary.value(key, json(nullptr)) != now.value(key, json(nullptr)))
      throw usage_error(summary_path + " does not describe " + results_path + ": its " + key + " is " +
                            summary.value(key, json(nullptr)).dump() + ", the records give " +
                            now.value(key, json(nullptr)).dump(),
                        "the two files come from different runs: " + hint);
  }
}

void append_negative_pairs(PairsResult& result, const std::string& path, const PairSettings& settings) {
  for (const auto& rec : read_jsonl_records(path)) {
    const json& r = rec.value;
    const std::string where = path + ":" + std::to_string(rec.line);
    const std::string* prompt = string_at(r, "prompt");
    const std::string* chosen = string_at(r, "chosen");
    const std::string* rejected = string_at(r, "rejected");
    if (prompt == nullptr || chosen == nullptr || rejected == nullptr)
      throw usage_error(where + ": a negative pair needs prompt, chosen and rejected (strings)",
                        "re-run ds-build corpus, which writes this file");
    if (!result.seen.insert(pair_key(*prompt, *chosen, *rejected)).second) {
      ++result.skipped["duplicate"];
    } else if (settings.max_pairs > 0 && result.pairs.size() >= static_cast<size_t>(settings.max_pairs)) {
      ++result.skipped["over max_pairs"];
    } else {
      json pair = r;
      pair["rejected_parsed"] = true;
      pair["source"] = "dataset";
      result.pairs.push_back(std::move(pair));
      ++result.from_dataset;
    }
  }
}

PairsResult build_all_pairs(const PairsBuildSettings& s) {
  if (!std::filesystem::exists(s.eval_results))
    throw usage_error("evaluation results not found: " + s.eval_results,
                      "run eval-teacher (with a teacher) first");
  check_eval_summary(s.eval_summary, s.eval_results);
  PairsResult r = build_pairs(s.eval_results, s.pick);
  if (!s.negative_pairs.empty() && std::filesystem::exists(s.negative_pairs))
    append_negative_pairs(r, s.negative_pairs, s.pick);
  return r;
}

PairsBuildSettings pairs_build_settings(const config::Resolved& cfg) {
  PairsBuildSettings s;
  s.eval_results = cfg.get_string("alignment.eval_results");
  s.eval_summary = cfg.get_string("alignment.eval_summary");
  s.pairs_out = cfg.get_string("alignment.pairs_out");
  s.negative_pairs = config::optional_string(cfg, "alignment.negative_pairs").value_or("");
  s.pick.only_rejected = cfg.get_bool("alignment.only_rejected");
  s.pick.max_pairs = config::optional_int(cfg, "alignment.max_pairs").value_or(-1);
  return s;
}

json PairsBuildSettings::to_json() const {
  return {
      {"reads",
       {{"eval_results", eval_results},
        {"eval_summary", eval_summary + " (must say a teacher judged, and count what eval_results holds)"},
        {"negative_pairs",
         negative_pairs.empty() ? json(nullptr) : json(negative_pairs + " (when it exists)")}}},
      {"writes", pairs_out},
      {"only_rejected", pick.only_rejected},
      {"max_pairs", pick.max_pairs > 0 ? json(pick.max_pairs) : json(nullptr)}};
}

}  // namespace af::eval
