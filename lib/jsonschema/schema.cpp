// Compilation (indexing $id/$anchor/$dynamicAnchor, resolving $ref to nodes, building regexes) and
// evaluation (with annotations for unevaluated* and the dynamic scope for $dynamicRef).
#include "jsonschema/schema.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "core/utf8.h"
#include "jsonschema/exact_number.h"
#include "jsonschema/format.h"
#include "jsonschema/type_bits.h"
#include "jsonschema/uri.h"

namespace af::jsonschema {
namespace {

using json = nlohmann::json;

constexpr int kMaxSchemaDepth = 1000;
constexpr size_t kMaxEvalDepth = 2000;

const char* kDraft7Uri = "http://json-schema.org/draft-07/schema";
const char* kDraft201909Uri = "https://json-schema.org/draft/2019-09/schema";
const char* kDraft202012Uri = "https://json-schema.org/draft/2020-12/schema";

std::string strip_empty_fragment(std::string uri) {
  if (!uri.empty() && uri.back() == '#') uri.pop_back();
  return uri;
}

std::optional<Draft> draft_of_uri(const std::string& uri) {
  std::string u = strip_empty_fragment(uri);
  if (u == kDraft7Uri) return Draft::Draft7;
  if (u == kDraft201909Uri) return Draft::Draft2019_09;
  if (u == kDraft202012Uri) return Draft::Draft2020_12;
  return std::nullopt;
}

std::string type_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float: {
      double d = v.get<double>();
      return std::isfinite(d) && d == std::floor(d) ? "integer" : "number";
    }
    case json::value_t::string:
      return "string";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "unknown";
  }
}

// JSON equality where 1 == 1.0 at any depth (nlohmann compares mixed number types by value already).
bool json_equal(const json& a, const json& b) {
  return a == b;
}

// The instance as a message quotes it: at most 60 characters, cut between characters (never inside "é").
std::string short_text(const json& v) {
  return utf8_shorten(v.dump(), 60);
}

// True when `j` nests deeper than `limit`, found without recursion.
bool deeper_than(const json& j, int limit) {
  std::vector<std::pair<const json*, int>> stack = {{&j, 0}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (depth > limit) return true;
    if (node->is_structured())
      for (const auto& child : *node) stack.emplace_back(&child, depth + 1);
  }
  return false;
}

// Which keyword families apply, from the meta-schema's $vocabulary (all of them for the standard ones).
struct Vocab {
  bool applicator = true, validation = true, unevaluated = true, format_assertion = false;
};

// Index information about one schema location.
struct Place {
  std::string base;  // absolute base URI (no fragment)
  Draft draft = Draft::Draft2020_12;
  Vocab vocab;
};

}  // namespace

// --------------------------------------------------------------------------------------------------------------
// Compiled nodes

struct Node {
  const json* j = nullptr;
  bool is_bool = false, bool_value = true;  // a `true` / `false` schema (kept here: no pointer chase to j)
  Place place;
  bool compiled = false;
  bool is_resource_root = false;
  std::string resource_uri;  // for roots: the resource's URI

  // Keywords (null / empty when absent).
  const Node* ref = nullptr;
  const Node* dynamic_ref = nullptr;  // initial target of $dynamicRef
  std::string dynamic_ref_anchor;     // non-empty when the initial target is a matching $dynamicAnchor
  std::vector<std::string> types;
  uint8_t type_mask = 0;
  const json* enum_values = nullptr;
  const json* const_value = nullptr;
  // The numeric keywords as written, decided exactly (exact_number.h); nullptr when absent.
  const json *minimum_json = nullptr, *maximum_json = nullptr, *exclusive_minimum_json = nullptr,
             *exclusive_maximum_json = nullptr, *multiple_of_json = nullptr;
  std::optional<size_t> min_length, max_length, min_items, max_items, min_properties, max_properties;
  std::optional<size_t> min_contains, max_contains;
  bool unique_items = false;
  std::shared_ptr<RE2> pattern;
  std::string pattern_text;
  std::string format;
  std::vector<std::string> required;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
  std::vector<const Node*> all_of, any_of, one_of, prefix_items;
  const Node* not_ = nullptr;
  const Node *if_ = nullptr, *then_ = nullptr, *else_ = nullptr;
  const Node* items = nullptr;             // applies after prefix_items
  const Node* additional_items = nullptr;  // draft7/2019 with tuple items
  const Node* contains = nullptr;
  std::vector<std::pair<std::string, const Node*>> properties;
  std::vector<std::pair<std::shared_ptr<RE2>, const Node*>> pattern_properties;
  const Node* additional_properties = nullptr;
  const Node* property_names = nullptr;
  std::vector<std::pair<std::string, const Node*>> dependent_schemas;
  const Node* unevaluated_properties = nullptr;
  const Node* unevaluated_items = nullptr;
  bool ref_overrides_siblings = false;  // draft-07: $ref ignores every sibling keyword
  // Required properties whose subschema is a `const`: checked first on the fast path, so the branches of a
  // oneOf keyed by {"op": {"const": ...}} that cannot match are rejected by one comparison.
  std::vector<std::pair<std::string, const json*>> const_props;
  // Which keyword groups are present, so evaluation skips the absent ones without touching their fields.
  bool has_numeric = false, has_string = false, has_combinators = false, has_array = false,
       has_object = false;
  bool ref_only = false;  // nothing but a $ref (and annotations): evaluation goes straight to the target
  // A oneOf whose branches all require property `disc_prop` with a string const: for an object instance only
  // the branches listed under its value can match (the DSL's {"op": ...} alternatives).
  std::string disc_prop;
  std::unordered_map<std::string, std::vector<size_t>> disc_branches;
  // An allOf of bare {if, then} branches whose `if` is a required const on one property (the DSL's per-field
  // value rules): for an object instance only the branches keyed by its value can fail; the rest pass.
  std::string keyed_prop;
  std::unordered_map<std::string, std::vector<size_t>> keyed_all_of;
};

class Compiled {
 public:
  Compiled(const Options& options) : options_(options) {
    if (!options_.loader) options_.loader = std::make_shared<DocumentLoader>();
  }

  const Node* root = nullptr;
  bool uses_unevaluated = false;
  bool uses_dynamic_ref = false;

