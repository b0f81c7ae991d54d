#include "model/generate.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <limits>
#include <set>

#include "core/error.h"

namespace af::model {

int32_t choose_token(at::Tensor logits, const std::vector<int32_t>& generated, const GenerationSettings& s,
                     at::Generator* generator) {
  if (s.repetition_penalty != 1.0 && !generated.empty()) {
    std::set<int32_t> seen(generated.begin(), generated.end());
    std::vector<int64_t> ids(seen.begin(), seen.end());
    at::Tensor idx = at::tensor(ids, at::TensorOptions().dtype(at::kLong)).to(logits.device());
    at::Tensor picked = logits.index_select(0, idx);
    // As Hugging Face does: shrink positive scores, push negative ones further down.
    picked = at::where(picked > 0, picked / s.repetition_penalty, picked * s.repetition_penalty);
    logits = logits.index_copy(0, idx, picked);
  }
  if (!s.do_sample) return static_cast<int32_t>(logits.argmax().item<int64_t>());
  at::Tensor scores = logits / s.temperature;
  if (s.top_k > 0 && s.top_k < scores.size(0)) {
    at::Tensor kth = std::get<0>(at::topk(scores, s.top_k)).min();
    scores = scores.masked_fill(scores < kth, -std::numeric_limits<float>::infinity());
  }
  if (s.top_p < 1.0) {
    auto [sorted, order] = at::sort(scores, 0, true);
    at::Tensor cumulative = at::softmax(sorted, 0).cumsum(0);
    // Keep the smallest prefix whose mass reaches top_p: drop a token when the mass before it already does.
    at::Tensor drop = (cumulative - at::softmax(sorted, 0)) >= s.top_p;
    sorted = sorted.masked_fill(drop, -std::numeric_limits<float>::infinity());
    scores = at::empty_like(scores).index_put_({order}, sorted);
  }
  at::Tensor probs = at::softmax(scores, 0).to(at::kCPU);
  return static_cast<int32_t>(at::multinomial(probs, 1, false, *generator).item<int64_t>());
}

void mask_logits(at::Tensor& logits, const constrain::TokenBits& allowed) {
  float* p = logits.data_ptr<float>();
  auto V = static_cast<size_t>(logits.size(0));
  const float kOff = -std::numeric_limits<float>::infinity();
  for (size_t w = 0; w < allowed.size() && w * 64 < V; ++w) {
    uint64_t bits = allowed[w];
    if (bits == ~uint64_t{0}) continue;
    size_t end = std::min(V, w * 64 + 64);
    for (size_t i = w * 64; i < end; ++i)
      if (((bits >> (i - w * 64)) & 1) == 0) p[i] = kOff;
  }
  for (size_t i = allowed.size() * 64; i < V; ++i) p[i] = kOff;  // ids past the constraint's vocabulary
}

std::vector<Generation> generate(const Gemma3& model, const std::vector<std::vector<int32_t>>& prompts,
                                 const GenerationSettings& s,
                                 const std::vector<constrain::SchemaConstraint*>& constraints) {
  c10::InferenceMode inference;
  auto B = static_cast<int64_t>(prompts.size());
  std::vector<Generation> out(prompts.size());
  if (B == 0) return out;
  if (s.max_new_tokens <= 0) {
    for (auto& g : out) g.finish_reason = "length";
    return out;
  }
  size_t longest = 0;
  for (const auto& p : prompts) {
    if (p.empty()) throw usage_error("generation needs a prompt of at least one token");
    longest = std::max(longest, p.size());
  }
  auto L = static_cast<int64_t>(longest);
  at::Tensor ids = at::full({B, L}, s.pad_token_id, at::TensorOptions().dtype(at::kLong));
  at::Tensor mask = at::zeros({B, L}, at::TensorOptions().dtype(at::kLong));
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[static_cast<size_t>(b)];
    auto n = static_cast<int64_t>(p.size());
    std::vector<int64_t> row(p.begin(), p.end());
    ids[b].slice(0, L - n) = at::tensor(row, at::TensorOptions().dtype(at::kLong));
    mask[b].slice(0, L - n).fill_(1);
  }
  auto device = model.options().device();
  std::vector<at::Generator> generators;
  if (!s.row_seeds.empty() && s.row_seeds.size() != prompts.size())
    throw runtime_error("generation got " + std::to_string(s.row_seeds.size()) + " row seeds for " +
                        std::to_string(prompts.size()) + " prompts");
  for (int64_t b = 0; b < B; ++b) {
    uint64_t seed = s.row_seeds.empty() ? s.seed * 1000003ULL + static_cast<uint64_t>(b)
                                        : s.row_seeds[static_cast<size_t>(b)] * 1000003ULL;
    generators.push_back(at::make_generator<at::CPUGeneratorImpl>(seed));
  }
  std::set<int32_t> stops(s.stop_tokens.begin(), s.stop_tokens.end());

  KvCache cache;
  at::Tensor hidden = model.prefill(ids.to(device), mask.to(device), cache);
  at::Tensor logits = model.logits(hidden.select(1, 0)).to(at::kFloat);
  std::vector<int64_t> active(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) active[static_cast<size_t>(b)] = b;
  while (!active.empty()) {
    std::vector<int64_t> next_tokens, keep;
    for (size_t i = 0; i < active.size(); ++i) {
      auto row = static_cast<size_t>(active[i]);
      Generation& g = out[row];
      at::Tensor row_logits = logits[static_cast<int64_t>(i)];
      constrain::SchemaConstraint* constraint = row < constraints.size() ? constraints[row] : nullptr;
      if (constraint != nullptr) {
        const constrain::TokenBits& allowed = constraint->allowed();
        bool any = std::any_of(allowed.begin(), allowed.end(), [](uint64_t w) { return w != 0; });
        if (!any) {
          g.finish_reason = "constraint";
          continue;
        }
        row_logits = row_logits.to(at::kCPU).contiguous().clone();
        mask_logits(row_logits, allowed);
      }
      int32_t token = choose_token(row_logits, g.tokens, s, &generators[row]);
      if (stops.count(token) != 0) {
        g.finish_reason = "stop";
        continue;
      }
      g.tokens.push_back(token);
      if (constraint != nullptr && !constraint->accept(token))
        throw runtime_error("constrained generation chose token " + std::to_string(token) +
                            ", which the constraint did not allow");
      if (static_cast<int64_t>(g.tokens.size()) >= s.max_new_tokens) {
        // A constrained document that is whole at the last token is not cut off: nothing but the stop token
        // could follow it (the constraint keeps every document within max_new_tokens).
        g.finish_reason = constraint != nullptr && constraint->complete() ? "stop" : "length";
        continue;
      }
      keep.push_back(static_cast<int64_t>(i));
      next_tokens.push_back(token);
    }
    if (keep.empty()) break;
    if (keep.size() != active.size()) {
      cache.select_rows(at::tensor(keep, at::TensorOptions().dtype(at::kLong)).to(device));
      std::vector<int64_t> still;
      for (int64_t i : keep) still.push_back(active[static_cast<size_t>(i)]);
      active = std::move(still);
    }
    auto n = static_cast<int64_t>(active.size());
    at::Tensor step = at::tensor(next_tokens, at::TensorOptions().dtype(at::kLong)).view({n, 1}).to(device);
    hidden = model.forward(step, at::ones({n, 1}, at::TensorOptions().dtype(at::kLong)).to(device), &cache);
    logits = model.logits(hidden.select(1, 0)).to(at::kFloat);
  }
  return out;
}

}  // namespace af::model
