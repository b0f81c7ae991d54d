#include "constrain/json_matcher.h"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <limits>
#include <set>

#include "constrain/flat.h"
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
  ShortestCache& shortest;
  /// The same context over another text (completion searches write ahead of the document).
  Context over(const std::string& other) const { return {g, other, order, unenforced, flats, shortest}; }
};
using Ctx = JsonMatcher::Context;

namespace {

constexpr size_t kMaxThreads = 256;  // beyond this the schema's choices are not followed further
constexpr size_t kMaxFinishes = 16;  // ways to finish one value that completion weighs (the shortest first)
constexpr size_t kMaxSearch = 4096;  // states one completion search may visit
constexpr size_t kMaxFinishMembers = 256;  // members completion adds to one object before it gives up

const std::vector<FlatPtr>& flats_of(const Ctx& c, const std::vector<int>& conj) {
  return flats_of(c.g, c.flats, conj);
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

  // Completion (JsonMatcher::shortest_completion). Called only while no child value is open.
  /// Ways to finish this value from where it stands (the bytes to add), shortest first; none when the frame
  /// cannot tell. The default searches byte by byte with search_bytes and lower_bound.
  virtual std::vector<std::string> finishes(const Ctx& c) const;
  /// Bytes worth trying next when searching for the shortest end of this value (a few representatives:
  /// which letter fills a free string does not matter).
  virtual std::string search_bytes(const Ctx& /*c*/) const { return {}; }
  /// At most as many bytes as this value still needs: it keeps the search shortest-first and short.
  virtual int64_t lower_bound(const Ctx& /*c*/) const { return 0; }
  /// The shortest end of the stack from here once the open child completes, kept when blind_to_child (it is
  /// then the same whatever the child's text): the mask search asks it for every token it tries. Belongs to
  /// this frame alone: a frame made by copying starts without it.
  struct Kept {
    std::optional<std::optional<std::string>> rest;
    Kept() = default;
    Kept(const Kept& /*other*/) {}
    Kept& operator=(const Kept& /*other*/) { return *this; }
  };
  mutable Kept rest_after_child;
};

namespace {

void push_values(const Ctx& c, const FramePtr& parent, const std::vector<int>& conj, size_t start,
                 std::shared_ptr<const std::set<std::string>> exclude, std::vector<FramePtr>& out);
// The shortest bytes that finish the stack from `top` up (the document whole), or none.
std::optional<std::string> finish_stack(const Ctx& c, const FramePtr& top);
// The shortest text of a value of `conj` (its items not among `exclude`), or none.
std::optional<std::string> shortest_value(const Ctx& c, const std::vector<int>& conj,
                                          const std::shared_ptr<const std::set<std::string>>& exclude);

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
  std::vector<std::string> finishes(const Ctx& c) const override;
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
  std::vector<std::string> finishes(const Ctx&) const override {
    std::vector<std::string> rests;
    for (size_t i = lo; i < hi; ++i) rests.push_back((*texts)[i].substr(pos));
    std::stable_sort(rests.begin(), rests.end(),
                     [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
    if (rests.size() > kMaxFinishes) rests.resize(kMaxFinishes);
    return rests;
  }
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

  std::string search_bytes(const Ctx& c) const override {
    if (closed) return {};
    if (escape == 1) return "\"\\/bfnrt";
    if (escape >= 2) return "0123456789abcdef";
    std::string out;
    if (utf8_left > 0) {
      for (int b = 0x80; b <= 0xBF; ++b) out.push_back(static_cast<char>(b));
      return out;
    }
    out = "\"ab";
    if (flat && flat->date) out += "0123456789-";
    if (flat)
      for (size_t i = 0; i < flat->patterns.size(); ++i)
        for (uint32_t cp : c.g.patterns[static_cast<size_t>(flat->patterns[i])].sample_characters(nfa[i]))
          out += utf8_lead(cp);
    return out;
  }
  int64_t lower_bound(const Ctx& c) const override {
    if (closed) return 0;
    int64_t pending = utf8_left + (escape == 1 ? 1 : escape >= 2 ? 6 - escape : 0);
    int64_t chars = flat ? std::max<int64_t>(flat->min_length - length, 0) : 0;
    if (flat && flat->date) chars = std::max<int64_t>(chars, 10 - static_cast<int64_t>(date.size()));
    if (flat)
      for (size_t i = 0; i < flat->patterns.size(); ++i)
        chars = std::max<int64_t>(
            chars, c.g.patterns[static_cast<size_t>(flat->patterns[i])].characters_to_accept(nfa[i]));
    if (pending > 0) chars = std::max<int64_t>(chars - 1, 0);
    return 1 + pending + chars;
  }
  // The first byte of code point `cp` in UTF-8.
  static char utf8_lead(uint32_t cp) {
    if (cp < 0x80) return static_cast<char>(cp);
    if (cp < 0x800) return static_cast<char>(0xC0 | (cp >> 6));
    if (cp < 0x10000) return static_cast<char>(0xE0 | (cp >> 12));
    return static_cast<char>(0xF0 | (cp >> 18));
  }
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
  std::string search_bytes(const Ctx&) const override { return "0123456789.-+eE"; }
  int64_t lower_bound(const Ctx&) const override { return text.empty() || !digit(text.back()) ? 1 : 0; }
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
  // The shortest way to close: '}' when the object may end here, else one more member (a missing required
  // key first, in key order; else the cheapest key it may take) and the shortest way on from there.
  std::vector<std::string> finishes(const Ctx& c) const override {
    if (phase == Closed) return {""};
    if (phase == Colon) {
      auto v = shortest_value(c, value_conj(c, applying(c, nullptr, false), pending_key), nullptr);
      if (!v) return {};
      auto whole = member_then_rest(c, ":", pending_key, *v);
      return whole ? std::vector<std::string>{*whole} : std::vector<std::string>{};
    }
    if (phase != Key && phase != NextKey && phase != After) return {};
    if (phase != NextKey && may_close(c)) return {"}"};
    if (!room(c)) return {};
    bool open = false;
    std::vector<std::string> keys = next_keys(c, &open);
    std::vector<int> nodes = applying(c, nullptr, false);
    std::set<std::string> req = required(c, nodes);
    std::vector<std::string> tries;
    for (const auto& k : keys)
      if (req.count(k) != 0) {
        tries.push_back(k);
        break;
      }
    // A required key that can no longer come (keys are sorted and it sorts before the last): a dead end.
    // Without one missing, only a minProperties or a condition still open can keep it from closing: add a
    // member, a bounded number of times.
    bool missing = std::any_of(req.begin(), req.end(), [&](const std::string& r) { return !has(r); });
    if (tries.empty() && (missing || members.size() > kMaxFinishMembers)) return {};
    if (tries.empty()) {
      tries = keys;
      if (open) {
        // The shortest name not used yet (after the last key, when keys are sorted).
        std::string name = c.order == KeyOrder::Sorted && !members.empty() ? members.back().first + " " : "";
        while (has(name)) name += "a";
        tries.push_back(name);
      }
    }
    std::optional<std::string> best;
    std::string prefix = phase == After ? "," : "";
    for (size_t i = 0; i < tries.size() && i < kMaxFinishes; ++i) {
      auto v = shortest_value(c, value_conj(c, nodes, tries[i]), nullptr);
      if (!v) continue;
      auto whole = member_then_rest(c, prefix + canonical_json(tries[i]) + ":", tries[i], *v);
      if (whole && (!best || whole->size() < best->size())) best = whole;
    }
    return best ? std::vector<std::string>{*best} : std::vector<std::string>{};
  }
  // `prefix` (up to the value), `value` as member `key`, then the shortest way to close from there.
  std::optional<std::string> member_then_rest(const Ctx& c, const std::string& prefix, const std::string& key,
                                              const std::string& value) const {
    std::string text = c.text + prefix + value;
    auto f = std::make_shared<ObjectFrame>(*this);
    f->phase = Value;
    f->pending_key = key;
    FramePtr after = f->child_done(c.over(text), c.text.size() + prefix.size(), text.size());
    if (!after) return std::nullopt;
    std::vector<std::string> rest = after->finishes(c.over(text));
    if (rest.empty()) return std::nullopt;
    return prefix + value + rest.front();
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
  // ']' once there are items enough, else one more (the shortest, unused when items are unique) and on.
  std::vector<std::string> finishes(const Ctx& c) const override {
    if (phase == Closed) return {""};
    if ((phase == First || phase == After) && count >= flat->min_items) return {"]"};
    if (phase == Item || !room()) return {};
    std::string prefix = phase == After ? "," : "";
    auto v = shortest_value(c, flat->items, flat->unique ? used : nullptr);
    if (!v) return {};
    std::string text = c.text + prefix + *v;
    auto f = std::make_shared<ArrayFrame>(*this);
    f->phase = Item;
    FramePtr after = f->child_done(c.over(text), c.text.size() + prefix.size(), text.size());
    if (!after) return {};
    std::vector<std::string> rest = after->finishes(c.over(text));
    if (rest.empty()) return {};
    return {prefix + *v + rest.front()};
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
  std::vector<std::string> finishes(const Ctx&) const override {
    return done ? std::vector<std::string>{""} : std::vector<std::string>{};
  }
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
    a->item_literals = unique_item_literals(c.g, c.flats, f);
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

std::vector<std::string> ValueFrame::finishes(const Ctx& c) const {
  std::bitset<256> firsts;
  first_bytes(*flat, firsts);
  std::vector<std::string> out;
  for (int b = 0; b < 256; ++b) {
    if (!firsts[static_cast<size_t>(b)]) continue;
    std::vector<FramePtr> next;
    advance(c, static_cast<unsigned char>(b), next);
    std::string text = c.text + static_cast<char>(b);
    for (const FramePtr& f : next)
      for (const std::string& x : f->finishes(c.over(text))) out.push_back(static_cast<char>(b) + x);
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (out.size() > kMaxFinishes) out.resize(kMaxFinishes);
  return out;
}

std::optional<std::string> finish_stack(const Ctx& c, const FramePtr& top) {
  const Frame* up = top->parent.get();
  bool blind = up != nullptr && up->blind_to_child(c);
  std::optional<std::string> best;
  for (const std::string& x : top->finishes(c)) {
    if (best && x.size() >= best->size()) continue;  // what the parents add cannot make it shorter
    if (up == nullptr) {
      best = x;
      continue;
    }
    std::optional<std::string> rest;
    if (blind && up->rest_after_child.rest) {
      rest = *up->rest_after_child.rest;
    } else {
      std::string text = c.text + x;
      FramePtr parent = up->child_done(c.over(text), top->start, text.size());
      if (!parent) continue;
      rest = finish_stack(c.over(text), parent);
      if (blind) up->rest_after_child.rest = rest;
    }
    if (rest && (!best || x.size() + rest->size() < best->size())) best = x + *rest;
  }
  return best;
}

std::optional<std::string> shortest_value(const Ctx& c, const std::vector<int>& conj,
                                          const std::shared_ptr<const std::set<std::string>>& exclude) {
  // A value's shortest text depends on its schema alone (and on the items it may not repeat): kept per
  // schema. A schema met again while its own value is being built needs itself: no finite value that way.
  bool keep = !exclude || exclude->empty();
  if (keep) {
    auto it = c.shortest.find(conj);
    if (it != c.shortest.end()) return it->second.second;
    c.shortest[conj] = {false, std::nullopt};
  }
  std::string local;
  Ctx at_start = c.over(local);
  std::vector<FramePtr> starts;
  push_values(at_start, std::make_shared<RootFrame>(), conj, 0, exclude, starts);
  std::optional<std::string> best;
  for (const FramePtr& v : starts) {
    std::optional<std::string> text = finish_stack(at_start, v);
    if (text && (!best || text->size() < best->size() || (text->size() == best->size() && *text < *best)))
      best = text;
  }
  if (keep) c.shortest[conj] = {true, best};
  return best;
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

// Best-first over the bytes search_bytes offers: the fewest bytes added plus the frame's lower bound; on ties
// the deepest first (so a date or a fixed-length pattern runs straight to its end), then the earliest tried
// (so '0' comes before '9').
std::vector<std::string> Frame::finishes(const Ctx& c) const {
  struct Open {
    int64_t cost;
    size_t order;
    const Frame* frame;
    std::string added;
  };
  auto later = [](const Open& a, const Open& b) {
    if (a.cost != b.cost) return a.cost > b.cost;
    if (a.added.size() != b.added.size()) return a.added.size() < b.added.size();
    return a.order > b.order;
  };
  std::vector<FramePtr> keep;  // owns the frames the queue points to
  std::vector<Open> queue{{lower_bound(c), 0, this, ""}};
  size_t pushed = 1;
  for (size_t visited = 0; !queue.empty() && visited < kMaxSearch; ++visited) {
    std::pop_heap(queue.begin(), queue.end(), later);
    Open at = std::move(queue.back());
    queue.pop_back();
    std::string text = c.text + at.added;
    Ctx here = c.over(text);
    if (at.frame->complete(here)) return {at.added};
    for (char b : at.frame->search_bytes(here)) {
      std::vector<FramePtr> next;
      at.frame->advance(here, static_cast<unsigned char>(b), next);
      std::string after = text + b;
      for (FramePtr& f : next) {
        int64_t cost = static_cast<int64_t>(at.added.size() + 1) + f->lower_bound(c.over(after));
        queue.push_back({cost, pushed++, f.get(), at.added + b});
        std::push_heap(queue.begin(), queue.end(), later);
        keep.push_back(std::move(f));
      }
    }
  }
  return {};
}

JsonMatcher::JsonMatcher(std::shared_ptr<const SchemaGrammar> grammar, KeyOrder order)
    : grammar_(std::move(grammar)), order_(order) {
  auto root = std::make_shared<RootFrame>();
  Ctx c{*grammar_, text_, order_, runtime_unenforced_, *flats_, *shortest_};
  push_values(c, root, {grammar_->root}, 0, nullptr, threads_);
}

bool JsonMatcher::advance(unsigned char byte, Snapshot* undo) {
  Ctx c{*grammar_, text_, order_, runtime_unenforced_, *flats_, *shortest_};
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
  Ctx c{*grammar_, text_, order_, ignored, *flats_, *shortest_};
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
  Ctx c{*grammar_, text_, order_, ignored, *flats_, *shortest_};
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
  Ctx c{*grammar_, text_, order_, ignored, *flats_, *shortest_};
  if (threads_.empty()) return false;
  for (const FramePtr& t : threads_)
    if (!t->blind_free_string(c)) return false;
  return true;
}

std::optional<std::string> JsonMatcher::shortest_completion() const {
  std::vector<std::string> ignored;
  Ctx c{*grammar_, text_, order_, ignored, *flats_, *shortest_};
  std::optional<std::string> best;
  for (const FramePtr& t : threads_) {
    std::optional<std::string> rest = finish_stack(c, t);
    if (rest && (!best || rest->size() < best->size())) best = rest;
  }
  return best;
}

std::pair<JsonMatcher::Snapshot, JsonMatcher::Snapshot> JsonMatcher::split_free_strings() const {
  std::pair<Snapshot, Snapshot> out{{{}, text_.size()}, {{}, text_.size()}};
  for (const FramePtr& t : threads_) (t->free_string() ? out.first : out.second).threads.push_back(t);
  return out;
}

}  // namespace af::constrain
