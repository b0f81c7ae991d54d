// What teacher-sim answers: domain specs from its lexicons, requests written for a schema (some it cannot
// express), ASTs by parsing requests with its own grammar, and verdicts by comparing a candidate AST with its
// own. Every answer is deterministic for a given seed and input.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataset/domain_spec.h"
#include "teachersim/lexicon.h"

namespace af::teachersim {

/// The operators and fields a DSL schema offers, read from the schema itself (its aliases mapped back to
/// catalog names through their synonyms).
struct SchemaView {
  std::vector<std::string> fields;
  std::map<std::string, std::string> alias;                   // catalog name -> alias
  std::map<std::string, std::vector<std::string>> op_fields;  // catalog name -> fields it applies to
  bool allows(const std::string& op, const std::string& field) const;
};

/// Reads a schema built by `ds-build schemas`; throws when it is not one.
SchemaView read_schema(const nlohmann::json& schema, const std::vector<dataset::OperatorSpec>& catalog);

/// Thrown for a task teacher-sim cannot answer (an unknown domain, a malformed input): HTTP 400.
class TaskError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Sim {
 public:
  Sim(Lexicon lexicon, std::vector<dataset::OperatorSpec> catalog, uint64_t seed);

  /// Dispatches `task` ("domain_spec", "queries", "ast", "judge") with its input.
  nlohmann::json answer(const std::string& task, const nlohmann::json& input) const;

  /// {domain_id, ...} -> a domain spec with `examples_per_schema` example requests.
  nlohmann::json domain_spec(const nlohmann::json& input) const;
  /// {schema_id, schema, count, french_ratio, refusal_ratio, first_index} -> {"queries": [{language, text}]}.
  nlohmann::json queries(const nlohmann::json& input) const;
  /// {schema, query} -> the AST ({"query": ...} or {"refusal": ...}).
  nlohmann::json ast(const nlohmann::json& input) const;
  /// {schema, query, candidate} -> {"verdict": "accept"|"reject", "reason", "ast"}.
  nlohmann::json judge(const nlohmann::json& input) const;

 private:
  struct ParserCache;
  Lexicon lexicon_;
  std::vector<dataset::OperatorSpec> catalog_;
  uint64_t seed_;
  std::shared_ptr<ParserCache> parsers_;  // compiled readers per (language, schema fields), shared by threads
};

/// An AST with the operands of and/or in a canonical order, so that equivalent orderings compare equal.
nlohmann::json normalized_ast(const nlohmann::json& ast, const std::string& and_alias,
                              const std::string& or_alias);

}  // namespace af::teachersim
