// Reads a JSON document one byte at a time against a compiled schema and says, before each byte, whether the
// document can still become valid. Canonical JSON only (no whitespace). The state is a set of threads, one
// per way the schema's anyOf/oneOf choices could still go; each thread is a stack of immutable frames shared
// between threads and between snapshots, so trying a byte costs a frame or two, not a copy of the state.
#pragma once
#include <bitset>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "constrain/schema_grammar.h"

namespace af::constrain {

struct Frame;
using FramePtr = std::shared_ptr<const Frame>;
struct Flat;
/// A value schema's flat alternatives, by the conjunction of grammar nodes they come from (constrain/flat.h).
using FlatCache = std::map<std::vector<int>, std::vector<std::shared_ptr<const Flat>>>;
/// The shortest text of a value of each conjunction met: (known yet, text; none when no value is finite).
using ShortestCache = std::map<std::vector<int>, std::pair<bool, std::optional<std::string>>>;

/// How the matcher orders object keys.
enum class KeyOrder {
  Free,    // any order
  Sorted,  // ascending byte order, as canonical JSON writes them
};

/// The incremental matcher.
class JsonMatcher {
 public:
  JsonMatcher(std::shared_ptr<const SchemaGrammar> grammar, KeyOrder order = KeyOrder::Free);

  /// Consumes `byte` when some valid document continues with it, else returns false and keeps the state.
  bool advance(unsigned char byte) { return advance(byte, nullptr); }
  /// Consumes `bytes` in order; false (state unchanged) when any byte is refused.
  bool advance(const std::string& bytes);
  /// Whether the bytes so far are a whole valid document.
  bool complete() const;
  /// The bytes consumed so far.
  const std::string& text() const { return text_; }

  /// The state as a value: restore() returns to it (token-mask search tries bytes and backs out).
  struct Snapshot {
    std::vector<FramePtr> threads;
    size_t text_size = 0;
  };
  Snapshot snapshot() const { return {threads_, text_.size()}; }
  /// Returns to `s` (moved from when the caller is done with it).
  void restore(Snapshot s);
  /// advance(byte) that, when the byte is taken, moves the state before it into `undo` (no copy): the mask
  /// search tries thousands of bytes per token and backs out of each.
  bool advance(unsigned char byte, Snapshot* undo);
  /// A superset of the bytes that may come next, when the state can tell it cheaply (everywhere but inside
  /// a free string); false when it cannot (then every byte must be tried).
  bool next_bytes(std::bitset<256>& bytes) const;
  /// Whether every thread is inside a free string (no pattern, format or maximum length; past any escape:
  /// every byte but '"', '\\' and control characters continues it) whose characters nothing reads: not a key
  /// name, not a unique item, no condition on it, its minLength met. Then a token that starts with more free
  /// characters fares as its rest would: what may follow the string does not depend on them.
  bool in_blind_free_string() const;
  /// The shortest bytes that make the document whole from here (empty when it is), or none when the state
  /// cannot tell (a schema with no finite document, or a search past its limit). Exact for the keywords the
  /// matcher enforces, except that an `if` is decided on the shortest values it meets: a budget kept by this
  /// length always closes the document.
  std::optional<std::string> shortest_completion() const;
  /// The state split in two: the threads inside a free string and the others. Either
  /// may hold no threads.
  std::pair<Snapshot, Snapshot> split_free_strings() const;
  /// Constraints met at run time that the matcher could not enforce (e.g. an anyOf inside an if's then at
  /// object level), in the order met.
  const std::vector<std::string>& runtime_unenforced() const { return runtime_unenforced_; }

  struct Context;

 private:
  std::shared_ptr<const SchemaGrammar> grammar_;
  KeyOrder order_;
  std::vector<FramePtr> threads_;
  std::string text_;
  std::vector<std::string> runtime_unenforced_;
  // Filled while matching, from const members too (complete, next_bytes); copies of the matcher share it.
  std::shared_ptr<FlatCache> flats_ = std::make_shared<FlatCache>();
  std::shared_ptr<ShortestCache> shortest_ = std::make_shared<ShortestCache>();
};

}  // namespace af::constrain
