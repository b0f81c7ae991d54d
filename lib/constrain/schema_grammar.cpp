#include "constrain/schema_grammar.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "core/canonical_json.h"
#include "core/error.h"
#include "jsonschema/format.h"
#include "jsonschema/uri.h"

namespace af::constrain {
namespace {

using json = nlohmann::json;

// Keywords that only annotate: nothing to enforce.
const std::set<std::string> kAnnotations = {
    "$schema",   "$id",         "$anchor",          "$comment",        "$defs",        "definitions",
    "title",     "description", "default",          "examples",        "deprecated",   "readOnly",
    "writeOnly", "$vocabulary", "contentMediaType", "contentEncoding", "contentSchema"};
// Keywords the compiler reads (the rest is listed as not enforced).
const std::set<std::string> kHandled = {"type",
                                        "minProperties",
                                        "maxProperties",
                                        "enum",
                                        "const",
                                        "properties",
                                        "required",
                                        "additionalProperties",
                                        "items",
                                        "minItems",
                                        "maxItems",
                                        "uniqueItems",
                                        "pattern",
                                        "format",
                                        "minLength",
                                        "maxLength",
                                        "minimum",
                                        "maximum",
                                        "exclusiveMinimum",
                                        "exclusiveMaximum",
                                        "allOf",
                                        "anyOf",
                                        "oneOf",
                                        "$ref",
                                        "if",
                                        "then",
                                        "else"};

class Compiler {
 public:
  Compiler(const json& root, SchemaGrammar& g) : root_(root), g_(g) {}

