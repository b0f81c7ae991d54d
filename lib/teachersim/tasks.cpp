#include "teachersim/tasks.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <random>
#include <set>

#include "core/canonical_json.h"
#include "core/hash.h"
#include "core/utf8.h"
#include "jsonschema/schema.h"
#include "teachersim/query_language.h"

namespace af::teachersim {
namespace {

using json = nlohmann::json;
using Rng = std::mt19937_64;

uint64_t mix(uint64_t seed, const std::string& text, uint64_t index) {
  return fnv1a64(text, kFnvOffset ^ seed) ^ (index * 0x9E3779B97F4A7C15ull);
}

size_t pick(Rng& rng, size_t n) {
  return std::uniform_int_distribution<size_t>(0, n - 1)(rng);
}
double unit(Rng& rng) {
  return std::uniform_real_distribution<double>(0, 1)(rng);
}

const SimField* sim_field(const SimDomain& d, const std::string& name) {
  for (const auto& f : d.fields)
    if (f.name == name) return &f;
  return nullptr;
}

bool op_applies(const dataset::OperatorSpec& op, const std::string& type) {
  return std::find(op.applies_to.begin(), op.applies_to.end(), type) != op.applies_to.end();
}

json random_scalar(const SimField& f, Rng& rng) {
  if (f.type == "enum") return f.values[pick(rng, f.values.size())];
  if (f.type == "boolean") return unit(rng) < 0.5;
  if (f.type == "date") {
    int year = 2023 + static_cast<int>(pick(rng, 2)), month = 1 + static_cast<int>(pick(rng, 12));
    int day = 1 + static_cast<int>(pick(rng, 28));
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
    return std::string(buf);
  }
  if (f.type == "integer") {
    return static_cast<int64_t>(std::llround(f.low + unit(rng) * (f.high - f.low)));
  }
  if (f.type == "number") {
    double v = f.low + unit(rng) * (f.high - f.low);
    // Round numbers, the way people write them: whole above 10, halves below.
    if (f.high - f.low > 20) return static_cast<int64_t>(std::llround(v));
    return std::round(v * 2) / 2;
  }
  return f.samples.empty() ? json("x") : json(f.samples[pick(rng, f.samples.size())]);
}

json random_value(const std::string& op, const SimField& f, Rng& rng) {
  if (op == "is_null" || op == "is_not_null") return nullptr;
  if (op == "in" || op == "not_in") {
    json list = json::array();
    size_t want = 2 + pick(rng, 2);
    for (int tries = 0; list.size() < want && tries < 20; ++tries) {
      json v = random_scalar(f, rng);
      if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
    }
    return list;
  }
  if (op == "between") {
    json a = random_scalar(f, rng), b = random_scalar(f, rng);
    for (int tries = 0; a == b && tries < 20; ++tries) b = random_scalar(f, rng);
    if (b < a) std::swap(a, b);
    return {{"from", a}, {"to", b}};
  }
  if (op == "starts_with" || op == "ends_with" || op == "contains") {
    std::string s = f.samples.empty() ? "x" : f.samples[pick(rng, f.samples.size())];
    s = std::string(op == "ends_with" ? af::utf8_last_chars(s, 3) : af::utf8_first_chars(s, 3));
    return s;
  }
  return random_scalar(f, rng);
}

// Operators available per field, for a schema (from its view) or for a whole domain (catalog, no schema yet).
using Offer = std::map<std::string, std::vector<std::string>>;  // catalog op -> fields

Offer offer_for_domain(const SimDomain& d, const std::vector<dataset::OperatorSpec>& catalog) {
  Offer offer;
  for (const auto& op : catalog) {
    if (op.kind == "logical") continue;
    for (const auto& f : d.fields)
      if (op_applies(op, f.type)) offer[op.name].push_back(f.name);
  }
  return offer;
}

Plan random_plan(const SimDomain& d, const Offer& offer, Rng& rng, const std::string& lang, bool refusal,
                 const std::vector<std::string>& schema_fields) {
  Plan plan;
  plan.language = lang;
  std::vector<std::string> ops;
  for (const auto& [op, fields] : offer)
    if (!fields.empty()) ops.push_back(op);
  auto condition = [&]() {
    const std::string op = ops[pick(rng, ops.size())];
    const auto& fields = offer.at(op);
    const SimField* f = sim_field(d, fields[pick(rng, fields.size())]);
    Expr e;
    e.cond = {op, f->name, random_value(op, *f, rng)};
    return e;
  };
  size_t n = unit(rng) < 0.5 ? 1 : (unit(rng) < 0.7 ? 2 : 3);
  double shape = unit(rng);
  bool with_filter = ops.size() > 0 && unit(rng) < 0.9;
  if (with_filter) {
    if (n == 1) {
      Expr c = condition();
      if (shape < 0.1) {
        Expr neg;
        neg.kind = Expr::Kind::Not;
        neg.args.push_back(std::move(c));
        plan.filter = std::move(neg);
      } else {
        plan.filter = std::move(c);
      }
    } else {
      Expr combo;
      combo.kind = shape < 0.3 ? Expr::Kind::Or : Expr::Kind::And;
      for (size_t i = 0; i < n; ++i) {
        Expr c = condition();
        if (combo.kind == Expr::Kind::And && i == n - 1 && shape > 0.85) {
          Expr neg;
          neg.kind = Expr::Kind::Not;
          neg.args.push_back(std::move(c));
          combo.args.push_back(std::move(neg));
        } else {
          combo.args.push_back(std::move(c));
        }
      }
      plan.filter = std::move(combo);
    }
  }
  const auto& fields = schema_fields;
  if (unit(rng) < 0.35) {
    size_t k = 1 + pick(rng, 2);
    for (size_t i = 0; i < k; ++i) {
      const std::string& name = fields[pick(rng, fields.size())];
      if (std::find(plan.select.begin(), plan.select.end(), name) == plan.select.end())
        plan.select.push_back(name);
    }
  }
  std::vector<std::string> sortable;
  for (const auto& name : fields) {
    const SimField* f = sim_field(d, name);
    if (f && (f->type == "number" || f->type == "integer" || f->type == "date")) sortable.push_back(name);
  }
  if (!sortable.empty() && (unit(rng) < 0.3 || (!plan.filter && plan.select.empty()))) {
    plan.order_field = sortable[pick(rng, sortable.size())];
    plan.order_direction = unit(rng) < 0.5 ? "asc" : "desc";
  }
  if (unit(rng) < 0.25) {
    static const int64_t kLimits[] = {3, 5, 10, 20, 50};
    plan.limit = kLimits[pick(rng, 5)];
  }
  if (!plan.filter && plan.select.empty() && plan.order_field.empty() && !plan.limit) plan.limit = 10;
  if (refusal) {
    // A request about a field the schema lacks: one more condition on it.
    std::vector<std::string> lacking;
    for (const auto& f : d.fields)
      if (std::find(fields.begin(), fields.end(), f.name) == fields.end()) lacking.push_back(f.word(lang));
    for (const auto& m : d.missing) lacking.push_back(lang == "fr" ? m.fr : m.en);
    std::string word = lacking[pick(rng, lacking.size())];
    Expr c;
    c.cond = {
        "eq", "",
        std::string(1, static_cast<char>('A' + pick(rng, 26))) + "-" + std::to_string(pick(rng, 90) + 10)};
    plan.missing = word;
    if (plan.filter && plan.filter->kind == Expr::Kind::And) {
      plan.filter->args.push_back(std::move(c));
    } else if (plan.filter) {
      Expr both;
      both.kind = Expr::Kind::And;
      both.args.push_back(std::move(*plan.filter));
      both.args.push_back(std::move(c));
      plan.filter = std::move(both);
    } else {
      plan.filter = std::move(c);
    }
  }
  return plan;
}

// ---- plan -> AST

struct Builder {
  const SchemaView& view;
  const std::vector<dataset::OperatorSpec>& catalog;
  std::string failed;  // why the plan cannot be expressed

