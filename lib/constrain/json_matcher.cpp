#include "constrain/json_matcher.h"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <limits>
#include <set>

#include "core/canonical_json.h"
#include "jsonschema/format.h"

namespace af::constrain {

using json = nlohmann::json;

// What frames read while they step: the grammar, the bytes so far and the key order.
struct JsonMatcher::Context {
  const SchemaGrammar& g;
  const std::string& text;
  KeyOrder order;
  std::vector<std::string>& unenforced;
  FlatCache& flats;
};
using Ctx = JsonMatcher::Context;

// One way a value's schema can be satisfied: the conjunction of nodes left after choosing an alternative in
// every anyOf/oneOf, with what they say about each type merged.
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
  bool bounded() const { return std::isfinite(lo) || std::isfinite(hi); }
};

namespace {

constexpr size_t kMaxThreads = 256;  // beyond this the schema's choices are not followed further
constexpr int kMaxExpansion = 4096;  // flat alternatives built for one value

using FlatPtr = std::shared_ptr<const Flat>;

struct Builder {
  Flat flat;
  std::vector<std::vector<int>> pending;  // anyOf groups not yet chosen
  std::optional<std::vector<json>> values;
};

void finish(const SchemaGrammar& g, Builder& b, std::vector<FlatPtr>& out) {
  Flat& f = b.flat;
  for (int id : f.nodes) {
    const Node& n = g.nodes[static_cast<size_t>(id)];
    // The tightest bound wins; at equal values an exclusive bound is tighter.
    if (n.minimum && *n.minimum > f.lo) {
      f.lo = *n.minimum;
      f.lo_open = false;
    }
    if (n.exclusive_minimum && *n.exclusive_minimum >= f.lo) {
      f.lo = *n.exclusive_minimum;
      f.lo_open = true;
    }
    if (n.maximum && *n.maximum < f.hi) {
      f.hi = *n.maximum;
      f.hi_open = false;
    }
    if (n.exclusive_maximum && *n.exclusive_maximum <= f.hi) {
      f.hi = *n.exclusive_maximum;
      f.hi_open = true;
    }
    if (n.pattern >= 0) f.patterns.push_back(n.pattern);
    f.date = f.date || !n.format.empty();
    f.min_length = std::max(f.min_length, n.min_length);
    if (n.max_length >= 0)
      f.max_length = f.max_length < 0 ? n.max_length : std::min(f.max_length, n.max_length);
    if (n.items >= 0) f.items.push_back(n.items);
    f.min_items = std::max(f.min_items, n.min_items);
    if (n.max_items >= 0) f.max_items = f.max_items < 0 ? n.max_items : std::min(f.max_items, n.max_items);
    f.unique = f.unique || n.unique_items;
  }
  if (b.values) {
    std::vector<std::string> texts;
    for (const json& v : *b.values) {
      if ((f.types & jsonschema::instance_bit(v)) == 0) continue;
      bool ok = true;
      for (int id : f.nodes) ok = ok && g.accepts(id, v);
      if (ok) texts.push_back(canonical_json(v));
    }
    std::sort(texts.begin(), texts.end());
    texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
    if (texts.empty()) return;
    f.literals = std::move(texts);
  }
  if (f.types == 0) return;
  out.push_back(std::make_shared<Flat>(std::move(f)));
}

void expand(const SchemaGrammar& g, std::vector<int> todo, Builder b, std::vector<FlatPtr>& out,
            int& budget) {
  while (!todo.empty()) {
    int id = todo.back();
    todo.pop_back();
    if (id < 0 || std::find(b.flat.nodes.begin(), b.flat.nodes.end(), id) != b.flat.nodes.end()) continue;
    const Node& n = g.nodes[static_cast<size_t>(id)];
    if (n.never) return;
    b.flat.nodes.push_back(id);
    b.flat.types &= n.types;
    if (b.flat.types == 0) return;
    if (n.values) {
      if (!b.values) {
        b.values = n.values;
      } else {
        std::vector<json> both;
        for (const json& v : *b.values)
          if (std::find(n.values->begin(), n.values->end(), v) != n.values->end()) both.push_back(v);
        b.values = both;
      }
      if (b.values->empty()) return;
    }
    for (int m : n.all_of) todo.push_back(m);
    for (const auto& group : n.any_of) b.pending.push_back(group);
  }
  if (--budget < 0) return;
  if (b.pending.empty()) {
    finish(g, b, out);
    return;
  }
  std::vector<int> group = b.pending.back();
  b.pending.pop_back();
  for (int alt : group) expand(g, {alt}, b, out, budget);
}

// The flat alternatives of a conjunction of nodes. A pure function of the grammar, so each matcher keeps the
// answers: the mask search asks again for every byte it tries at a value or array item start.
const std::vector<FlatPtr>& flats_of(const Ctx& c, const std::vector<int>& conj) {
  auto it = c.flats.find(conj);
  if (it != c.flats.end()) return it->second;
  std::vector<FlatPtr> out;
  int budget = kMaxExpansion;
  expand(c.g, conj, Builder{}, out, budget);
  return c.flats.emplace(conj, std::move(out)).first->second;
}

// Every value a unique array's items may take, when each way to read the item schema is an enum/const;
// null otherwise (and when items need not be unique).
std::shared_ptr<const std::vector<std::string>> unique_item_literals(const Ctx& c, const Flat& f) {
  if (!f.unique || f.items.empty()) return nullptr;
  auto all = std::make_shared<std::vector<std::string>>();
  for (const FlatPtr& item : flats_of(c, f.items)) {
    if (!item->literals) return nullptr;
    all->insert(all->end(), item->literals->begin(), item->literals->end());
  }
  return all;
}

// Whether node `n`, checked against an object (an `if`), may look at the value of member `key`: it names the
// key, constrains unlisted keys, compares whole objects (enum/const) or nests conditions.
bool reads_key(const SchemaGrammar& g, int n, const std::string& key, int depth = 0) {
  if (n < 0) return false;
  if (depth > 64) return true;
  const Node& x = g.nodes[static_cast<size_t>(n)];
  if (x.values || x.property(key) >= 0 || x.additional >= 0 || !x.conditionals.empty()) return true;
  for (int m : x.all_of)
    if (reads_key(g, m, key, depth + 1)) return true;
  for (const auto& group : x.any_of)
    for (int m : group)
      if (reads_key(g, m, key, depth + 1)) return true;
  return false;
}

}  // namespace

