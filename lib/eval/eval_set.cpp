#include "eval/eval_set.h"

#include "core/canonical_json.h"
#include "core/error.h"
#include "core/jsonl_reader.h"
#include "core/permutation.h"
#include "dataset/query_kind.h"
#include "dataset/student_prompt.h"

namespace af::eval {

using nlohmann::json;

namespace {

std::string string_field(const json& row, const char* key, const std::string& where, bool required) {
  if (!row.contains(key)) {
    if (required)
      throw usage_error(where + ": missing key '" + key + "'",
                        "eval rows come from ds-build (d_05_eval_set.jsonl or d_03_dataset.jsonl)");
    return "";
  }
  if (!row[key].is_string()) throw usage_error(where + ": key '" + key + "' must be a string");
  return row[key].get<std::string>();
}

std::optional<std::string> target_of(const json& row) {
  if (row.contains("target") && !row["target"].is_null()) {
    if (row["target"].is_string()) return canonical_json(parse_json_strict(row["target"].get<std::string>()));
    return canonical_json(row["target"]);
  }
  if (row.contains("ast_canonical") && row["ast_canonical"].is_string())
    return canonical_json(parse_json_strict(row["ast_canonical"].get<std::string>()));
  if (row.contains("ast") && row["ast"].is_object()) return canonical_json(row["ast"]);
  return std::nullopt;
}

}  // namespace

EvalSet load_eval_set(const std::string& dataset_path, const std::string& schemas_path,
                      const EvalSelection& selection) {
  EvalSet set;
  for (const auto& r : read_jsonl_records(schemas_path)) {
    std::string where = schemas_path + ":" + std::to_string(r.line);
    if (!r.value.contains("schema_id") || !r.value["schema_id"].is_string() || !r.value.contains("schema"))
      throw usage_error(where + ": a schema row needs 'schema_id' and 'schema'",
                        "run ds-build schemas again");
    set.schemas[r.value["schema_id"].get<std::string>()] = r.value["schema"];
  }
  std::vector<EvalSample> all;
  for (const auto& r : read_jsonl_records(dataset_path)) {
    ++set.rows;
    const json& row = r.value;
    std::string where = dataset_path + ":" + std::to_string(r.line);
    if (!row.is_object()) throw usage_error(where + ": expected a JSON object");
    EvalSample s;
    s.where = where;
    s.schema_id = string_field(row, "schema_id", where, true);
    auto schema = set.schemas.find(s.schema_id);
    if (schema == set.schemas.end())
      throw usage_error(where + ": schema_id '" + s.schema_id + "' is not in " + schemas_path,
                        "evaluate with the d_02 schemas of the same ds-build run");
    s.schema = &schema->second;
    s.query = string_field(row, "query", where, true);
    s.id = row.contains("id") && row["id"].is_string() ? row["id"].get<std::string>()
                                                       : s.schema_id + "/" + std::to_string(r.line);
    s.domain_id = string_field(row, "domain_id", where, false);
    s.language = string_field(row, "language", where, false);
    if (s.language.empty()) s.language = "unknown";
    s.is_valid = !row.contains("is_valid") || !row["is_valid"].is_boolean() || row["is_valid"].get<bool>();
    try {
      s.target = target_of(row);
    } catch (const Error& e) {
      throw usage_error(where + ": key 'target': " + e.what());
    }
    s.kind = string_field(row, "kind", where, false);
    if (s.kind.empty()) s.kind = s.target ? dataset::query_kind(json::parse(*s.target)) : "unknown";
    s.prompt = row.contains("prompt") ? string_field(row, "prompt", where, true)
                                      : dataset::student_prompt(*s.schema, s.query);
    if (!s.is_valid && !selection.include_invalid) {
      ++set.skipped_invalid;
      continue;
    }
    all.push_back(std::move(s));
  }
  if (selection.max_samples > 0 && static_cast<size_t>(selection.max_samples) < all.size()) {
    for (size_t i : seeded_permutation(all.size(), selection.sample_seed)) {
      set.samples.push_back(all[i]);
      if (set.samples.size() == static_cast<size_t>(selection.max_samples)) break;
    }
  } else {
    set.samples = std::move(all);
  }
  return set;
}

}  // namespace af::eval
