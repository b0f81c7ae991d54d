#include "model/gemma3.h"

#include "model/checkpointed_layer.h"
#include "model/skinny_linear.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

namespace af::model {

void KvCache::select_rows(const at::Tensor& rows) {
  for (auto& t : k)
    if (t.defined()) t = t.index_select(0, rows);
  for (auto& t : v)
    if (t.defined()) t = t.index_select(0, rows);
  if (key_mask.defined()) key_mask = key_mask.index_select(0, rows);
}

void KvCache::expand_rows(int64_t rows) {
  for (auto* list : {&k, &v})
    for (auto& t : *list)
      if (t.defined()) t = t.expand({rows, t.size(1), t.size(2), t.size(3)});
  if (key_mask.defined()) key_mask = key_mask.expand({rows, key_mask.size(1)}).contiguous();
}

namespace {

// RMSNorm as one pass over each row, for inference on the CPU: generation normalises a handful of rows 109
// times per token, where a chain of ten small tensor ops costs more than the arithmetic.
template <typename T>
void rms_norm_rows(const T* x, const T* w, T* out, int64_t rows, int64_t n, double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * n;
    float sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<float>(xr[i]) * static_cast<float>(xr[i]);
    float scale = 1.0f / std::sqrt(sum / static_cast<float>(n) + static_cast<float>(eps));
    for (int64_t i = 0; i < n; ++i)
      out[r * n + i] = static_cast<T>(static_cast<float>(xr[i]) * scale * (1.0f + static_cast<float>(w[i])));
  }
}

bool fast_norm_applies(const at::Tensor& x, const at::Tensor& w) {
  return x.device().is_cpu() && !(c10::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad())) &&
         x.scalar_type() == w.scalar_type() &&
         (x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16) && x.numel() / x.size(-1) <= 64;
}

// Softmax attention of q [B, H, T, D] over k, v [B, KV, S, D] with bias [B, 1, 1, T, S]: [B, H, T, D].
at::Tensor scaled_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const at::Tensor& bias, double scale, std::optional<double> softcap) {
  int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), KV = k.size(1), S = k.size(2);
  int64_t G = H / KV;
  // Query head h uses key/value head h / G: group the query heads so one matmul serves each kv head.
  at::Tensor qg = q.reshape({B, KV, G * T, D});
  // The scale goes on the queries (T x D numbers) rather than on the scores (T x S), and the bias is added in
  // place: at training lengths the [T, S] tensors are what costs, so each pass over them counts.
  at::Tensor scores = at::matmul(qg * scale, k.transpose(-1, -2)).to(at::kFloat);
  if (softcap) scores = at::tanh(scores / *softcap) * *softcap;
  scores = scores.view({B, KV, G, T, S});
  scores.add_(bias);
  at::Tensor probs = at::softmax(scores, -1).to(v.scalar_type());
  return at::matmul(probs.view({B, KV, G * T, S}), v).view({B, H, T, D});
}

}  // namespace

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  if (fast_norm_applies(x, weight)) {
    at::Tensor xc = x.contiguous(), wc = weight.contiguous();
    at::Tensor out = at::empty_like(xc);
    int64_t n = x.size(-1), rows = x.numel() / n;
    if (x.scalar_type() == at::kFloat)
      rms_norm_rows(xc.data_ptr<float>(), wc.data_ptr<float>(), out.data_ptr<float>(), rows, n, eps);
    else
      rms_norm_rows(xc.data_ptr<c10::BFloat16>(), wc.data_ptr<c10::BFloat16>(), out.data_ptr<c10::BFloat16>(),
                    rows, n, eps);
    return out;
  }
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor out = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
  return (out * (weight.to(at::kFloat) + 1.0)).to(x.scalar_type());
}

