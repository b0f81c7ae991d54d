#include "constrain/token_mask.h"

#include <algorithm>
#include <cstring>

#include "text/tokenizer.h"

namespace af::constrain {
namespace {

// Within this many bytes of the budget a string whose characters are read continues only by one-byte tokens,
// each tried; farther away its free characters go through untried (a repeated key name or item costs one
// more character, a condition on the value rarely more).
constexpr int64_t kStringSlack = 64;

void set_bit(TokenBits& bits, int32_t id) {
  bits[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (static_cast<size_t>(id) & 63);
}

// How a token meets a free string: every byte continues it (Safe); it may leave it, or stop mid-character
// (Exit); or it cannot fit (Never: a control byte or broken UTF-8 comes first, or what follows the closing
// quote or backslash is nothing canonical JSON writes there).
enum class InString { Safe, Exit, Never };

// `rest` (for Exit) is where the token stops being free characters: its quote, backslash or last, unfinished
// character.
InString in_free_string(const std::string& s, size_t* rest) {
  for (size_t i = 0; i < s.size();) {
    *rest = i;
    auto b = static_cast<unsigned char>(s[i]);
    if (b == '"' || b == '\\') {
      // Canonical JSON puts nothing but , } ] : after a closing quote, and only these letters after a
      // backslash: a token that goes on otherwise never fits.
      if (i + 1 == s.size()) return InString::Exit;
      const char* after = b == '"' ? ",}]:" : "\"\\/bfnrtu";
      bool fits = s[i + 1] != '\0' && std::strchr(after, s[i + 1]) != nullptr;
      return fits ? InString::Exit : InString::Never;
    }
    if (b < 0x20) return InString::Never;
    int extra = b < 0x80                   ? 0
                : (b >= 0xC2 && b <= 0xDF) ? 1
                : (b >= 0xE0 && b <= 0xEF) ? 2
                : (b >= 0xF0 && b <= 0xF4) ? 3
                                           : -1;
    if (extra < 0) return InString::Never;
    for (int k = 1; k <= extra; ++k) {
      // A token may end inside a character: the next token finishes it.
      if (i + static_cast<size_t>(k) >= s.size()) return InString::Exit;
      if ((static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0xC0) != 0x80) return InString::Never;
    }
    // Overlong three- and four-byte forms, surrogates and code points past U+10FFFF are not characters.
    if (extra == 2) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      if ((b == 0xE0 && c1 < 0xA0) || (b == 0xED && c1 >= 0xA0)) return InString::Never;
    }
    if (extra == 3) {
      auto c1 = static_cast<unsigned char>(s[i + 1]);
      if ((b == 0xF0 && c1 < 0x90) || (b == 0xF4 && c1 >= 0x90)) return InString::Never;
    }
    i += static_cast<size_t>(extra) + 1;
  }
  return InString::Safe;
}

}  // namespace

void TokenVocabulary::Trie::add(const std::string& bytes, int32_t id) {
  if (nodes.empty()) nodes.emplace_back();
  uint32_t at = 0;
  for (char ch : bytes) {
    auto b = static_cast<unsigned char>(ch);
    auto& kids = nodes[at].children;
    auto it = std::lower_bound(kids.begin(), kids.end(), std::make_pair(b, uint32_t{0}),
                               [](const auto& x, const auto& y) { return x.first < y.first; });
    if (it != kids.end() && it->first == b) {
      at = it->second;
      continue;
    }
    auto next = static_cast<uint32_t>(nodes.size());
    kids.insert(it, {b, next});
    nodes.emplace_back();
    at = next;
  }
  nodes[at].tokens.push_back(id);
}

TokenVocabulary::TokenVocabulary(std::vector<std::string> bytes, std::vector<int32_t> stop_tokens)
    : bytes_(std::move(bytes)), stops_(std::move(stop_tokens)) {
  all_.nodes.emplace_back();
  exits_.nodes.emplace_back();
  exit_rests_.nodes.emplace_back();
  safe_.assign((bytes_.size() + 63) / 64, 0);
  for (size_t id = 0; id < bytes_.size(); ++id) {
    const std::string& b = bytes_[id];
    if (b.empty() || std::find(stops_.begin(), stops_.end(), static_cast<int32_t>(id)) != stops_.end())
      continue;
    all_.add(b, static_cast<int32_t>(id));
    size_t rest = 0;
    InString kind = in_free_string(b, &rest);
    if (kind == InString::Safe) {
      set_bit(safe_, static_cast<int32_t>(id));
      if (b.size() == 1) safe_bytes_.push_back(static_cast<int32_t>(id));
    } else if (kind == InString::Exit) {
      exits_.add(b, static_cast<int32_t>(id));
      exit_rests_.add(b.substr(rest), static_cast<int32_t>(id));
    }
  }
}

std::shared_ptr<const TokenVocabulary> TokenVocabulary::of(const text::Tokenizer& tokenizer,
                                                           const std::vector<int32_t>& stop_tokens) {
  std::vector<std::string> bytes(tokenizer.vocab_size());
  for (size_t id = 0; id < bytes.size(); ++id)
    if (!tokenizer.is_special(static_cast<int32_t>(id)))
      bytes[id] = tokenizer.token_bytes(static_cast<int32_t>(id));
  return std::make_shared<TokenVocabulary>(std::move(bytes), stop_tokens);
}

SchemaConstraint::SchemaConstraint(std::shared_ptr<const TokenVocabulary> vocabulary,
                                   std::shared_ptr<const SchemaGrammar> grammar, KeyOrder order,
                                   int64_t max_tokens)
    : vocab_(std::move(vocabulary)),
      grammar_(grammar),
      matcher_(std::move(grammar), order),
      max_tokens_(max_tokens) {}

int64_t SchemaConstraint::shortest_document() const {
  JsonMatcher fresh(grammar_, KeyOrder::Sorted);
  std::optional<std::string> text = fresh.shortest_completion();
  return text ? static_cast<int64_t>(text->size()) : -1;
}

bool SchemaConstraint::closes_within(int64_t left) const {
  if (left_after_ < 0) return true;  // no budget
  // Every byte is a token of its own in the vocabularies astforge meets (byte fallback), so a document whose
  // shortest end takes n bytes closes within n tokens. A state whose end is unknown is let through.
  std::optional<std::string> rest = matcher_.shortest_completion();
  return !rest || static_cast<int64_t>(rest->size()) <= left;
}

void SchemaConstraint::walk(const TokenVocabulary::Trie& trie, uint32_t node) {
  // Where the state knows its next bytes (enum values, keys, value starts), children outside them are skipped
  // without trying them: those states have the most children to try and the fewest that pass.
  std::bitset<256> only;
  bool restricted = matcher_.next_bytes(only);
  JsonMatcher::Snapshot undo;
  for (const auto& [byte, child] : trie.nodes[node].children) {
    if (restricted && !only[byte]) continue;
    if (!matcher_.advance(byte, &undo)) continue;
    if (!trie.nodes[child].tokens.empty() && closes_within(left_after_))
      for (int32_t id : trie.nodes[child].tokens) set_bit(bits_, id);
    if (!trie.nodes[child].children.empty()) walk(trie, child);
    matcher_.restore(std::move(undo));
  }
}

const TokenBits& SchemaConstraint::allowed() {
  if (fresh_) return bits_;
  auto t0 = std::chrono::steady_clock::now();
  bits_.assign((vocab_->size() + 63) / 64, 0);
  left_after_ = max_tokens_ < 0 ? -1 : std::max<int64_t>(max_tokens_ - taken_ - 1, 0);
  if (left_after_ >= 0) {
    std::optional<std::string> need = matcher_.shortest_completion();
    if (!need || static_cast<int64_t>(need->size()) + kCheckWindow <= left_after_) left_after_ = -1;
  }
  auto [free, others] = matcher_.split_free_strings();
  if (free.threads.empty()) {
    walk(vocab_->all(), 0);
  } else {
    // Inside a free string every string-safe token continues it, whatever the stack: only the tokens that
    // may leave the string need the walk. Threads are independent (a token is allowed when one of them
    // takes all its bytes), so the other threads (an enum value, a date) are walked alone, where the few
    // bytes they take keep the walk small.
    JsonMatcher::Snapshot whole = matcher_.snapshot();
    matcher_.restore(std::move(free));
    // When nothing reads the string's characters, a token's free characters before its quote change
    // nothing: the 700 exit tokens of Gemma 3 come down to 152 distinct rests.
    bool blind = matcher_.in_blind_free_string();
    add_string_safe(blind);
    walk(blind ? vocab_->string_exit_rests() : vocab_->string_exits(), 0);
    if (!others.threads.empty()) {
      matcher_.restore(std::move(others));
      walk(vocab_->all(), 0);
    }
    matcher_.restore(std::move(whole));
  }
  if (matcher_.complete())
    for (int32_t id : vocab_->stop_tokens()) set_bit(bits_, id);
  fresh_ = true;
  mask_seconds_.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return bits_;
}

void SchemaConstraint::add_string_safe(bool blind) {
  const TokenBits& safe = vocab_->string_safe();
  // More free characters leave a blind string's end as it is: all of them fit or none. Elsewhere (a key
  // name or unique item that may not repeat, a minLength, a condition that reads the value) the characters
  // move the end by a few bytes: far from the budget all of them are let through; near it (kStringSlack)
  // only the one-byte ones, each tried (the shortest end writes its characters one byte each, so the
  // document still closes; trying all 260,000 tokens would take a second per step).
  if (blind || closes_within(left_after_ - kStringSlack)) {
    if (closes_within(left_after_))
      for (size_t w = 0; w < safe.size(); ++w) bits_[w] |= safe[w];
    return;
  }
  for (int32_t id : vocab_->string_safe_bytes()) {
    JsonMatcher::Snapshot undo = matcher_.snapshot();
    if (matcher_.advance(vocab_->bytes(id)) && closes_within(left_after_)) set_bit(bits_, id);
    matcher_.restore(std::move(undo));
  }
}

bool SchemaConstraint::accept(int32_t token) {
  if (token < 0 || static_cast<size_t>(token) >= vocab_->size()) return false;
  const std::string& b = vocab_->bytes(token);
  if (b.empty()) return false;
  if (!matcher_.advance(b)) return false;
  fresh_ = false;
  ++taken_;
  return true;
}

std::vector<std::string> SchemaConstraint::unenforced() const {
  std::vector<std::string> out = grammar_->unenforced;
  for (const auto& u : matcher_.runtime_unenforced()) out.push_back(u);
  return out;
}

}  // namespace af::constrain
