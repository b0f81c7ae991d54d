// Building a domain's final JSON Schema (d_02): the base template, the domain's fields, and a seeded sample
// of operators, each exposed under one alias drawn from its synonyms (seeds/004 `build_schemas.py`).
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataset/domain_spec.h"

namespace af::dataset {

/// How many of the non-logical operators a schema gets.
struct OperatorSampling {
  int min_operators = 4;
  int max_operators = 7;
};

/// One built schema and what it was built from.
struct BuiltSchema {
  std::string schema_id;
  std::string domain_id;
  std::map<std::string, std::string> operators;  // catalog name -> alias used in this schema
  nlohmann::json schema;
  /// The d_02 row: {schema_id, domain_id, domain, entity, operators, fields, schema}.
  nlohmann::json to_row(const DomainSpec& spec) const;
};

/// Builds the schema for `spec`. Deterministic for a given seed and domain (whatever order domains come in).
/// Throws a usage error when the template lacks a slot the builder fills.
BuiltSchema build_schema(const DomainSpec& spec, const nlohmann::json& base_template,
                         const std::vector<OperatorSpec>& catalog, const OperatorSampling& sampling,
                         uint64_t seed);

}  // namespace af::dataset