// A frame of a thread's stack. Frames never change: stepping makes new ones.
struct Frame {
  FramePtr parent;
  size_t start = 0;  // where this value's bytes begin in the document
  virtual ~Frame() = default;
  /// The frames this one becomes after `b` (none: `b` cannot continue this value).
  virtual void advance(const Ctx& c, unsigned char b, std::vector<FramePtr>& out) const = 0;
  /// Whether the value is whole (the next byte may belong to the parent).
  virtual bool complete(const Ctx& c) const = 0;
  /// This frame after its child value [child_start, end) completed; nullptr when it may not end there.
  virtual FramePtr child_done(const Ctx& /*c*/, size_t /*child_start*/, size_t /*end*/) const {
    return nullptr;
  }
  virtual bool free_string() const { return false; }
  /// A free string whose characters nothing reads (see JsonMatcher::in_blind_free_string).
  virtual bool blind_free_string(const Ctx& /*c*/) const { return false; }
  /// Whether what this frame does once its current child value completes is the same whatever that value's
  /// characters (its length and kind aside).
  virtual bool blind_to_child(const Ctx& /*c*/) const { return false; }
  /// Adds to `bytes` every byte this value itself may take next (when it is complete, the parent's bytes are
  /// added by the caller); false when it cannot say. A superset is fine: it only skips hopeless tries.
  virtual bool next_bytes(const Ctx& /*c*/, std::bitset<256>& /*bytes*/) const { return false; }
};

namespace {

void push_values(const Ctx& c, const FramePtr& parent, const std::vector<int>& conj, size_t start,
                 std::shared_ptr<const std::set<std::string>> exclude, std::vector<FramePtr>& out);

// The bytes a value of `f` may start with.
void first_bytes(const Flat& f, std::bitset<256>& bytes) {
  if (f.literals) {
    for (const auto& t : *f.literals)
      if (!t.empty()) bytes.set(static_cast<unsigned char>(t[0]));
    return;
  }
  if ((f.types & kObject) != 0) bytes.set('{');
  if ((f.types & kArray) != 0) bytes.set('[');
  if ((f.types & kString) != 0) bytes.set('"');
  if ((f.types & (kNumber | kInteger)) != 0)
    for (char ch : std::string("-0123456789")) bytes.set(static_cast<unsigned char>(ch));
  if ((f.types & kBoolean) != 0) bytes.set('t').set('f');
  if ((f.types & kNull) != 0) bytes.set('n');
}

// Before a value's first byte: the flat alternative is chosen, the type not yet.
struct ValueFrame : Frame {
  FlatPtr flat;
  std::shared_ptr<const std::set<std::string>> exclude;  // literals already used (uniqueItems)
  void advance(const Ctx& c, unsigned char b, std::vector<FramePtr>& out) const override;
  bool complete(const Ctx&) const override { return false; }
  bool next_bytes(const Ctx&, std::bitset<256>& bytes) const override {
    first_bytes(*flat, bytes);
    return true;
  }
};

// One of a sorted set of fixed texts (enum values, true/false/null, object keys).
struct LiteralFrame : Frame {
  std::shared_ptr<const std::vector<std::string>> texts;
  size_t lo = 0, hi = 0, pos = 0;
  void advance(const Ctx&, unsigned char b, std::vector<FramePtr>& out) const override {
    const auto& t = *texts;
    size_t a = lo;
    while (a < hi && (t[a].size() <= pos || static_cast<unsigned char>(t[a][pos]) < b)) ++a;
    size_t z = a;
    while (z < hi && t[z].size() > pos && static_cast<unsigned char>(t[z][pos]) == b) ++z;
    if (a == z) return;
    auto f = std::make_shared<LiteralFrame>(*this);
    f->lo = a;
    f->hi = z;
    f->pos = pos + 1;
    out.push_back(f);
  }
  bool complete(const Ctx&) const override { return lo < hi && (*texts)[lo].size() == pos; }
  bool next_bytes(const Ctx&, std::bitset<256>& bytes) const override {
    for (size_t i = lo; i < hi; ++i)
      if ((*texts)[i].size() > pos) bytes.set(static_cast<unsigned char>((*texts)[i][pos]));
    return true;
  }
};

// A new frame of type F for a value that starts at `start` under `parent`.
template <typename F>
std::shared_ptr<F> new_frame(const FramePtr& parent, size_t start) {
  auto f = std::make_shared<F>();
  f->parent = parent;
  f->start = start;
  return f;
}

std::shared_ptr<LiteralFrame> literal(const FramePtr& parent, size_t start, std::vector<std::string> texts) {
  auto f = new_frame<LiteralFrame>(parent, start);
  f->hi = texts.size();
  f->texts = std::make_shared<const std::vector<std::string>>(std::move(texts));
  return f;
}

// A string after its opening quote.
struct StringFrame : Frame {
  FlatPtr flat;  // null: a free string (an object key with any name)
  std::vector<RegexNfa::States> nfa;
  std::string date;  // the characters so far, when a date is expected
  int64_t length = 0;
  int utf8_left = 0;   // continuation bytes still expected
  int utf8_total = 0;  // the length of the sequence being read
  uint32_t code = 0;   // the code point being assembled (UTF-8 or \u)
  int escape = 0;      // 0: none, 1: after '\\', 2..5: \u hex digits read = escape - 2
  bool closed = false;
  std::shared_ptr<const std::set<std::string>> forbidden;  // key names already used (free keys)
  std::shared_ptr<const std::set<std::string>> used;       // canonical texts of earlier unique items

