#include "teachersim/query_language.h"

#include <re2/re2.h>

#include <algorithm>
#include <memory>

#include "core/canonical_json.h"
#include "core/strings.h"

namespace af::teachersim {
namespace {

using json = nlohmann::json;

// Templates are tried most specific first ("is not" before "is", "not among" before "among").
const std::vector<std::string> kParseOrder = {"is_null",     "is_not_null", "not_in",   "ne",  "between",
                                              "starts_with", "ends_with",   "contains", "gte", "lte",
                                              "gt",          "lt",          "in",       "eq"};

const Vocabulary::Field* field_named(const Vocabulary& v, const std::string& name) {
  for (const auto& f : v.fields)
    if (f.name == name) return &f;
  return nullptr;
}

std::string scalar_text(const json& value, const std::string& type, const Phrases& ph) {
  if (value.is_boolean()) return value.get<bool>() ? ph.true_ : ph.false_;
  if (value.is_number())
    return value.is_number_float() ? canonical_number(value.get<double>()) : value.dump();
  const std::string s = value.get<std::string>();
  return type == "string" ? "\"" + s + "\"" : s;
}

std::string value_text(const json& value, const std::string& type, const Phrases& ph) {
  if (value.is_array()) {
    std::string out;
    for (const auto& v : value) out += (out.empty() ? "" : ", ") + scalar_text(v, type, ph);
    return out;
  }
  return scalar_text(value, type, ph);
}

std::string condition_text(const Condition& c, const Vocabulary& vocab, const Phrases& ph,
                           const std::string& word) {
  const Vocabulary::Field* f = field_named(vocab, c.field);
  std::string type = f ? f->type : "string";
  std::string text = ph.ops.at(c.op);
  text = replace_all(text, "{f}", f ? f->word : word);
  if (c.op == "between") {
    text = replace_all(text, "{a}", scalar_text(c.value["from"], type, ph));
    text = replace_all(text, "{b}", scalar_text(c.value["to"], type, ph));
  } else if (!c.value.is_null()) {
    text = replace_all(text, "{v}", value_text(c.value, type, ph));
  }
  return text;
}

std::string expr_text(const Expr& e, const Vocabulary& vocab, const Phrases& ph, const std::string& missing) {
  switch (e.kind) {
    case Expr::Kind::Cond:
      return condition_text(e.cond, vocab, ph, missing);
    case Expr::Kind::Not:
      return ph.not_ + expr_text(e.args.at(0), vocab, ph, missing);
    case Expr::Kind::And:
    case Expr::Kind::Or: {
      std::string out;
      const std::string& sep = e.kind == Expr::Kind::And ? ph.and_ : ph.or_;
      for (const auto& a : e.args) out += (out.empty() ? "" : sep) + expr_text(a, vocab, ph, missing);
      return out;
    }
  }
  return {};
}

// Splits on `sep` outside double quotes.
std::vector<std::string> split_outside_quotes(const std::string& s, const std::string& sep) {
  std::vector<std::string> parts;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (!quoted && s.compare(i, sep.size(), sep) == 0) {
      parts.push_back(s.substr(start, i - start));
      i += sep.size() - 1;
      start = i + 1;
    }
  }
  parts.push_back(s.substr(start));
  return parts;
}

std::optional<json> parse_scalar(const std::string& text, const std::string& type,
                                 const std::vector<std::string>& values, const Phrases& ph) {
  static const RE2 kNumber("-?[0-9]+(\\.[0-9]+)?");
  static const RE2 kDate("[0-9]{4}-[0-9]{2}-[0-9]{2}");
  if (type == "enum") {
    if (std::find(values.begin(), values.end(), text) != values.end()) return json(text);
    return std::nullopt;
  }
  if (type == "number" || type == "integer") {
    if (!RE2::FullMatch(text, kNumber)) return std::nullopt;
    if (text.find('.') == std::string::npos) return json(std::stoll(text));
    if (type == "integer") return std::nullopt;
    return json(std::stod(text));
  }
  if (type == "date") return RE2::FullMatch(text, kDate) ? std::optional<json>(text) : std::nullopt;
  if (type == "boolean") {
    if (text == ph.true_) return json(true);
    if (text == ph.false_) return json(false);
    return std::nullopt;
  }
  // string (or a missing field's value): quoted
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
    return json(text.substr(1, text.size() - 2));
  return std::nullopt;
}

std::string escape_regex(const std::string& s) {
  return RE2::QuoteMeta(s);
}

class Parser {
 public:
  Parser(const Vocabulary& vocab, const Phrases& ph) : vocab_(vocab), ph_(ph) {
    // Field words, longest first, so "order date" wins over "order".
    for (const auto& f : vocab.fields) words_.push_back({f.word, f.name});
    for (const auto& w : vocab.missing_words) words_.push_back({w, ""});
    std::sort(words_.begin(), words_.end(), [](auto& a, auto& b) { return a.first.size() > b.first.size(); });
    std::string alt;
    for (const auto& [w, n] : words_) alt += (alt.empty() ? "" : "|") + escape_regex(w);
    for (const auto& op : kParseOrder) {
      auto it = ph.ops.find(op);
      if (it == ph.ops.end()) continue;
      std::string pattern = escape_regex(it->second);
      pattern = replace_all(pattern, "\\{f\\}", "(" + alt + ")");
      pattern = replace_all(pattern, "\\{a\\}", "(.+?)");
      pattern = replace_all(pattern, "\\{b\\}", "(.+)");
      pattern = replace_all(pattern, "\\{v\\}", "(.+)");
      templates_.push_back({op, std::make_unique<RE2>(pattern)});
    }
  }