  void compile_root(const json& schema) {
    // Checked before the copy below: copying (and indexing) a document recurses once per level.
    if (deeper_than(schema, kMaxSchemaDepth)) {
      throw usage_error("invalid schema: nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
    }
    documents_.push_back(schema);
    const json& doc = documents_.back();
    std::string base =
        options_.base_uri.empty() ? "urn:astforge:root" : strip_empty_fragment(options_.base_uri);
    Place place{base, options_.default_draft, {}};
    index_document(doc, place);
    root = node_for(&doc);
    compile_pending();
    for (auto& node : node_store_) {
      build_discriminator(node);
      build_keyed_all_of(node);
    }
  }

  // Resources by URI, anchors by "uri#name", dynamic anchors by resource URI.
  std::unordered_map<std::string, const json*> resources;
  std::unordered_map<std::string, const json*> anchors;
  std::unordered_map<std::string, std::unordered_map<std::string, const Node*>> dynamic_anchors;
  bool format_assertion() const { return options_.format_assertion; }

 private:
  // ---- indexing: walk every subschema, recording base URI, draft and identifiers
  void index_document(const json& doc, Place place) {
    if (doc.is_object()) {
      if (auto it = doc.find("$schema"); it != doc.end() && it->is_string()) apply_dialect(*it, place);
    }
    resources.emplace(place.base, &doc);
    index(doc, place, 0, true);
  }

  void apply_dialect(const json& schema_uri, Place& place) {
    std::string uri = schema_uri.get<std::string>();
    if (auto d = draft_of_uri(uri)) {
      place.draft = *d;
      place.vocab = Vocab{};
      return;
    }
    // A custom meta-schema: its own $schema gives the draft, its $vocabulary the keyword families.
    std::string meta_uri = strip_empty_fragment(split_fragment(uri).first);
    std::optional<json> meta = load_document(meta_uri);
    if (!meta || !meta->is_object()) return;
    if (auto s = meta->find("$schema"); s != meta->end() && s->is_string()) {
      if (auto d = draft_of_uri(*s)) place.draft = *d;
    }
    if (auto v = meta->find("$vocabulary"); v != meta->end() && v->is_object()) {
      Vocab vocab{false, false, false, false};
      for (auto& [k, required] : v->items()) {
        (void)required;
        if (k.find("/vocab/applicator") != std::string::npos) vocab.applicator = true;
        if (k.find("/vocab/validation") != std::string::npos) vocab.validation = true;
        if (k.find("/vocab/unevaluated") != std::string::npos) vocab.unevaluated = true;
        if (k.find("/vocab/format-assertion") != std::string::npos) vocab.format_assertion = true;
      }
      place.vocab = vocab;
    }
  }

  void index(const json& j, Place place, int depth, bool is_root) {
    if (depth > kMaxSchemaDepth) {
      throw usage_error("invalid schema: nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
    }
    if (!j.is_object()) {
      places_.emplace(&j, place);
      return;
    }
    bool legacy = place.draft == Draft::Draft7;
    bool ref_sibling = legacy && j.contains("$ref");
    if (auto id = j.find("$id"); id != j.end() && id->is_string() && !ref_sibling) {
      const std::string& text = id->get_ref<const std::string&>();
      if (legacy && !text.empty() && text[0] == '#') {
        anchors.emplace(place.base + text, &j);
      } else {
        std::string resolved = resolve_uri(place.base, text);
        auto [uri, fragment] = split_fragment(resolved);
        if (!is_root) {
          if (auto s = j.find("$schema"); s != j.end() && s->is_string()) apply_dialect(*s, place);
        }
        place.base = uri;
        resources.emplace(uri, &j);
        roots_.insert(&j);
        if (legacy && !fragment.empty()) anchors.emplace(uri + "#" + fragment, &j);
      }
    }
    if (is_root) roots_.insert(&j);
    if (!legacy) {
      if (auto a = j.find("$anchor"); a != j.end() && a->is_string()) {
        anchors.emplace(place.base + "#" + a->get<std::string>(), &j);
      }
      if (auto a = j.find("$dynamicAnchor");
          a != j.end() && a->is_string() && place.draft == Draft::Draft2020_12) {
        anchors.emplace(place.base + "#" + a->get<std::string>(), &j);
        dynamic_anchor_places_.push_back({place.base, a->get<std::string>(), &j});
      }
    }
    places_.emplace(&j, place);
    auto sub = [&](const json& s) { index(s, place, depth + 1, false); };
    for (auto& [key, value] : j.items()) {
      if (key == "additionalProperties" || key == "propertyNames" || key == "not" || key == "if" ||
          key == "then" || key == "else" || key == "contains" || key == "additionalItems" ||
          key == "unevaluatedProperties" || key == "unevaluatedItems") {
        sub(value);
      } else if (key == "items") {
        if (value.is_array()) {
          for (const auto& s : value) sub(s);
        } else {
          sub(value);
        }
      } else if (key == "properties" || key == "patternProperties" || key == "$defs" ||
                 key == "definitions" || key == "dependentSchemas" || key == "dependencies") {
        if (value.is_object())
          for (auto& [k, s] : value.items()) {
            (void)k;
            if (s.is_object() || s.is_boolean()) sub(s);
          }
      } else if (key == "allOf" || key == "anyOf" || key == "oneOf" || key == "prefixItems") {
        if (value.is_array())
          for (const auto& s : value) sub(s);
      }
    }
  }

  // ---- nodes
  Node* node_for(const json* j) {
    if (auto it = nodes_.find(j); it != nodes_.end()) return it->second;
    Place place;
    if (auto p = places_.find(j); p != places_.end()) {
      place = p->second;
    } else {
      place = fallback_place_;
    }
    node_store_.emplace_back();
    Node* n = &node_store_.back();
    n->j = j;
    n->place = place;
    n->is_resource_root = roots_.count(j) > 0;
    n->resource_uri = place.base;
    nodes_.emplace(j, n);
    pending_.push_back(n);
    return n;
  }

  void compile_pending() {
    while (!pending_.empty()) {
      Node* n = pending_.front();
      pending_.pop_front();
      if (!n->compiled) compile(*n);
    }
    for (const auto& d : dynamic_anchor_places_) dynamic_anchors[d.base][d.name] = node_for(d.j);
    compile_remaining();
  }

  void compile_remaining() {
    while (!pending_.empty()) {
      Node* n = pending_.front();
      pending_.pop_front();
      if (!n->compiled) compile(*n);
    }
  }

  [[noreturn]] void bad(const Node& n, const std::string& keyword, const std::string& why) {
    throw usage_error("invalid schema at " + n.place.base + ": \"" + keyword + "\" " + why);
  }

  const Node* child(const json& j) { return node_for(&j); }

  static const Node* through_refs(const Node* b) {
    for (int hops = 0; b->ref_only && b->ref && hops < 16; ++hops) b = b->ref;
    return b;
  }

  static void build_keyed_all_of(Node& n) {
    if (n.all_of.size() < 2) return;
    std::string prop;
    std::unordered_map<std::string, std::vector<size_t>> keyed;
    for (size_t i = 0; i < n.all_of.size(); ++i) {
      const Node* b = through_refs(n.all_of[i]);
      bool bare_if_then = b->if_ && !b->else_ && !b->ref && !b->dynamic_ref && b->types.empty() &&
                          !b->enum_values && !b->const_value && !b->has_numeric && !b->has_string &&
                          !b->has_array && !b->has_object && b->all_of.empty() && b->any_of.empty() &&
                          b->one_of.empty() && !b->not_ && b->dependent_schemas.empty() &&
                          b->format.empty() && !b->unevaluated_items && !b->unevaluated_properties;
      if (!bare_if_then) return;
      const Node* cond = through_refs(b->if_);
      if (cond->const_props.empty()) return;
      if (prop.empty()) prop = cond->const_props.front().first;
      auto it = std::find_if(cond->const_props.begin(), cond->const_props.end(),
                             [&](auto& p) { return p.first == prop; });
      if (it == cond->const_props.end() || !it->second->is_string()) return;
      keyed[it->second->get<std::string>()].push_back(i);
    }
    n.keyed_prop = prop;
    n.keyed_all_of = std::move(keyed);
  }

  static void build_discriminator(Node& n) {
    if (n.one_of.size() < 2) return;
    const Node* first = through_refs(n.one_of[0]);
    if (first->const_props.empty()) return;
    const std::string& prop = first->const_props.front().first;
    std::unordered_map<std::string, std::vector<size_t>> branches;
    for (size_t i = 0; i < n.one_of.size(); ++i) {
      const Node* b = through_refs(n.one_of[i]);
      auto it = std::find_if(b->const_props.begin(), b->const_props.end(),
                             [&](auto& p) { return p.first == prop; });
      if (it == b->const_props.end() || !it->second->is_string()) return;
      branches[it->second->get<std::string>()].push_back(i);
    }
    n.disc_prop = prop;
    n.disc_branches = std::move(branches);
  }

  size_t count_value(const Node& n, const char* key, const json& v) {
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() != std::floor(v.get<double>())) {
      bad(n, key, "must be a non-negative integer");
    }
    return static_cast<size_t>(v.get<double>());
  }

  std::shared_ptr<RE2> regex(const Node& n, const char* key, const std::string& pattern) {
    if (auto it = regexes_.find(pattern); it != regexes_.end()) return it->second;
    RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_encoding(RE2::Options::EncodingUTF8);
    auto re = std::make_shared<RE2>(translate_ecma(pattern), opts);
    if (!re->ok()) bad(n, key, "is not a valid regular expression (" + re->error() + "): " + pattern);
    regexes_.emplace(pattern, re);
    return re;
  }

  // ECMA-262 classes that RE2 spells differently: \d, \w, \s are ASCII-only in RE2 and Unicode (\s) in ECMA.
  static std::string translate_ecma(const std::string& p) {
    std::string out;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] == '\\' && i + 1 < p.size()) {
        char c = p[i + 1];
        if (c == 's') {
          out +=
              "[\\t\\n\\v\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}"
              "\\x{3000}\\x{feff}]";
          ++i;
          continue;
        }
        if (c == 'S') {
          out +=
              "[^\\t\\n\\v\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}"
              "\\x{3000}\\x{feff}]";
          ++i;
          continue;
        }
        // \uXXXX (a surrogate pair as one code point), \u{X...} and \cX: RE2 spells them \x{...}.
        if (c == 'u') {
          auto hex4 = [&](size_t at) -> long {
            if (at + 4 > p.size()) return -1;
            std::string h = p.substr(at, 4);
            if (h.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) return -1;
            return std::stol(h, nullptr, 16);
          };
          if (i + 2 < p.size() && p[i + 2] == '{') {
            auto close = p.find('}', i + 3);
            std::string h = close == std::string::npos ? "" : p.substr(i + 3, close - i - 3);
            if (!h.empty() && h.size() <= 6 &&
                h.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
              out += "\\x{" + h + "}";
              i = close;
              continue;
            }
          } else if (long cp = hex4(i + 2); cp >= 0) {
            size_t used = 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && p.compare(i + 6, 2, "\\u") == 0) {
              if (long low = hex4(i + 8); low >= 0xDC00 && low <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                used = 12;
              }
            }
            char buf[32];
            std::snprintf(buf, sizeof buf, "\\x{%lx}", cp);
            out += buf;
            i += used - 1;
            continue;
          }
        }
        if (c == 'c' && i + 2 < p.size() && std::isalpha(static_cast<unsigned char>(p[i + 2]))) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "\\x{%x}", static_cast<unsigned>(p[i + 2]) % 32);
          out += buf;
          i += 2;
          continue;
        }
        if ((c == 'p' || c == 'P') && i + 2 < p.size() && p[i + 2] == '{') {
          auto close = p.find('}', i + 3);
          if (close != std::string::npos) {
            out += "\\";
            out += c;
            out += "{" + unicode_property(p.substr(i + 3, close - i - 3)) + "}";
            i = close;
            continue;
          }
        }
        out += p[i];
        out += c;
        ++i;
        continue;
      }
      out += p[i];
    }
    return out;
  }

  // ECMA-262 accepts long General_Category names and Script=X; RE2 knows the short names and bare scripts.
  static std::string unicode_property(const std::string& name) {
    static const std::unordered_map<std::string, std::string> kLong = {{"Letter", "L"},
                                                                       {"Cased_Letter", "L"},
                                                                       {"Uppercase_Letter", "Lu"},
                                                                       {"Lowercase_Letter", "Ll"},
                                                                       {"Titlecase_Letter", "Lt"},
                                                                       {"Modifier_Letter", "Lm"},
                                                                       {"Other_Letter", "Lo"},
                                                                       {"Mark", "M"},
                                                                       {"Nonspacing_Mark", "Mn"},
                                                                       {"Spacing_Mark", "Mc"},
                                                                       {"Enclosing_Mark", "Me"},
                                                                       {"Number", "N"},
                                                                       {"Decimal_Number", "Nd"},
                                                                       {"digit", "Nd"},
                                                                       {"Letter_Number", "Nl"},
                                                                       {"Other_Number", "No"},
                                                                       {"Punctuation", "P"},
                                                                       {"punct", "P"},
                                                                       {"Connector_Punctuation", "Pc"},
                                                                       {"Dash_Punctuation", "Pd"},
                                                                       {"Open_Punctuation", "Ps"},
                                                                       {"Close_Punctuation", "Pe"},
                                                                       {"Initial_Punctuation", "Pi"},
                                                                       {"Final_Punctuation", "Pf"},
                                                                       {"Other_Punctuation", "Po"},
                                                                       {"Symbol", "S"},
                                                                       {"Math_Symbol", "Sm"},
                                                                       {"Currency_Symbol", "Sc"},
                                                                       {"Modifier_Symbol", "Sk"},
                                                                       {"Other_Symbol", "So"},
                                                                       {"Separator", "Z"},
                                                                       {"Space_Separator", "Zs"},
                                                                       {"Line_Separator", "Zl"},
                                                                       {"Paragraph_Separator", "Zp"},
                                                                       {"Other", "C"},
                                                                       {"Control", "Cc"},
                                                                       {"cntrl", "Cc"},
                                                                       {"Format", "Cf"},
                                                                       {"Surrogate", "Cs"},
                                                                       {"Private_Use", "Co"},
                                                                       {"Unassigned", "Cn"}};
    std::string n = name;
    for (const char* prefix : {"General_Category=", "gc=", "Script=", "sc=", "Script_Extensions=", "scx="}) {
      if (n.rfind(prefix, 0) == 0) n = n.substr(std::string(prefix).size());
    }
    if (auto it = kLong.find(n); it != kLong.end()) return it->second;
    return n;
  }

  const Node* resolve_ref(const Node& n, const std::string& keyword, const std::string& ref) {
    std::string full = resolve_uri(n.place.base, ref);
    auto [uri, fragment] = split_fragment(full);
    const json* resource = find_resource(uri);
    if (!resource)
      bad(n, keyword, "refers to " + uri + ", which cannot be found (only local files are read)");
    if (fragment.empty()) return node_for(resource);
    std::string decoded = percent_decode(fragment);
    if (decoded[0] == '/') {
      const json* target = resource;
      std::string token;
      std::istringstream parts(decoded.substr(1));
      size_t start = 1;
      while (start <= decoded.size()) {
        size_t end = decoded.find('/', start);
        if (end == std::string::npos) end = decoded.size();
        token = decoded.substr(start, end - start);
        std::string unescaped;
        for (size_t k = 0; k < token.size(); ++k) {
          if (token[k] == '~' && k + 1 < token.size()) {
            unescaped += token[k + 1] == '1' ? '/' : '~';
            ++k;
          } else {
            unescaped += token[k];
          }
        }
        if (target->is_object() && target->contains(unescaped)) {
          target = &(*target)[unescaped];
        } else if (target->is_array() && !unescaped.empty() &&
                   std::all_of(unescaped.begin(), unescaped.end(), ::isdigit) &&
                   std::stoul(unescaped) < target->size()) {
          target = &(*target)[std::stoul(unescaped)];
        } else {
          bad(n, keyword, "points at " + full + ", which does not exist");
        }
        start = end + 1;
      }
      if (!places_.count(target)) {
        fallback_place_ = places_.count(resource) ? places_[resource] : n.place;
      }
      return node_for(target);
    }
    auto it = anchors.find(uri + "#" + fragment);
    if (it == anchors.end()) bad(n, keyword, "refers to the anchor " + full + ", which does not exist");
    return node_for(it->second);
  }

  const json* find_resource(const std::string& uri) {
    if (auto it = resources.find(uri); it != resources.end()) return it->second;
    std::optional<json> doc = load_document(uri);
    if (!doc) return nullptr;
    documents_.push_back(std::move(*doc));
    const json& stored = documents_.back();
    Place place{uri, referrer_draft_, {}};
    index_document(stored, place);
    for (const auto& d : dynamic_anchor_places_) dynamic_anchors[d.base][d.name] = node_for(d.j);
    return &stored;
  }

  std::optional<json> load_document(const std::string& uri) {
    try {
      return options_.loader->load(uri);
    } catch (const json::exception& e) {
      throw usage_error("schema document " + uri + " is not valid JSON: " + e.what());
    }
  }

  void compile(Node& n) {
    n.compiled = true;
    const json& j = *n.j;
    if (j.is_boolean()) {
      n.is_bool = true;
      n.bool_value = j.get<bool>();
      return;
    }
    if (!j.is_object()) bad(n, "schema", "must be an object or a boolean, found " + short_text(j));
    const Draft draft = n.place.draft;
    const bool legacy = draft == Draft::Draft7;
    const Vocab& vocab = n.place.vocab;
    referrer_draft_ = draft;
    if (auto it = j.find("$ref"); it != j.end()) {
      if (!it->is_string()) bad(n, "$ref", "must be a string");
      n.ref = resolve_ref(n, "$ref", *it);
      if (legacy) {
        n.ref_overrides_siblings = true;
        return;
      }
    }
    if (draft == Draft::Draft2020_12) {
      if (auto it = j.find("$dynamicRef"); it != j.end()) {
        if (!it->is_string()) bad(n, "$dynamicRef", "must be a string");
        n.dynamic_ref = resolve_ref(n, "$dynamicRef", *it);
        uses_dynamic_ref = true;
        std::string fragment = split_fragment(it->get<std::string>()).second;
        auto anchor = n.dynamic_ref->j->is_object() ? n.dynamic_ref->j->find("$dynamicAnchor") : j.end();
        if (!fragment.empty() && fragment[0] != '/' && n.dynamic_ref->j->is_object() &&
            anchor != n.dynamic_ref->j->end() && *anchor == fragment) {
          n.dynamic_ref_anchor = fragment;
        }
      }
    }
    if (vocab.validation) compile_validation(n, j, legacy);
    if (vocab.applicator) compile_applicators(n, j, draft);
    if (vocab.unevaluated && !legacy) {
      if (auto it = j.find("unevaluatedProperties"); it != j.end()) {
        n.unevaluated_properties = child(*it);
        uses_unevaluated = true;
      }
      if (auto it = j.find("unevaluatedItems"); it != j.end()) {
        n.unevaluated_items = child(*it);
        uses_unevaluated = true;
      }
    }
    if (auto it = j.find("format"); it != j.end() && it->is_string()) {
      if (options_.format_assertion || vocab.format_assertion) n.format = *it;
    }
    n.has_numeric = n.minimum_json || n.maximum_json || n.exclusive_minimum_json ||
                    n.exclusive_maximum_json || n.multiple_of_json;
    n.has_string = n.min_length || n.max_length || n.pattern;
    n.has_combinators = !n.all_of.empty() || !n.any_of.empty() || !n.one_of.empty() || n.not_ || n.if_ ||
                        !n.dependent_schemas.empty();
    n.has_array =
        n.min_items || n.max_items || n.unique_items || !n.prefix_items.empty() || n.items || n.contains;
    n.has_object = n.min_properties || n.max_properties || !n.required.empty() ||
                   !n.dependent_required.empty() || n.property_names || !n.properties.empty() ||
                   !n.pattern_properties.empty() || n.additional_properties;
    static const std::set<std::string> kAnnotationsOnly = {"$ref",       "description", "title",
                                                           "$comment",   "default",     "examples",
                                                           "deprecated", "readOnly",    "writeOnly"};
    n.ref_only = n.ref && std::all_of(j.items().begin(), j.items().end(),
                                      [&](const auto& kv) { return kAnnotationsOnly.count(kv.key()) > 0; });
  }

  void compile_validation(Node& n, const json& j, bool legacy) {
    if (auto it = j.find("type"); it != j.end()) {
      // A misspelt name ("strin") would make a schema every instance fails: it is the schema's error.
      auto add_type = [&](const json& t) {
        if (!t.is_string()) bad(n, "type", "must list type names");
        const std::string name = t.get<std::string>();
        if (type_bit(name) == 0)
          bad(n, "type",
              short_text(t) +
                  " is not a JSON Schema type (null, boolean, integer, number, string, array, object)");
        if (std::find(n.types.begin(), n.types.end(), name) != n.types.end())
          bad(n, "type", "lists " + short_text(t) + " twice");
        n.types.push_back(name);
        n.type_mask |= type_bit(name);
      };
      if (it->is_string()) {
        add_type(*it);
      } else if (it->is_array()) {
        for (const auto& t : *it) add_type(t);
      } else {
        bad(n, "type", "must be a string or a list of strings");
      }
    }
    if (auto it = j.find("enum"); it != j.end()) {
      if (!it->is_array()) bad(n, "enum", "must be an array");
      n.enum_values = &*it;
    }
    if (auto it = j.find("const"); it != j.end()) n.const_value = &*it;
    auto number = [&](const char* key) -> const json* {
      auto it = j.find(key);
      if (it == j.end()) return nullptr;
      if (!it->is_number()) {
        if (legacy && it->is_boolean()) return nullptr;  // draft-04 style, not ours
        bad(n, key, "must be a number");
      }
      return &*it;
    };
    n.minimum_json = number("minimum");
    n.maximum_json = number("maximum");
    n.exclusive_minimum_json = number("exclusiveMinimum");
    n.exclusive_maximum_json = number("exclusiveMaximum");
    n.multiple_of_json = number("multipleOf");
    if (n.multiple_of_json && n.multiple_of_json->get<double>() <= 0)
      bad(n, "multipleOf", "must be greater than 0");
    auto count = [&](const char* key) -> std::optional<size_t> {
      auto it = j.find(key);
      if (it == j.end()) return std::nullopt;
      return count_value(n, key, *it);
    };
    n.min_length = count("minLength");
    n.max_length = count("maxLength");
    n.min_items = count("minItems");
    n.max_items = count("maxItems");
    n.min_properties = count("minProperties");
    n.max_properties = count("maxProperties");
    if (!legacy) {
      n.min_contains = count("minContains");
      n.max_contains = count("maxContains");
    }
    if (auto it = j.find("uniqueItems"); it != j.end() && it->is_boolean()) n.unique_items = *it;
    if (auto it = j.find("pattern"); it != j.end()) {
      if (!it->is_string()) bad(n, "pattern", "must be a string");
      n.pattern = regex(n, "pattern", *it);
      n.pattern_text = *it;
    }
    if (auto it = j.find("required"); it != j.end()) {
      if (!it->is_array()) bad(n, "required", "must be an array of strings");
      for (const auto& r : *it) {
        if (!r.is_string()) bad(n, "required", "must be an array of strings");
        n.required.push_back(r);
      }
    }
    if (auto it = j.find(legacy ? "dependencies" : "dependentRequired"); it != j.end() && it->is_object()) {
      for (auto& [k, v] : it->items()) {
        if (!v.is_array()) continue;  // a schema dependency (draft-07), compiled with the applicators
        std::vector<std::string> names;
        for (const auto& x : v) names.push_back(x.get<std::string>());
        n.dependent_required.emplace_back(k, std::move(names));
      }
    }
  }

  void compile_applicators(Node& n, const json& j, Draft draft) {
    const bool legacy_items = draft != Draft::Draft2020_12;
    auto list = [&](const char* key, std::vector<const Node*>& out) {
      if (auto it = j.find(key); it != j.end()) {
        if (!it->is_array() || it->empty()) bad(n, key, "must be a non-empty array of schemas");
        for (const auto& s : *it) out.push_back(child(s));
      }
    };
    list("allOf", n.all_of);
    list("anyOf", n.any_of);
    list("oneOf", n.one_of);
    if (auto it = j.find("not"); it != j.end()) n.not_ = child(*it);
    if (auto it = j.find("if"); it != j.end()) {
      n.if_ = child(*it);
      if (auto t = j.find("then"); t != j.end()) n.then_ = child(*t);
      if (auto e = j.find("else"); e != j.end()) n.else_ = child(*e);
    }
    if (legacy_items) {
      if (auto it = j.find("items"); it != j.end()) {
        if (it->is_array()) {
          for (const auto& s : *it) n.prefix_items.push_back(child(s));
          if (auto a = j.find("additionalItems"); a != j.end()) n.items = child(*a);
        } else {
          n.items = child(*it);
        }
      }
    } else {
      list("prefixItems", n.prefix_items);
      if (auto it = j.find("items"); it != j.end()) n.items = child(*it);
    }
    if (auto it = j.find("contains"); it != j.end()) n.contains = child(*it);
    if (auto it = j.find("properties"); it != j.end()) {
      if (!it->is_object()) bad(n, "properties", "must be an object");
      for (auto& [k, s] : it->items()) {
        n.properties.emplace_back(k, child(s));
        bool required = std::find(n.required.begin(), n.required.end(), k) != n.required.end();
        if (required && s.is_object() && s.contains("const") && n.place.vocab.validation) {
          n.const_props.emplace_back(k, &s["const"]);
        }
      }
    }
    if (auto it = j.find("patternProperties"); it != j.end()) {
      if (!it->is_object()) bad(n, "patternProperties", "must be an object");
      for (auto& [k, s] : it->items())
        n.pattern_properties.emplace_back(regex(n, "patternProperties", k), child(s));
    }
    if (auto it = j.find("additionalProperties"); it != j.end()) n.additional_properties = child(*it);
    if (auto it = j.find("propertyNames"); it != j.end()) n.property_names = child(*it);
    const char* deps = draft == Draft::Draft7 ? "dependencies" : "dependentSchemas";
    if (auto it = j.find(deps); it != j.end() && it->is_object()) {
      for (auto& [k, s] : it->items())
        if (s.is_object() || s.is_boolean()) n.dependent_schemas.emplace_back(k, child(s));
    }
  }

  struct DynamicAnchorPlace {
    std::string base, name;
    const json* j;
  };

  Options options_;
  std::deque<json> documents_;
  std::deque<Node> node_store_;
  std::unordered_map<const json*, Node*> nodes_;
  std::unordered_map<const json*, Place> places_;
  std::set<const json*> roots_;
  std::deque<Node*> pending_;
  std::unordered_map<std::string, std::shared_ptr<RE2>> regexes_;
  std::vector<DynamicAnchorPlace> dynamic_anchor_places_;
  Draft referrer_draft_ = Draft::Draft2020_12;
  Place fallback_place_;
};