  std::optional<json> cond(const Condition& c, int depth) {
    if (view.allows(c.op, c.field)) {
      json node = {{"op", view.alias.at(c.op)}, {"field", c.field}};
      if (!c.value.is_null()) node["value"] = c.value;
      return node;
    }
    if (depth < 2) {
      auto negate = [&](const std::string& op, const json& value) -> std::optional<json> {
        auto inner = cond({op, c.field, value}, depth + 1);
        if (!inner || !view.alias.count("not")) return std::nullopt;
        return json{{"op", view.alias.at("not")}, {"arg", *inner}};
      };
      static const std::map<std::string, std::string> kNegation = {{"ne", "eq"},
                                                                   {"not_in", "in"},
                                                                   {"gt", "lte"},
                                                                   {"gte", "lt"},
                                                                   {"lt", "gte"},
                                                                   {"lte", "gt"},
                                                                   {"is_null", "is_not_null"},
                                                                   {"is_not_null", "is_null"}};
      if (auto it = kNegation.find(c.op); it != kNegation.end()) {
        if (auto n = negate(it->second, c.value)) return n;
      }
      if (c.op == "between" && view.alias.count("and")) {
        auto lo = cond({"gte", c.field, c.value["from"]}, depth + 1);
        auto hi = cond({"lte", c.field, c.value["to"]}, depth + 1);
        if (lo && hi) return json{{"op", view.alias.at("and")}, {"args", {*lo, *hi}}};
      }
      if (c.op == "in" && view.alias.count("or")) {
        json args = json::array();
        for (const auto& v : c.value) {
          auto e = cond({"eq", c.field, v}, depth + 1);
          if (!e) break;
          args.push_back(*e);
        }
        if (args.size() == c.value.size() && args.size() >= 2)
          return json{{"op", view.alias.at("or")}, {"args", args}};
      }
      if (c.op == "eq" && view.allows("in", c.field)) {
        return json{{"op", view.alias.at("in")}, {"field", c.field}, {"value", json::array({c.value})}};
      }
    }
    if (failed.empty()) {
      std::string meaning = c.op;
      for (const auto& op : catalog)
        if (op.name == c.op) meaning = op.meaning;
      failed = "no operator means \"" + meaning + "\" for the field " + c.field;
    }
    return std::nullopt;
  }