  int build(const json& s, const std::string& ptr) {
    auto memo = built_.find(ptr);
    if (memo != built_.end()) return memo->second;
    int id = static_cast<int>(g_.nodes.size());
    g_.nodes.emplace_back();
    built_[ptr] = id;
    Node n;
    if (s.is_boolean()) {
      n.never = !s.get<bool>();
      g_.nodes[static_cast<size_t>(id)] = std::move(n);
      return id;
    }
    if (!s.is_object())
      throw usage_error("schema at " + (ptr.empty() ? "/" : ptr) + " is not an object or boolean");
    for (const auto& [key, value] : s.items()) {
      if (kAnnotations.count(key) != 0 || kHandled.count(key) != 0) continue;
      note(key, ptr, "not enforced by constrained decoding");
    }
    if (s.contains("type")) {
      const json& t = s["type"];
      n.types = 0;
      if (t.is_string()) n.types = jsonschema::type_bit(t.get<std::string>());
      if (t.is_array())
        for (const json& x : t)
          if (x.is_string()) n.types |= jsonschema::type_bit(x.get<std::string>());
    }
    if (s.contains("enum") && s["enum"].is_array()) n.values = s["enum"].get<std::vector<json>>();
    if (s.contains("const")) {
      std::vector<json> one{s["const"]};
      if (n.values) {
        std::vector<json> both;
        for (const json& v : *n.values)
          if (v == s["const"]) both.push_back(v);
        n.values = both;
      } else {
        n.values = one;
      }
    }
    if (s.contains("properties") && s["properties"].is_object())
      for (const auto& [name, sub] : s["properties"].items())
        n.properties.emplace_back(name, build(sub, ptr + "/properties/" + jsonschema::pointer_escape(name)));
    std::sort(n.properties.begin(), n.properties.end());
    if (s.contains("required") && s["required"].is_array())
      for (const json& r : s["required"])
        if (r.is_string()) n.required.push_back(r.get<std::string>());
    if (s.contains("additionalProperties"))
      n.additional = build(s["additionalProperties"], ptr + "/additionalProperties");
    if (s.contains("minProperties")) n.min_properties = s["minProperties"].get<int64_t>();
    if (s.contains("maxProperties")) n.max_properties = s["maxProperties"].get<int64_t>();
    if (s.contains("items")) {
      if (s["items"].is_array()) {
        note("items", ptr, "the array form (tuple items) is not enforced");
      } else {
        n.items = build(s["items"], ptr + "/items");
      }
    }
    if (s.contains("minItems")) n.min_items = s["minItems"].get<int64_t>();
    if (s.contains("maxItems")) n.max_items = s["maxItems"].get<int64_t>();
    n.unique_items = s.value("uniqueItems", false);
    if (s.contains("pattern") && s["pattern"].is_string()) {
      try {
        g_.patterns.push_back(RegexNfa::compile(s["pattern"].get<std::string>()));
        n.pattern = static_cast<int>(g_.patterns.size() - 1);
      } catch (const Error& e) {
        note("pattern", ptr, e.what());
      }
    }
    if (s.contains("format") && s["format"].is_string()) {
      n.format = s["format"].get<std::string>();
      if (n.format != "date") {
        note("format", ptr, "\"" + n.format + "\" is not enforced (only \"date\" is)");
        n.format.clear();
      }
    }
    if (s.contains("minLength")) n.min_length = s["minLength"].get<int64_t>();
    if (s.contains("maxLength")) n.max_length = s["maxLength"].get<int64_t>();
    for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
      if (!s.contains(k)) continue;
      if (!s[k].is_number()) {
        note(k, ptr, "a boolean exclusive bound (draft 4) is not enforced");
        continue;
      }
      double v = s[k].get<double>();
      std::string key = k;
      if (key == "minimum") n.minimum = v;
      if (key == "maximum") n.maximum = v;
      if (key == "exclusiveMinimum") n.exclusive_minimum = v;
      if (key == "exclusiveMaximum") n.exclusive_maximum = v;
    }
    if (s.contains("allOf") && s["allOf"].is_array())
      for (size_t i = 0; i < s["allOf"].size(); ++i)
        n.all_of.push_back(build(s["allOf"][i], ptr + "/allOf/" + std::to_string(i)));
    for (const char* k : {"anyOf", "oneOf"}) {
      if (!s.contains(k) || !s[k].is_array()) continue;
      std::vector<int> alts;
      for (size_t i = 0; i < s[k].size(); ++i)
        alts.push_back(build(s[k][i], ptr + "/" + k + "/" + std::to_string(i)));
      n.any_of.push_back(alts);
      if (std::string(k) == "oneOf") pending_one_of_.emplace_back(alts, ptr);
    }
    if (s.contains("$ref")) n.all_of.push_back(ref(s["$ref"].get<std::string>(), ptr));
    if (s.contains("if")) {
      Node::Conditional c;
      c.if_node = build(s["if"], ptr + "/if");
      if (s.contains("then")) c.then_node = build(s["then"], ptr + "/then");
      if (s.contains("else")) c.else_node = build(s["else"], ptr + "/else");
      n.conditionals.push_back(c);
    }
    g_.nodes[static_cast<size_t>(id)] = std::move(n);
    return id;
  }

  // oneOf is matched as anyOf; that is exact only when no value can satisfy two alternatives.
  void check_one_of() {
    for (const auto& [alts, ptr] : pending_one_of_)
      for (size_t a = 0; a < alts.size(); ++a)
        for (size_t b = a + 1; b < alts.size(); ++b)
          if (!disjoint(alts[a], alts[b])) {
            note("oneOf", ptr,
                 "alternatives " + std::to_string(a) + " and " + std::to_string(b) +
                     " may overlap; only \"at least one\" is enforced");
            a = alts.size();
            break;
          }
  }

 private:
  int ref(const std::string& r, const std::string& ptr) {
    if (r.empty() || r[0] != '#')
      throw usage_error("$ref \"" + r + "\" at " + ptr + " is not local",
                        "constrained decoding resolves only references inside the schema (#/...)");
    std::string target = r.substr(1);
    const json* at = &root_;
    try {
      at = &root_.at(json::json_pointer(target));
    } catch (const std::exception&) {
      throw usage_error("$ref \"" + r + "\" at " + ptr + " points at nothing in the schema");
    }
    return build(*at, target);
  }

