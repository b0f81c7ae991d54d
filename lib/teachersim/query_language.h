// teacher-sim's query language: a plan of a request (select, filter tree, ordering, limit), written out in
// controlled English or French from the phrase templates, and parsed back from such text.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "teachersim/lexicon.h"

namespace af::teachersim {

/// One condition with a catalog operator name; the value is null (null checks), a scalar, a list (in, not_in)
/// or {"from", "to"} (between). An empty field means a field the schema does not have (see Plan::missing).
struct Condition {
  std::string op;
  std::string field;
  nlohmann::json value;
};

/// A filter: a condition, or and/or over expressions, or not over one.
struct Expr {
  enum class Kind { Cond, And, Or, Not } kind = Kind::Cond;
  Condition cond;
  std::vector<Expr> args;
};

/// Everything a request says.
struct Plan {
  std::string language;  // "en" or "fr"
  std::vector<std::string> select;
  std::optional<Expr> filter;
  std::string order_field, order_direction;  // "asc" or "desc"
  std::optional<int64_t> limit;
  std::string missing;  // the words of a field that no schema field matches (the request is then a refusal)
};

/// The words a request may use for one schema: its fields (with types and values) and fields it lacks.
struct Vocabulary {
  struct Field {
    std::string name, word, type;
    std::vector<std::string> values;
  };
  std::vector<Field> fields;
  std::vector<std::string> missing_words;
  std::string entity;  // plural, without article
};

/// The vocabulary of `domain` in `lang`, limited to `field_names` when given (a schema's fields); the
/// domain's other fields and its missing fields become missing words.
Vocabulary vocabulary_for(const SimDomain& domain, const std::string& lang,
                          const std::vector<std::string>& field_names = {});

/// Writes `plan` as text. `variant` picks the request verb.
std::string render(const Plan& plan, const Vocabulary& vocab, const Phrases& phrases, size_t variant);

/// A reader of one language over one vocabulary, with its patterns compiled once.
class QueryParser {
 public:
  QueryParser(const Vocabulary& vocab, const Phrases& phrases, std::string language);
  ~QueryParser();
  QueryParser(const QueryParser&) = delete;
  QueryParser& operator=(const QueryParser&) = delete;
  /// Reads text written in this language back into a plan; nullopt when the text does not follow the
  /// language.
  std::optional<Plan> parse(const std::string& text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// QueryParser(vocab, phrases, language).parse(text), for one-off reads.
std::optional<Plan> parse(const std::string& text, const Vocabulary& vocab, const Phrases& phrases,
                          const std::string& language);

}  // namespace af::teachersim
