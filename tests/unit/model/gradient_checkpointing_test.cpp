// Gradient checkpointing changes memory, not results: the loss and every gradient equal those of the plain
// backward, with LoRA (dropout masks replayed) and with every weight trained, and with padding.
#include "support/torch_doctest.h"

#include "model/lora.h"
#include "tiny_model.h"

using namespace af::model;
using af::test::random_ids;
using af::test::tiny_model;

namespace {

struct Run {
  double loss;
  std::vector<at::Tensor> grads;
};

// One forward + backward of a fixed loss (sum of squares of the hidden states, weighted) from seed `draws`.
Run loss_and_grads(Gemma3& m, const std::vector<at::Tensor*>& trained, bool checkpointing, uint64_t draws) {
  m.set_gradient_checkpointing(checkpointing);
  m.set_training(true);
  for (auto* t : trained) {
    t->set_requires_grad(true);
    if (t->grad().defined()) t->mutable_grad().zero_();
  }
  at::Tensor ids = random_ids(2, 7, m.config().vocab_size, 5);
  at::Tensor mask = at::ones({2, 7}, at::kLong);
  mask.index_put_({0, at::indexing::Slice(0, 2)}, 0);  // left padding on the first row
  at::manual_seed(draws);                              // the dropout masks of this step
  at::Tensor h = m.forward(ids, mask);
  at::Tensor weights = at::linspace(0.5, 1.5, h.size(-1));
  at::Tensor loss = (h.pow(2) * weights).sum();
  loss.backward();
  Run r{loss.item<double>(), {}};
  for (auto* t : trained) r.grads.push_back(t->grad().clone());
  return r;
}

void check_same(const Run& a, const Run& b) {
  CHECK(a.loss == doctest::Approx(b.loss).epsilon(1e-6));
  REQUIRE(a.grads.size() == b.grads.size());
  for (size_t i = 0; i < a.grads.size(); ++i) {
    CHECK(a.grads[i].abs().sum().item<double>() > 0);
    // Float32 rounding only (the no-grad forward may take the fused RMSNorm): within 1e-5 of the largest.
    double scale = a.grads[i].abs().max().item<double>();
    INFO("tensor " << i);
    CHECK((a.grads[i] - b.grads[i]).abs().max().item<double>() <= 1e-5 * scale);
  }
}

}  // namespace

TEST_CASE("LoRA with dropout: checkpointed gradients equal the plain ones") {
  auto m = tiny_model(41);
  LoraSettings s;
  s.r = 4;
  s.lora_alpha = 8;
  s.lora_dropout = 0.3;
  s.target_modules = {"all-linear"};
  s.init_lora_weights = "false";  // B random, so every A gets a gradient
  add_lora(*m, s, 7);
  std::vector<at::Tensor*> trained;
  for (auto& nt : adapter_tensors(*m, s)) trained.push_back(nt.tensor);
  REQUIRE(trained.size() == 3 * 7 * 2);
  Run plain = loss_and_grads(*m, trained, false, 99);
  Run recomputed = loss_and_grads(*m, trained, true, 99);
  check_same(plain, recomputed);
  // Other dropout draws give other gradients: the test would see masks that were not replayed.
  Run other = loss_and_grads(*m, trained, false, 100);
  CHECK((other.grads[0] - plain.grads[0]).abs().max().item<double>() > 1e-3);
}

TEST_CASE("every weight trained: checkpointed gradients equal the plain ones") {
  auto m = tiny_model(42);
  std::vector<at::Tensor*> trained;
  for (auto& nt : m->named_weights()) trained.push_back(nt.tensor);
  Run plain = loss_and_grads(*m, trained, false, 1);
  Run recomputed = loss_and_grads(*m, trained, true, 1);
  check_same(plain, recomputed);
}

TEST_CASE("without grad (evaluation), checkpointing changes nothing and keeps no graph") {
  auto m = tiny_model(43);
  m->set_gradient_checkpointing(true);
  m->set_training(true);
  at::Tensor ids = random_ids(1, 5, m->config().vocab_size, 6);
  at::NoGradGuard no_grad;
  at::Tensor a = m->forward(ids, at::ones({1, 5}, at::kLong));
  m->set_gradient_checkpointing(false);
  at::Tensor b = m->forward(ids, at::ones({1, 5}, at::kLong));
  CHECK((at::equal(a, b)));
  CHECK_FALSE(a.requires_grad());
}