// --------------------------------------------------------------------------------------------------------------
// Evaluation

namespace {

// One step of an instance or keyword path, kept as pointers and numbers: turned into text only for an error.
struct Seg {
  const char* text = nullptr;         // a keyword ("allOf", "properties")
  const std::string* name = nullptr;  // a property name
  size_t index = SIZE_MAX;            // an array index or subschema position
  std::string render() const {
    std::string out = text ? text : "";
    if (name) out += (out.empty() ? "" : "/") + pointer_escape(*name);
    if (index != SIZE_MAX) out += (out.empty() ? "" : "/") + std::to_string(index);
    return out;
  }
};

// What a successful evaluation marked as evaluated (for unevaluatedProperties / unevaluatedItems).
// The sets are allocated only when something is recorded, so the many empty Annotations of the fast path
// cost two flags and a null pointer.
struct Annotations {
  struct Sets {
    std::set<std::string> props;
    std::set<size_t> items;
  };
  bool all_props = false;
  bool all_items = false;
  std::unique_ptr<Sets> sets;

  void add_prop(const std::string& k) { own().props.insert(k); }
  void add_item(size_t i) { own().items.insert(i); }
  bool has_prop(const std::string& k) const { return all_props || (sets && sets->props.count(k)); }
  bool has_item(size_t i) const { return all_items || (sets && sets->items.count(i)); }
  void merge(const Annotations& o) {
    all_props = all_props || o.all_props;
    all_items = all_items || o.all_items;
    if (!o.sets) return;
    if (!all_props) own().props.insert(o.sets->props.begin(), o.sets->props.end());
    if (!all_items) own().items.insert(o.sets->items.begin(), o.sets->items.end());
  }