  bool constrained() const {
    return flat && (!flat->patterns.empty() || flat->date || flat->min_length > 0 || flat->max_length >= 0);
  }
  // Whether any character may come next (a minLength only bears on the closing quote, which the token-mask
  // search checks itself).
  bool free_characters() const {
    return !flat || (flat->patterns.empty() && !flat->date && flat->max_length < 0);
  }
  bool free_string() const override { return !closed && utf8_left == 0 && escape == 0 && free_characters(); }
  bool blind_free_string(const Ctx& c) const override {
    if (!free_string() || forbidden || used || (flat && length < flat->min_length)) return false;
    for (const Frame* f = parent.get(); f; f = f->parent.get())
      if (!f->blind_to_child(c)) return false;
    return true;
  }
  // A constrained string's next characters, from its constraints alone (cheap: no frame is built). Free
  // strings take nearly every byte, so there is nothing to say.
  bool next_bytes(const Ctx& c, std::bitset<256>& bytes) const override {
    if (closed) return true;
    if (free_characters() || utf8_left > 0 || escape != 0) return false;
    bytes.set('"').set('\\');
    if (flat->max_length >= 0 && length >= flat->max_length) return true;
    auto takes = [&](uint32_t lo, uint32_t hi) {
      for (size_t i = 0; i < flat->patterns.size(); ++i)
        if (!c.g.patterns[static_cast<size_t>(flat->patterns[i])].can_step(nfa[i], lo, hi)) return false;
      return true;
    };
    for (uint32_t b = 0x20; b < 0x80; ++b)
      if ((!flat->date || (b >= '0' && b <= '9') || b == '-') && takes(b, b)) bytes.set(b);
    if (!flat->date && takes(0x80, 0x10FFFF))
      for (uint32_t b = 0xC2; b <= 0xF4; ++b) bytes.set(b);
    return true;
  }

  // Feeds one decoded character (`escaped`: written as an escape, so control characters are fine) to the
  // constraints, from this frame's state into `f`; false when no valid string continues with it.
  bool character(const Ctx& c, StringFrame& f, uint32_t cp, bool escaped) const {
    if (cp < 0x20 && !escaped) return false;
    if (!flat) return true;
    f.length = length + 1;
    if (flat->max_length >= 0 && f.length > flat->max_length) return false;
    for (size_t i = 0; i < flat->patterns.size(); ++i) {
      f.nfa[i] = c.g.patterns[static_cast<size_t>(flat->patterns[i])].step(nfa[i], cp);
      if (f.nfa[i].empty()) return false;
    }
    if (flat->date) {
      if (cp > 0x7F) return false;
      f.date = date + static_cast<char>(cp);
      if (!full_date_prefix(f.date)) return false;
    }
    return true;
  }

