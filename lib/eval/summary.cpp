#include "eval/summary.h"

#include <map>
#include <string>

namespace af::eval {

using nlohmann::json;

namespace {

bool is_true(const json& record, const char* key) {
  auto it = record.find(key);
  return it != record.end() && it->is_boolean() && it->get<bool>();
}

double number(const json& record, const char* key) {
  auto it = record.find(key);
  return it != record.end() && it->is_number() ? it->get<double>() : 0.0;
}

json rate(size_t count, size_t of) {
  return of == 0 ? json(nullptr) : json(static_cast<double>(count) / static_cast<double>(of));
}

// The rates of one group of records (all, one language, one kind).
json group_rates(const std::vector<const json*>& group) {
  size_t parsed = 0, valid = 0, exact = 0, with_target = 0, judged = 0, accepted = 0, semantic = 0,
         truncated = 0;
  for (const json* r : group) {
    parsed += is_true(*r, "parsed");
    valid += is_true(*r, "schema_valid");
    if (r->contains("exact_match") && (*r)["exact_match"].is_boolean()) {
      ++with_target;
      exact += (*r)["exact_match"].get<bool>();
    }
    if (r->contains("teacher_verdict") && (*r)["teacher_verdict"].is_string()) {
      ++judged;
      accepted += (*r)["teacher_verdict"] == "accept";
      semantic += is_true(*r, "semantic_pass");
    }
    truncated += r->value("finish_reason", "") == "length";
  }
  size_t n = group.size();
  // Rates are over every sample: an output that did not parse counts as not valid, not matching, not
  // accepted.
  json out = {{"samples", n},
              {"parsed_count", parsed},
              {"parsed_rate", rate(parsed, n)},
              {"schema_valid_count", valid},
              {"schema_valid_rate", rate(valid, n)},
              {"exact_match_count", exact},
              {"exact_match_rate", rate(exact, with_target)},
              {"truncated_count", truncated}};
  if (with_target != n) out["exact_match_samples"] = with_target;
  if (judged == n && n > 0) {
    out["teacher_accept_count"] = accepted;
    out["teacher_accept_rate"] = rate(accepted, n);
    out["semantic_pass_count"] = semantic;
    out["semantic_pass_rate"] = rate(semantic, n);
  } else {
    out["teacher_accept_count"] = nullptr;
    out["teacher_accept_rate"] = nullptr;
    out["semantic_pass_count"] = nullptr;
    out["semantic_pass_rate"] = nullptr;
  }
  return out;
}

}  // namespace

json rates(const std::vector<json>& records) {
  std::vector<const json*> all;
  std::map<std::string, std::vector<const json*>> by_language, by_kind;
  for (const json& r : records) {
    all.push_back(&r);
    by_language[r.value("language", "unknown")].push_back(&r);
    by_kind[r.value("kind", "unknown")].push_back(&r);
  }
  json out = group_rates(all);
  out["by_language"] = json::object();
  for (const auto& [language, group] : by_language) out["by_language"][language] = group_rates(group);
  out["by_kind"] = json::object();
  for (const auto& [kind, group] : by_kind) out["by_kind"][kind] = group_rates(group);
  return out;
}

json summarize(const std::vector<json>& records, const json& context) {
  json out = rates(records);
  size_t judged = 0;
  double gen_seconds = 0, tokens = 0, teacher_seconds = 0;
  for (const json& r : records) {
    judged += r.contains("teacher_verdict") && r["teacher_verdict"].is_string();
    gen_seconds += number(r, "generation_seconds");
    tokens += number(r, "generated_tokens");
    teacher_seconds += number(r, "teacher_seconds");
  }
  if (judged != records.size())
    out["teacher_rates_missing"] =
        judged == 0
            ? "no teacher judged these samples (eval-teacher ran without a teacher): teacher_accept_rate and "
              "semantic_pass_rate are missing"
            : std::to_string(records.size() - judged) + " samples have no teacher verdict";
  // generation_seconds is a batch's time shared over its rows, so the sums are the time spent generating.
  out["throughput"] = {
      {"generation_seconds", gen_seconds},
      {"generated_tokens", tokens},
      {"samples_per_second", gen_seconds > 0 ? json(records.size() / gen_seconds) : json(nullptr)},
      {"tokens_per_second", gen_seconds > 0 ? json(tokens / gen_seconds) : json(nullptr)},
      {"teacher_seconds", teacher_seconds}};
  for (auto it = context.begin(); it != context.end(); ++it) out[it.key()] = it.value();
  return out;
}

}  // namespace af::eval
