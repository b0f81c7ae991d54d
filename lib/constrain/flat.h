// A value's schema with its anyOf/oneOf choices made: the matcher follows one "flat" alternative per thread,
// so each frame reads its bounds, patterns and item schema from one merged record.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "constrain/schema_grammar.h"

namespace af::constrain {

/// One way a value's schema can be satisfied: the conjunction of nodes left after choosing an alternative in
/// every anyOf/oneOf, with what they say about each type merged.
struct Flat {
  uint8_t types = kAnyType;
  std::vector<int> nodes;
  std::optional<std::vector<std::string>> literals;  // enum/const: canonical texts, sorted
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;
  std::vector<int> patterns;
  bool date = false;
  int64_t min_length = 0, max_length = -1;
  std::vector<int> items;
  int64_t min_items = 0, max_items = -1;
  bool unique = false;
  /// Whether a minimum or maximum applies.
  bool bounded() const { return std::isfinite(lo) || std::isfinite(hi); }
};
using FlatPtr = std::shared_ptr<const Flat>;
/// A value schema's flat alternatives, by the conjunction of grammar nodes they come from.
using FlatCache = std::map<std::vector<int>, std::vector<FlatPtr>>;

/// The flat alternatives of the conjunction `conj` (kept in `cache`: a pure function of the grammar, asked
/// again for every byte the mask search tries at a value start).
const std::vector<FlatPtr>& flats_of(const SchemaGrammar& g, FlatCache& cache, const std::vector<int>& conj);

/// Every value a unique array's items may take, when each way to read the item schema is an enum/const;
/// null otherwise (and when items need not be unique).
std::shared_ptr<const std::vector<std::string>> unique_item_literals(const SchemaGrammar& g, FlatCache& cache,
                                                                     const Flat& f);

}  // namespace af::constrain