  void advance(const Ctx& c, unsigned char b, std::vector<FramePtr>& out) const override {
    if (closed) return;
    auto f = std::make_shared<StringFrame>(*this);
    if (escape == 1) {
      // A \u escape is checked only once whole: in a constrained string it could end where nothing valid
      // follows, so there only the one-letter escapes are offered (canonical text needs no other).
      if (b == 'u' && constrained()) return;
      static const std::string kSimple = "\"\\/bfnrt";
      static const char kValues[] = {'"', '\\', '/', '\b', '\f', '\n', '\r', '\t'};
      if (b == 'u') {
        f->escape = 2;
        f->code = 0;
        out.push_back(f);
        return;
      }
      size_t k = kSimple.find(static_cast<char>(b));
      if (k == std::string::npos) return;
      f->escape = 0;
      if (!character(c, *f, static_cast<unsigned char>(kValues[k]), true)) return;
      out.push_back(f);
      return;
    }
    if (escape >= 2) {
      int digit = std::isxdigit(b) ? (std::isdigit(b) ? b - '0' : (std::tolower(b) - 'a' + 10)) : -1;
      if (digit < 0) return;
      if (escape == 3 && code == 0xD && digit >= 8) return;  // \uD8.. to \uDF..: surrogates, never text
      f->code = (code << 4) | static_cast<uint32_t>(digit);
      if (escape < 5) {
        f->escape = escape + 1;
        out.push_back(f);
        return;
      }
      f->escape = 0;
      if (f->code >= 0xD800 && f->code <= 0xDFFF) return;  // surrogates: not in canonical text
      if (!character(c, *f, f->code, true)) return;
      out.push_back(f);
      return;
    }
    if (utf8_left > 0) {
      if ((b & 0xC0) != 0x80) return;
      f->code = (code << 6) | (b & 0x3F);
      f->utf8_left = utf8_left - 1;
      if (f->utf8_left == 0) {
        if (!character(c, *f, f->code, false)) return;
      } else if (!may_become(c, f->code, f->utf8_left, utf8_total)) {
        return;
      }
      out.push_back(f);
      return;
    }
    if (b == '"') {
      if (flat) {
        if (length < flat->min_length) return;
        for (size_t i = 0; i < flat->patterns.size(); ++i)
          if (!c.g.patterns[static_cast<size_t>(flat->patterns[i])].accepts(nfa[i])) return;
        if (flat->date && !jsonschema::format_matches("date", date)) return;
      }
      if (forbidden) {
        std::string name = parse_json_strict(c.text.substr(start) + "\"").get<std::string>();
        if (forbidden->count(name) != 0) return;
      }
      // A unique array's item may not repeat an earlier one: refusing the closing quote leaves the string
      // open for more characters, so this never dead-ends.
      if (used && used->count(canonical_json(parse_json_strict(c.text.substr(start) + "\""))) != 0) return;
      f->closed = true;
      out.push_back(f);
      return;
    }
    if (b == '\\') {
      // In a constrained string a backslash must lead to some one-letter escape the string takes.
      if (constrained()) {
        bool any = false;
        for (char e : {'"', '\\', '/', '\b', '\f', '\n', '\r', '\t'}) {
          StringFrame scratch = *this;
          any = any || character(c, scratch, static_cast<unsigned char>(e), true);
        }
        if (!any) return;
      }
      f->escape = 1;
      out.push_back(f);
      return;
    }
    if (b < 0x80) {
      if (!character(c, *f, b, false)) return;
      out.push_back(f);
      return;
    }
    // A UTF-8 lead byte (overlong two-byte leads C0/C1 and leads beyond U+10FFFF refused).
    if (b >= 0xC2 && b <= 0xDF) {
      f->utf8_left = 1;
      f->code = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      f->utf8_left = 2;
      f->code = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      f->utf8_left = 3;
      f->code = b & 0x07;
    } else {
      return;
    }
    f->utf8_total = f->utf8_left + 1;
    if (!may_become(c, f->code, f->utf8_left, f->utf8_total)) return;
    out.push_back(f);
  }

  // Whether a character whose UTF-8 so far gives `code` with `left` continuation bytes to come can still be
  // one the string takes: a real character (no overlong form, surrogate or code point past U+10FFFF) that
  // the constraints accept. Checked at every byte, so a character is never begun that cannot be finished.
  bool may_become(const Ctx& c, uint32_t so_far, int left, int total) const {
    static const uint32_t kFloor[] = {0, 0, 0x80, 0x800, 0x10000};  // by sequence length
    uint32_t lo = std::max(so_far << (6 * left), kFloor[total]);
    uint32_t hi = std::min<uint32_t>((so_far << (6 * left)) | ((1u << (6 * left)) - 1), 0x10FFFF);
    if (lo > hi) return false;
    // Surrogates are never characters: a range that lies wholly inside them is dead.
    if (lo >= 0xD800 && hi <= 0xDFFF) return false;
    if (!flat) return true;
    if (flat->date) return false;  // dates are ASCII
    if (flat->max_length >= 0 && length + 1 > flat->max_length) return false;
    for (size_t i = 0; i < flat->patterns.size(); ++i)
      if (!c.g.patterns[static_cast<size_t>(flat->patterns[i])].can_step(nfa[i], lo, hi)) return false;
    return true;
  }
  bool complete(const Ctx&) const override { return closed; }
};

// Whether some number written with the prefix `text` lies within the flat's bounds.
bool number_viable(const Flat& f, const std::string& text, bool integer_only) {
  if (!f.bounded()) return true;
  // Whether the closed interval between a and b (either order) meets the bounds.
  auto in = [&](double a, double b) {
    double lo = std::min(a, b), hi = std::max(a, b);
    if (hi < f.lo || (f.lo_open && hi == f.lo)) return false;
    if (lo > f.hi || (f.hi_open && lo == f.hi)) return false;
    return true;
  };
  bool negative = !text.empty() && text[0] == '-';
  std::string digits = negative ? text.substr(1) : text;
  if (digits.empty()) return negative ? in(-std::numeric_limits<double>::infinity(), 0) : true;
  double sign = negative ? -1 : 1;
  size_t dot = digits.find('.');
  if (dot == std::string::npos) {
    double v = std::stod(digits);
    if (digits == "0") return in(sign * 0, sign * (integer_only ? 0.0 : 1.0));
    // More integer digits may follow: v*10^k .. (v+1)*10^k for any k.
    for (int k = 0; k < 20; ++k) {
      double scale = std::pow(10.0, k), a = v * scale, z = (v + 1) * scale - (integer_only ? 1 : 0);
      if (negative ? in(-z, -a) : in(a, z)) return true;
    }
    return false;
  }
  double v = std::stod(digits.substr(0, dot) + (dot + 1 < digits.size() ? digits.substr(dot) : ""));
  double width = std::pow(10.0, -static_cast<double>(digits.size() - dot - 1));
  return negative ? in(-(v + width), -v) : in(v, v + width);
}

// A number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, with an exponent only when there are no bounds.
struct NumberFrame : Frame {
  FlatPtr flat;
  std::string text;
  bool integer_only() const { return (flat->types & kNumber) == 0; }
  static bool digit(char ch) { return ch >= '0' && ch <= '9'; }
  void advance(const Ctx&, unsigned char b, std::vector<FramePtr>& out) const override {
    auto ch = static_cast<char>(b);
    char last = text.empty() ? '\0' : text.back();
    bool has_dot = text.find('.') != std::string::npos, has_e = text.find_first_of("eE") != std::string::npos;
    bool int_part_zero = text == "0" || text == "-0";
    bool ok = false;
    if (text.empty()) {
      ok = ch == '-' || digit(ch);
    } else if (digit(ch)) {
      ok = !(int_part_zero && !has_dot && !has_e);  // no leading zeros
    } else if (ch == '.') {
      ok = digit(last) && !has_dot && !has_e && !integer_only();
    } else if (ch == 'e' || ch == 'E') {
      ok = digit(last) && !has_e && !integer_only() && !flat->bounded();
    } else if (ch == '+' || ch == '-') {
      ok = last == 'e' || last == 'E';
    }
    if (!ok) return;
    // Every number must read back as a finite double (canonical JSON refuses infinities): at most 18 integer
    // digits, 17 fraction digits and a two-digit exponent.
    size_t e_at = text.find_first_of("eE"), dot_at = text.find('.');
    if (digit(ch)) {
      size_t count = 0;
      if (has_e) {
        count = text.size() - e_at - 1 - (text.size() > e_at + 1 && !digit(text[e_at + 1]) ? 1 : 0);
        if (count >= 2) return;
      } else if (has_dot) {
        if (text.size() - dot_at - 1 >= 17) return;
      } else {
        count = text.size() - (text[0] == '-' ? 1 : 0);
        if (count >= 18) return;
      }
    }
    std::string next = text + ch;
    if (!has_e && ch != 'e' && ch != 'E' && ch != '+' && !number_viable(*flat, next, integer_only())) return;
    auto f = std::make_shared<NumberFrame>(*this);
    f->text = std::move(next);
    out.push_back(f);
  }
  bool next_bytes(const Ctx&, std::bitset<256>& bytes) const override {
    for (char ch : std::string("0123456789.eE+-")) bytes.set(static_cast<unsigned char>(ch));
    return true;
  }
  bool complete(const Ctx&) const override {
    if (text.empty() || !digit(text.back())) return false;
    if (!flat->bounded()) return true;
    double v = std::stod(text);
    return (v > flat->lo || (v == flat->lo && !flat->lo_open)) &&
           (v < flat->hi || (v == flat->hi && !flat->hi_open));
  }
};

// An object after '{'.
struct ObjectFrame : Frame {
  FlatPtr flat;
  // Key: before a key or '}'; NextKey: after ',', where a key must come.
  enum Phase { Key, NextKey, AfterKey, Colon, Value, After, Closed } phase = Key;
  std::vector<std::pair<std::string, std::string>> members;  // key, canonical value text
  std::string pending_key;

