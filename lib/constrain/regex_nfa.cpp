#include "constrain/regex_nfa.h"

#include <algorithm>
#include <deque>

#include "core/error.h"

namespace af::constrain {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr int kMaxRepeat = 1000;  // {n,m} beyond this would build an automaton too large to be useful

// The pattern as a tree first: a quantified group is instantiated once per repetition.
struct Ast {
  enum Kind { Chars, Concat, Alt, Repeat } kind = Concat;
  std::vector<RegexNfa::Range> ranges;
  bool negated = false;
  std::vector<Ast> children;
  int min = 0, max = -1;  // Repeat; max -1: unbounded
};

uint32_t decode_utf8(const std::string& s, size_t& i) {
  auto b = static_cast<unsigned char>(s[i++]);
  if (b < 0x80) return b;
  int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1;
  uint32_t cp = b & (0x3F >> extra);
  for (int k = 0; k < extra && i < s.size(); ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  return cp;
}

class Parser {
 public:
  explicit Parser(const std::string& p) : p_(p) {}

  Ast parse(bool& anchored_start, bool& anchored_end) {
    anchored_start = !p_.empty() && p_[0] == '^';
    if (anchored_start) i_ = 1;
    Ast a = alternation();
    anchored_end = end_anchor_;
    if (i_ != p_.size()) fail("unbalanced ')'");
    return a;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw usage_error("pattern \"" + p_ + "\": " + what + " (at character " + std::to_string(i_ + 1) + ")",
                      "constrained decoding supports literals, classes, groups, alternation and quantifiers");
  }
  bool at_end() const { return i_ >= p_.size(); }
  char peek() const { return p_[i_]; }

  Ast alternation() {
    Ast alt{Ast::Alt, {}, false, {concat()}, 0, -1};
    while (!at_end() && peek() == '|') {
      ++i_;
      alt.children.push_back(concat());
    }
    return alt.children.size() == 1 ? std::move(alt.children[0]) : alt;
  }

  Ast concat() {
    Ast seq{Ast::Concat, {}, false, {}, 0, -1};
    while (!at_end() && peek() != '|' && peek() != ')') {
      if (peek() == '$') {
        ++i_;
        if (!at_end()) fail("'$' is supported only at the end");
        end_anchor_ = true;
        break;
      }
      seq.children.push_back(repeat(atom()));
    }
    return seq;
  }

  int number() {
    if (at_end() || !std::isdigit(static_cast<unsigned char>(peek()))) fail("a number was expected in {}");
    int n = 0;
    while (!at_end() && std::isdigit(static_cast<unsigned char>(peek()))) {
      n = n * 10 + (peek() - '0');
      if (n > kMaxRepeat) fail("a repetition count above " + std::to_string(kMaxRepeat));
      ++i_;
    }
    return n;
  }

  Ast repeat(Ast a) {
    while (!at_end()) {
      int lo = 0, hi = -1;
      char c = peek();
      if (c == '?') {
        hi = 1;
        ++i_;
      } else if (c == '*') {
        ++i_;
      } else if (c == '+') {
        lo = 1;
        ++i_;
      } else if (c == '{' && i_ + 1 < p_.size() && std::isdigit(static_cast<unsigned char>(p_[i_ + 1]))) {
        ++i_;
        lo = hi = number();
        if (!at_end() && peek() == ',') {
          ++i_;
          hi = (!at_end() && peek() == '}') ? -1 : number();
        }
        if (at_end() || peek() != '}') fail("'}' was expected");
        ++i_;
        if (hi >= 0 && hi < lo) fail("{n,m} with m < n");
      } else {
        break;
      }
      if (!at_end() && peek() == '?') ++i_;  // lazy: the same language
      a = Ast{Ast::Repeat, {}, false, {std::move(a)}, lo, hi};
    }
    return a;
  }

  static void add_class(std::vector<RegexNfa::Range>& r, char letter, bool& negated) {
    auto lower = static_cast<char>(std::tolower(static_cast<unsigned char>(letter)));
    if (lower == 'd') r.push_back({'0', '9'});
    if (lower == 'w') r.insert(r.end(), {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
    if (lower == 's')
      r.insert(r.end(), {{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x2028, 0x2029}, {0xFEFF, 0xFEFF}});
    negated = letter != lower;
  }

  // One escaped character (after the backslash) as ranges; `negated` is set for \D \W \S.
  std::vector<RegexNfa::Range> escape(bool& negated) {
    if (at_end()) fail("a pattern cannot end with '\\'");
    char c = p_[i_++];
    std::vector<RegexNfa::Range> r;
    negated = false;
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S':
        add_class(r, c, negated);
        return r;
      case 'n':
        return {{'\n', '\n'}};
      case 't':
        return {{'\t', '\t'}};
      case 'r':
        return {{'\r', '\r'}};
      case 'f':
        return {{'\f', '\f'}};
      case 'v':
        return {{'\v', '\v'}};
      case 'u': {
        if (i_ + 4 > p_.size()) fail("\\u needs four hex digits");
        auto cp = static_cast<uint32_t>(std::stoul(p_.substr(i_, 4), nullptr, 16));
        i_ += 4;
        return {{cp, cp}};
      }
      default:
        if (std::isalnum(static_cast<unsigned char>(c))) fail(std::string("the escape \\") + c);
        return {{static_cast<uint32_t>(static_cast<unsigned char>(c)),
                 static_cast<uint32_t>(static_cast<unsigned char>(c))}};
    }
  }

  Ast char_class() {
    Ast a{Ast::Chars, {}, false, {}, 0, -1};
    if (!at_end() && peek() == '^') {
      a.negated = true;
      ++i_;
    }
    bool first = true;
    while (!at_end() && (peek() != ']' || first)) {
      first = false;
      uint32_t lo;
      if (peek() == '\\') {
        ++i_;
        bool neg = false;
        auto r = escape(neg);
        if (neg) fail("a negated escape inside a class");
        if (r.size() != 1 || r[0].lo != r[0].hi) {
          a.ranges.insert(a.ranges.end(), r.begin(), r.end());
          continue;
        }
        lo = r[0].lo;
      } else {
        lo = decode_utf8(p_, i_);
      }
      uint32_t hi = lo;
      if (i_ + 1 < p_.size() && peek() == '-' && p_[i_ + 1] != ']') {
        ++i_;
        if (peek() == '\\') {
          ++i_;
          bool neg = false;
          auto r = escape(neg);
          if (r.size() != 1 || r[0].lo != r[0].hi) fail("a class range ending in a class");
          hi = r[0].lo;
        } else {
          hi = decode_utf8(p_, i_);
        }
        if (hi < lo) fail("a class range out of order");
      }
      a.ranges.push_back({lo, hi});
    }
    if (at_end()) fail("unterminated '['");
    ++i_;
    return a;
  }

  Ast atom() {
    char c = peek();
    if (c == '(') {
      ++i_;
      if (p_.compare(i_, 2, "?:") == 0) {
        i_ += 2;
      } else if (!at_end() && peek() == '?') {
        fail("lookaround and named groups");
      }
      Ast inner = alternation();
      if (at_end() || peek() != ')') fail("unterminated '('");
      ++i_;
      return inner;
    }
    if (c == '[') {
      ++i_;
      return char_class();
    }
    if (c == '.') {
      ++i_;
      return Ast{Ast::Chars, {{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}, true, {}, 0, -1};
    }
    if (c == '\\') {
      ++i_;
      Ast a{Ast::Chars, {}, false, {}, 0, -1};
      a.ranges = escape(a.negated);
      return a;
    }
    if (c == '^') fail("'^' is supported only at the start");
    if (c == '*' || c == '+' || c == '?' || c == '{') fail("a quantifier with nothing before it");
    uint32_t cp = decode_utf8(p_, i_);
    return Ast{Ast::Chars, {{cp, cp}}, false, {}, 0, -1};
  }

  const std::string& p_;
  size_t i_ = 0;
  bool end_anchor_ = false;
};

// Thompson construction: each piece is a (start, end) pair of states, end an empty-move state.
class Builder {
 public:
  explicit Builder(std::vector<RegexNfa::State>& s) : s_(s) {}

  std::pair<uint32_t, uint32_t> build(const Ast& a) {
    switch (a.kind) {
      case Ast::Chars: {
        uint32_t st = add(), end = add();
        s_[st].ranges = a.ranges;
        s_[st].negated = a.negated;
        if (s_[st].ranges.empty() && !a.negated) s_[st].ranges.push_back({1, 0});  // [] matches nothing
        s_[st].next = end;
        return {st, end};
      }
      case Ast::Concat: {
        uint32_t st = add(), end = st;
        for (const Ast& c : a.children) {
          auto [cs, ce] = build(c);
          s_[end].empty.push_back(cs);
          end = ce;
        }
        return {st, end};
      }
      case Ast::Alt: {
        uint32_t st = add(), end = add();
        for (const Ast& c : a.children) {
          auto [cs, ce] = build(c);
          s_[st].empty.push_back(cs);
          s_[ce].empty.push_back(end);
        }
        return {st, end};
      }
      case Ast::Repeat: {
        uint32_t st = add(), end = st;
        for (int k = 0; k < a.min; ++k) {
          auto [cs, ce] = build(a.children[0]);
          s_[end].empty.push_back(cs);
          end = ce;
        }
        if (a.max < 0) {  // a loop back to a fresh copy
          auto [cs, ce] = build(a.children[0]);
          uint32_t out = add();
          s_[end].empty.push_back(cs);
          s_[end].empty.push_back(out);
          s_[ce].empty.push_back(cs);
          s_[ce].empty.push_back(out);
          return {st, out};
        }
        uint32_t out = add();
        for (int k = a.min; k < a.max; ++k) {
          s_[end].empty.push_back(out);
          auto [cs, ce] = build(a.children[0]);
          s_[end].empty.push_back(cs);
          end = ce;
        }
        s_[end].empty.push_back(out);
        return {st, out};
      }
    }
    return {0, 0};
  }

 private:
  uint32_t add() {
    s_.emplace_back();
    return static_cast<uint32_t>(s_.size() - 1);
  }
  std::vector<RegexNfa::State>& s_;
};

bool in_ranges(const RegexNfa::State& st, uint32_t cp) {
  bool hit = false;
  for (const auto& r : st.ranges)
    if (cp >= r.lo && cp <= r.hi) {
      hit = true;
      break;
    }
  return hit != st.negated;
}

}  // namespace

RegexNfa RegexNfa::compile(const std::string& pattern) {
  bool anchored_start = false, anchored_end = false;
  Parser parser(pattern);
  Ast body = parser.parse(anchored_start, anchored_end);
  // An unanchored pattern matches anywhere: any characters may come before and after the match.
  Ast any{Ast::Repeat, {}, false, {Ast{Ast::Chars, {}, true, {}, 0, -1}}, 0, -1};
  Ast whole{Ast::Concat, {}, false, {}, 0, -1};
  if (!anchored_start) whole.children.push_back(any);
  whole.children.push_back(std::move(body));
  if (!anchored_end) whole.children.push_back(any);

  RegexNfa nfa;
  Builder builder(nfa.states_);
  auto [start, end] = builder.build(whole);
  nfa.accept_ = end;
  // How many characters each state still needs to reach the accepting state (a backward 0-1 search: a
  // character costs one, an empty move nothing); states that never reach it are dead.
  size_t n = nfa.states_.size();
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> into(n);  // (from, cost)
  for (uint32_t s = 0; s < n; ++s) {
    const State& st = nfa.states_[s];
    if (!st.ranges.empty() || st.negated) into[st.next].push_back({s, 1});
    for (uint32_t e : st.empty) into[e].push_back({s, 0});
  }
  nfa.to_accept_.assign(n, kDead);
  std::deque<uint32_t> work{end};
  nfa.to_accept_[end] = 0;
  while (!work.empty()) {
    uint32_t s = work.front();
    work.pop_front();
    for (auto [p, cost] : into[s])
      if (nfa.to_accept_[s] + cost < nfa.to_accept_[p]) {
        nfa.to_accept_[p] = nfa.to_accept_[s] + cost;
        if (cost == 0) {
          work.push_front(p);
        } else {
          work.push_back(p);
        }
      }
  }
  nfa.start_ = nfa.close({start});
  return nfa;
}

RegexNfa::States RegexNfa::close(States states) const {
  std::vector<bool> seen(states_.size(), false);
  std::vector<uint32_t> work = states;
  States out;
  while (!work.empty()) {
    uint32_t s = work.back();
    work.pop_back();
    if (seen[s] || to_accept_[s] == kDead) continue;
    seen[s] = true;
    out.push_back(s);
    for (uint32_t e : states_[s].empty) work.push_back(e);
  }
  std::sort(out.begin(), out.end());
  return out;
}

RegexNfa::States RegexNfa::step(const States& states, uint32_t code_point) const {
  States next;
  for (uint32_t s : states) {
    const State& st = states_[s];
    if ((st.ranges.empty() && !st.negated) || code_point > kMaxCodePoint) continue;
    if (in_ranges(st, code_point)) next.push_back(st.next);
  }
  return next.empty() ? next : close(std::move(next));
}

std::vector<uint32_t> RegexNfa::sample_characters(const States& states) const {
  // Printable ASCII where a range has it (the cheapest to write), never '"' or '\\' (they need escapes).
  auto writable = [](uint32_t cp) { return cp >= 0x20 && cp != '"' && cp != '\\'; };
  std::vector<uint32_t> out;
  for (uint32_t s : states) {
    const State& st = states_[s];
    if (st.ranges.empty() && !st.negated) continue;
    if (st.negated) {
      for (uint32_t cp = 0x20; cp < 0x7F; ++cp)
        if (writable(cp) && in_ranges(st, cp)) {
          out.push_back(cp);
          break;
        }
      continue;
    }
    for (const auto& r : st.ranges)
      for (uint32_t cp = r.lo, taken = 0; cp <= r.hi && cp <= r.lo + 8 && taken < 2; ++cp)
        if (writable(cp)) {
          out.push_back(cp);
          ++taken;
        }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

uint32_t RegexNfa::characters_to_accept(const States& states) const {
  uint32_t fewest = kDead;
  for (uint32_t s : states) fewest = std::min(fewest, to_accept_[s]);
  return fewest;
}

bool RegexNfa::can_step(const States& states, uint32_t lo, uint32_t hi) const {
  for (uint32_t s : states) {
    const State& st = states_[s];
    if (st.ranges.empty() && !st.negated) continue;
    if (!st.negated) {
      for (const auto& r : st.ranges)
        if (r.lo <= hi && r.hi >= lo) return true;
      continue;
    }
    // Negated: some point of [lo, hi] lies outside every range (ranges are few; walk the gaps).
    for (uint32_t cp = lo; cp <= hi; ++cp) {
      bool inside = false;
      for (const auto& r : st.ranges)
        if (cp >= r.lo && cp <= r.hi) {
          inside = true;
          cp = r.hi;  // skip the rest of this range
          break;
        }
      if (!inside) return true;
      if (cp >= hi) break;
    }
  }
  return false;
}

bool RegexNfa::accepts(const States& states) const {
  return std::binary_search(states.begin(), states.end(), accept_);
}

}  // namespace af::constrain