 private:
  Sets& own() {
    if (!sets) sets = std::make_unique<Sets>();
    return *sets;
  }
};

class Evaluator {
 public:
  Evaluator(const Compiled& c, std::vector<ValidationError>* errors) : c_(c), errors_(errors) {}

  bool eval(const Node& n, const json& inst, Annotations& ann) {
    if (n.is_bool) {
      if (n.bool_value) return true;
      return fail("false", "no value is allowed here");
    }
    if (++depth_ > kMaxEvalDepth) {
      --depth_;
      return fail("$ref", [&] {
        return std::string("evaluation deeper than " + std::to_string(kMaxEvalDepth) +
                           " levels (instance too deep)");
      });
    }
    bool pushed_scope = false;
    // Entering any location of another resource (not only its root) adds it to the dynamic scope.
    if (c_.uses_dynamic_ref && (dynamic_scope_.empty() || *dynamic_scope_.back() != n.resource_uri)) {
      dynamic_scope_.push_back(&n.resource_uri);
      pushed_scope = true;
    }
    bool ok = eval_keywords(n, inst, ann);
    if (pushed_scope) dynamic_scope_.pop_back();
    --depth_;
    return ok;
  }

 private:
  bool collecting() const { return errors_ != nullptr; }

  bool fail(const char* keyword, const char* message) {
    return fail(keyword, [&] { return std::string(message); });
  }

