// A JSON Schema `pattern` as an automaton over code points, run one character at a time: constrained
// decoding needs to know after each character whether the string so far can still become a match, which a
// backtracking regex library cannot tell. Supports the ECMA-262 subset schemas use: literals, escapes (\d \w
// \s \D \W \S and escaped punctuation), classes with ranges and negation, `.`, groups ((...) and (?:...)),
// alternation, the quantifiers ? * + {n} {n,} {n,m}, and ^ / $ at the ends.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace af::constrain {

/// A compiled pattern. States are small integers; a state set is a sorted vector of them.
class RegexNfa {
 public:
  /// Compiles `pattern`; a construct outside the subset throws a usage_error naming it.
  static RegexNfa compile(const std::string& pattern);

  using States = std::vector<uint32_t>;
  /// The states before any character (closed under empty moves, live states only).
  const States& start() const { return start_; }
  /// The states after reading `code_point` from `states`; empty when no match can follow any more.
  States step(const States& states, uint32_t code_point) const;
  /// Whether some code point in [lo, hi] can be read from `states`.
  bool can_step(const States& states, uint32_t lo, uint32_t hi) const;
  /// A few characters that `states` can read, one per way forward (to search for the shortest match).
  std::vector<uint32_t> sample_characters(const States& states) const;
  /// The fewest characters that, read from `states`, end in a match (0 when they match already).
  uint32_t characters_to_accept(const States& states) const;
  /// Whether the characters read so far form a match.
  bool accepts(const States& states) const;

  struct Range {
    uint32_t lo, hi;
  };
  struct State {
    std::vector<Range> ranges;  // the characters this state consumes (empty: an empty-move state)
    bool negated = false;
    uint32_t next = 0;            // after consuming a character
    std::vector<uint32_t> empty;  // empty moves
  };

 private:
  States close(States states) const;
  std::vector<State> states_;
  static constexpr uint32_t kDead = UINT32_MAX;
  std::vector<uint32_t> to_accept_;  // characters from each state to a match; kDead: none ever
  uint32_t accept_ = 0;
  States start_;
};

}  // namespace af::constrain