  bool has(const std::string& k) const {
    return std::any_of(members.begin(), members.end(), [&](const auto& m) { return m.first == k; });
  }
  json partial() const {
    json o = json::object();
    for (const auto& [k, v] : members) o[k] = parse_json_strict(v);
    return o;
  }

  // The nodes that apply to the object now: the flat's, plus the then/else of every decided conditional.
  // `undecided` collects the keys that must wait for a conditional still open.
  std::vector<int> applying(const Ctx& c, std::set<std::string>* undecided, bool closing) const {
    std::vector<int> nodes = flat->nodes;
    json obj;
    bool built = false;
    for (size_t i = 0; i < nodes.size(); ++i) {
      const Node& n = c.g.nodes[static_cast<size_t>(nodes[i])];
      for (const auto& cond : n.conditionals) {
        const Node& cif = c.g.nodes[static_cast<size_t>(cond.if_node)];
        bool decided = closing;
        if (!decided) {
          decided = true;
          for (const auto& [name, sub] : cif.properties) decided = decided && has(name);
          for (const auto& name : cif.required) decided = decided && has(name);
        }
        if (!decided) {
          for (int branch : {cond.then_node, cond.else_node}) {
            if (branch < 0 || undecided == nullptr) continue;
            for (const auto& [name, sub] : c.g.nodes[static_cast<size_t>(branch)].properties)
              undecided->insert(name);
          }
          continue;
        }
        if (!built) {
          obj = partial();
          built = true;
        }
        int branch = c.g.accepts(cond.if_node, obj) ? cond.then_node : cond.else_node;
        if (branch < 0) continue;
        // The branch's own object keywords apply; its allOf members too (shallowly).
        std::vector<int> todo{branch};
        while (!todo.empty()) {
          int b = todo.back();
          todo.pop_back();
          if (std::find(nodes.begin(), nodes.end(), b) != nodes.end()) continue;
          nodes.push_back(b);
          const Node& bn = c.g.nodes[static_cast<size_t>(b)];
          for (int m : bn.all_of) todo.push_back(m);
          const char* why = "anyOf/oneOf inside an if's then/else, at object level";
          if (!bn.any_of.empty() &&
              std::find(c.unenforced.begin(), c.unenforced.end(), why) == c.unenforced.end())
            c.unenforced.emplace_back(why);
        }
      }
    }
    return nodes;
  }