  void note(const std::string& keyword, const std::string& ptr, const std::string& why) {
    g_.unenforced.push_back(keyword + " at " + (ptr.empty() ? "/" : ptr) + ": " + why);
  }

  // Shallow facts of a node and its allOf members: type bits, required names, closed property sets, and
  // the finite values of required properties.
  struct Facts {
    uint8_t types = kAnyType;
    std::map<std::string, std::vector<json>> required_values;
    std::set<std::string> required;
    std::vector<const Node*> closed;  // nodes with additionalProperties: false
  };
  void facts(int id, Facts& f, int depth) const {
    if (depth > 8) return;
    const Node& n = g_.nodes[static_cast<size_t>(id)];
    f.types &= n.types;
    for (const auto& r : n.required) f.required.insert(r);
    for (const auto& [name, sub] : n.properties) {
      const Node& p = g_.nodes[static_cast<size_t>(sub)];
      if (p.values) f.required_values[name] = *p.values;
    }
    if (n.additional >= 0 && g_.nodes[static_cast<size_t>(n.additional)].never) f.closed.push_back(&n);
    for (int m : n.all_of) facts(m, f, depth + 1);
  }
  // Whether no value satisfies both nodes: shown by their shallow facts, or because one has an anyOf/oneOf
  // group whose every alternative is disjoint from the other.
  bool disjoint(int a, int b, int depth = 0) const {
    if (depth > 6) return false;
    for (int x : {a, b}) {
      int y = x == a ? b : a;
      for (const auto& group : all_groups(x, 0)) {
        bool all = true;
        for (int alt : group) all = all && disjoint(alt, y, depth + 1);
        if (all) return true;
      }
    }
    return shallow_disjoint(a, b);
  }
  std::vector<std::vector<int>> all_groups(int id, int depth) const {
    std::vector<std::vector<int>> out;
    if (depth > 8) return out;
    const Node& n = g_.nodes[static_cast<size_t>(id)];
    out = n.any_of;
    for (int m : n.all_of) {
      auto more = all_groups(m, depth + 1);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }
  bool shallow_disjoint(int a, int b) const {
    Facts fa, fb;
    facts(a, fa, 0);
    facts(b, fb, 0);
    if ((fa.types & fb.types) == 0) return true;
    for (const auto& name : fa.required) {
      if (fb.required.count(name) != 0 && fa.required_values.count(name) != 0 &&
          fb.required_values.count(name) != 0) {
        bool overlap = false;
        for (const json& v : fa.required_values.at(name))
          for (const json& w : fb.required_values.at(name)) overlap = overlap || v == w;
        if (!overlap) return true;
      }
      for (const Node* c : fb.closed)
        if (c->property(name) < 0) return true;
    }
    for (const auto& name : fb.required)
      for (const Node* c : fa.closed)
        if (c->property(name) < 0) return true;
    return false;
  }

  const json& root_;
  SchemaGrammar& g_;
  std::map<std::string, int> built_;
  std::vector<std::pair<std::vector<int>, std::string>> pending_one_of_;
};

int days_in_month(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

int Node::property(const std::string& name) const {
  auto it = std::lower_bound(properties.begin(), properties.end(), std::make_pair(name, -1));
  return it != properties.end() && it->first == name ? it->second : -1;
}

std::shared_ptr<const SchemaGrammar> SchemaGrammar::compile(const nlohmann::json& schema) {
  auto g = std::make_shared<SchemaGrammar>();
  Compiler c(schema, *g);
  g->root = c.build(schema, "");
  c.check_one_of();
  return g;
}

bool full_date_prefix(const std::string& prefix) {
  if (prefix.size() > 10) return false;
  static const char kShape[] = "0000-00-00";
  for (size_t i = 0; i < prefix.size(); ++i) {
    bool digit = std::isdigit(static_cast<unsigned char>(prefix[i])) != 0;
    if ((kShape[i] == '0') != digit || (kShape[i] == '-' && prefix[i] != '-')) return false;
  }
  // Checked digit by digit (it runs for every byte the mask search tries in a date): the year is free; the
  // month 01-12; the day 01 up to the month's length (a year not yet whole may still be a leap year).
  auto digit = [&](size_t i) { return prefix[i] - '0'; };
  if (prefix.size() <= 5) return true;
  if (digit(5) > 1) return false;
  if (prefix.size() == 6) return true;
  int month = digit(5) * 10 + digit(6);
  if (month < 1 || month > 12) return false;
  if (prefix.size() <= 8) return true;
  int year = std::stoi(prefix.substr(0, 4));
  int most = days_in_month(year, month);
  if (digit(8) * 10 > most) return false;
  if (prefix.size() == 9) return true;
  int day = digit(8) * 10 + digit(9);
  return day >= 1 && day <= most;
}

bool SchemaGrammar::accepts(int id, const nlohmann::json& v) const {
  if (id < 0) return true;
  const Node& n = nodes[static_cast<size_t>(id)];
  if (n.never) return false;
  if ((n.types & jsonschema::instance_bit(v)) == 0) return false;
  if (n.values && std::find(n.values->begin(), n.values->end(), v) == n.values->end()) return false;
  if (v.is_object()) {
    for (const auto& r : n.required)
      if (!v.contains(r)) return false;
    auto count = static_cast<int64_t>(v.size());
    if (count < n.min_properties || (n.max_properties >= 0 && count > n.max_properties)) return false;
    for (const auto& [key, sub] : v.items()) {
      int p = n.property(key);
      if (!accepts(p >= 0 ? p : n.additional, sub)) return false;
    }
  }
  if (v.is_array()) {
    auto size = static_cast<int64_t>(v.size());
    if (size < n.min_items || (n.max_items >= 0 && size > n.max_items)) return false;
    for (const json& item : v)
      if (!accepts(n.items, item)) return false;
    if (n.unique_items)
      for (size_t i = 0; i < v.size(); ++i)
        for (size_t j = i + 1; j < v.size(); ++j)
          if (v[i] == v[j]) return false;
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (!n.format.empty() && !jsonschema::format_matches("date", s)) return false;
    int64_t length = 0;
    for (unsigned char c : s) length += (c & 0xC0) != 0x80;
    if (length < n.min_length || (n.max_length >= 0 && length > n.max_length)) return false;
    if (n.pattern >= 0) {
      const RegexNfa& re = patterns[static_cast<size_t>(n.pattern)];
      RegexNfa::States st = re.start();
      for (size_t i = 0; i < s.size() && !st.empty();) {
        auto b = static_cast<unsigned char>(s[i]);
        int extra = b < 0x80 ? 0 : b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : 1;
        uint32_t cp = extra == 0 ? b : (b & (0x3F >> extra));
        for (int k = 1; k <= extra && i + static_cast<size_t>(k) < s.size(); ++k)
          cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3F);
        i += static_cast<size_t>(extra) + 1;
        st = re.step(st, cp);
      }
      if (!re.accepts(st)) return false;
    }
  }
  if (v.is_number()) {
    double d = v.get<double>();
    if ((n.minimum && d < *n.minimum) || (n.maximum && d > *n.maximum) ||
        (n.exclusive_minimum && d <= *n.exclusive_minimum) ||
        (n.exclusive_maximum && d >= *n.exclusive_maximum))
      return false;
  }
  for (int m : n.all_of)
    if (!accepts(m, v)) return false;
  for (const auto& alts : n.any_of) {
    bool any = false;
    for (int a : alts) any = any || accepts(a, v);
    if (!any) return false;
  }
  for (const auto& c : n.conditionals) {
    int branch = accepts(c.if_node, v) ? c.then_node : c.else_node;
    if (!accepts(branch, v)) return false;
  }
  return true;
}

}  // namespace af::constrain