std::pair<at::Tensor, at::Tensor> rope_tables(const at::Tensor& positions, int64_t head_dim, double theta,
                                              double scaling_factor) {
  auto f32 = positions.options().dtype(at::kFloat);
  at::Tensor exponents = at::arange(0, head_dim, 2, positions.options().dtype(at::kLong)).to(at::kFloat) /
                         static_cast<double>(head_dim);
  at::Tensor inv_freq = 1.0 / at::pow(theta, exponents);
  if (scaling_factor != 1.0) inv_freq = inv_freq / scaling_factor;
  at::Tensor freqs = positions.to(f32).unsqueeze(-1) * inv_freq;  // [B, T, D/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1);
  return {emb.cos(), emb.sin()};
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  at::Tensor xf = x.to(at::kFloat);
  int64_t half = xf.size(-1) / 2;
  at::Tensor rotated = at::cat({-xf.slice(-1, half), xf.slice(-1, 0, half)}, -1);
  return (xf * cos.unsqueeze(1) + rotated * sin.unsqueeze(1)).to(x.scalar_type());
}

at::Tensor attention_allowed(const at::Tensor& key_mask, int64_t T, int64_t window) {
  int64_t S = key_mask.size(1);
  auto longs = key_mask.options().dtype(at::kLong);
  at::Tensor q_slot = at::arange(S - T, S, longs).view({T, 1});
  at::Tensor k_slot = at::arange(0, S, longs).view({1, S});
  at::Tensor ok = k_slot <= q_slot;
  if (window > 0) ok = ok & ((q_slot - k_slot) < window);
  at::Tensor allowed = ok.unsqueeze(0) & key_mask.to(at::kBool).unsqueeze(1);
  return allowed | (k_slot == q_slot).unsqueeze(0);
}

Gemma3::Gemma3(ModelConfig config, at::TensorOptions options)
    : config_(std::move(config)), options_(options) {
  const auto& c = config_;
  auto linear = [&](int64_t out, int64_t in, bool bias) {
    Linear l;
    l.weight = at::empty({out, in}, options_);
    if (bias) l.bias = at::empty({out}, options_);
    return l;
  };
  embed_tokens_ = at::empty({c.vocab_size, c.hidden_size}, options_);
  if (!c.tie_word_embeddings) lm_head_ = at::empty({c.vocab_size, c.hidden_size}, options_);
  norm_ = at::empty({c.hidden_size}, options_);
  int64_t q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    DecoderLayer l;
    l.q_proj = linear(q, c.hidden_size, c.attention_bias);
    l.k_proj = linear(kv, c.hidden_size, c.attention_bias);
    l.v_proj = linear(kv, c.hidden_size, c.attention_bias);
    l.o_proj = linear(c.hidden_size, q, c.attention_bias);
    l.gate_proj = linear(c.intermediate_size, c.hidden_size, false);
    l.up_proj = linear(c.intermediate_size, c.hidden_size, false);
    l.down_proj = linear(c.hidden_size, c.intermediate_size, false);
    l.q_norm = at::empty({c.head_dim}, options_);
    l.k_norm = at::empty({c.head_dim}, options_);
    for (at::Tensor* n : {&l.input_layernorm, &l.post_attention_layernorm, &l.pre_feedforward_layernorm,
                          &l.post_feedforward_layernorm})
      *n = at::empty({c.hidden_size}, options_);
    l.sliding = c.sliding_layers.at(static_cast<size_t>(i));
    layers_.push_back(std::move(l));
  }
}

std::vector<NamedTensor> Gemma3::named_weights() {
  std::vector<NamedTensor> out;
  out.push_back({"model.embed_tokens.weight", &embed_tokens_});
  for (size_t i = 0; i < layers_.size(); ++i) {
    DecoderLayer& l = layers_[i];
    std::string p = "model.layers." + std::to_string(i) + ".";
    out.push_back({p + "input_layernorm.weight", &l.input_layernorm});
    out.push_back({p + "post_attention_layernorm.weight", &l.post_attention_layernorm});
    out.push_back({p + "pre_feedforward_layernorm.weight", &l.pre_feedforward_layernorm});
    out.push_back({p + "post_feedforward_layernorm.weight", &l.post_feedforward_layernorm});
    out.push_back({p + "self_attn.q_norm.weight", &l.q_norm});
    out.push_back({p + "self_attn.k_norm.weight", &l.k_norm});
  }
  for (auto& [name, linear] : named_linears()) {
    out.push_back({name + ".weight", &linear->weight});
    if (linear->bias.defined()) out.push_back({name + ".bias", &linear->bias});
  }
  out.push_back({"model.norm.weight", &norm_});
  if (!config_.tie_word_embeddings) out.push_back({"lm_head.weight", &lm_head_});
  return out;
}