  bool key_allowed(const Ctx& c, const std::vector<int>& nodes, const std::string& k) const {
    for (int id : nodes) {
      const Node& n = c.g.nodes[static_cast<size_t>(id)];
      if (n.property(k) < 0 && n.additional >= 0 && c.g.nodes[static_cast<size_t>(n.additional)].never)
        return false;
    }
    return true;
  }
  std::vector<int> value_conj(const Ctx& c, const std::vector<int>& nodes, const std::string& k) const {
    std::vector<int> conj;
    for (int id : nodes) {
      const Node& n = c.g.nodes[static_cast<size_t>(id)];
      int p = n.property(k);
      if (p >= 0) {
        conj.push_back(p);
      } else if (n.additional >= 0) {
        conj.push_back(n.additional);
      }
    }
    return conj;
  }
  std::set<std::string> required(const Ctx& c, const std::vector<int>& nodes) const {
    std::set<std::string> r;
    for (int id : nodes)
      for (const auto& name : c.g.nodes[static_cast<size_t>(id)].required) r.insert(name);
    return r;
  }
  bool closed_set(const Ctx& c, const std::vector<int>& nodes) const {
    for (int id : nodes) {
      const Node& n = c.g.nodes[static_cast<size_t>(id)];
      if (n.additional >= 0 && c.g.nodes[static_cast<size_t>(n.additional)].never) return true;
    }
    return false;
  }
  // Keys that may come next (for a closed set of names), in sorted order when keys are sorted.
  std::vector<std::string> next_keys(const Ctx& c, bool* open) const {
    std::set<std::string> undecided;
    std::vector<int> nodes = applying(c, &undecided, false);
    std::set<std::string> names;
    for (int id : nodes)
      for (const auto& [name, sub] : c.g.nodes[static_cast<size_t>(id)].properties) names.insert(name);
    *open = !closed_set(c, nodes);
    std::set<std::string> req = required(c, nodes);
    std::string last = members.empty() ? "" : members.back().first;
    std::vector<std::string> out;
    for (const auto& k : names) {
      if (has(k) || undecided.count(k) != 0 || !key_allowed(c, nodes, k)) continue;
      if (c.order == KeyOrder::Sorted) {
        if (!members.empty() && k <= last) continue;
        // A required key that sorts before `k` and is missing could never come after it.
        bool skips = false;
        for (const auto& r : req) skips = skips || (r < k && !has(r));
        if (skips) continue;
      }
      out.push_back(k);
    }
    return out;
  }
  bool may_close(const Ctx& c) const {
    std::vector<int> nodes = applying(c, nullptr, true);
    for (const auto& r : required(c, nodes))
      if (!has(r)) return false;
    for (int id : nodes)
      if (static_cast<int64_t>(members.size()) < c.g.nodes[static_cast<size_t>(id)].min_properties)
        return false;
    return true;
  }
  bool room(const Ctx& c) const {
    for (int id : flat->nodes) {
      int64_t most = c.g.nodes[static_cast<size_t>(id)].max_properties;
      if (most >= 0 && static_cast<int64_t>(members.size()) >= most) return false;
    }
    return true;
  }

  void advance(const Ctx& c, unsigned char b, std::vector<FramePtr>& out) const override {
    if (phase == Key || phase == NextKey) {
      if (b == '}') {
        if (phase == NextKey || !may_close(c)) return;
        auto f = std::make_shared<ObjectFrame>(*this);
        f->phase = Closed;
        out.push_back(f);
        return;
      }
      if (b != '"' || !room(c)) return;
      bool open = false;
      std::vector<std::string> keys = next_keys(c, &open);
      auto waiting = std::make_shared<ObjectFrame>(*this);
      waiting->phase = AfterKey;
      size_t at = c.text.size();
      if (open) {
        auto s = new_frame<StringFrame>(waiting, at);
        auto used = std::make_shared<std::set<std::string>>();
        for (const auto& m : members) used->insert(m.first);
        s->forbidden = used;
        out.push_back(s);
        return;
      }
      if (keys.empty()) return;
      std::vector<std::string> texts;
      for (const auto& k : keys) texts.push_back(canonical_json(k));
      std::sort(texts.begin(), texts.end());
      auto lit = literal(waiting, at, std::move(texts));
      lit->advance(c, b, out);
      return;
    }
    if (phase == Colon) {
      if (b != ':') return;
      std::vector<int> nodes = applying(c, nullptr, false);
      auto f = std::make_shared<ObjectFrame>(*this);
      f->phase = Value;
      push_values(c, f, value_conj(c, nodes, pending_key), c.text.size() + 1, nullptr, out);
      return;
    }
    if (phase == After) {
      if (b == '}') {
        if (!may_close(c)) return;
        auto f = std::make_shared<ObjectFrame>(*this);
        f->phase = Closed;
        out.push_back(f);
        return;
      }
      if (b != ',' || !room(c)) return;
      bool open = false;
      if (next_keys(c, &open).empty() && !open) return;
      auto f = std::make_shared<ObjectFrame>(*this);
      f->phase = NextKey;
      out.push_back(f);
    }
  }
  bool complete(const Ctx&) const override { return phase == Closed; }
  // A member's value is stored and read only by the conditions (if) of the object's schema and of the
  // branches they may add.
  bool blind_to_child(const Ctx& c) const override {
    if (phase != Value) return false;  // a key's name decides what follows it
    std::vector<int> todo = flat->nodes;
    std::set<int> seen;
    while (!todo.empty()) {
      int id = todo.back();
      todo.pop_back();
      if (!seen.insert(id).second) continue;
      const Node& n = c.g.nodes[static_cast<size_t>(id)];
      for (const auto& cond : n.conditionals) {
        if (reads_key(c.g, cond.if_node, pending_key)) return false;
        for (int branch : {cond.then_node, cond.else_node})
          if (branch >= 0) todo.push_back(branch);
      }
      for (int m : n.all_of) todo.push_back(m);
    }
    return true;
  }
  bool next_bytes(const Ctx&, std::bitset<256>& bytes) const override {
    switch (phase) {
      case Key:
        bytes.set('"').set('}');
        return true;
      case NextKey:
        bytes.set('"');
        return true;
      case Colon:
        bytes.set(':');
        return true;
      case After:
        bytes.set(',').set('}');
        return true;
      case Closed:
        return true;
      default:
        return false;  // a key or value is being read
    }
  }
  FramePtr child_done(const Ctx& c, size_t child_start, size_t end) const override {
    auto f = std::make_shared<ObjectFrame>(*this);
    std::string text = c.text.substr(child_start, end - child_start);
    if (phase == AfterKey) {
      f->pending_key = parse_json_strict(text).get<std::string>();
      f->phase = Colon;
      return f;
    }
    if (phase == Value) {
      f->members.emplace_back(pending_key, text);
      f->pending_key.clear();
      f->phase = After;
      return f;
    }
    return nullptr;
  }
};

// An array after '['.
struct ArrayFrame : Frame {
  FlatPtr flat;
  enum Phase { First, Next, Item, After, Closed } phase = First;  // Next: after ','
  int64_t count = 0;
  std::shared_ptr<const std::set<std::string>> used;  // canonical texts of the items so far (uniqueItems)
  // Every value an item may take, when the items are unique and drawn from a finite set (enum/const): the
  // array has room for another item only while one is unused.
  std::shared_ptr<const std::vector<std::string>> item_literals;

