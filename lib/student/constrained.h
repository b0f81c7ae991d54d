// Schema-constrained decoding for the tools that generate (predict, eval-teacher): one vocabulary per
// tokenizer, one compiled grammar per schema, one constraint per row.
#pragma once
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "constrain/token_mask.h"
#include "text/tokenizer.h"

namespace af::student {

/// The constraints of the rows being generated (evaluation.constrained, evaluation.key_order).
class RowConstraints {
 public:
  /// Constrained decoding on or off (`enabled`), object keys in `order`, each document closed within
  /// `max_tokens` (evaluation.max_new_tokens; < 0: no limit).
  RowConstraints(bool enabled, constrain::KeyOrder order, const text::Tokenizer& tokenizer,
                 const std::vector<int32_t>& stop_tokens, int64_t max_tokens);
  /// Whether constrained decoding is on.
  bool enabled() const { return enabled_; }
  /// Starts a batch: one constraint per schema (compiled once per distinct schema).
  void start_batch(const std::vector<const nlohmann::json*>& schemas);
  /// The batch's constraints for model::generate (empty when constrained decoding is off).
  std::vector<constrain::SchemaConstraint*> pointers() const;
  /// What a row's record says about its constraint: constrained, constraint_unenforced (the keywords not
  /// enforced) and mask_ms_median. Empty when off.
  nlohmann::json record_fields(size_t row) const;

 private:
  bool enabled_ = false;
  int64_t max_tokens_ = -1;
  constrain::KeyOrder order_ = constrain::KeyOrder::Sorted;
  std::shared_ptr<const constrain::TokenVocabulary> vocabulary_;
  std::map<std::string, std::shared_ptr<const constrain::SchemaGrammar>> grammars_;  // by schema text
  std::vector<std::unique_ptr<constrain::SchemaConstraint>> rows_;
};

/// Refuses, before any model loads, a schema whose shortest document takes more than `max_tokens` tokens
/// (a constrained answer could never close): a usage_error naming `where` and the tokens it needs.
void require_document_fits(const nlohmann::json& schema, int64_t max_tokens, const std::string& where);

}  // namespace af::student