  std::optional<json> expr(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Cond:
        return cond(e.cond, 0);
      case Expr::Kind::Not: {
        auto inner = expr(e.args.at(0));
        if (!inner) return std::nullopt;
        return json{{"op", view.alias.at("not")}, {"arg", *inner}};
      }
      case Expr::Kind::And:
      case Expr::Kind::Or: {
        json args = json::array();
        for (const auto& a : e.args) {
          auto sub = expr(a);
          if (!sub) return std::nullopt;
          args.push_back(*sub);
        }
        return json{{"op", view.alias.at(e.kind == Expr::Kind::And ? "and" : "or")}, {"args", args}};
      }
    }
    return std::nullopt;
  }
};

json refusal(const std::string& reason, const SchemaView& view) {
  std::string fields;
  for (size_t i = 0; i < view.fields.size() && i < 4; ++i) fields += (i ? ", " : "") + view.fields[i];
  return {{"refusal",
           {{"reason", reason}, {"suggestion", "ask about the fields this schema has, such as " + fields}}}};
}

json plan_to_ast(const Plan& plan, const SchemaView& view,
                 const std::vector<dataset::OperatorSpec>& catalog) {
  if (!plan.missing.empty()) return refusal("the schema has no field for \"" + plan.missing + "\"", view);
  json query = json::object();
  if (!plan.select.empty()) query["select"] = plan.select;
  if (plan.filter) {
    Builder b{view, catalog, {}};
    auto filter = b.expr(*plan.filter);
    if (!filter) return refusal(b.failed, view);
    query["filter"] = *filter;
  }
  if (!plan.order_field.empty()) {
    query["order_by"] = json::array({{{"field", plan.order_field}, {"direction", plan.order_direction}}});
  }
  if (plan.limit) query["limit"] = *plan.limit;
  return {{"query", query}};
}

const json& require(const json& input, const char* key) {
  if (!input.is_object() || !input.contains(key))
    throw TaskError(std::string("the input has no \"") + key + "\"");
  return input[key];
}

}  // namespace

bool SchemaView::allows(const std::string& op, const std::string& field) const {
  auto it = op_fields.find(op);
  return it != op_fields.end() && std::find(it->second.begin(), it->second.end(), field) != it->second.end();
}