  // The message is built only when errors are being collected: the fast path allocates nothing.
  template <typename MakeMessage>
  bool fail(const char* keyword, MakeMessage&& make_message) {
    if (errors_) {
      std::string message = make_message();
      std::string ip, kp;
      for (const auto& s : ipath_) ip += "/" + s.render();
      for (const auto& s : kpath_) kp += "/" + s.render();
      kp += "/";
      kp += keyword;
      errors_->push_back({ip, kp, std::move(message)});
    }
    return false;
  }

  // Runs `n` on `inst` without reporting errors (for anyOf/oneOf/not/if/contains probing).
  bool probe(const Node& n, const json& inst, Annotations& ann) {
    auto saved = errors_;
    errors_ = nullptr;
    bool ok = eval(n, inst, ann);
    errors_ = saved;
    return ok;
  }

  // Paths are tracked only while errors are collected: the fast path has no use for them.
  bool sub(const Node& n, const json& inst, Annotations& ann, Seg kw) {
    if (!errors_) return eval(n, inst, ann);
    kpath_.push_back(kw);
    bool ok = eval(n, inst, ann);
    kpath_.pop_back();
    return ok;
  }

  bool sub_at(const Node& n, const json& inst, Annotations& ann, Seg kw, Seg seg) {
    if (!errors_) return eval(n, inst, ann);
    ipath_.push_back(seg);
    bool ok = sub(n, inst, ann, kw);
    ipath_.pop_back();
    return ok;
  }