std::vector<std::pair<std::string, Linear*>> Gemma3::named_linears() {
  std::vector<std::pair<std::string, Linear*>> out;
  for (size_t i = 0; i < layers_.size(); ++i) {
    DecoderLayer& l = layers_[i];
    std::string p = "model.layers." + std::to_string(i) + ".";
    out.emplace_back(p + "self_attn.q_proj", &l.q_proj);
    out.emplace_back(p + "self_attn.k_proj", &l.k_proj);
    out.emplace_back(p + "self_attn.v_proj", &l.v_proj);
    out.emplace_back(p + "self_attn.o_proj", &l.o_proj);
    out.emplace_back(p + "mlp.gate_proj", &l.gate_proj);
    out.emplace_back(p + "mlp.up_proj", &l.up_proj);
    out.emplace_back(p + "mlp.down_proj", &l.down_proj);
  }
  return out;
}

void Gemma3::to(at::TensorOptions options) {
  at::NoGradGuard no_grad;
  options_ = options;
  for (auto& nt : named_weights()) *nt.tensor = nt.tensor->to(options);
  for (auto& [name, linear] : named_linears()) {
    if (!linear->lora) continue;
    linear->lora->a = linear->lora->a.to(options.device());
    linear->lora->b = linear->lora->b.to(options.device());
  }
}

at::Tensor Gemma3::attention(const DecoderLayer& layer, size_t index, const at::Tensor& x,
                             const LayerInputs& in, KvCache* cache) const {
  const auto& c = config_;
  int64_t B = x.size(0), Tx = x.size(1), H = c.num_attention_heads, KV = c.num_key_value_heads,
          D = c.head_dim;
  // The tables and the bias cover the forward's positions; x and its queries are their last Tx and T.
  int64_t T = in.queries > 0 ? in.queries : Tx;
  // Decoding calls this per token and layer: a tail that is the whole tensor is the tensor, not a slice op.
  auto tail = [](const at::Tensor& t, int64_t dim, int64_t n) {
    return t.size(dim) == n ? t : t.slice(dim, t.size(dim) - n);
  };
  at::Tensor q = layer.q_proj.forward(tail(x, 1, T), training_).view({B, T, H, D});
  at::Tensor k = layer.k_proj.forward(x, training_).view({B, Tx, KV, D});
  at::Tensor v = layer.v_proj.forward(x, training_).view({B, Tx, KV, D}).transpose(1, 2);
  q = apply_rope(rms_norm(q, layer.q_norm, c.rms_norm_eps).transpose(1, 2), tail(in.cos, 1, T),
                 tail(in.sin, 1, T));
  k = apply_rope(rms_norm(k, layer.k_norm, c.rms_norm_eps).transpose(1, 2), tail(in.cos, 1, Tx),
                 tail(in.sin, 1, Tx));
  if (cache != nullptr) {
    if (cache->k[index].defined()) {
      k = at::cat({cache->k[index], k}, 2);
      v = at::cat({cache->v[index], v}, 2);
    }
    // A sliding layer never looks further back than its window: older keys are dropped.
    bool trim = layer.sliding && k.size(2) > c.sliding_window;
    cache->k[index] = trim ? k.slice(2, k.size(2) - c.sliding_window) : k;
    cache->v[index] = trim ? v.slice(2, v.size(2) - c.sliding_window) : v;
  }
  int64_t S = k.size(2);
  // Decoding a few tokens in bfloat16, oneDNN's per-call cost dwarfs these tiny products: do them in float32.
  auto out_type = v.scalar_type();
  if (T <= 16 && out_type == at::kBFloat16 && !training_) {
    q = q.to(at::kFloat);
    k = k.to(at::kFloat);
    v = v.to(at::kFloat);
  }
  at::Tensor key_bias = tail(tail(in.bias, 3, T), 4, S);
  double scale = std::pow(c.query_pre_attn_scalar, -0.5);
  int64_t W = c.sliding_window;
  at::Tensor out;
  if (layer.sliding && W > 0 && T > 2 * W) {
    // A long run of queries in a sliding layer (a prompt, a shared prefix): each block of W queries only
    // sees the W - 1 slots before it, so blocks attend to [block - W + 1, block end) instead of all S keys.
    std::vector<at::Tensor> blocks;
    for (int64_t t0 = 0; t0 < T; t0 += W) {
      int64_t t1 = std::min(T, t0 + W);
      int64_t s0 = std::max<int64_t>(0, S - T + t0 - W + 1), s1 = S - T + t1;
      blocks.push_back(scaled_attention(q.slice(2, t0, t1), k.slice(2, s0, s1), v.slice(2, s0, s1),
                                        key_bias.slice(3, t0, t1).slice(4, s0, s1), scale,
                                        c.attn_logit_softcapping));
    }
    out = at::cat(blocks, 2);
  } else {
    out = scaled_attention(q, k, v, key_bias, scale, c.attn_logit_softcapping);
  }
  out = out.to(out_type);
  return layer.o_proj.forward(out.transpose(1, 2).reshape({B, T, H * D}), training_);
}

