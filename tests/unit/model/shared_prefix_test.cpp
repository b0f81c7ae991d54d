// Shared-prefix batches change cost, not results: rows of one schema run their common start once, and the
// loss and every gradient equal those of the plain batch (sliding layers whose window is shorter than the
// prefix included). The prefix never reaches a supervised position; batches by group hold one group each.
#include "support/torch_doctest.h"

#include <set>

#include "tiny_model.h"
#include "train/sft_data.h"

using namespace af::train;
using af::test::tiny_config;
using af::test::tiny_model;

namespace {

// `rows` examples that share their first `common` tokens, then differ; the completion is the last 6 tokens.
std::vector<Example> examples_sharing(size_t common, size_t rows, const std::string& group = "g") {
  std::vector<Example> out;
  for (size_t r = 0; r < rows; ++r) {
    Example e;
    for (size_t t = 0; t < common; ++t) e.ids.push_back(static_cast<int32_t>(4 + (t * 7) % 40));
    for (size_t t = 0; t < 10 + 3 * r; ++t) e.ids.push_back(static_cast<int32_t>(4 + (r * 11 + t * 5) % 45));
    e.completion_begin = e.ids.size() - 6;
    e.completion_end = e.ids.size();
    e.group = group;
    e.id = "row" + std::to_string(r);
    out.push_back(e);
  }
  return out;
}

struct Run {
  double loss;
  std::vector<at::Tensor> grads;
};

Run loss_and_grads(af::model::Gemma3& m, const Batch& b) {
  std::vector<at::Tensor*> trained;
  for (auto& nt : m.named_weights()) {
    nt.tensor->set_requires_grad(true);
    if (nt.tensor->grad().defined()) nt.tensor->mutable_grad().zero_();
    trained.push_back(nt.tensor);
  }
  at::Tensor loss = batch_loss(m, b, 0.1);
  loss.backward();
  Run r{loss.item<double>(), {}};
  for (auto* t : trained) r.grads.push_back(t->grad().clone());
  return r;
}

}  // namespace

TEST_CASE("shared prefix: the batch's common start, before the first supervised position") {
  auto ex = examples_sharing(40, 3);
  Batch plain = make_batch(ex, {0, 1, 2}, 0, false);
  Batch shared = make_batch(ex, {0, 1, 2}, 0, true);
  CHECK(plain.prefix_len == 0);
  // Rows 0..2 share 40 tokens, and the generated tails start alike: (r * 11 + 0) % 45 differs for r = 0, 1.
  CHECK(shared.prefix_len == 40);
  CHECK(shared.prefix_ids.size(1) == 40);
  CHECK(shared.ids.size(1) == plain.ids.size(1) - 40);
  CHECK(shared.supervised == plain.supervised);
  CHECK(shared.tokens == plain.tokens);
  CHECK(at::equal(shared.targets, plain.targets.slice(1, 40)));

  // Identical rows: the prefix stops where the first supervised token is predicted.
  auto same = examples_sharing(40, 1);
  same.push_back(same[0]);
  CHECK(make_batch(same, {0, 1}, 0, true).prefix_len == static_cast<int64_t>(same[0].completion_begin - 1));
  // Too short a common start is not shared; neither is a batch of one.
  auto short_start = examples_sharing(kMinSharedPrefix - 1, 2);
  CHECK(make_batch(short_start, {0, 1}, 0, true).prefix_len == 0);
  CHECK(make_batch(ex, {1}, 0, true).prefix_len == 0);
}

TEST_CASE("shared prefix: loss and gradients equal the plain batch's, through sliding windows") {
  auto ex = examples_sharing(40, 3);
  auto check_same = [&](af::model::Gemma3& m) {
    m.set_training(true);
    Run plain = loss_and_grads(m, make_batch(ex, {0, 1, 2}, 0, false));
    Run shared = loss_and_grads(m, make_batch(ex, {0, 1, 2}, 0, true));
    CHECK(shared.loss == doctest::Approx(plain.loss).epsilon(1e-6));
    REQUIRE(shared.grads.size() == plain.grads.size());
    for (size_t i = 0; i < plain.grads.size(); ++i) {
      INFO("tensor " << i);
      double scale = plain.grads[i].abs().max().item<double>();
      CHECK(scale > 0);
      CHECK((shared.grads[i] - plain.grads[i]).abs().max().item<double>() <= 1e-5 * scale);
    }
  };
  // Window 4 < prefix 40: the sliding layers keep only the last keys of the prefix.
  check_same(*tiny_model(7, tiny_config(4, 3)));
  // Every layer sliding: the prefix runs only the positions the rows can reach (its last 3 x 4).
  af::model::ModelConfig local = tiny_config(4, 3);
  local.sliding_layers = {true, true, true};
  check_same(*tiny_model(9, local));
  // A window wider than the whole sequence: every layer sees the full prefix.
  auto wide = tiny_model(8, tiny_config(64, 2));
  wide->set_training(true);
  CHECK(loss_and_grads(*wide, make_batch(ex, {0, 2}, 0, true)).loss ==
        doctest::Approx(loss_and_grads(*wide, make_batch(ex, {0, 2}, 0, false)).loss).epsilon(1e-6));
}

TEST_CASE("batches by group: one group per batch, every example once, seeded") {
  std::vector<Example> all;
  for (const char* g : {"a", "b", "c"}) {
    auto part = examples_sharing(40, 5, g);
    all.insert(all.end(), part.begin(), part.end());
  }
  BatchGrouping by_group{false, true};
  auto batches = epoch_batches(all, 2, 3, 0, by_group);
  CHECK(batches == epoch_batches(all, 2, 3, 0, by_group));
  CHECK(batches.size() == 9);  // 5 per group in batches of 2: 3 batches each
  std::multiset<size_t> seen;
  for (const auto& batch : batches) {
    std::set<std::string> groups;
    for (size_t i : batch) {
      groups.insert(all[i].group);
      seen.insert(i);
    }
    CHECK(groups.size() == 1);
  }
  CHECK(seen.size() == all.size());
  CHECK(std::set<size_t>(seen.begin(), seen.end()).size() == all.size());
  auto eval = ordered_batches(all, 4, true);
  CHECK(eval.size() == 6);
  CHECK(eval[0] == std::vector<size_t>{0, 1, 2, 3});
  CHECK(eval[1] == std::vector<size_t>{4});
}