  bool follow(const Node& target, const json& inst, Annotations& ann, const char* kw) {
    // A reference that comes back to the same schema at the same instance location loops forever. Such a loop
    // always passes this depth, so references are tracked only past it: shallow ones cost nothing.
    constexpr size_t kTrackFrom = 32;
    if (depth_ < kTrackFrom) return sub(target, inst, ann, Seg{kw});
    auto key = std::make_pair(&target, &inst);
    if (std::find(ref_stack_.begin(), ref_stack_.end(), key) != ref_stack_.end()) {
      return fail(kw, "infinite $ref loop (a reference that never consumes the instance)");
    }
    ref_stack_.push_back(key);
    bool ok = sub(target, inst, ann, Seg{kw});
    ref_stack_.pop_back();
    return ok;
  }

  const Node* dynamic_target(const Node& n) {
    if (n.dynamic_ref_anchor.empty()) return n.dynamic_ref;
    for (const std::string* uri : dynamic_scope_) {
      auto r = c_.dynamic_anchors.find(*uri);
      if (r == c_.dynamic_anchors.end()) continue;
      auto a = r->second.find(n.dynamic_ref_anchor);
      if (a != r->second.end() && a->second) return a->second;
    }
    return n.dynamic_ref;
  }

  bool eval_keywords(const Node& n, const json& inst, Annotations& ann) {
    if (n.ref_only && !collecting()) return follow(*n.ref, inst, ann, "$ref");
    if (!collecting() && !n.const_props.empty() && inst.is_object()) {
      for (const auto& [name, value] : n.const_props) {
        auto it = inst.find(name);
        if (it == inst.end() || !json_equal(*it, *value)) return false;
      }
    }
    bool valid = true;
    auto check = [&](bool ok) {
      valid = valid && ok;
      return valid || collecting();
    };
    if (n.ref) {
      Annotations a;
      bool ok = follow(*n.ref, inst, a, "$ref");
      if (ok) ann.merge(a);
      if (!check(ok)) return false;
      if (n.ref_overrides_siblings) return valid;
    }
    if (n.dynamic_ref) {
      Annotations a;
      bool ok = follow(*dynamic_target(n), inst, a, "$dynamicRef");
      if (ok) ann.merge(a);
      if (!check(ok)) return false;
    }
    if (!n.types.empty()) {
      bool any = (n.type_mask & instance_bit(inst)) != 0;
      if (!check(any || fail("type", [&] {
                   return std::string("expected " + join_types(n.types) + ", found " + type_of(inst));
                 })))
        return false;
    }
    if (n.enum_values) {
      bool any = std::any_of(n.enum_values->begin(), n.enum_values->end(),
                             [&](const json& v) { return json_equal(v, inst); });
      if (!check(any || fail("enum", [&] {
                   return std::string(short_text(inst) + " is not one of the allowed values");
                 })))
        return false;
    }
    if (n.const_value &&
        !check(json_equal(*n.const_value, inst) || fail("const", [&] {
                 return std::string("expected " + short_text(*n.const_value) + ", found " + short_text(inst));
               }))) {
      return false;
    }
    if (n.has_numeric && inst.is_number() && !check(eval_number(n, inst))) return false;
    if (n.has_string && inst.is_string() && !check(eval_string(n, inst))) return false;
    if (!n.format.empty() && !check(check_format(n.format, inst) || fail("format", [&] {
                                      return std::string(short_text(inst) + " is not a valid " + n.format);
                                    }))) {
      return false;
    }
    if (n.has_combinators && !check(eval_combinators(n, inst, ann))) return false;
    if (n.has_array && inst.is_array() && !check(eval_array(n, inst, ann))) return false;
    if (n.has_object && inst.is_object() && !check(eval_object(n, inst, ann))) return false;
    // unevaluated* come last: they see what every other keyword (and subschema) evaluated.
    if (n.unevaluated_items && inst.is_array()) {
      bool ok = true;
      for (size_t i = 0; i < inst.size(); ++i) {
        if (ann.has_item(i)) continue;
        Annotations a;
        ok =
            sub_at(*n.unevaluated_items, inst[i], a, Seg{"unevaluatedItems"}, Seg{nullptr, nullptr, i}) && ok;
        if (!ok && !collecting()) break;
      }
      if (ok) ann.all_items = true;
      if (!check(ok)) return false;
    }
    if (n.unevaluated_properties && inst.is_object()) {
      bool ok = true;
      for (auto& [k, v] : inst.items()) {
        if (ann.has_prop(k)) continue;
        Annotations a;
        ok = sub_at(*n.unevaluated_properties, v, a, Seg{"unevaluatedProperties"}, Seg{nullptr, &k}) && ok;
        if (!ok && !collecting()) break;
      }
      if (ok) ann.all_props = true;
      if (!check(ok)) return false;
    }
    return valid;
  }

  static std::string join_types(const std::vector<std::string>& types) {
    std::string out;
    for (size_t i = 0; i < types.size(); ++i) out += (i ? " or " : "") + types[i];
    return out;
  }

