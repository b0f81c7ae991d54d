// Gemma 3's text decoder in libtorch: embeddings scaled by sqrt(hidden), pre- and post-norms around attention
// and MLP, q/k RMSNorm, RoPE with a local and a global base, grouped-query attention with sliding-window
// layers, a gated GELU-tanh MLP and an LM head tied to the embedding.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/linear.h"

namespace af::model {

/// One decoder layer's weights (Hugging Face names under model.layers.N.).
struct DecoderLayer {
  Linear q_proj, k_proj, v_proj, o_proj;  // self_attn.*
  Linear gate_proj, up_proj, down_proj;   // mlp.*
  at::Tensor q_norm, k_norm;              // self_attn.{q,k}_norm.weight [head_dim]
  at::Tensor input_layernorm, post_attention_layernorm, pre_feedforward_layernorm, post_feedforward_layernorm;
  bool sliding = true;
};

/// Keys and values of the tokens seen so far, per layer. Sliding layers keep only their window.
struct KvCache {
  std::vector<at::Tensor> k, v;  // per layer [B, kv_heads, S_layer, head_dim]
  at::Tensor key_mask;           // [B, S_total] int64: 1 where the slot holds a real token (0: padding)
  int64_t length() const { return key_mask.defined() ? key_mask.size(1) : 0; }
  /// Keeps the batch rows `rows` (a 1-D int64 index tensor) of every tensor.
  void select_rows(const at::Tensor& rows);
  /// Shares a one-row cache with `rows` rows (a view: gradients of every row flow back into the one row).
  void expand_rows(int64_t rows);
};

/// What every layer of one forward shares: RoPE tables and the attention bias of the layer's kind (for all T
/// positions of the forward), and how many of the layer's last positions are queries.
struct LayerInputs {
  at::Tensor cos, sin, bias;
  int64_t queries = 0;  // 0: every position of the layer's input; n: only the last n (the rest give keys)
};

/// A named view of one weight tensor, for loading, saving and optimisers.
struct NamedTensor {
  std::string name;
  at::Tensor* tensor;
};

/// The Gemma 3 text model.
class Gemma3 {
 public:
  /// Allocates every weight (uninitialised) for `config` with `options` (dtype and device).
  Gemma3(ModelConfig config, at::TensorOptions options);

  const ModelConfig& config() const { return config_; }
  at::TensorOptions options() const { return options_; }

  /// Hidden states after the final norm, [B, T, hidden]. `attention_mask` [B, T] is 1 for tokens and 0 for
  /// padding (left or right). With `cache`, the tokens continue the cached ones and are appended to it.
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                     KvCache* cache = nullptr) const;
  /// Runs a prompt into `cache` and returns the hidden state of its last position only, [B, 1, hidden].
  /// A layer runs just the positions a later token can still reach: behind sliding layers, only the last
  /// windows of a long prompt.
  at::Tensor prefill(const at::Tensor& input_ids, const at::Tensor& attention_mask, KvCache& cache) const;
  /// Logits over the vocabulary for `hidden` [..., hidden] (with final softcapping when configured).
  at::Tensor logits(const at::Tensor& hidden) const;
  /// The LM head weight [vocab, hidden] (the embedding when tied).
  const at::Tensor& lm_head_weight() const { return config_.tie_word_embeddings ? embed_tokens_ : lm_head_; }

  /// Every weight with its Hugging Face name (model.layers.0.self_attn.q_proj.weight, ...).
  std::vector<NamedTensor> named_weights();
  /// Every linear layer with its module name (model.layers.0.self_attn.q_proj), for LoRA.
  std::vector<std::pair<std::string, Linear*>> named_linears();
  /// Training mode turns LoRA dropout on.
  void set_training(bool training) { training_ = training; }
  /// NEFTune: while training, uniform noise of scale alpha / sqrt(T x hidden) is added to the embeddings.
  void set_neftune_alpha(double alpha) { neftune_alpha_ = alpha; }
  bool training() const { return training_; }
  /// Gradient checkpointing: while training, each layer keeps only its input and is recomputed in backward
  /// (activation memory of one layer instead of all of them, for about a third more compute).
  void set_gradient_checkpointing(bool on) { gradient_checkpointing_ = on; }
  bool gradient_checkpointing() const { return gradient_checkpointing_; }
  /// Layer forwards gradient checkpointing has run again in backward, since the model was made.
  int64_t recomputed_layers() const { return recomputed_layers_; }
  /// Counts one recomputed layer forward (model/checkpointed_layer.cpp).
  void count_recomputed_layer() const { ++recomputed_layers_; }
  /// One decoder layer: x [B, T, hidden] -> x after attention and MLP with their residuals (for the last
  /// `in.queries` positions only, when set).
  at::Tensor layer_forward(size_t index, const at::Tensor& x, const LayerInputs& in,
                           KvCache* cache = nullptr) const;
  /// The tensors of layer `index` that are trained (require grad), in a fixed order.
  std::vector<at::Tensor> layer_trained_tensors(size_t index) const;
  /// Moves every weight and adapter to `options` (dtype and device).
  void to(at::TensorOptions options);

  std::vector<DecoderLayer>& layers() { return layers_; }
  at::Tensor& embed_tokens() { return embed_tokens_; }

 private:
  at::Tensor attention(const DecoderLayer& layer, size_t index, const at::Tensor& x, const LayerInputs& in,
                       KvCache* cache) const;
  at::Tensor run(const at::Tensor& input_ids, const at::Tensor& attention_mask, KvCache* cache,
                 bool last_only) const;

  ModelConfig config_;
  at::TensorOptions options_;
  at::Tensor embed_tokens_;  // [vocab, hidden]
  at::Tensor lm_head_;       // [vocab, hidden], only when not tied
  at::Tensor norm_;          // model.norm.weight
  std::vector<DecoderLayer> layers_;
  bool training_ = false;
  bool gradient_checkpointing_ = false;
  mutable int64_t recomputed_layers_ = 0;  // backward runs on the thread that called it (CPU)
  double neftune_alpha_ = 0;
};

/// Gemma's RMSNorm in float32: x * rsqrt(mean(x^2) + eps) * (1 + w), returned in x's dtype.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);
/// cos and sin [B, T, head_dim] (float32) of RoPE for `positions` [B, T] with base `theta`; positions are
/// divided by `scaling_factor` (linear RoPE scaling).
std::pair<at::Tensor, at::Tensor> rope_tables(const at::Tensor& positions, int64_t head_dim, double theta,
                                              double scaling_factor = 1.0);
/// Rotates `x` [B, heads, T, head_dim] by RoPE in the split-halves layout, computed in float32.
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);
/// Which keys each query may see: [B, T, S] bool for queries in the last T of S slots. Causal, real keys only
/// (`key_mask` [B, S]), and with `window` > 0 only the last `window` slots up to the query. A query always
/// sees itself, so padding rows stay finite.
at::Tensor attention_allowed(const at::Tensor& key_mask, int64_t T, int64_t window);

}  // namespace af::model
