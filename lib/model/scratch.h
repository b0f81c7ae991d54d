// The scratch student: a tiny Gemma 3 built from a size spec (training.scratch.*) with a SentencePiece
// tokenizer trained on the corpus, saved as a Hugging Face folder so every later stage loads it like any
// other.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"

namespace af::model {

class Gemma3;

/// Sizes of a scratch model (the training.scratch section).
struct ScratchSpec {
  int64_t vocab_size = 4096;
  int64_t hidden_size = 128;
  int64_t num_layers = 4;
  int64_t num_heads = 4;
  int64_t num_kv_heads = 1;
  int64_t head_dim = 32;
  int64_t intermediate_size = 512;
  int64_t max_position_embeddings = 4096;
  int64_t sliding_window = 512;
  int64_t sliding_window_pattern = 6;
};

/// The Gemma 3 config of `spec` with a tokenizer of `vocab_size` ids whose <end_of_turn> is `end_of_turn_id`.
ModelConfig scratch_config(const ScratchSpec& spec, int64_t vocab_size, int64_t end_of_turn_id);

/// Fills every weight as Hugging Face initialises Gemma 3: normal(0, initializer_range) for linear layers and
/// embeddings (the padding row zero), zeros for the norms (they scale by 1 + w). Same seed, same weights.
void init_weights(Gemma3& model, uint64_t seed);

/// Trains a tokenizer on `texts`, builds and initialises the model, and writes both to `dir` (float32).
void build_scratch_model(const ScratchSpec& spec, const std::vector<std::string>& texts,
                         const std::string& dir, uint64_t seed);

}  // namespace af::model
