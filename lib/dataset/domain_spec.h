// Domain specs (d_01 rows, written by the teacher) and the operator catalog (data/operator_catalog.json).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace af::dataset {

/// One field of a domain: name, type (string, enum, number, integer, date, boolean), meaning, enum values,
/// unit.
struct FieldSpec {
  std::string name;
  std::string type;
  std::string description;
  std::vector<std::string> values;  // enum only
  std::string unit;                 // number/integer, optional
};

/// A domain as the teacher described it.
struct DomainSpec {
  std::string domain_id;
  std::string domain;
  std::string entity;
  std::vector<FieldSpec> fields;
  nlohmann::json example_queries = nlohmann::json::array();
};

/// The JSON Schema a domain spec must follow (also sent to the teacher as the answer format).
const nlohmann::json& domain_spec_schema();

/// Validates `row` against domain_spec_schema() and the rules a schema cannot say (unique field names);
/// throws a runtime error naming `where` and every problem.
DomainSpec parse_domain_spec(const nlohmann::json& row, const std::string& where);

/// One DSL operator of the catalog.
struct OperatorSpec {
  std::string name;
  std::string kind;   // comparison, membership, text, range, null_check, logical
  std::string value;  // scalar, list, range, none, expressions, expression
  std::vector<std::string> applies_to;
  std::string meaning;
  std::vector<std::string> synonyms;
  bool always = false;  // kept in every schema (the logical operators)
};

/// Reads and checks data/operator_catalog.json; errors name the file and the operator.
std::vector<OperatorSpec> load_operator_catalog(const std::string& path);

}  // namespace af::dataset