at::Tensor Gemma3::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                           KvCache* cache) const {
  return run(input_ids, attention_mask, cache, false);
}

at::Tensor Gemma3::prefill(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                           KvCache& cache) const {
  return run(input_ids, attention_mask, &cache, true);
}

at::Tensor Gemma3::run(const at::Tensor& input_ids, const at::Tensor& attention_mask, KvCache* cache,
                       bool last_only) const {
  const auto& c = config_;
  int64_t B = input_ids.size(0), T = input_ids.size(1);
  at::Tensor mask = attention_mask.to(at::kLong);
  if (cache != nullptr && cache->k.size() != layers_.size()) {
    cache->k.assign(layers_.size(), at::Tensor());
    cache->v.assign(layers_.size(), at::Tensor());
  }
  at::Tensor full = (cache != nullptr && cache->length() > 0) ? at::cat({cache->key_mask, mask}, 1) : mask;
  int64_t S = full.size(1);
  // Positions count real tokens only, so a left-padded row is positioned as if it had no padding.
  at::Tensor positions = (full.cumsum(1) - 1).clamp_min(0).slice(1, S - T);
  auto [cos_g, sin_g] = rope_tables(positions, c.head_dim, c.rope_theta, c.rope_scaling_factor);
  auto [cos_l, sin_l] = rope_tables(positions, c.head_dim, c.rope_local_base_freq);
  auto to_bias = [&](const at::Tensor& allowed) {
    at::Tensor bias = at::zeros({B, T, S}, mask.options().dtype(at::kFloat));
    return bias.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity())
        .view({B, 1, 1, T, S});
  };
  at::Tensor bias_global = to_bias(attention_allowed(full, T, 0));
  at::Tensor bias_local = to_bias(attention_allowed(full, T, c.sliding_window));
  if (cache != nullptr) cache->key_mask = full;

  // Walking back from the output: the first position whose output layer i must give (first_query[i]), and
  // from it the first position layer i needs keys and values of, which is what layer i - 1 must give (or,
  // for layer 0, the first token embedded). A sliding layer needs its cache's last window and its queries'
  // windows; a global layer needs everything.
  size_t L = layers_.size();
  std::vector<int64_t> first_query(L, 0);
  int64_t first_input = 0;
  if (last_only) {
    int64_t wanted = T - 1;
    for (size_t i = L; i-- > 0;) {
      first_query[i] = wanted;
      bool window = layers_[i].sliding && c.sliding_window > 0;
      wanted =
          window ? std::max<int64_t>(0, std::min(T - c.sliding_window, wanted - c.sliding_window + 1)) : 0;
    }
    first_input = wanted;
  }

  at::Tensor normalizer =
      at::scalar_tensor(std::sqrt(static_cast<double>(c.hidden_size)), options_.dtype(at::kFloat))
          .to(embed_tokens_.scalar_type());
  at::Tensor x = at::embedding(embed_tokens_, input_ids.slice(1, first_input)) * normalizer;
  if (training_ && neftune_alpha_ > 0) {
    double magnitude = neftune_alpha_ / std::sqrt(static_cast<double>(T * c.hidden_size));
    x = x + at::empty_like(x).uniform_(-magnitude, magnitude).detach();
  }
  // Recomputing layers in backward only pays when there is a backward: training with grad on, no cache.
  bool recompute = gradient_checkpointing_ && training_ && cache == nullptr && at::GradMode::is_enabled();
  for (size_t i = 0; i < L; ++i) {
    const DecoderLayer& l = layers_[i];
    LayerInputs in{l.sliding ? cos_l : cos_g, l.sliding ? sin_l : sin_g, l.sliding ? bias_local : bias_global,
                   last_only ? T - first_query[i] : 0};
    x = recompute ? checkpointed_layer(*this, i, x, in) : layer_forward(i, x, in, cache);
  }
  if (last_only) x = x.slice(1, x.size(1) - 1);
  return rms_norm(x, norm_, c.rms_norm_eps);
}