  // Bounds compare as doubles where that is exact and as the written decimals where it is not (an integer
  // beyond 2^53); multipleOf is decided on the decimals, never on a rounded quotient.
  static int compare_numbers(const json& a, const json& b) {
    if (needs_exact_compare(a, b)) return compare_exact(exact_number(a), exact_number(b));
    const double x = a.get<double>(), y = b.get<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  static bool is_multiple(const json& a, const json& b) {
    constexpr uint64_t kMax = static_cast<uint64_t>(INT64_MAX);
    auto small = [&](const json& v) {
      return v.is_number_integer() && (!v.is_number_unsigned() || v.get<uint64_t>() <= kMax);
    };
    if (small(a) && small(b)) return a.get<int64_t>() % b.get<int64_t>() == 0;  // the common case
    return is_multiple_exact(exact_number(a), exact_number(b));
  }

  bool eval_number(const Node& n, const json& inst) {
    bool ok = true;
    auto check = [&](const json* bound, const char* keyword, bool (*holds)(int), const char* words) {
      if (bound == nullptr || !(ok || collecting()) || holds(compare_numbers(inst, *bound))) return;
      ok = fail(keyword, [&] { return std::string(inst.dump() + words + bound->dump()); });
    };
    check(
        n.minimum_json, "minimum", [](int c) { return c >= 0; }, " is less than ");
    check(
        n.maximum_json, "maximum", [](int c) { return c <= 0; }, " is greater than ");
    check(
        n.exclusive_minimum_json, "exclusiveMinimum", [](int c) { return c > 0; }, " is not greater than ");
    check(
        n.exclusive_maximum_json, "exclusiveMaximum", [](int c) { return c < 0; }, " is not less than ");
    if ((ok || collecting()) && n.multiple_of_json && !is_multiple(inst, *n.multiple_of_json)) {
      ok = fail("multipleOf", [&] {
        return std::string(inst.dump() + " is not a multiple of " + n.multiple_of_json->dump());
      });
    }
    return ok;
  }

  bool eval_string(const Node& n, const json& inst) {
    const std::string& s = inst.get_ref<const std::string&>();
    bool ok = true;
    if (n.min_length || n.max_length) {
      size_t len = utf8_length(s);
      if (n.min_length && len < *n.min_length) {
        ok = fail("minLength", [&] {
          return std::string("has " + std::to_string(len) + " characters, fewer than minLength " +
                             std::to_string(*n.min_length));
        });
      }
      if ((ok || collecting()) && n.max_length && len > *n.max_length) {
        ok = fail("maxLength", [&] {
          return std::string("has " + std::to_string(len) + " characters, more than maxLength " +
                             std::to_string(*n.max_length));
        });
      }
    }
    if ((ok || collecting()) && n.pattern && !RE2::PartialMatch(s, *n.pattern)) {
      ok = fail("pattern",
                [&] { return std::string(short_text(inst) + " does not match " + n.pattern_text); });
    }
    return ok;
  }

  bool eval_combinators(const Node& n, const json& inst, Annotations& ann) {
    bool ok = true;
    if (!n.keyed_prop.empty() && !collecting() && inst.is_object()) {
      // Branches keyed by another value have a failing `if` and no `else`: they pass without being run.
      auto it = inst.find(n.keyed_prop);
      if (it != inst.end() && it->is_string()) {
        auto keyed = n.keyed_all_of.find(it->get_ref<const std::string&>());
        if (keyed != n.keyed_all_of.end()) {
          for (size_t i : keyed->second) {
            Annotations a;
            if (!sub(*n.all_of[i], inst, a, Seg{"allOf", nullptr, i})) return false;
            ann.merge(a);
          }
        }
      }
    } else {
      for (size_t i = 0; i < n.all_of.size(); ++i) {
        Annotations a;
        bool r = sub(*n.all_of[i], inst, a, Seg{"allOf", nullptr, i});
        if (r) ann.merge(a);
        ok = r && ok;
        if (!ok && !collecting()) return false;
      }
    }
    if (!n.any_of.empty()) {
      bool any = false;
      for (size_t i = 0; i < n.any_of.size(); ++i) {
        Annotations a;
        if (probe(*n.any_of[i], inst, a)) {
          any = true;
          ann.merge(a);
          if (!c_.uses_unevaluated) break;  // annotations from every valid branch matter only then
        }
      }
      if (!any)
        ok = fail("anyOf", [&] {
          return std::string("matches none of the " + std::to_string(n.any_of.size()) + " anyOf schemas");
        });
      if (!ok && !collecting()) return false;
    }
    if (!n.disc_prop.empty() && !collecting() && inst.is_object()) {
      // Every branch requires disc_prop with its own const: only those keyed by the instance's value can
      // match.
      size_t matched = 0;
      Annotations kept;
      auto it = inst.find(n.disc_prop);
      if (it != inst.end() && it->is_string()) {
        auto candidates = n.disc_branches.find(it->get_ref<const std::string&>());
        if (candidates != n.disc_branches.end()) {
          for (size_t i : candidates->second) {
            Annotations a;
            if (probe(*n.one_of[i], inst, a)) {
              kept = std::move(a);
              if (++matched > 1) break;
            }
          }
        }
      }
      if (matched != 1) return false;
      ann.merge(kept);
    } else if (!n.one_of.empty()) {
      size_t matched = 0;
      Annotations kept;
      size_t which[2] = {0, 0};
      for (size_t i = 0; i < n.one_of.size(); ++i) {
        Annotations a;
        if (probe(*n.one_of[i], inst, a)) {
          if (matched < 2) which[matched] = i;
          ++matched;
          kept = std::move(a);
          if (matched > 1) break;
        }
      }
      if (matched == 1) {
        ann.merge(kept);
      } else if (matched == 0) {
        ok = fail("oneOf", [&] {
          return std::string("matches none of the " + std::to_string(n.one_of.size()) + " oneOf schemas");
        });
        if (collecting()) {
          // Show why each branch failed: the most useful explanation for a near miss.
          for (size_t i = 0; i < n.one_of.size(); ++i) {
            Annotations a;
            sub(*n.one_of[i], inst, a, Seg{"oneOf", nullptr, i});
          }
        }
      } else {
        ok = fail("oneOf", [&] {
          return std::string("matches more than one oneOf schema (" + std::to_string(which[0]) + " and " +
                             std::to_string(which[1]) + ")");
        });
      }
      if (!ok && !collecting()) return false;
    }
    if (n.not_) {
      Annotations a;
      if (probe(*n.not_, inst, a))
        ok = fail("not", [&] { return std::string("must not match the \"not\" schema"); });
      if (!ok && !collecting()) return false;
    }
    if (n.if_) {
      Annotations a;
      if (probe(*n.if_, inst, a)) {
        ann.merge(a);
        if (n.then_) {
          Annotations t;
          bool r = sub(*n.then_, inst, t, Seg{"then"});
          if (r) ann.merge(t);
          ok = r && ok;
        }
      } else if (n.else_) {
        Annotations e;
        bool r = sub(*n.else_, inst, e, Seg{"else"});
        if (r) ann.merge(e);
        ok = r && ok;
      }
      if (!ok && !collecting()) return false;
    }
    if (inst.is_object()) {
      for (const auto& [name, schema] : n.dependent_schemas) {
        if (!inst.contains(name)) continue;
        Annotations a;
        bool r = sub(*schema, inst, a, Seg{"dependentSchemas", &name});
        if (r) ann.merge(a);
        ok = r && ok;
        if (!ok && !collecting()) return false;
      }
    }
    return ok;
  }

  bool eval_array(const Node& n, const json& inst, Annotations& ann) {
    bool ok = true;
    const size_t size = inst.size();
    if (n.min_items && size < *n.min_items)
      ok = fail("minItems",
                [&] { return std::string("fewer than " + std::to_string(*n.min_items) + " items"); });
    if ((ok || collecting()) && n.max_items && size > *n.max_items) {
      ok = fail("maxItems",
                [&] { return std::string("more than " + std::to_string(*n.max_items) + " items"); });
    }
    if ((ok || collecting()) && n.unique_items) {
      for (size_t i = 0; i < size && ok; ++i)
        for (size_t k = i + 1; k < size; ++k)
          if (json_equal(inst[i], inst[k])) {
            ok = fail("uniqueItems", [&] {
              return std::string("items " + std::to_string(i) + " and " + std::to_string(k) + " are equal");
            });
            break;
          }
    }
    if (!ok && !collecting()) return false;
    size_t prefix = std::min(size, n.prefix_items.size());
    for (size_t i = 0; i < prefix; ++i) {
      Annotations a;
      ok = sub_at(*n.prefix_items[i], inst[i], a, Seg{"prefixItems", nullptr, i}, Seg{nullptr, nullptr, i}) &&
           ok;
      if (!ok && !collecting()) return false;
      if (c_.uses_unevaluated) ann.add_item(i);
    }
    if (n.items) {
      for (size_t i = prefix; i < size; ++i) {
        Annotations a;
        ok = sub_at(*n.items, inst[i], a, Seg{"items"}, Seg{nullptr, nullptr, i}) && ok;
        if (!ok && !collecting()) return false;
      }
      if (ok) ann.all_items = true;
    }
    if (n.contains) {
      size_t count = 0;
      for (size_t i = 0; i < size; ++i) {
        Annotations a;
        if (probe(*n.contains, inst[i], a)) {
          ++count;
          if (c_.uses_unevaluated) ann.add_item(i);
        }
      }
      size_t min = n.min_contains.value_or(1);
      if (count < min) {
        ok = fail(n.min_contains ? "minContains" : "contains", [&] {
          return std::string("contains " + std::to_string(count) + " matching items, fewer than " +
                             std::to_string(min));
        });
      }
      if (n.max_contains && count > *n.max_contains) {
        ok = fail("maxContains", [&] {
          return std::string("contains " + std::to_string(count) + " matching items, more than " +
                             std::to_string(*n.max_contains));
        });
      }
    }
    return ok;
  }

  bool eval_object(const Node& n, const json& inst, Annotations& ann) {
    bool ok = true;
    const size_t size = inst.size();
    if (n.min_properties && size < *n.min_properties) {
      ok = fail("minProperties", [&] {
        return std::string("fewer than " + std::to_string(*n.min_properties) + " properties");
      });
    }
    if ((ok || collecting()) && n.max_properties && size > *n.max_properties) {
      ok = fail("maxProperties", [&] {
        return std::string("more than " + std::to_string(*n.max_properties) + " properties");
      });
    }
    for (const auto& r : n.required) {
      if (!inst.contains(r)) {
        ok = fail("required", [&] { return std::string("missing required property \"" + r + "\""); });
        if (!collecting()) return false;
      }
    }
    for (const auto& [name, needed] : n.dependent_required) {
      if (!inst.contains(name)) continue;
      for (const auto& r : needed)
        if (!inst.contains(r)) {
          // A structured binding named in a lambda is C++20 that clang 14 (the fuzz build) lacks: a
          // reference.
          const std::string& prop = name;
          ok = fail("dependentRequired",
                    [&] { return std::string("property \"" + prop + "\" requires \"" + r + "\""); });
          if (!collecting()) return false;
        }
    }
    if (n.property_names) {
      for (auto& [k, v] : inst.items()) {
        (void)v;
        Annotations a;
        ok = sub_at(*n.property_names, json(k), a, Seg{"propertyNames"}, Seg{nullptr, &k}) && ok;
        if (!ok && !collecting()) return false;
      }
    }
    if (n.properties.empty() && n.pattern_properties.empty() && !n.additional_properties) return ok;
    // Instance keys and `properties` are both sorted (nlohmann objects are std::maps): walk them together.
    size_t next_property = 0;
    for (auto& [k, v] : inst.items()) {
      bool matched = false;
      while (next_property < n.properties.size() && n.properties[next_property].first < k) ++next_property;
      if (next_property < n.properties.size() && n.properties[next_property].first == k) {
        const auto& [name, schema] = n.properties[next_property];
        matched = true;
        Annotations a;
        ok = sub_at(*schema, v, a, Seg{"properties", &name}, Seg{nullptr, &k}) && ok;
        if (c_.uses_unevaluated) ann.add_prop(k);
      }
      for (const auto& [re, schema] : n.pattern_properties) {
        if (!RE2::PartialMatch(k, *re)) continue;
        matched = true;
        Annotations a;
        ok = sub_at(*schema, v, a, Seg{"patternProperties", &re->pattern()}, Seg{nullptr, &k}) && ok;
        if (c_.uses_unevaluated) ann.add_prop(k);
      }
      if (!matched && n.additional_properties) {
        Annotations a;
        if (n.additional_properties->is_bool && !n.additional_properties->bool_value) {
          ipath_.push_back(Seg{nullptr, &k});
          const std::string& prop = k;
          ok = fail("additionalProperties",
                    [&] { return std::string("property \"" + prop + "\" is not allowed"); }) &&
               ok;
          ipath_.pop_back();
        } else {
          ok = sub_at(*n.additional_properties, v, a, Seg{"additionalProperties"}, Seg{nullptr, &k}) && ok;
        }
        if (c_.uses_unevaluated) ann.add_prop(k);
      }
      if (!ok && !collecting()) return false;
    }
    return ok;
  }

  bool check_format(const std::string& format, const json& inst) {
    if (!inst.is_string()) return true;
    return format_matches(format, inst.get_ref<const std::string&>());
  }

  const Compiled& c_;
  std::vector<ValidationError>* errors_;
  std::vector<Seg> ipath_, kpath_;
  std::vector<const std::string*> dynamic_scope_;
  std::vector<std::pair<const Node*, const json*>> ref_stack_;
  size_t depth_ = 0;
};

}  // namespace

// --------------------------------------------------------------------------------------------------------------
// Public API

nlohmann::json ValidationError::to_json() const {
  return {{"instance_path", instance_path}, {"keyword_path", keyword_path}, {"message", message}};
}

DocumentLoader::DocumentLoader(std::string metaschema_dir) : metaschema_dir_(std::move(metaschema_dir)) {}

std::string DocumentLoader::default_metaschema_dir() {
  if (const char* env = std::getenv("ASTFORGE_METASCHEMA_DIR"); env && *env) return env;
  return "/usr/lib/python3/dist-packages/jsonschema/schemas";
}

void DocumentLoader::map_prefix(std::string prefix, std::string dir) {
  prefixes_.emplace_back(std::move(prefix), std::move(dir));
}

void DocumentLoader::add(std::string uri, json document) {
  documents_[strip_empty_fragment(uri)] = std::move(document);
}

namespace {
std::optional<json> read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return json::parse(in);
}
}  // namespace

