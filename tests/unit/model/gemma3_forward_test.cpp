// Gemma 3's forward pass against direct formulas: RMSNorm, RoPE, grouped-query attention with sliding
// windows, the whole model against a loop-by-loop reference, the KV cache, and left padding.
#include "support/torch_doctest.h"

#include <cmath>

#include "tiny_model.h"

using namespace af::model;
using af::test::random_ids;
using af::test::tiny_config;
using af::test::tiny_model;

namespace {

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

// One decoder layer's attention written as loops over heads, queries and keys, in float64.
at::Tensor reference_attention(DecoderLayer& l, const ModelConfig& c, const at::Tensor& x /*[T, H]*/) {
  int64_t T = x.size(0), D = c.head_dim, H = c.num_attention_heads, G = c.kv_groups();
  auto d = [](const at::Tensor& t) { return t.to(at::kDouble); };
  auto norm = [&](const at::Tensor& v, const at::Tensor& w) {
    return v / at::sqrt((v * v).mean() + c.rms_norm_eps) * (1 + d(w));
  };
  auto rope = [&](const at::Tensor& v, int64_t pos, double base) {
    at::Tensor out = v.clone();
    for (int64_t i = 0; i < D / 2; ++i) {
      double freq = 1.0 / std::pow(base, 2.0 * static_cast<double>(i) / static_cast<double>(D));
      if (!l.sliding) freq /= c.rope_scaling_factor;
      double angle = static_cast<double>(pos) * freq;
      double a = v[i].item<double>(), b = v[i + D / 2].item<double>();
      out[i] = a * std::cos(angle) - b * std::sin(angle);
      out[i + D / 2] = b * std::cos(angle) + a * std::sin(angle);
    }
    return out;
  };
  double base = l.sliding ? c.rope_local_base_freq : c.rope_theta;
  at::Tensor q = at::matmul(d(x), d(l.q_proj.weight).t()), k = at::matmul(d(x), d(l.k_proj.weight).t()),
             v = at::matmul(d(x), d(l.v_proj.weight).t());
  at::Tensor out = at::zeros({T, H * D}, at::kDouble);
  for (int64_t h = 0; h < H; ++h) {
    int64_t kvh = h / G;  // grouped-query attention
    for (int64_t t = 0; t < T; ++t) {
      at::Tensor qt = rope(norm(q[t].slice(0, h * D, (h + 1) * D), l.q_norm), t, base);
      std::vector<double> scores;
      std::vector<int64_t> keys;
      for (int64_t s = 0; s <= t; ++s) {
        if (l.sliding && t - s >= c.sliding_window) continue;
        at::Tensor ks = rope(norm(k[s].slice(0, kvh * D, (kvh + 1) * D), l.k_norm), s, base);
        scores.push_back((qt * ks).sum().item<double>() / std::sqrt(c.query_pre_attn_scalar));
        keys.push_back(s);
      }
      double mx = *std::max_element(scores.begin(), scores.end()), z = 0;
      for (double sc : scores) z += std::exp(sc - mx);
      for (size_t j = 0; j < keys.size(); ++j)
        out[t].slice(0, h * D, (h + 1) * D) +=
            std::exp(scores[j] - mx) / z * v[keys[j]].slice(0, kvh * D, (kvh + 1) * D);
    }
  }
  return at::matmul(out, d(l.o_proj.weight).t());
}

at::Tensor reference_logits(Gemma3& m, const at::Tensor& ids /*[T]*/) {
  const ModelConfig& c = m.config();
  auto d = [](const at::Tensor& t) { return t.to(at::kDouble); };
  auto norm = [&](const at::Tensor& x, const at::Tensor& w) {
    return x / at::sqrt((x * x).mean(-1, true) + c.rms_norm_eps) * (1 + d(w));
  };
  auto gelu_tanh = [](const at::Tensor& x) {
    return 0.5 * x * (1 + at::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  };
  at::Tensor x = d(m.embed_tokens().index_select(0, ids)) * std::sqrt(static_cast<double>(c.hidden_size));
  for (auto& l : m.layers()) {
    x = x + norm(reference_attention(l, c, norm(x, l.input_layernorm).to(at::kFloat)),
                 l.post_attention_layernorm);
    at::Tensor h = norm(x, l.pre_feedforward_layernorm);
    at::Tensor mlp = at::matmul(
        gelu_tanh(at::matmul(h, d(l.gate_proj.weight).t())) * at::matmul(h, d(l.up_proj.weight).t()),
        d(l.down_proj.weight).t());
    x = x + norm(mlp, l.post_feedforward_layernorm);
  }
  at::Tensor final_norm;
  for (auto& nt : m.named_weights())
    if (nt.name == "model.norm.weight") final_norm = *nt.tensor;
  return at::matmul(norm(x, final_norm), d(m.embed_tokens()).t());
}

}  // namespace

TEST_CASE("RMSNorm is x / sqrt(mean(x^2) + eps) * (1 + w), computed in float32") {
  at::Tensor x = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({1, 4});
  at::Tensor w = at::tensor({0.0f, 0.5f, -1.0f, 1.0f});
  at::Tensor y = rms_norm(x, w, 1e-6);
  double rms = std::sqrt((1 + 4 + 9 + 16) / 4.0 + 1e-6);
  CHECK(y[0][0].item<float>() == doctest::Approx(1 / rms));
  CHECK(y[0][1].item<float>() == doctest::Approx(2 / rms * 1.5));
  CHECK(y[0][2].item<float>() == doctest::Approx(0.0));
  CHECK(y[0][3].item<float>() == doctest::Approx(4 / rms * 2));
  // bfloat16 in, bfloat16 out, statistics in float32.
  CHECK((rms_norm(x.to(at::kBFloat16), w.to(at::kBFloat16), 1e-6).scalar_type() == at::kBFloat16));
}

TEST_CASE("RoPE rotates each (i, i + D/2) pair by position / base^(2i/D)") {
  at::Tensor x = at::arange(1, 9, at::kFloat).view({1, 1, 1, 8});  // B=1, heads=1, T=1, D=8
  at::Tensor pos = at::full({1, 1}, 3, at::kLong);
  auto [cos, sin] = rope_tables(pos, 8, 10000.0);
  at::Tensor y = apply_rope(x, cos, sin);
  for (int i = 0; i < 4; ++i) {
    double angle = 3.0 / std::pow(10000.0, 2.0 * i / 8.0);
    double a = i + 1, b = i + 5;
    CHECK(y[0][0][0][i].item<float>() ==
          doctest::Approx(a * std::cos(angle) - b * std::sin(angle)).epsilon(1e-5));
    CHECK(y[0][0][0][i + 4].item<float>() ==
          doctest::Approx(b * std::cos(angle) + a * std::sin(angle)).epsilon(1e-5));
  }
}

TEST_CASE("the attention mask equals a loop over query, key and window") {
  at::Tensor key_mask = at::tensor({0, 0, 1, 1, 1, 1, 1, 1}, at::kLong).view({1, 8});
  for (int64_t window : {0, 1, 3, 20}) {
    at::Tensor allowed = attention_allowed(key_mask, 5, window);  // queries are the last 5 slots
    for (int64_t t = 0; t < 5; ++t)
      for (int64_t s = 0; s < 8; ++s) {
        int64_t q = 3 + t;
        bool expect =
            (s <= q && key_mask[0][s].item<int64_t>() == 1 && (window == 0 || q - s < window)) || s == q;
        CHECK(allowed[0][t][s].item<bool>() == expect);
      }
  }
}

TEST_CASE("the whole model equals a loop-by-loop reference, sliding and global layers") {
  auto m = tiny_model(11);
  at::Tensor ids = random_ids(1, 9, m->config().vocab_size, 3);  // longer than the window of 4
  at::NoGradGuard no_grad;
  at::Tensor logits = m->logits(m->forward(ids, at::ones_like(ids)));
  at::Tensor ref = reference_logits(*m, ids[0]);
  CHECK(max_diff(logits[0], ref) < 1e-4);
}

TEST_CASE("linear RoPE scaling and logit softcapping follow the config") {
  ModelConfig c = tiny_config();
  c.rope_scaling_factor = 8.0;
  auto m = tiny_model(12, c);
  at::Tensor ids = random_ids(1, 6, c.vocab_size, 4);
  at::NoGradGuard no_grad;
  CHECK(max_diff(m->logits(m->forward(ids, at::ones_like(ids)))[0], reference_logits(*m, ids[0])) < 1e-4);
  c.final_logit_softcapping = 0.5;
  auto capped = tiny_model(12, c);
  CHECK(capped->logits(capped->forward(ids, at::ones_like(ids))).abs().max().item<float>() <= 0.5f);
}

TEST_CASE("the KV cache gives the logits of the full forward, past the sliding window") {
  auto m = tiny_model(13);
  at::Tensor ids = random_ids(2, 12, m->config().vocab_size, 5);
  at::NoGradGuard no_grad;
  at::Tensor full = m->logits(m->forward(ids, at::ones_like(ids)));
  KvCache cache;
  // A prefill of 5 tokens, then one token at a time.
  std::vector<at::Tensor> parts = {
      m->logits(m->forward(ids.slice(1, 0, 5), at::ones({2, 5}, at::kLong), &cache))};
  for (int64_t t = 5; t < 12; ++t)
    parts.push_back(m->logits(m->forward(ids.slice(1, t, t + 1), at::ones({2, 1}, at::kLong), &cache)));
  CHECK(max_diff(at::cat(parts, 1), full) < 1e-5);
  // Sliding layers kept only their window; the global layer kept everything.
  CHECK(cache.k[0].size(2) == 4);
  CHECK(cache.k[2].size(2) == 12);
  CHECK(cache.length() == 12);
}

TEST_CASE("prefill gives the last position and a cache that continues like the full forward's") {
  // All-sliding layers (pattern 4 over 3 layers), a window of 3 and a prompt of 20: each layer runs only the
  // positions a later token can reach. The mixed model has a global last layer, so it runs everything.
  ModelConfig sliding = tiny_config(3);
  sliding.sliding_layers = {true, true, true};
  for (const ModelConfig& c : {sliding, tiny_config(3)}) {
    auto m = tiny_model(16, c);
    at::NoGradGuard no_grad;
    at::Tensor ids = random_ids(2, 23, c.vocab_size, 8);
    at::Tensor mask = at::ones({2, 20}, at::kLong);
    mask[1].slice(0, 0, 6).zero_();  // row 1 is left-padded
    at::Tensor full_mask = at::cat({mask, at::ones({2, 3}, at::kLong)}, 1);
    at::Tensor full = m->logits(m->forward(ids, full_mask));
    KvCache cache;
    at::Tensor last = m->prefill(ids.slice(1, 0, 20), mask, cache);
    REQUIRE(last.sizes() == at::IntArrayRef({2, 1, c.hidden_size}));
    CHECK(max_diff(m->logits(last).select(1, 0), full.select(1, 19)) < 1e-5);
    at::Tensor rest = m->logits(m->forward(ids.slice(1, 20), at::ones({2, 3}, at::kLong), &cache));
    CHECK(max_diff(rest, full.slice(1, 20)) < 1e-5);
    CHECK(cache.length() == 23);
  }
}

TEST_CASE("a left-padded batch gives each row the logits it has alone") {
  auto m = tiny_model(14);
  at::NoGradGuard no_grad;
  at::Tensor a = random_ids(1, 10, m->config().vocab_size, 6),
             b = random_ids(1, 4, m->config().vocab_size, 7);
  at::Tensor batch = at::zeros({2, 10}, at::kLong), mask = at::zeros({2, 10}, at::kLong);
  batch[0] = a[0];
  mask[0].fill_(1);
  batch[1].slice(0, 6) = b[0];
  mask[1].slice(0, 6).fill_(1);
  at::Tensor logits = m->logits(m->forward(batch, mask));
  at::Tensor alone_a = m->logits(m->forward(a, at::ones_like(a)));
  at::Tensor alone_b = m->logits(m->forward(b, at::ones_like(b)));
  CHECK(max_diff(logits[0], alone_a[0]) < 1e-5);
  CHECK(max_diff(logits[1].slice(0, 6), alone_b[0]) < 1e-5);
  // And continuing both rows through the cache keeps them equal.
  KvCache cache;
  m->forward(batch, mask, &cache);
  at::Tensor next = at::tensor({7, 9}, at::kLong).view({2, 1});
  at::Tensor step = m->logits(m->forward(next, at::ones({2, 1}, at::kLong), &cache));
  at::Tensor a2 = at::cat({a, next[0].view({1, 1})}, 1), b2 = at::cat({b, next[1].view({1, 1})}, 1);
  CHECK(max_diff(step[0][0], m->logits(m->forward(a2, at::ones_like(a2)))[0][10]) < 1e-5);
  CHECK(max_diff(step[1][0], m->logits(m->forward(b2, at::ones_like(b2)))[0][4]) < 1e-5);
}

TEST_CASE("bfloat16 weights give logits close to float32") {
  auto f32 = tiny_model(15);
  auto bf16 = tiny_model(15, tiny_config(), at::kBFloat16);
  at::Tensor ids = random_ids(1, 8, f32->config().vocab_size, 8);
  at::NoGradGuard no_grad;
  at::Tensor lf = f32->logits(f32->forward(ids, at::ones_like(ids)));
  at::Tensor lb = bf16->logits(bf16->forward(ids, at::ones_like(ids)));
  CHECK((lb.scalar_type() == at::kBFloat16));
  CHECK(max_diff(lf, lb) / lf.abs().max().item<double>() < 0.05);
}
