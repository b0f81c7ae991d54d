// A JSON Schema compiled for constrained decoding: a graph of nodes (one per subschema, $ref cycles kept as
// edges, so the DSL's recursive expression tree compiles to a finite graph) that the JSON matcher walks one
// character at a time. What the graph cannot enforce is listed, never dropped silently.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "constrain/regex_nfa.h"
#include "jsonschema/type_bits.h"

namespace af::constrain {

// JSON types as bits: the validator's (jsonschema/type_bits.h).
using jsonschema::kAnyType;
using jsonschema::kArray;
using jsonschema::kBoolean;
using jsonschema::kInteger;
using jsonschema::kNull;
using jsonschema::kNumber;
using jsonschema::kObject;
using jsonschema::kString;

/// One subschema's own assertions; applicators point at other nodes by index.
struct Node {
  bool never = false;                                 // the `false` schema
  uint8_t types = kAnyType;                           // "number" is kNumber | kInteger
  std::optional<std::vector<nlohmann::json>> values;  // enum / const (intersected when both)
  // objects
  std::vector<std::pair<std::string, int>> properties;  // sorted by name
  std::vector<std::string> required;
  int additional = -1;  // node for properties not listed; -1: anything
  int64_t min_properties = 0, max_properties = -1;
  struct Conditional {
    int if_node = -1, then_node = -1, else_node = -1;
  };
  std::vector<Conditional> conditionals;
  // arrays
  int items = -1;
  int64_t min_items = 0, max_items = -1;
  bool unique_items = false;
  // strings
  int pattern = -1;    // index into SchemaGrammar::patterns
  std::string format;  // "date" is enforced; others are listed as not enforced
  int64_t min_length = 0, max_length = -1;
  // numbers
  std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum;
  // applicators
  std::vector<int> all_of;               // allOf members and $ref targets
  std::vector<std::vector<int>> any_of;  // each anyOf / oneOf: at least one alternative holds

  int property(const std::string& name) const;
};

/// The compiled schema.
struct SchemaGrammar {
  std::vector<Node> nodes;
  std::vector<RegexNfa> patterns;
  int root = 0;
  /// "<keyword> at <schema pointer>: <why>" for every assertion the grammar does not enforce.
  std::vector<std::string> unenforced;

  /// Compiles `schema` (local $refs only: "#", "#/$defs/...", "#/definitions/..."). A pattern outside the
  /// supported regex subset is listed in `unenforced`; a schema that is not an object or boolean is a
  /// usage_error.
  static std::shared_ptr<const SchemaGrammar> compile(const nlohmann::json& schema);

  /// Whether `value` satisfies node `n` (used for enum filtering and `if` conditions; oneOf counts as anyOf).
  bool accepts(int n, const nlohmann::json& value) const;
};

/// Whether some valid full-date (RFC 3339 YYYY-MM-DD, real calendar days) starts with `prefix`.
bool full_date_prefix(const std::string& prefix);

}  // namespace af::constrain
