// teacher-sim's lexicons (data/teacher_sim/): the fields of each domain with their English and French words,
// fields it never invents, and the phrase templates of its controlled English and French.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace af::teachersim {

/// A field teacher-sim knows: its spec, its words, and what values it draws for it.
struct SimField {
  std::string name, type, en, fr, description, unit;
  std::vector<std::string> values;   // enum
  std::vector<std::string> samples;  // string
  double low = 0, high = 100;        // number/integer
  std::string word(const std::string& lang) const { return lang == "fr" ? fr : en; }
};

/// A field word that no schema has: requests about it are refusals.
struct MissingField {
  std::string name, en, fr;
};

struct SimDomain {
  std::string id, entity_en, entity_en_plural, entity_fr_plural;
  std::vector<SimField> fields;
  std::vector<MissingField> missing;
  std::string entity(const std::string& lang) const {
    return lang == "fr" ? entity_fr_plural : entity_en_plural;
  }
};

/// The templates of one language.
struct Phrases {
  std::vector<std::string> request;
  std::string entity, select, field_join, where, and_, or_, not_, order, asc, desc, limit, true_, false_;
  std::map<std::string, std::string> ops;  // canonical operator -> template
};

struct Lexicon {
  std::map<std::string, SimDomain> domains;
  std::map<std::string, Phrases> languages;  // "en", "fr"
  /// Reads domains.json and phrases.json from `dir`; a malformed file is a usage error naming it.
  static Lexicon load(const std::string& dir);
  /// The domain whose fields include every name in `field_names` (how the sim recognises a schema).
  const SimDomain* domain_for_fields(const std::vector<std::string>& field_names) const;
};

}  // namespace af::teachersim