std::optional<json> DocumentLoader::load(const std::string& uri_in) const {
  std::string uri = strip_empty_fragment(uri_in);
  if (auto it = documents_.find(uri); it != documents_.end()) return it->second;
  for (const auto& [prefix, dir] : prefixes_) {
    if (uri.rfind(prefix, 0) == 0) return read_json_file(dir + "/" + uri.substr(prefix.size()));
  }
  if (uri == kDraft7Uri) return read_json_file(metaschema_dir_ + "/draft7.json");
  if (uri == kDraft202012Uri) return read_json_file(metaschema_dir_ + "/draft2020-12.json");
  if (uri == kDraft201909Uri) return read_json_file(metaschema_dir_ + "/draft2019-09.json");
  const std::string meta2020 = "https://json-schema.org/draft/2020-12/meta/";
  const std::string meta2019 = "https://json-schema.org/draft/2019-09/meta/";
  if (uri.rfind(meta2020, 0) == 0 || uri.rfind(meta2019, 0) == 0) {
    // The vocabulary meta-schemas ship together in one file, keyed by URI.
    auto all = read_json_file(metaschema_dir_ + "/vocabularies.json");
    if (all && all->contains(uri)) return (*all)[uri];
    return std::nullopt;
  }
  if (uri.rfind("file://", 0) == 0) return read_json_file(percent_decode(uri.substr(7)));
  return std::nullopt;
}

Schema Schema::compile(const json& schema, const Options& options) {
  auto compiled = std::make_shared<Compiled>(options);
  compiled->compile_root(schema);
  Schema s;
  s.impl_ = std::move(compiled);
  return s;
}

bool Schema::is_valid(const json& instance) const {
  Evaluator e(*impl_, nullptr);
  Annotations ann;
  return e.eval(*impl_->root, instance, ann);
}

std::vector<ValidationError> Schema::validate(const json& instance) const {
  std::vector<ValidationError> errors;
  Evaluator e(*impl_, &errors);
  Annotations ann;
  bool ok = e.eval(*impl_->root, instance, ann);
  if (!ok && errors.empty()) errors.push_back({"", "", "invalid"});
  return errors;
}

}  // namespace af::jsonschema
