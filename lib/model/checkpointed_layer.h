// Gradient checkpointing of one decoder layer: the forward keeps only the layer's input; the backward runs
// the layer again with the same dropout masks and autocast state, then backpropagates through it.
#pragma once
#include <ATen/core/Tensor.h>

#include "model/gemma3.h"

namespace af::model {

/// Runs layer `index` of `model` on `x` so that its activations are recomputed in backward. Gradients reach
/// `x` and the layer's trained tensors exactly as without checkpointing.
at::Tensor checkpointed_layer(const Gemma3& model, size_t index, const at::Tensor& x, const LayerInputs& in);

}  // namespace af::model
