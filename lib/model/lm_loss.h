// The LM head and cross-entropy over supervised positions, in chunks of rows: a 262k vocabulary makes a whole
// batch's logits gigabytes, so they are never materialised; backward recomputes each chunk's logits.
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>

namespace af::model {

/// Sum over rows of the cross-entropy of softmax(hidden W^T) against `labels` (rows with a negative label are
/// ignored), with `label_smoothing` (the loss mixes in the mean over the vocabulary, as PyTorch does) and
/// optional final-logit softcapping. hidden [N, H], weight [V, H], labels [N] int64. Differentiable in hidden
/// and weight; at most `chunk_rows` x V logits exist at a time, in float32.
at::Tensor chunked_lm_loss(const at::Tensor& hidden, const at::Tensor& weight, const at::Tensor& labels,
                           double label_smoothing = 0.0, int64_t chunk_rows = 256,
                           std::optional<double> softcap = std::nullopt);

}  // namespace af::model