at::Tensor Gemma3::layer_forward(size_t index, const at::Tensor& x, const LayerInputs& in,
                                 KvCache* cache) const {
  const auto& c = config_;
  const DecoderLayer& l = layers_[index];
  at::Tensor h = rms_norm(x, l.input_layernorm, c.rms_norm_eps);
  h = attention(l, index, h, in, cache);
  at::Tensor residual = in.queries > 0 ? x.slice(1, x.size(1) - in.queries) : x;
  at::Tensor y = residual + rms_norm(h, l.post_attention_layernorm, c.rms_norm_eps);
  h = rms_norm(y, l.pre_feedforward_layernorm, c.rms_norm_eps);
  h = l.down_proj.forward(
      at::gelu(l.gate_proj.forward(h, training_), "tanh") * l.up_proj.forward(h, training_), training_);
  return y + rms_norm(h, l.post_feedforward_layernorm, c.rms_norm_eps);
}

std::vector<at::Tensor> Gemma3::layer_trained_tensors(size_t index) const {
  const DecoderLayer& l = layers_[index];
  std::vector<at::Tensor> out;
  auto add = [&](const at::Tensor& t) {
    if (t.defined() && t.requires_grad()) out.push_back(t);
  };
  for (const Linear* lin :
       {&l.q_proj, &l.k_proj, &l.v_proj, &l.o_proj, &l.gate_proj, &l.up_proj, &l.down_proj}) {
    add(lin->weight);
    add(lin->bias);
    if (lin->lora) {
      add(lin->lora->a);
      add(lin->lora->b);
    }
  }
  for (const at::Tensor* t : {&l.q_norm, &l.k_norm, &l.input_layernorm, &l.post_attention_layernorm,
                              &l.pre_feedforward_layernorm, &l.post_feedforward_layernorm})
    add(*t);
  return out;
}

at::Tensor Gemma3::logits(const at::Tensor& hidden) const {
  const at::Tensor& w = lm_head_weight();
  at::Tensor out =
      skinny_linear_applies(hidden, w) ? skinny_linear(hidden, w, at::Tensor()) : at::linear(hidden, w);
  if (config_.final_logit_softcapping)
    out = at::tanh(out / *config_.final_logit_softcapping) * *config_.final_logit_softcapping;
  return out;
}

}  // namespace af::model