  std::optional<Expr> expression(const std::string& text, std::string& missing) {
    auto disjuncts = split_outside_quotes(text, ph_.or_);
    if (disjuncts.size() > 1) {
      Expr e;
      e.kind = Expr::Kind::Or;
      for (const auto& d : disjuncts) {
        auto sub = conjunction(d, missing);
        if (!sub) return std::nullopt;
        e.args.push_back(std::move(*sub));
      }
      return e;
    }
    return conjunction(text, missing);
  }

  std::optional<std::string> field_by_word(const std::string& word) const {
    for (const auto& [w, n] : words_)
      if (w == word) return n;
    return std::nullopt;
  }

 private:
  std::optional<Expr> conjunction(const std::string& text, std::string& missing) {
    auto parts = split_outside_quotes(text, ph_.and_);
    if (parts.size() > 1) {
      Expr e;
      e.kind = Expr::Kind::And;
      for (const auto& p : parts) {
        auto sub = atom(p, missing);
        if (!sub) return std::nullopt;
        e.args.push_back(std::move(*sub));
      }
      return e;
    }
    return atom(text, missing);
  }

  std::optional<Expr> atom(const std::string& text, std::string& missing) {
    if (text.rfind(ph_.not_, 0) == 0) {
      auto inner = condition(text.substr(ph_.not_.size()), missing);
      if (!inner) return std::nullopt;
      Expr e;
      e.kind = Expr::Kind::Not;
      e.args.push_back(std::move(*inner));
      return e;
    }
    return condition(text, missing);
  }

  std::optional<Expr> condition(const std::string& text, std::string& missing) {
    for (const auto& [op, re] : templates_) {
      std::string word, a, b;
      bool matched = false;
      if (op == "is_null" || op == "is_not_null") {
        matched = RE2::FullMatch(text, *re, &word);
      } else if (op == "between") {
        matched = RE2::FullMatch(text, *re, &word, &a, &b);
      } else {
        matched = RE2::FullMatch(text, *re, &word, &a);
      }
      if (!matched) continue;
      std::string name = *field_by_word(word);
      const Vocabulary::Field* f = field_named(vocab_, name);
      std::string type = f ? f->type : "string";
      std::vector<std::string> values = f ? f->values : std::vector<std::string>{};
      Condition c{op, name, nullptr};
      if (op == "between") {
        auto lo = parse_scalar(a, type, values, ph_), hi = parse_scalar(b, type, values, ph_);
        if (!lo || !hi) continue;
        c.value = {{"from", *lo}, {"to", *hi}};
      } else if (op == "in" || op == "not_in") {
        json list = json::array();
        bool ok = true;
        for (const auto& item : split_outside_quotes(a, ", ")) {
          auto v = parse_scalar(item, type, values, ph_);
          if (!v) {
            ok = false;
            break;
          }
          list.push_back(*v);
        }
        if (!ok) continue;
        c.value = list;
      } else if (op != "is_null" && op != "is_not_null") {
        auto v = parse_scalar(a, type, values, ph_);
        if (!v) continue;
        c.value = *v;
      }
      if (name.empty()) missing = word;
      Expr e;
      e.cond = std::move(c);
      return e;
    }
    return std::nullopt;
  }

  const Vocabulary& vocab_;
  const Phrases& ph_;
  std::vector<std::pair<std::string, std::string>> words_;
  std::vector<std::pair<std::string, std::unique_ptr<RE2>>> templates_;
};

}  // namespace

Vocabulary vocabulary_for(const SimDomain& domain, const std::string& lang,
                          const std::vector<std::string>& names) {
  Vocabulary v;
  v.entity = domain.entity(lang);
  for (const auto& f : domain.fields) {
    bool in_schema = names.empty() || std::find(names.begin(), names.end(), f.name) != names.end();
    if (in_schema) {
      v.fields.push_back({f.name, f.word(lang), f.type, f.values});
    } else {
      v.missing_words.push_back(f.word(lang));
    }
  }
  for (const auto& m : domain.missing) v.missing_words.push_back(lang == "fr" ? m.fr : m.en);
  return v;
}

