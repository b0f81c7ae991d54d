#include "report/failures.h"

#include <algorithm>

namespace af::report {
namespace {

using nlohmann::json;

bool flag(const json& r, const char* key) {
  return r.contains(key) && r[key].is_boolean() && r[key].get<bool>();
}

std::string text(const json& r, const char* key) {
  return r.contains(key) && r[key].is_string() ? r[key].get<std::string>() : std::string();
}

}  // namespace

Failure classify(const json& r) {
  Failure f;
  f.record = &r;
  if (!flag(r, "parsed")) {
    f.severity = flag(r, "truncated") ? 5 : 4;
    f.outcome = flag(r, "truncated") ? "cut off at max_new_tokens" : "not JSON";
    f.detail = text(r, "parse_error");
  } else if (!flag(r, "schema_valid")) {
    f.severity = 3;
    f.outcome = "schema-invalid";
    if (r.contains("schema_errors") && r["schema_errors"].is_array() && !r["schema_errors"].empty()) {
      const json& e = r["schema_errors"].back();  // the innermost error says most
      std::string at = e.is_object() ? e.value("instance_path", "") : "";
      f.detail = (at.empty() ? "/" : at) + ": " + (e.is_object() ? e.value("message", "") : e.dump());
    }
  } else if (r.contains("teacher_accept") && r["teacher_accept"].is_boolean() && !r["teacher_accept"]) {
    f.severity = 2;
    f.outcome = "teacher rejected";
    f.detail = text(r, "teacher_reason");
  } else if (!flag(r, "exact_match")) {
    f.severity = 1;
    f.outcome = "differs from target";
  }
  return f;
}

std::vector<Failure> worst_failures(const std::vector<json>& records, size_t limit) {
  std::vector<Failure> failures;
  for (const json& r : records) {
    Failure f = classify(r);
    if (f.severity > 0) failures.push_back(std::move(f));
  }
  std::stable_sort(failures.begin(), failures.end(),
                   [](const Failure& a, const Failure& b) { return a.severity > b.severity; });
  if (failures.size() > limit) failures.resize(limit);
  return failures;
}

}  // namespace af::report
