// teacher-sim's tasks: specs for every domain, requests it writes and reads back into schema-valid ASTs,
// refusals for what a schema lacks, and verdicts.
#include <doctest/doctest.h>

#include <fstream>
#include <random>

#include "core/files.h"
#include "dataset/schema_builder.h"
#include "jsonschema/schema.h"
#include "teachersim/query_language.h"
#include "teachersim/tasks.h"

using namespace af::teachersim;
using json = nlohmann::json;

namespace {
const std::string kRoot = ASTFORGE_SOURCE_DIR;
const Lexicon& lexicon() {
  static const Lexicon lex = Lexicon::load(kRoot + "/data/teacher_sim");
  return lex;
}
const std::vector<af::dataset::OperatorSpec>& catalog() {
  static const auto c = af::dataset::load_operator_catalog(kRoot + "/data/operator_catalog.json");
  return c;
}
json base_template() {
  return json::parse(af::read_file(kRoot + "/data/base_schema_template.json"));
}
}  // namespace

TEST_CASE("every domain prompt has a lexicon, and its spec is a valid domain spec") {
  Sim sim(lexicon(), catalog(), 5);
  std::ifstream prompts(kRoot + "/data/domain_prompts.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(prompts, line)) {
    json prompt = json::parse(line);
    json spec = sim.domain_spec(
        {{"domain_id", prompt["domain_id"]}, {"domain", prompt["domain"]}, {"examples_per_schema", 12}});
    auto parsed = af::dataset::parse_domain_spec(spec, prompt["domain_id"]);
    CHECK(parsed.fields.size() >= 6);
    CHECK(spec["example_queries"].size() == 12);
    ++n;
  }
  CHECK(n >= 12);
  CHECK_THROWS_AS(sim.domain_spec({{"domain_id", "unknown_domain"}}), TaskError);
}

TEST_CASE("requests it writes for a schema come back as schema-valid ASTs, refusals included") {
  Sim sim(lexicon(), catalog(), 9);
  int total = 0, refusals = 0, french = 0;
  for (const auto& [id, domain] : lexicon().domains) {
    json spec = sim.domain_spec({{"domain_id", id}, {"examples_per_schema", 0}});
    auto parsed = af::dataset::parse_domain_spec(spec, id);
    auto built = af::dataset::build_schema(parsed, base_template(), catalog(), {4, 7}, 9);
    auto schema = af::jsonschema::Schema::compile(built.schema);
    json qs = sim.queries({{"schema_id", id},
                           {"schema", built.schema},
                           {"count", 60},
                           {"french_ratio", 0.3},
                           {"refusal_ratio", 0.15}});
    for (const auto& q : qs["queries"]) {
      CAPTURE(q.dump());
      json ast = sim.ast({{"schema", built.schema}, {"query", q["text"]}});
      CHECK(schema.validate(ast).empty());
      if (ast.contains("refusal")) {
        ++refusals;
        CHECK(ast["refusal"]["reason"].get<std::string>() != "the request could not be understood");
      }
      french += q["language"] == "fr";
      ++total;
      json verdict = sim.judge({{"schema", built.schema}, {"query", q["text"]}, {"candidate", ast}});
      CHECK(verdict["verdict"] == "accept");
    }
  }
  CHECK(total == 60 * static_cast<int>(lexicon().domains.size()));
  CHECK(refusals > total * 0.10);
  CHECK(refusals < total * 0.25);
  CHECK(french > total * 0.2);
  CHECK(french < total * 0.4);
}

TEST_CASE("the same seed writes the same requests, another seed others") {
  json spec =
      Sim(lexicon(), catalog(), 1).domain_spec({{"domain_id", "flights"}, {"examples_per_schema", 0}});
  auto built = af::dataset::build_schema(af::dataset::parse_domain_spec(spec, "f"), base_template(),
                                         catalog(), {4, 7}, 1);
  json input = {{"schema_id", "flights"}, {"schema", built.schema}, {"count", 20}};
  CHECK(Sim(lexicon(), catalog(), 1).queries(input) == Sim(lexicon(), catalog(), 1).queries(input));
  CHECK(Sim(lexicon(), catalog(), 1).queries(input) != Sim(lexicon(), catalog(), 2).queries(input));
}

