#include "student/constrained.h"

#include <algorithm>

namespace af::student {

RowConstraints::RowConstraints(bool enabled, constrain::KeyOrder order, const text::Tokenizer& tokenizer,
                               const std::vector<int32_t>& stop_tokens)
    : enabled_(enabled), order_(order) {
  if (enabled_) vocabulary_ = constrain::TokenVocabulary::of(tokenizer, stop_tokens);
}

void RowConstraints::start_batch(const std::vector<const nlohmann::json*>& schemas) {
  rows_.clear();
  if (!enabled_) return;
  for (const nlohmann::json* schema : schemas) {
    std::string key = schema->dump();
    auto it = grammars_.find(key);
    if (it == grammars_.end()) it = grammars_.emplace(key, constrain::SchemaGrammar::compile(*schema)).first;
    rows_.push_back(std::make_unique<constrain::SchemaConstraint>(vocabulary_, it->second, order_));
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

}  // namespace af::student
