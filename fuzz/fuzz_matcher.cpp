// The constrained-decoding matcher: any bytes fed to a d_02-like schema's matcher, one at a time; where they
// stop, the shortest completion must close the document.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "constrain/json_matcher.h"
#include "constrain/schema_grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto grammar = af::constrain::SchemaGrammar::compile(nlohmann::json::parse(R"({
    "type": "object",
    "properties": {
      "select": {"type": "array", "items": {"enum": ["id", "prix", "livrée"]}, "uniqueItems": true, "minItems": 1},
      "where": {"type": "array", "items": {"oneOf": [
        {"type": "object", "properties": {"op": {"const": "gt"}, "field": {"enum": ["prix"]},
                                           "value": {"type": "number", "minimum": 0, "maximum": 1e6}},
         "required": ["op", "field", "value"], "additionalProperties": false},
        {"type": "object", "properties": {"op": {"const": "starts_with"}, "field": {"enum": ["nom"]},
                                           "value": {"type": "string", "maxLength": 12, "pattern": "^[a-zé]+$"}},
         "required": ["op", "field", "value"], "additionalProperties": false}]}},
      "limit": {"type": "integer", "minimum": 1, "maximum": 100},
      "date": {"type": "string", "format": "date"}
    },
    "required": ["select"],
    "additionalProperties": false
  })"));
  for (auto order : {af::constrain::KeyOrder::Free, af::constrain::KeyOrder::Sorted}) {
    af::constrain::JsonMatcher m(grammar, order);
    for (size_t i = 0; i < size; ++i) {
      std::bitset<256> next;
      (void)m.next_bytes(next);
      if (!m.advance(data[i])) break;
    }
    (void)m.complete();
    std::optional<std::string> rest = m.shortest_completion();
    if (rest && !(m.advance(*rest) && m.complete())) __builtin_trap();
  }
  return 0;
}
