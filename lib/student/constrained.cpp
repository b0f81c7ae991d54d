#include "student/constrained.h"

#include <algorithm>

#include "core/error.h"
#include "core/utf8.h"

namespace af::student {

RowConstraints::RowConstraints(bool enabled, constrain::KeyOrder order, const text::Tokenizer& tokenizer,
                               const std::vector<int32_t>& stop_tokens, int64_t max_tokens)
    : enabled_(enabled), max_tokens_(max_tokens), order_(order) {
  if (enabled_) vocabulary_ = constrain::TokenVocabulary::of(tokenizer, stop_tokens);
}

void RowConstraints::start_batch(const std::vector<const nlohmann::json*>& schemas) {
  rows_.clear();
  if (!enabled_) return;
  for (const nlohmann::json* schema : schemas) {
    std::string key = schema->dump();
    auto it = grammars_.find(key);
    if (it == grammars_.end()) it = grammars_.emplace(key, constrain::SchemaGrammar::compile(*schema)).first;
    rows_.push_back(
        std::make_unique<constrain::SchemaConstraint>(vocabulary_, it->second, order_, max_tokens_));
  }
}

std::vector<constrain::SchemaConstraint*> RowConstraints::pointers() const {
  std::vector<constrain::SchemaConstraint*> out;
  for (const auto& r : rows_) out.push_back(r.get());
  return out;
}

nlohmann::json RowConstraints::record_fields(size_t row) const {
  if (!enabled_) return nlohmann::json::object();
  const constrain::SchemaConstraint& c = *rows_.at(row);
  std::vector<double> ms = c.mask_seconds();
  for (double& m : ms) m *= 1000.0;
  double median = 0;
  if (!ms.empty()) {
    std::nth_element(ms.begin(), ms.begin() + static_cast<long>(ms.size() / 2), ms.end());
    median = ms[ms.size() / 2];
  }
  return {{"constrained", true}, {"constraint_unenforced", c.unenforced()}, {"mask_ms_median", median}};
}

void require_document_fits(const nlohmann::json& schema, int64_t max_tokens, const std::string& where) {
  constrain::JsonMatcher fresh(constrain::SchemaGrammar::compile(schema), constrain::KeyOrder::Sorted);
  std::optional<std::string> shortest = fresh.shortest_completion();
  if (!shortest || static_cast<int64_t>(shortest->size()) <= max_tokens) return;
  throw usage_error(where + ": the shortest document its schema allows takes " +
                        std::to_string(shortest->size()) + " tokens (" + utf8_shorten(*shortest, 80) +
                        "), more than evaluation.max_new_tokens (" + std::to_string(max_tokens) +
                        "): a constrained answer could never close",
                    "raise evaluation.max_new_tokens to at least " + std::to_string(shortest->size()));
}

}  // namespace af::student
