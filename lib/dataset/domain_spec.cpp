#include "dataset/domain_spec.h"

#include <set>

#include "core/canonical_json.h"
#include "core/error.h"
#include "core/files.h"
#include "jsonschema/schema.h"

namespace af::dataset {
namespace {

using json = nlohmann::json;

std::string describe_errors(const std::vector<jsonschema::ValidationError>& errors) {
  std::string out;
  for (size_t i = 0; i < errors.size() && i < 5; ++i) {
    out += (i ? "; " : "") + (errors[i].instance_path.empty() ? std::string("/") : errors[i].instance_path) +
           ": " + errors[i].message;
  }
  if (errors.size() > 5) out += "; and " + std::to_string(errors.size() - 5) + " more";
  return out;
}

}  // namespace

const json& domain_spec_schema() {
  static const json schema = json::parse(R"({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
      "domain_id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
      "domain": {"type": "string", "minLength": 1},
      "entity": {"type": "string", "minLength": 1},
      "fields": {
        "type": "array", "minItems": 3, "maxItems": 16,
        "items": {
          "type": "object",
          "properties": {
            "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
            "type": {"enum": ["string", "enum", "number", "integer", "date", "boolean"]},
            "description": {"type": "string", "minLength": 1},
            "values": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 2, "uniqueItems": true},
            "unit": {"type": "string"}
          },
          "required": ["name", "type", "description"],
          "if": {"properties": {"type": {"const": "enum"}}},
          "then": {"required": ["values"]},
          "additionalProperties": false
        }
      },
      "example_queries": {
        "type": "array",
        "items": {
          "type": "object",
          "properties": {"language": {"enum": ["en", "fr"]}, "text": {"type": "string", "minLength": 1}},
          "required": ["language", "text"]
        }
      }
    },
    "required": ["domain_id", "domain", "entity", "fields"]
  })");
  return schema;
}

DomainSpec parse_domain_spec(const json& row, const std::string& where) {
  static const jsonschema::Schema schema = jsonschema::Schema::compile(domain_spec_schema());
  auto errors = schema.validate(row);
  if (!errors.empty()) {
    throw runtime_error(where + ": not a valid domain spec: " + describe_errors(errors),
                        "re-run `ds-build specs` for this domain, or fix the row");
  }
  DomainSpec spec;
  spec.domain_id = row["domain_id"];
  spec.domain = row["domain"];
  spec.entity = row["entity"];
  if (row.contains("example_queries")) spec.example_queries = row["example_queries"];
  std::set<std::string> names;
  for (const auto& f : row["fields"]) {
    FieldSpec field;
    field.name = f["name"];
    field.type = f["type"];
    field.description = f["description"];
    if (f.contains("values")) field.values = f["values"].get<std::vector<std::string>>();
    if (f.contains("unit")) field.unit = f["unit"];
    if (!names.insert(field.name).second) {
      throw runtime_error(where + ": field \"" + field.name + "\" is declared twice",
                          "field names must be unique");
    }
    spec.fields.push_back(std::move(field));
  }
  return spec;
}

std::vector<OperatorSpec> load_operator_catalog(const std::string& path) {
  json doc;
  try {
    doc = parse_json_strict(read_file(path));
  } catch (const Error& e) {
    throw usage_error(path + ": " + e.what(), "the operator catalog is one JSON document");
  }
  static const std::set<std::string> kKinds = {"comparison", "membership", "text",
                                               "range",      "null_check", "logical"};
  static const std::set<std::string> kValues = {"scalar", "list",        "range",
                                                "none",   "expressions", "expression"};
  static const std::set<std::string> kTypes = {"string", "enum", "number", "integer", "date", "boolean"};
  if (!doc.is_object() || !doc.contains("operators") || !doc["operators"].is_array()) {
    throw usage_error(path + ": expected {\"operators\": [...]}");
  }
  std::vector<OperatorSpec> ops;
  std::set<std::string> names, synonyms;
  for (size_t i = 0; i < doc["operators"].size(); ++i) {
    const json& o = doc["operators"][i];
    std::string where = path + ": operators[" + std::to_string(i) + "]";
    try {
      OperatorSpec op;
      op.name = o.at("name");
      where += " (" + op.name + ")";
      op.kind = o.at("kind");
      op.value = o.at("value");
      op.meaning = o.at("meaning");
      op.synonyms = o.at("synonyms").get<std::vector<std::string>>();
      op.always = o.value("always", false);
      if (o.contains("applies_to")) op.applies_to = o["applies_to"].get<std::vector<std::string>>();
      if (!kKinds.count(op.kind)) throw usage_error(where + ": unknown kind \"" + op.kind + "\"");
      if (!kValues.count(op.value)) throw usage_error(where + ": unknown value shape \"" + op.value + "\"");
      for (const auto& t : op.applies_to)
        if (!kTypes.count(t)) throw usage_error(where + ": unknown field type \"" + t + "\"");
      if (op.kind != "logical" && op.applies_to.empty()) throw usage_error(where + ": applies_to is empty");
      if (op.synonyms.size() < 3) throw usage_error(where + ": needs at least 3 synonyms");
      for (const auto& s : op.synonyms)
        if (!synonyms.insert(s).second) throw usage_error(where + ": synonym \"" + s + "\" is used twice");
      if (!names.insert(op.name).second) throw usage_error(where + ": operator declared twice");
      ops.push_back(std::move(op));
    } catch (const json::exception& e) {
      throw usage_error(where + ": " + e.what(), "see the $comment at the top of the catalog for the shape");
    }
  }
  return ops;
}

}  // namespace af::dataset