std::string render(const Plan& plan, const Vocabulary& vocab, const Phrases& ph, size_t variant) {
  std::string entity;
  if (plan.select.empty()) {
    entity = replace_all(ph.entity, "{e}", vocab.entity);
  } else {
    std::string fields;
    for (const auto& s : plan.select) {
      const Vocabulary::Field* f = field_named(vocab, s);
      fields += (fields.empty() ? "" : ph.field_join) + (f ? f->word : s);
    }
    entity = replace_all(replace_all(ph.select, "{fields}", fields), "{e}", vocab.entity);
  }
  std::string text = replace_all(ph.request[variant % ph.request.size()], "{e}", entity);
  if (plan.filter) text += ph.where + expr_text(*plan.filter, vocab, ph, plan.missing);
  if (!plan.order_field.empty()) {
    const Vocabulary::Field* f = field_named(vocab, plan.order_field);
    std::string o = replace_all(ph.order, "{f}", f ? f->word : plan.order_field);
    text += replace_all(o, "{dir}", plan.order_direction == "desc" ? ph.desc : ph.asc);
  }
  if (plan.limit) text += replace_all(ph.limit, "{n}", std::to_string(*plan.limit));
  return text;
}

struct QueryParser::Impl {
  Impl(const Vocabulary& v, const Phrases& p, std::string lang) : vocab(v), ph(p), language(std::move(lang)) {
    parser = std::make_unique<Parser>(vocab, ph);
  }
  Vocabulary vocab;
  Phrases ph;
  std::string language;
  std::unique_ptr<Parser> parser;  // points into vocab and ph above
};

QueryParser::QueryParser(const Vocabulary& vocab, const Phrases& phrases, std::string language)
    : impl_(std::make_unique<Impl>(vocab, phrases, std::move(language))) {}

QueryParser::~QueryParser() = default;

std::optional<Plan> parse(const std::string& text, const Vocabulary& vocab, const Phrases& phrases,
                          const std::string& language) {
  return QueryParser(vocab, phrases, language).parse(text);
}

std::optional<Plan> QueryParser::parse(const std::string& text_in) const {
  const Vocabulary& vocab = impl_->vocab;
  const Phrases& ph = impl_->ph;
  Parser& parser = *impl_->parser;
  std::string text = text_in;
  Plan plan;
  plan.language = impl_->language;
  // The request verb.
  bool verb = false;
  for (const auto& r : ph.request) {
    std::string prefix = r.substr(0, r.find("{e}"));
    if (text.rfind(prefix, 0) == 0) {
      text = text.substr(prefix.size());
      verb = true;
      break;
    }
  }
  if (!verb) return std::nullopt;
  // Limit and ordering hang off the end.
  std::string limit_prefix = ph.limit.substr(0, ph.limit.find("{n}"));
  if (auto pos = text.rfind(limit_prefix); pos != std::string::npos) {
    std::string rest = text.substr(pos + limit_prefix.size());
    std::string tail = ph.limit.substr(ph.limit.find("{n}") + 3);
    if (!tail.empty() && rest.size() >= tail.size() &&
        rest.compare(rest.size() - tail.size(), tail.size(), tail) == 0) {
      rest = rest.substr(0, rest.size() - tail.size());
    }
    if (!rest.empty() && std::all_of(rest.begin(), rest.end(), ::isdigit)) {
      plan.limit = std::stoll(rest);
      text = text.substr(0, pos);
    }
  }
  std::string order_prefix = ph.order.substr(0, ph.order.find("{f}"));
  if (auto pos = text.rfind(order_prefix); pos != std::string::npos) {
    std::string rest = text.substr(pos + order_prefix.size());
    for (const auto& [dir, word] : {std::pair{"asc", ph.asc}, std::pair{"desc", ph.desc}}) {
      std::string suffix = " " + word;
      if (rest.size() > suffix.size() &&
          rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) == 0) {
        auto name = parser.field_by_word(rest.substr(0, rest.size() - suffix.size()));
        if (!name) return std::nullopt;
        if (name->empty()) plan.missing = rest.substr(0, rest.size() - suffix.size());
        plan.order_field = *name;
        plan.order_direction = dir;
        text = text.substr(0, pos);
        break;
      }
    }
  }
  // The filter.
  if (auto pos = text.find(ph.where); pos != std::string::npos) {
    auto filter = parser.expression(text.substr(pos + ph.where.size()), plan.missing);
    if (!filter) return std::nullopt;
    plan.filter = std::move(*filter);
    text = text.substr(0, pos);
  }
  // What remains names the entity, or selected fields of it.
  std::string entity = replace_all(ph.entity, "{e}", vocab.entity);
  if (text == entity) return plan;
  std::string select_prefix = ph.select.substr(0, ph.select.find("{fields}"));
  std::string select_suffix =
      replace_all(ph.select.substr(ph.select.find("{fields}") + 8), "{e}", vocab.entity);
  if (text.rfind(select_prefix, 0) != 0 || text.size() < select_prefix.size() + select_suffix.size() ||
      text.compare(text.size() - select_suffix.size(), select_suffix.size(), select_suffix) != 0) {
    return std::nullopt;
  }
  std::string fields =
      text.substr(select_prefix.size(), text.size() - select_prefix.size() - select_suffix.size());
  for (const auto& word : split_outside_quotes(fields, ph.field_join)) {
    auto name = parser.field_by_word(word);
    if (!name) return std::nullopt;
    if (name->empty()) {
      plan.missing = word;
    } else {
      plan.select.push_back(*name);
    }
  }
  return plan;
}

}  // namespace af::teachersim