SchemaView read_schema(const json& schema, const std::vector<dataset::OperatorSpec>& catalog) {
  SchemaView view;
  std::map<std::string, std::string> canonical;
  for (const auto& op : catalog)
    for (const auto& s : op.synonyms) canonical[s] = op.name;
  try {
    const json& defs = schema.at("$defs");
    view.fields = defs.at("field").at("enum").get<std::vector<std::string>>();
    for (const auto& branch : defs.at("condition").at("allOf").at(0).at("oneOf")) {
      std::string alias = branch.at("properties").at("op").at("const");
      std::string name = canonical.count(alias) ? canonical[alias] : alias;
      view.alias[name] = alias;
      view.op_fields[name] = branch.at("properties").at("field").at("enum").get<std::vector<std::string>>();
    }
    for (const auto& node : defs.at("logical").at("oneOf")) {
      std::string alias = node.at("properties").at("op").at("const");
      view.alias[canonical.count(alias) ? canonical[alias] : alias] = alias;
    }
  } catch (const json::exception& e) {
    throw TaskError(std::string("not a schema built by ds-build schemas: ") + e.what());
  }
  return view;
}

struct Sim::ParserCache {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const QueryParser>> parsers;
};

Sim::Sim(Lexicon lexicon, std::vector<dataset::OperatorSpec> catalog, uint64_t seed)
    : lexicon_(std::move(lexicon)),
      catalog_(std::move(catalog)),
      seed_(seed),
      parsers_(std::make_shared<ParserCache>()) {}

json Sim::answer(const std::string& task, const json& input) const {
  if (task == "domain_spec") return domain_spec(input);
  if (task == "queries") return queries(input);
  if (task == "ast" || task == "ast_repair") return ast(input);  // its own answers need no correcting
  if (task == "judge") return judge(input);
  throw TaskError("unknown task \"" + task + "\"");
}

json Sim::domain_spec(const json& input) const {
  const std::string id = require(input, "domain_id").get<std::string>();
  auto it = lexicon_.domains.find(id);
  if (it == lexicon_.domains.end())
    throw TaskError("teacher-sim has no lexicon for the domain \"" + id + "\"");
  const SimDomain& d = it->second;
  json fields = json::array();
  std::vector<std::string> names;
  for (const auto& f : d.fields) {
    json jf = {{"name", f.name}, {"type", f.type}, {"description", f.description}};
    if (!f.values.empty()) jf["values"] = f.values;
    if (!f.unit.empty()) jf["unit"] = f.unit;
    fields.push_back(jf);
    names.push_back(f.name);
  }
  const int64_t count = input.value("examples_per_schema", 10);
  const double french = input.value("french_ratio", 0.3);
  json examples = json::array();
  Offer offer = offer_for_domain(d, catalog_);
  for (int64_t i = 0; i < count; ++i) {
    Rng rng(mix(seed_, id + "/examples", static_cast<uint64_t>(i)));
    std::string lang = unit(rng) < french ? "fr" : "en";
    Plan plan = random_plan(d, offer, rng, lang, false, names);
    examples.push_back(
        {{"language", lang},
         {"text", render(plan, vocabulary_for(d, lang), lexicon_.languages.at(lang), pick(rng, 4))}});
  }
  return {{"domain_id", id},
          {"domain", input.value("domain", id)},
          {"entity", d.entity_en},
          {"fields", fields},
          {"example_queries", examples}};
}

json Sim::queries(const json& input) const {
  const json& schema = require(input, "schema");
  SchemaView view = read_schema(schema, catalog_);
  const SimDomain* d = lexicon_.domain_for_fields(view.fields);
  if (!d) throw TaskError("teacher-sim does not know the fields of this schema");
  const std::string schema_id = input.value("schema_id", "");
  const int64_t count = input.value("count", 10), first = input.value("first_index", 0);
  const double french = input.value("french_ratio", 0.3), refusals = input.value("refusal_ratio", 0.1);
  Offer offer;
  for (const auto& [op, fields] : view.op_fields) offer[op] = fields;
  json out = json::array();
  for (int64_t i = first; i < first + count; ++i) {
    Rng rng(mix(seed_, schema_id + "/queries", static_cast<uint64_t>(i)));
    std::string lang = unit(rng) < french ? "fr" : "en";
    bool refusal = unit(rng) < refusals;
    Plan plan = random_plan(*d, offer, rng, lang, refusal, view.fields);
    Vocabulary vocab = vocabulary_for(*d, lang, view.fields);
    out.push_back(
        {{"language", lang}, {"text", render(plan, vocab, lexicon_.languages.at(lang), pick(rng, 4))}});
  }
  return {{"queries", out}};
}

