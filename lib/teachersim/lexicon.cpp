#include "teachersim/lexicon.h"

#include <algorithm>

#include "core/canonical_json.h"
#include "core/error.h"
#include "core/files.h"

namespace af::teachersim {
namespace {

using json = nlohmann::json;

json load_json(const std::string& path) {
  try {
    return parse_json_strict(read_file(path));
  } catch (const Error& e) {
    throw usage_error(path + ": " + e.what(),
                      "teacher_sim.lexicon_dir must hold domains.json and phrases.json");
  }
}

}  // namespace

Lexicon Lexicon::load(const std::string& dir) {
  Lexicon lex;
  const std::string domains_path = dir + "/domains.json", phrases_path = dir + "/phrases.json";
  json domains = load_json(domains_path), phrases = load_json(phrases_path);
  try {
    for (auto& [id, d] : domains.at("domains").items()) {
      SimDomain dom;
      dom.id = id;
      dom.entity_en = d.at("entity_en");
      dom.entity_en_plural = d.at("entity_en_plural");
      dom.entity_fr_plural = d.at("entity_fr_plural");
      for (const auto& f : d.at("fields")) {
        SimField sf;
        sf.name = f.at("name");
        sf.type = f.at("type");
        sf.en = f.at("en");
        sf.fr = f.at("fr");
        sf.description = f.at("description");
        sf.unit = f.value("unit", "");
        if (f.contains("values")) sf.values = f["values"].get<std::vector<std::string>>();
        if (f.contains("samples")) sf.samples = f["samples"].get<std::vector<std::string>>();
        if (f.contains("range")) {
          sf.low = f["range"][0];
          sf.high = f["range"][1];
        }
        dom.fields.push_back(std::move(sf));
      }
      for (const auto& m : d.at("missing_fields"))
        dom.missing.push_back({m.at("name"), m.at("en"), m.at("fr")});
      lex.domains.emplace(id, std::move(dom));
    }
  } catch (const json::exception& e) {
    throw usage_error(domains_path + ": " + e.what());
  }
  try {
    for (const char* lang : {"en", "fr"}) {
      const json& p = phrases.at(lang);
      Phrases ph;
      ph.request = p.at("request").get<std::vector<std::string>>();
      ph.entity = p.at("entity");
      ph.select = p.at("select");
      ph.field_join = p.at("field_join");
      ph.where = p.at("where");
      ph.and_ = p.at("and");
      ph.or_ = p.at("or");
      ph.not_ = p.at("not");
      ph.order = p.at("order");
      ph.asc = p.at("asc");
      ph.desc = p.at("desc");
      ph.limit = p.at("limit");
      ph.true_ = p.at("true");
      ph.false_ = p.at("false");
      ph.ops = p.at("ops").get<std::map<std::string, std::string>>();
      lex.languages.emplace(lang, std::move(ph));
    }
  } catch (const json::exception& e) {
    throw usage_error(phrases_path + ": " + e.what());
  }
  return lex;
}

const SimDomain* Lexicon::domain_for_fields(const std::vector<std::string>& names) const {
  for (const auto& [id, d] : domains) {
    bool all = std::all_of(names.begin(), names.end(), [&](const std::string& n) {
      return std::any_of(d.fields.begin(), d.fields.end(), [&](const SimField& f) { return f.name == n; });
    });
    if (all && !names.empty()) return &d;
  }
  return nullptr;
}

}  // namespace af::teachersim
