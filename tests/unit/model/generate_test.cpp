// Generation: greedy equals argmax of the full forward, batching and left padding change nothing, stop tokens
// and max_new_tokens end rows, sampling is seeded and follows top-k / top-p, the chunked loss equals the
// plain one.
#include "support/torch_doctest.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/autograd.h>

#include <set>

#include "model/generate.h"
#include "model/lm_loss.h"
#include "tiny_model.h"

using namespace af::model;
using af::test::tiny_model;

namespace {
std::vector<int32_t> greedy_by_full_forward(Gemma3& m, std::vector<int32_t> ids, int n) {
  at::NoGradGuard no_grad;
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    std::vector<int64_t> v(ids.begin(), ids.end());
    at::Tensor t = at::tensor(v, at::kLong).view({1, -1});
    auto next =
        static_cast<int32_t>(m.logits(m.forward(t, at::ones_like(t)))[0][-1].argmax().item<int64_t>());
    out.push_back(next);
    ids.push_back(next);
  }
  return out;
}
}  // namespace

TEST_CASE("greedy generation with the cache equals argmax over full forwards, batched or alone") {
  auto m = tiny_model(41);
  GenerationSettings s;
  s.max_new_tokens = 10;  // runs past the sliding window of 4
  std::vector<std::vector<int32_t>> prompts = {{5, 9, 11, 7, 20, 21, 3}, {8, 4}, {30, 31, 32}};
  auto batched = generate(*m, prompts, s);
  for (size_t i = 0; i < prompts.size(); ++i) {
    CHECK(batched[i].tokens == greedy_by_full_forward(*m, prompts[i], 10));
    CHECK(batched[i].finish_reason == "length");
    CHECK(generate(*m, {prompts[i]}, s)[0].tokens == batched[i].tokens);
  }
}

TEST_CASE("a stop token ends its row without being returned, the others go on") {
  auto m = tiny_model(42);
  GenerationSettings s;
  s.max_new_tokens = 8;
  std::vector<std::vector<int32_t>> prompts = {{5, 9, 11}, {8, 4, 6, 2}};
  auto free = generate(*m, prompts, s);
  s.stop_tokens = {free[0].tokens[2]};
  auto stopped = generate(*m, prompts, s);
  CHECK(stopped[0].finish_reason == "stop");
  // Each row ends where it first produced the stop token (the token itself not returned), or runs to the
  // limit.
  auto first = std::find(free[0].tokens.begin(), free[0].tokens.end(), s.stop_tokens[0]);
  CHECK(first - free[0].tokens.begin() <= 2);
  CHECK(stopped[0].tokens == std::vector<int32_t>(free[0].tokens.begin(), first));
  auto it = std::find(free[1].tokens.begin(), free[1].tokens.end(), s.stop_tokens[0]);
  CHECK(stopped[1].tokens == std::vector<int32_t>(free[1].tokens.begin(), it));
  CHECK(stopped[1].finish_reason == (it == free[1].tokens.end() ? "length" : "stop"));
  s.max_new_tokens = 0;
  CHECK(generate(*m, prompts, s)[0].tokens.empty());
}

TEST_CASE("sampling is seeded per row and respects top-k, top-p and temperature") {
  auto m = tiny_model(43);
  GenerationSettings s;
  s.do_sample = true;
  s.max_new_tokens = 6;
  s.seed = 3;
  std::vector<std::vector<int32_t>> prompts = {{5, 9}, {8, 4, 6}};
  auto a = generate(*m, prompts, s);
  CHECK(generate(*m, prompts, s)[1].tokens == a[1].tokens);
  s.seed = 4;
  bool differs = false;
  for (int trial = 0; trial < 5 && !differs; ++trial, ++s.seed)
    differs = generate(*m, prompts, s)[0].tokens != a[0].tokens;
  CHECK(differs);

  at::Tensor logits = at::tensor({1.0f, 3.0f, 2.0f, 0.5f});
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  GenerationSettings k;
  k.do_sample = true;
  k.top_k = 1;
  for (int i = 0; i < 20; ++i) CHECK(choose_token(logits, {}, k, &gen) == 1);
  k.top_k = 0;
  k.top_p = 0.6;  // softmax: 0.64 for id 1 alone reaches 0.6
  for (int i = 0; i < 20; ++i) CHECK(choose_token(logits, {}, k, &gen) == 1);
  k.top_p = 0.85;  // ids 1 and 2 (0.63 + 0.23); id 0 would be needed only above 0.86
  std::set<int32_t> seen;
  for (int i = 0; i < 200; ++i) seen.insert(choose_token(logits, {}, k, &gen));
  CHECK((seen == std::set<int32_t>{1, 2}));
  GenerationSettings greedy;
  greedy.repetition_penalty = 4.0;  // 3 / 4 < 2: the repeated best token loses to the next one
  CHECK(choose_token(logits, {1}, greedy, &gen) == 2);
  CHECK(choose_token(logits, {}, greedy, &gen) == 1);
}

TEST_CASE("the chunked LM loss and its gradients equal plain cross-entropy") {
  at::manual_seed(5);
  at::Tensor hidden = at::randn({10, 8}, at::kDouble).set_requires_grad(true);
  at::Tensor weight = at::randn({30, 8}, at::kDouble).set_requires_grad(true);
  at::Tensor labels = at::randint(0, 30, {10}, at::kLong);
  labels[3] = -100;  // ignored
  for (double smoothing : {0.0, 0.1}) {
    for (auto softcap : {std::optional<double>(), std::optional<double>(2.0)}) {
      at::Tensor loss = chunked_lm_loss(hidden, weight, labels, smoothing, 3, softcap);
      auto [gh, gw] = [&] {
        auto g = torch::autograd::grad({loss}, {hidden, weight});
        return std::make_pair(g[0], g[1]);
      }();
      at::Tensor logits = at::matmul(hidden, weight.t());
      if (softcap) logits = at::tanh(logits / *softcap) * *softcap;
      at::Tensor ref = at::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum, -100, smoothing);
      CHECK(loss.item<double>() == doctest::Approx(ref.item<double>()).epsilon(1e-6));
      auto g = torch::autograd::grad({ref}, {hidden, weight});
      // The logits are float32 (as in training), so agreement is to float32 precision.
      CHECK((gh - g[0]).abs().max().item<double>() < 1e-5);
      CHECK((gw - g[1]).abs().max().item<double>() < 1e-5);
    }
  }
}
