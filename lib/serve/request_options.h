// What a request's options do to its answer: Ollama's options (temperature, top_p, top_k, seed, num_predict,
// repeat_penalty) and OpenAI's fields (temperature, top_p, seed, max_tokens or max_completion_tokens), over
// serve's defaults.
#pragma once
#include <nlohmann/json.hpp>

#include "model/generate.h"

namespace af::serve {

/// `defaults` with `options` applied: temperature 0 is greedy, above 0 samples at it; num_predict and
/// max_tokens ask for fewer tokens than defaults.max_new_tokens, never more (-1 or absent: the default); a
/// seed makes a sampled answer repeatable. An option of the wrong type or range is a usage_error naming it;
/// options serve does not act on (num_ctx, stop, ...) are ignored, as Ollama ignores unknown ones.
model::GenerationSettings request_generation(const model::GenerationSettings& defaults,
                                             const nlohmann::json& options);

/// Whether two requests' settings let them share one generation batch (all but the seed agree).
bool same_batch(const model::GenerationSettings& a, const model::GenerationSettings& b);

}  // namespace af::serve
