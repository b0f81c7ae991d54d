#include "support/matcher_walk.h"

#include <vector>

#include "constrain/json_matcher.h"

namespace af::test {

using af::constrain::JsonMatcher;
using af::constrain::KeyOrder;
using af::constrain::SchemaGrammar;

std::string random_walk(const nlohmann::json& schema, std::mt19937& rng, bool* stuck) {
  // Every byte JSON's syntax uses, every lowercase letter (key names), and a few others.
  static const std::string kAlphabet = "{}[]\",:-.+0123456789abcdefghijklmnopqrstuvwxyzEAB_ \\/";
  JsonMatcher m(SchemaGrammar::compile(schema), KeyOrder::Sorted);
  *stuck = false;
  for (int step = 0; step < 2000; ++step) {
    if (m.complete() && (step > 60 || rng() % 4 == 0)) return m.text();
    std::vector<unsigned char> allowed;
    for (unsigned char ch : kAlphabet) {
      auto snap = m.snapshot();
      if (m.advance(ch)) {
        allowed.push_back(ch);
        m.restore(snap);
      }
    }
    if (allowed.empty()) {
      *stuck = !m.complete();
      return m.text();
    }
    // Past 60 bytes close what is open, so walks end: quotes first, then brackets, then anything but ','.
    unsigned char pick = allowed[rng() % allowed.size()];
    if (step > 60) {
      // Inside a string (an odd number of unescaped quotes so far) a quote closes it; outside, brackets
      // close.
      bool in_string = false;
      const std::string& t = m.text();
      for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '\\' && in_string) {
          ++i;
        } else if (t[i] == '"') {
          in_string = !in_string;
        }
      }
      std::vector<std::string> ranks = {"}]", "\"", "0123456789"};
      if (in_string) ranks.insert(ranks.begin(), "\"");
      std::vector<unsigned char> pool;
      for (const std::string& rank : ranks) {
        for (unsigned char ch : allowed)
          if (rank.find(static_cast<char>(ch)) != std::string::npos) pool.push_back(ch);
        if (!pool.empty()) break;
      }
      // Else the largest byte that opens nothing: a letter late in the alphabet ("field" before "args"),
      // so recursive schemas stop recursing.
      if (pool.empty()) {
        for (unsigned char ch : allowed)
          if (ch != '{' && ch != '[' && (pool.empty() || ch > pool[0])) pool.assign(1, ch);
      }
      if (!pool.empty()) pick = pool[rng() % pool.size()];
    }
    m.advance(pick);
  }
  return m.text();
}

std::string budget_walk(const std::shared_ptr<const constrain::TokenVocabulary>& vocab,
                        const std::shared_ptr<const constrain::SchemaGrammar>& grammar, int64_t max_tokens,
                        bool enforce, std::mt19937& rng, int64_t* taken) {
  constrain::SchemaConstraint c(vocab, grammar, KeyOrder::Sorted, enforce ? max_tokens : -1);
  int32_t stop = vocab->stop_tokens().front();
  *taken = 0;
  while (*taken < max_tokens) {
    const auto& allowed = c.allowed();
    std::vector<int32_t> ids;
    for (int32_t id = 0; id < static_cast<int32_t>(vocab->size()); ++id)
      if (id != stop && constrain::has_token(allowed, id)) ids.push_back(id);
    if (ids.empty() || (constrain::has_token(allowed, stop) && rng() % 4 == 0)) break;
    if (!c.accept(ids[rng() % ids.size()])) return "";
    ++*taken;
  }
  return c.complete() ? c.text() : "";
}

}  // namespace af::test
