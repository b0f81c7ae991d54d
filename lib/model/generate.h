// Text generation with the KV cache: prompts batched with left padding, greedy or sampled, stopping on the
// stop tokens or after max_new_tokens. Rows that finish leave the batch, so the others run at a smaller batch
// size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "constrain/token_mask.h"
#include "model/gemma3.h"

namespace af::model {

/// How tokens are chosen (evaluation.* / predict flags).
struct GenerationSettings {
  int64_t max_new_tokens = 512;
  bool do_sample = false;
  double temperature = 1.0;         // sampling only
  double top_p = 1.0;               // sampling only
  int64_t top_k = 0;                // sampling only; 0: off
  double repetition_penalty = 1.0;  // on tokens this row has generated; 1: off
  uint64_t seed = 0;
  // When given (one per prompt), row b samples as the first row of a batch seeded row_seeds[b] would: a
  // served request's answer depends on its own seed, never on the requests that share its batch.
  std::vector<uint64_t> row_seeds;
  std::vector<int32_t> stop_tokens;
  int32_t pad_token_id = 0;
};

/// One row's output: the generated ids (without the stop token) and why generation ended.
struct Generation {
  std::vector<int32_t> tokens;
  // "stop" (a stop token), "length" (max_new_tokens) or "constraint" (the constraint allowed no token: the
  // schema has no document that continues the text, e.g. an unsatisfiable schema)
  std::string finish_reason;
};

/// Continues each prompt. Row i samples from its own generator seeded by (seed, i), so its output does not
/// depend on which other rows share the batch. With `constraints` (one per prompt, null for none), row i
/// chooses only among the tokens constraints[i] allows, and the constraint follows the chosen tokens.
std::vector<Generation> generate(const Gemma3& model, const std::vector<std::vector<int32_t>>& prompts,
                                 const GenerationSettings& settings,
                                 const std::vector<constrain::SchemaConstraint*>& constraints = {});

/// Sets the logits of the tokens `allowed` leaves out to -infinity (`logits` [V] float32 on the CPU).
void mask_logits(at::Tensor& logits, const constrain::TokenBits& allowed);

/// The token chosen from `logits` [V] (float32) under `settings`, given the row's generated tokens so far.
int32_t choose_token(at::Tensor logits, const std::vector<int32_t>& generated,
                     const GenerationSettings& settings, at::Generator* generator);

}  // namespace af::model
