// Random documents drawn through the constrained-decoding matcher: each step takes one byte the matcher
// allows, so a walk that ends complete is what a constrained generator could emit.
#pragma once
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "constrain/token_mask.h"

namespace af::test {

/// A random walk through the matcher for `schema` (sorted keys); past 60 bytes it closes what is open.
/// `stuck` is set when the walk met a state with no allowed byte before the document was complete (a dead
/// end).
std::string random_walk(const nlohmann::json& schema, std::mt19937& rng, bool* stuck);

/// A constrained generation held to `max_tokens` (`enforce`: by the constraint; else only cut there): a
/// random allowed token at each step, the stop token one time in four once allowed. Returns the document, or
/// "" when it did not close; `taken` counts the tokens.
std::string budget_walk(const std::shared_ptr<const constrain::TokenVocabulary>& vocab,
                        const std::shared_ptr<const constrain::SchemaGrammar>& grammar, int64_t max_tokens,
                        bool enforce, std::mt19937& rng, int64_t* taken);

}  // namespace af::test