json Sim::ast(const json& input) const {
  const json& schema = require(input, "schema");
  const std::string query = require(input, "query").get<std::string>();
  SchemaView view = read_schema(schema, catalog_);
  const SimDomain* d = lexicon_.domain_for_fields(view.fields);
  if (!d) throw TaskError("teacher-sim does not know the fields of this schema");
  for (const char* lang : {"en", "fr"}) {
    std::string key = std::string(lang) + "|" + d->id;
    for (const auto& f : view.fields) key += "|" + f;
    std::shared_ptr<const QueryParser> parser;
    {
      std::lock_guard<std::mutex> lock(parsers_->mutex);
      auto& slot = parsers_->parsers[key];
      if (!slot)
        slot = std::make_shared<QueryParser>(vocabulary_for(*d, lang, view.fields),
                                             lexicon_.languages.at(lang), lang);
      parser = slot;
    }
    auto plan = parser->parse(query);
    if (!plan) continue;
    json ast = plan_to_ast(*plan, view, catalog_);
    // Its own answers are checked like anyone's: a bug here must not become training data.
    static thread_local std::map<std::string, jsonschema::Schema> compiled;
    std::string schema_key = canonical_json(schema);
    auto it = compiled.find(schema_key);
    if (it == compiled.end()) it = compiled.emplace(schema_key, jsonschema::Schema::compile(schema)).first;
    auto errors = it->second.validate(ast);
    if (!errors.empty()) throw TaskError("teacher-sim built an invalid AST: " + errors.front().message);
    return ast;
  }
  return refusal("the request could not be understood", view);
}

json Sim::judge(const json& input) const {
  const json& candidate = require(input, "candidate");
  json own = ast(input);
  SchemaView view = read_schema(require(input, "schema"), catalog_);
  const std::string and_alias = view.alias.count("and") ? view.alias.at("and") : "and";
  const std::string or_alias = view.alias.count("or") ? view.alias.at("or") : "or";
  json a = normalized_ast(own, and_alias, or_alias), b = normalized_ast(candidate, and_alias, or_alias);
  if (a == b) return {{"verdict", "accept"}, {"reason", "the AST says what the request asks"}, {"ast", own}};
  std::string reason;
  if (own.contains("refusal") != candidate.contains("refusal")) {
    reason = own.contains("refusal") ? "the request cannot be expressed, so a refusal was expected"
                                     : "the request can be expressed; a refusal is wrong";
  } else if (own.contains("refusal")) {
    return {{"verdict", "accept"}, {"reason", "a refusal, as expected"}, {"ast", own}};
  } else {
    const json& q1 = a.at("query");
    const json& q2 = b.contains("query") && b["query"].is_object() ? b["query"] : json::object();
    for (const char* part : {"filter", "select", "order_by", "limit"}) {
      if (q1.value(part, json()) != q2.value(part, json())) {
        reason = std::string("the ") + part + " differs from what the request asks";
        break;
      }
    }
    if (reason.empty()) reason = "the AST has parts the request does not ask for";
  }
  return {{"verdict", "reject"}, {"reason", reason}, {"ast", own}};
}

json normalized_ast(const json& ast, const std::string& and_alias, const std::string& or_alias) {
  if (ast.is_array()) {
    json out = json::array();
    for (const auto& v : ast) out.push_back(normalized_ast(v, and_alias, or_alias));
    return out;
  }
  if (!ast.is_object()) return ast;
  json out = json::object();
  for (auto& [k, v] : ast.items()) out[k] = normalized_ast(v, and_alias, or_alias);
  if (out.contains("op") && (out["op"] == and_alias || out["op"] == or_alias) && out.contains("args") &&
      out["args"].is_array()) {
    std::vector<std::string> texts;
    for (const auto& a : out["args"]) texts.push_back(canonical_json(a));
    std::sort(texts.begin(), texts.end());
    json args = json::array();
    for (const auto& t : texts) args.push_back(json::parse(t));
    out["args"] = args;
  }
  return out;
}

}  // namespace af::teachersim