  bool room() const {
    if (flat->max_items >= 0 && count >= flat->max_items) return false;
    if (!item_literals) return true;
    return std::any_of(item_literals->begin(), item_literals->end(),
                       [&](const std::string& t) { return !used || used->count(t) == 0; });
  }
  void item(const Ctx& c, unsigned char b, std::vector<FramePtr>& out) const {
    if (!room()) return;
    auto f = std::make_shared<ArrayFrame>(*this);
    f->phase = Item;
    std::vector<FramePtr> starts;
    push_values(c, f, flat->items, c.text.size(), flat->unique ? used : nullptr, starts);
    for (const auto& s : starts) s->advance(c, b, out);
  }
  void close(std::vector<FramePtr>& out) const {
    if (count < flat->min_items) return;
    auto f = std::make_shared<ArrayFrame>(*this);
    f->phase = Closed;
    out.push_back(f);
  }
  void advance(const Ctx& c, unsigned char b, std::vector<FramePtr>& out) const override {
    if (phase == First) {
      if (b == ']') {
        close(out);
      } else {
        item(c, b, out);
      }
    } else if (phase == Next) {
      item(c, b, out);
    } else if (phase == After) {
      if (b == ']') {
        close(out);
      } else if (b == ',' && room()) {
        auto f = std::make_shared<ArrayFrame>(*this);
        f->phase = Next;
        out.push_back(f);
      }
    }
  }
  bool complete(const Ctx&) const override { return phase == Closed; }
  bool blind_to_child(const Ctx&) const override { return phase == Item && !flat->unique; }
  bool next_bytes(const Ctx& c, std::bitset<256>& bytes) const override {
    switch (phase) {
      case First:
        bytes.set(']');
        [[fallthrough]];
      case Next:
        for (const FlatPtr& item : flats_of(c, flat->items)) first_bytes(*item, bytes);
        return true;
      case After:
        bytes.set(',').set(']');
        return true;
      case Closed:
        return true;
      default:
        return false;  // an item is being read
    }
  }
  FramePtr child_done(const Ctx& c, size_t child_start, size_t end) const override {
    if (phase != Item) return nullptr;
    auto f = std::make_shared<ArrayFrame>(*this);
    f->phase = After;
    f->count = count + 1;
    if (flat->unique) {
      json item = parse_json_strict(c.text.substr(child_start, end - child_start));
      std::string text = canonical_json(item);
      if (used && used->count(text) != 0) {
        // Strings, literals and enum values never get here repeated (they are refused earlier); a number
        // can still take more digits. An object or array cannot be refused without a dead end: let it through
        // and say so.
        if (!item.is_object() && !item.is_array()) return nullptr;
        const char* why = "uniqueItems with object or array items: a repeated item was let through";
        if (std::find(c.unenforced.begin(), c.unenforced.end(), why) == c.unenforced.end())
          c.unenforced.emplace_back(why);
      }
      auto u = std::make_shared<std::set<std::string>>(used ? *used : std::set<std::string>{});
      u->insert(text);
      f->used = u;
    }
    return f;
  }
};

// The bottom of every stack: holds the document's one value.
struct RootFrame : Frame {
  bool done = false;
  void advance(const Ctx&, unsigned char, std::vector<FramePtr>&) const override {}
  bool complete(const Ctx&) const override { return done; }
  bool next_bytes(const Ctx&, std::bitset<256>&) const override { return true; }  // nothing follows
  bool blind_to_child(const Ctx&) const override { return true; }
  FramePtr child_done(const Ctx&, size_t, size_t) const override {
    if (done) return nullptr;
    auto f = std::make_shared<RootFrame>(*this);
    f->done = true;
    return f;
  }
};

void ValueFrame::advance(const Ctx& c, unsigned char b, std::vector<FramePtr>& out) const {
  const Flat& f = *flat;
  size_t at = c.text.size();
  // Fixed texts (enum values, true/false, null) less those earlier unique items used.
  auto unused = [&](const std::vector<std::string>& texts) {
    std::vector<std::string> kept;
    for (const auto& t : texts)
      if (!exclude || exclude->count(t) == 0) kept.push_back(t);
    return kept;
  };
  if (f.literals) {
    literal(parent, at, unused(*f.literals))->advance(c, b, out);
  } else if (b == '{' && (f.types & kObject) != 0) {
    auto o = new_frame<ObjectFrame>(parent, at);
    o->flat = flat;
    out.push_back(o);
  } else if (b == '[' && (f.types & kArray) != 0) {
    auto a = new_frame<ArrayFrame>(parent, at);
    a->flat = flat;
    a->item_literals = unique_item_literals(c, f);
    out.push_back(a);
  } else if (b == '"' && (f.types & kString) != 0) {
    auto s = new_frame<StringFrame>(parent, at);
    s->flat = flat;
    s->used = exclude;
    for (int p : f.patterns) s->nfa.push_back(c.g.patterns[static_cast<size_t>(p)].start());
    out.push_back(s);
  } else if ((b == '-' || (b >= '0' && b <= '9')) && (f.types & (kNumber | kInteger)) != 0) {
    auto n = new_frame<NumberFrame>(parent, at);
    n->flat = flat;
    n->advance(c, b, out);
  } else if ((b == 't' || b == 'f') && (f.types & kBoolean) != 0) {
    literal(parent, at, unused({"false", "true"}))->advance(c, b, out);
  } else if (b == 'n' && (f.types & kNull) != 0) {
    literal(parent, at, unused({"null"}))->advance(c, b, out);
  }
}

void push_values(const Ctx& c, const FramePtr& parent, const std::vector<int>& conj, size_t start,
                 std::shared_ptr<const std::set<std::string>> exclude, std::vector<FramePtr>& out) {
  for (const FlatPtr& flat : flats_of(c, conj)) {
    auto v = new_frame<ValueFrame>(parent, start);
    v->flat = flat;
    v->exclude = exclude;
    out.push_back(v);
  }
}

// Every state `top` can be in after `b`: continuing the top value, or ending it (and its parents) first.
void step(const Ctx& c, const FramePtr& top, unsigned char b, std::vector<FramePtr>& out) {
  top->advance(c, b, out);
  if (top->parent && top->complete(c)) {
    FramePtr parent = top->parent->child_done(c, top->start, c.text.size());
    if (parent) step(c, parent, b, out);
  }
}

bool finishable(const Ctx& c, FramePtr f) {
  while (f && f->complete(c)) {
    if (!f->parent) return true;
    f = f->parent->child_done(c, f->start, c.text.size());
  }
  return false;
}

}  // namespace