TEST_CASE("a written plan parses back to the same plan, in English and French") {
  const SimDomain& d = lexicon().domains.at("retail_orders");
  Plan plan;
  plan.select = {"customer_name", "total"};
  Expr a, b, c, both;
  a.cond = {"eq", "status", "shipped"};
  b.cond = {"between", "total", {{"from", 20}, {"to", 99.5}}};
  c.cond = {"contains", "customer_name", "and or"};
  Expr neg;
  neg.kind = Expr::Kind::Not;
  neg.args = {c};
  both.kind = Expr::Kind::And;
  both.args = {a, b, neg};
  plan.filter = both;
  plan.order_field = "order_date";
  plan.order_direction = "desc";
  plan.limit = 5;
  for (const char* lang : {"en", "fr"}) {
    plan.language = lang;
    Vocabulary v = vocabulary_for(d, lang);
    std::string text = render(plan, v, lexicon().languages.at(lang), 0);
    if (std::string(lang) == "en") {
      CHECK(
          text ==
          "show the customer name and total of orders where status is shipped and total from 20 to 99.5 and "
          "not customer name containing \"and or\", sorted by order date descending, only the first 5");
    } else {
      CHECK(text ==
            "affiche le champ nom du client et le champ montant des commandes dont statut vaut shipped et "
            "montant de 20 à 99.5 et non nom du client contenant \"and or\", triés par date de commande "
            "décroissant, seulement les 5 premiers");
    }
    auto back = parse(text, v, lexicon().languages.at(lang), lang);
    REQUIRE(back.has_value());
    CHECK(render(*back, v, lexicon().languages.at(lang), 0) == text);
    CHECK(back->select == plan.select);
    CHECK(back->limit == plan.limit);
  }
}

TEST_CASE("a request a schema lacks the operator for is rewritten with the ones it has, or refused") {
  Sim sim(lexicon(), catalog(), 3);
  json spec = sim.domain_spec({{"domain_id", "retail_orders"}, {"examples_per_schema", 0}});
  auto parsed = af::dataset::parse_domain_spec(spec, "r");
  // Find a schema without "between" but with gte and lte, and one without any text operator.
  bool rewritten = false, refused = false;
  for (uint64_t seed = 0; seed < 200 && !rewritten; ++seed) {
    auto built = af::dataset::build_schema(parsed, base_template(), catalog(), {4, 7}, seed);
    if (built.operators.count("between") || !built.operators.count("gte") || !built.operators.count("lte"))
      continue;
    json ast = sim.ast({{"schema", built.schema}, {"query", "show orders where total from 10 to 20"}});
    CHECK(ast == json{{"query",
                       {{"filter",
                         {{"op", built.operators["and"]},
                          {"args",
                           {{{"op", built.operators["gte"]}, {"field", "total"}, {"value", 10}},
                            {{"op", built.operators["lte"]}, {"field", "total"}, {"value", 20}}}}}}}}});
    rewritten = true;
  }
  for (uint64_t seed = 0; seed < 200 && !refused; ++seed) {
    auto built = af::dataset::build_schema(parsed, base_template(), catalog(), {4, 7}, seed);
    if (built.operators.count("contains")) continue;
    json ast =
        sim.ast({{"schema", built.schema}, {"query", "show orders where customer name containing \"ma\""}});
    REQUIRE(ast.contains("refusal"));
    CHECK(
        ast["refusal"]["reason"] ==
        "no operator means \"the text field contains the value as a substring\" for the field customer_name");
    break;
  }
  json verdict =
      sim.judge({{"schema", af::dataset::build_schema(parsed, base_template(), catalog(), {4, 7}, 0).schema},
                 {"query", "show orders where courier is \"DHL\""},
                 {"candidate", {{"query", {{"limit", 3}}}}}});
  CHECK(verdict["verdict"] == "reject");
  CHECK(verdict["reason"] == "the request cannot be expressed, so a refusal was expected");
  CHECK(verdict["ast"]["refusal"]["reason"] == "the schema has no field for \"courier\"");
}
