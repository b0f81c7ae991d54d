#include "dataset/schema_builder.h"

#include <algorithm>
#include <random>
#include <set>

#include "core/error.h"
#include "core/hash.h"

namespace af::dataset {
namespace {

using json = nlohmann::json;

const char* kDatePattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";

// The JSON type a field's values have.
std::string json_type_of(const std::string& field_type) {
  if (field_type == "number") return "number";
  if (field_type == "integer") return "integer";
  if (field_type == "boolean") return "boolean";
  return "string";  // string, enum, date
}

bool applies(const OperatorSpec& op, const FieldSpec& f) {
  return std::find(op.applies_to.begin(), op.applies_to.end(), f.type) != op.applies_to.end();
}

json type_list(const std::set<std::string>& types) {
  if (types.size() == 1) return *types.begin();
  return json(std::vector<std::string>(types.begin(), types.end()));
}

// A condition branch for one operator: {"op": alias, "field": one of the fields it applies to, "value":
// shape}.
json condition_branch(const OperatorSpec& op, const std::string& alias,
                      const std::vector<const FieldSpec*>& fields) {
  json names = json::array();
  std::set<std::string> types;
  for (const FieldSpec* f : fields) {
    names.push_back(f->name);
    types.insert(json_type_of(f->type));
  }
  json branch = {{"description", alias + ": " + op.meaning + "."},
                 {"type", "object"},
                 {"properties", {{"op", {{"const", alias}}}, {"field", {{"enum", names}}}}},
                 {"required", json::array({"op", "field"})},
                 {"additionalProperties", false}};
  json element = {{"type", type_list(types)}};
  if (op.value == "scalar") {
    branch["properties"]["value"] = element;
  } else if (op.value == "list") {
    branch["properties"]["value"] = {
        {"type", "array"}, {"items", element}, {"minItems", 1}, {"uniqueItems", true}};
  } else if (op.value == "range") {
    branch["properties"]["value"] = {{"type", "object"},
                                     {"properties", {{"from", element}, {"to", element}}},
                                     {"required", json::array({"from", "to"})},
                                     {"additionalProperties", false}};
  }
  if (op.value != "none") branch["required"].push_back("value");
  return branch;
}

// What a field's value may be, in any shape (scalar, list or range): ties values to the field's own type.
json field_value_rule(const FieldSpec& f) {
  json scalar;
  if (f.type == "enum") {
    scalar = {{"enum", f.values}};
  } else if (f.type == "date") {
    scalar = {{"$ref", "#/$defs/date"}};
  } else {
    scalar = {{"type", json_type_of(f.type)}};
  }
  json shapes = json::array({scalar, {{"type", "array"}, {"items", scalar}}});
  if (f.type == "number" || f.type == "integer" || f.type == "date") {
    shapes.push_back({{"type", "object"}, {"properties", {{"from", scalar}, {"to", scalar}}}});
  }
  return {{"if", {{"properties", {{"field", {{"const", f.name}}}}}, {"required", json::array({"field"})}}},
          {"then", {{"properties", {{"value", f.type == "boolean" ? scalar : json{{"anyOf", shapes}}}}}}}};
}

std::string field_line(const FieldSpec& f) {
  std::string line = f.name + " (" + f.type;
  if (!f.unit.empty()) line += ", " + f.unit;
  if (!f.values.empty()) {
    line += ": ";
    for (size_t i = 0; i < f.values.size(); ++i) line += (i ? "|" : "") + f.values[i];
  }
  return line + "): " + f.description;
}

void require_slot(const json& tmpl, const char* slot) {
  if (!tmpl.contains("$defs") || !tmpl["$defs"].contains(slot)) {
    throw usage_error(std::string("the base schema template has no $defs/") + slot,
                      "start from data/base_schema_template.json");
  }
}

}  // namespace

json BuiltSchema::to_row(const DomainSpec& spec) const {
  json fields = json::array();
  for (const auto& f : spec.fields) {
    json jf = {{"name", f.name}, {"type", f.type}, {"description", f.description}};
    if (!f.values.empty()) jf["values"] = f.values;
    if (!f.unit.empty()) jf["unit"] = f.unit;
    fields.push_back(jf);
  }
  return {{"schema_id", schema_id}, {"domain_id", domain_id}, {"domain", spec.domain},
          {"entity", spec.entity},  {"operators", operators}, {"fields", fields},
          {"schema", schema}};
}

BuiltSchema build_schema(const DomainSpec& spec, const json& base_template,
                         const std::vector<OperatorSpec>& catalog, const OperatorSampling& sampling,
                         uint64_t seed) {
  for (const char* slot : {"field", "condition", "logical", "field_values"})
    require_slot(base_template, slot);
  std::mt19937_64 rng(seed ^ fnv1a64(spec.domain_id));

  // Operators usable on at least one of this domain's fields; logical ones are always kept.
  std::vector<const OperatorSpec*> always, optional;
  for (const auto& op : catalog) {
    if (op.always) {
      always.push_back(&op);
      continue;
    }
    if (std::any_of(spec.fields.begin(), spec.fields.end(),
                    [&](const FieldSpec& f) { return applies(op, f); })) {
      optional.push_back(&op);
    }
  }
  std::shuffle(optional.begin(), optional.end(), rng);
  int hi = std::min<int>(sampling.max_operators, static_cast<int>(optional.size()));
  int lo = std::min(sampling.min_operators, hi);
  int count = std::uniform_int_distribution<int>(lo, hi)(rng);
  std::vector<const OperatorSpec*> chosen(optional.begin(), optional.begin() + count);
  // Catalog order in the schema, whatever order the sample came in.
  std::sort(chosen.begin(), chosen.end(), [&](auto* a, auto* b) { return a < b; });
  chosen.insert(chosen.end(), always.begin(), always.end());

  BuiltSchema out;
  out.schema_id = spec.domain_id;
  out.domain_id = spec.domain_id;
  for (const OperatorSpec* op : chosen) {
    out.operators[op->name] =
        op->synonyms[std::uniform_int_distribution<size_t>(0, op->synonyms.size() - 1)(rng)];
  }

  json schema = base_template;
  schema.erase("$comment");
  schema["title"] = spec.domain + " query";
  schema["description"] =
      "Turn a request about " + spec.entity + " records into one JSON object: {\"query\": ...} " +
      "using only the fields and operators defined here, or {\"refusal\": ...} when they cannot " +
      "express it.";
  json names = json::array();
  std::string doc;
  for (const auto& f : spec.fields) {
    names.push_back(f.name);
    doc += (doc.empty() ? "" : "; ") + field_line(f);
  }
  json& defs = schema["$defs"];
  defs["field"] = {{"description", doc}, {"enum", names}};
  defs["date"] = {{"type", "string"}, {"format", "date"}, {"pattern", kDatePattern}};

  json branches = json::array(), logical = json::array();
  for (const OperatorSpec* op : chosen) {
    const std::string& alias = out.operators[op->name];
    if (op->kind == "logical") {
      json node = {{"description", alias + ": " + op->meaning + "."},
                   {"type", "object"},
                   {"properties", {{"op", {{"const", alias}}}}},
                   {"additionalProperties", false}};
      if (op->value == "expressions") {
        node["properties"]["args"] = {
            {"type", "array"}, {"items", {{"$ref", "#/$defs/expression"}}}, {"minItems", 2}};
        node["required"] = json::array({"op", "args"});
      } else {
        node["properties"]["arg"] = {{"$ref", "#/$defs/expression"}};
        node["required"] = json::array({"op", "arg"});
      }
      logical.push_back(node);
      continue;
    }
    std::vector<const FieldSpec*> fields;
    for (const auto& f : spec.fields)
      if (applies(*op, f)) fields.push_back(&f);
    branches.push_back(condition_branch(*op, alias, fields));
  }
  defs["condition"] = {{"allOf", json::array({{{"oneOf", branches}}, {{"$ref", "#/$defs/field_values"}}})}};
  defs["logical"] = {{"oneOf", logical}};
  json rules = json::array();
  for (const auto& f : spec.fields) rules.push_back(field_value_rule(f));
  defs["field_values"] = {{"allOf", rules}};
  out.schema = std::move(schema);
  return out;
}

}  // namespace af::dataset
