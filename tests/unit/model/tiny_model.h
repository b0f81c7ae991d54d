// Tiny Gemma 3 models with random weights (norms included, so they are exercised) for the model tests.
#pragma once
#include <ATen/ATen.h>

#include <memory>

#include "model/gemma3.h"
#include "model/scratch.h"

namespace af::test {

/// A model of the Gemma 3 shape, small enough to check against loops: 4 query heads over 2 kv heads.
inline model::ModelConfig tiny_config(int64_t sliding_window = 4, int64_t layers = 3) {
  model::ScratchSpec spec;
  spec.hidden_size = 16;
  spec.num_layers = layers;
  spec.num_heads = 4;
  spec.num_kv_heads = 2;
  spec.head_dim = 8;
  spec.intermediate_size = 24;
  spec.sliding_window = sliding_window;
  spec.sliding_window_pattern = 3;  // layers 0, 1 sliding; 2 global
  model::ModelConfig c = model::scratch_config(spec, 50, 5);
  c.initializer_range = 0.3;  // large enough that attention is far from uniform
  return c;
}

/// A model with every weight random (seeded), in float32 unless `dtype` says otherwise.
inline std::unique_ptr<model::Gemma3> tiny_model(uint64_t seed,
                                                 const model::ModelConfig& config = tiny_config(),
                                                 at::ScalarType dtype = at::kFloat) {
  auto m = std::make_unique<model::Gemma3>(config, at::TensorOptions().dtype(at::kFloat));
  model::init_weights(*m, seed);
  at::NoGradGuard no_grad;
  at::manual_seed(seed);
  for (auto& nt : m->named_weights())
    if (nt.name.find("norm") != std::string::npos) nt.tensor->normal_(0.0, 0.2);
  if (dtype != at::kFloat) m->to(at::TensorOptions().dtype(dtype));
  return m;
}

/// Random token ids in [4, vocab).
inline at::Tensor random_ids(int64_t B, int64_t T, int64_t vocab, uint64_t seed) {
  at::manual_seed(seed);
  return at::randint(4, vocab, {B, T}, at::TensorOptions().dtype(at::kLong));
}

}  // namespace af::test
