// Which tokens may come next under a schema: the vocabulary as bytes in a trie, walked against the JSON
// matcher, so a token is allowed exactly when every one of its bytes continues a valid document. Inside a
// free string (the common case: values the user typed) the answer does not depend on the stack, so the
// tokens that cannot leave the string are a precomputed set and only the rest is walked.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "constrain/json_matcher.h"

namespace af::text {
class Tokenizer;
}

namespace af::constrain {

/// A set of token ids as bits.
using TokenBits = std::vector<uint64_t>;
inline bool has_token(const TokenBits& bits, int32_t id) {
  return ((bits[static_cast<size_t>(id) >> 6] >> (static_cast<size_t>(id) & 63)) & 1) != 0;
}

/// The vocabulary, prepared once per tokenizer and shared by every row.
class TokenVocabulary {
 public:
  /// `bytes[id]`: what token `id` adds to the text (empty for special tokens, which are never allowed).
  /// `stop_tokens` end generation and are allowed only when the document is complete.
  TokenVocabulary(std::vector<std::string> bytes, std::vector<int32_t> stop_tokens);
  /// From a tokenizer: its tokens' bytes (special tokens excluded) and the given stop tokens.
  static std::shared_ptr<const TokenVocabulary> of(const text::Tokenizer& tokenizer,
                                                   const std::vector<int32_t>& stop_tokens);

  size_t size() const { return bytes_.size(); }
  const std::string& bytes(int32_t id) const { return bytes_[static_cast<size_t>(id)]; }
  const std::vector<int32_t>& stop_tokens() const { return stops_; }

  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, uint32_t>> children;  // by byte
      std::vector<int32_t> tokens;                               // tokens that end here
    };
    std::vector<Node> nodes;  // nodes[0] is the root
    void add(const std::string& bytes, int32_t id);
  };
  const Trie& all() const { return all_; }
  /// Tokens that may leave a free string: a '"' or '\\' comes before any byte a free string refuses, or the
  /// token ends mid-character. (Tokens meeting a control byte or broken UTF-8 first are in neither set.)
  const Trie& string_exits() const { return exits_; }
  /// The same tokens by what remains of each from its quote, backslash or unfinished last character on
  /// (tokens with the same rest share its node).
  const Trie& string_exit_rests() const { return exit_rests_; }
  /// Tokens whose every byte continues a free string.
  const TokenBits& string_safe() const { return safe_; }
  /// The string-safe tokens of one byte (printable ASCII).
  const std::vector<int32_t>& string_safe_bytes() const { return safe_bytes_; }

 private:
  std::vector<std::string> bytes_;
  std::vector<int32_t> stops_;
  Trie all_, exits_, exit_rests_;
  TokenBits safe_;
  std::vector<int32_t> safe_bytes_;
};

/// Allowed next tokens of one generation, and the state after each chosen token.
class SchemaConstraint {
 public:
  /// `max_tokens` (< 0: no limit) is the most tokens the document may take: then a token is allowed only
  /// when the document can still close in the tokens left after it (one byte per token, the worst case).
  SchemaConstraint(std::shared_ptr<const TokenVocabulary> vocabulary,
                   std::shared_ptr<const SchemaGrammar> grammar, KeyOrder order, int64_t max_tokens = -1);
  /// The tokens that may come next (stop tokens only once the document is complete).
  const TokenBits& allowed();
  /// The bytes of the shortest document the schema allows (an upper bound on its tokens), or -1 when
  /// unknown: a `max_tokens` below it cannot be kept.
  int64_t shortest_document() const;
  /// How near the budget (in bytes beyond what the document still needs) tokens start being checked one by
  /// one. Farther away no token can matter unless it alone raises what the document needs by more than this
  /// (the largest rise one token makes on the DSL's schemas is measured by the tests: well under it).
  static constexpr int64_t kCheckWindow = 128;
  /// Takes the chosen token; false (state unchanged) when it was not allowed.
  bool accept(int32_t token);
  /// Whether the text so far is a whole valid document.
  bool complete() const { return matcher_.complete(); }
  const std::string& text() const { return matcher_.text(); }
  /// What the schema asks that was not enforced: the compiler's list, then what the matcher met.
  std::vector<std::string> unenforced() const;
  /// Seconds spent in allowed() for each token so far.
  const std::vector<double>& mask_seconds() const { return mask_seconds_; }

 private:
  void walk(const TokenVocabulary::Trie& trie, uint32_t node);
  // Adds the string-safe tokens that keep the budget (`blind`: the string's characters are read by nothing).
  void add_string_safe(bool blind);
  // Whether the document as it stands can still close within `left` tokens (always, without a budget).
  bool closes_within(int64_t left) const;

  std::shared_ptr<const TokenVocabulary> vocab_;
  std::shared_ptr<const SchemaGrammar> grammar_;
  JsonMatcher matcher_;
  TokenBits bits_;
  bool fresh_ = false;
  int64_t max_tokens_ = -1;
  int64_t taken_ = 0;        // tokens accepted
  int64_t left_after_ = -1;  // while allowed() runs: tokens left after the one tried (< 0: not checked)
  std::vector<double> mask_seconds_;
};

}  // namespace af::constrain