JsonMatcher::JsonMatcher(std::shared_ptr<const SchemaGrammar> grammar, KeyOrder order)
    : grammar_(std::move(grammar)), order_(order) {
  auto root = std::make_shared<RootFrame>();
  Ctx c{*grammar_, text_, order_, runtime_unenforced_, *flats_};
  push_values(c, root, {grammar_->root}, 0, nullptr, threads_);
}

bool JsonMatcher::advance(unsigned char byte, Snapshot* undo) {
  Ctx c{*grammar_, text_, order_, runtime_unenforced_, *flats_};
  std::vector<FramePtr> next;
  for (const FramePtr& t : threads_) {
    step(c, t, byte, next);
    if (next.size() >= kMaxThreads) {
      const char* why = "more than 256 ways to read the schema at once: some were not followed";
      if (std::find(runtime_unenforced_.begin(), runtime_unenforced_.end(), why) == runtime_unenforced_.end())
        runtime_unenforced_.emplace_back(why);
      break;
    }
  }
  if (next.empty()) return false;
  if (undo != nullptr) {
    undo->threads = std::move(threads_);
    undo->text_size = text_.size();
  }
  threads_ = std::move(next);
  text_.push_back(static_cast<char>(byte));
  return true;
}

bool JsonMatcher::advance(const std::string& bytes) {
  Snapshot before = snapshot();
  for (char ch : bytes)
    if (!advance(static_cast<unsigned char>(ch))) {
      restore(std::move(before));
      return false;
    }
  return true;
}

bool JsonMatcher::complete() const {
  std::vector<std::string> ignored;
  Ctx c{*grammar_, text_, order_, ignored, *flats_};
  for (const FramePtr& t : threads_)
    if (finishable(c, t)) return true;
  return false;
}

void JsonMatcher::restore(Snapshot s) {
  threads_ = std::move(s.threads);
  text_.resize(s.text_size);
}

bool JsonMatcher::next_bytes(std::bitset<256>& bytes) const {
  std::vector<std::string> ignored;
  Ctx c{*grammar_, text_, order_, ignored, *flats_};
  bytes.reset();
  for (const FramePtr& t : threads_) {
    // A complete value may also hand the byte to its parent (as step() does): add the parent's bytes too.
    for (FramePtr f = t; f;) {
      if (!f->next_bytes(c, bytes)) return false;
      if (!f->parent || !f->complete(c)) break;
      f = f->parent->child_done(c, f->start, c.text.size());
    }
  }
  return !threads_.empty();
}

bool JsonMatcher::in_blind_free_string() const {
  std::vector<std::string> ignored;
  Ctx c{*grammar_, text_, order_, ignored, *flats_};
  if (threads_.empty()) return false;
  for (const FramePtr& t : threads_)
    if (!t->blind_free_string(c)) return false;
  return true;
}

std::pair<JsonMatcher::Snapshot, JsonMatcher::Snapshot> JsonMatcher::split_free_strings() const {
  std::pair<Snapshot, Snapshot> out{{{}, text_.size()}, {{}, text_.size()}};
  for (const FramePtr& t : threads_) (t->free_string() ? out.first : out.second).threads.push_back(t);
  return out;
}

}  // namespace af::constrain
