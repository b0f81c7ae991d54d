// DPO on a tiny model against values computed by hand: the completions' log-probabilities from the full
// logits, the loss, and every metric (rewards, accuracies, margins, logps, logits); identical chosen and
// rejected give zero margin; training on pairs moves rewards/accuracies to 1.
#include "support/torch_doctest.h"

#include <cmath>
#include <set>

#include "tiny_model.h"
#include "train/adamw.h"
#include "train/dpo_objective.h"

using namespace af::train;
using af::test::tiny_model;

namespace {

Example example(std::vector<int32_t> ids, size_t completion_begin) {
  Example e;
  e.completion_begin = completion_begin;
  e.completion_end = ids.size();
  e.ids = std::move(ids);
  return e;
}

// Two pairs of different lengths (so padding is exercised): prompt tokens, then the completion.
PairData two_pairs() {
  PairData d;
  d.examples = {example({2, 5, 9, 11, 7, 8}, 4), example({2, 5, 9, 11, 30, 31, 32}, 4),
                example({2, 14, 6, 20, 21}, 3), example({2, 14, 6, 40}, 3)};
  d.rows = 2;
  return d;
}

struct Hand {
  double logp = 0;        // summed log-probability of the completion tokens
  double mean_logit = 0;  // mean logit of those tokens
};

// From the model's full logits, one example at a time.
Hand by_hand(af::model::Gemma3& m, const Example& e) {
  at::NoGradGuard no_grad;
  at::Tensor ids = at::tensor(std::vector<int64_t>(e.ids.begin(), e.ids.end())).view({1, -1});
  at::Tensor logits = m.logits(m.forward(ids, at::ones_like(ids)))[0].to(at::kDouble);
  at::Tensor logp = at::log_softmax(logits, -1);
  Hand h;
  for (size_t j = e.completion_begin; j < e.completion_end; ++j) {
    h.logp += logp[static_cast<int64_t>(j) - 1][e.ids[j]].item<double>();
    h.mean_logit += logits[static_cast<int64_t>(j) - 1][e.ids[j]].item<double>();
  }
  h.mean_logit /= static_cast<double>(e.completion_end - e.completion_begin);
  return h;
}

double log_sigmoid(double x) {
  return -std::log1p(std::exp(-x));
}

}  // namespace

TEST_CASE("reference log-probabilities, the loss and every metric equal the values computed by hand") {
  auto m = tiny_model(51);
  PairData d = two_pairs();
  auto ref = compute_reference_logps(*m, d, 0, 2, false);
  REQUIRE(ref.size() == 2);
  std::vector<Hand> hand;
  for (const auto& e : d.examples) hand.push_back(by_hand(*m, e));
  for (size_t p = 0; p < 2; ++p) {
    CHECK(ref[p][0] == doctest::Approx(hand[2 * p].logp).epsilon(1e-5));
    CHECK(ref[p][1] == doctest::Approx(hand[2 * p + 1].logp).epsilon(1e-5));
  }
  // A reference that liked the chosen answers 1.0 less and the rejected ones 0.5 more than the policy does:
  // h = 1.5 for both pairs.
  std::vector<std::array<double, 2>> shifted = {{ref[0][0] - 1.0, ref[0][1] + 0.5},
                                                {ref[1][0] - 1.0, ref[1][1] + 0.5}};
  DpoLossSettings s;
  s.beta = 0.1;
  DpoObjective obj(*m, d, shifted, 0, 2, 1, s, false);
  auto [loss, tokens] = obj.run({0, 1}, 2.0, false);
  CHECK(tokens == 6 + 7 + 5 + 4);
  CHECK(loss == doctest::Approx(-2 * log_sigmoid(0.15)).epsilon(1e-6));
  auto metrics = obj.take_log_metrics();
  CHECK(metrics["rewards/chosen"] == doctest::Approx(0.1).epsilon(1e-6));
  CHECK(metrics["rewards/rejected"] == doctest::Approx(-0.05).epsilon(1e-6));
  CHECK(metrics["rewards/margins"] == doctest::Approx(0.15).epsilon(1e-6));
  CHECK(metrics["rewards/accuracies"] == 1.0);
  CHECK(metrics["logps/chosen"] == doctest::Approx((hand[0].logp + hand[2].logp) / 2).epsilon(1e-5));
  CHECK(metrics["logps/rejected"] == doctest::Approx((hand[1].logp + hand[3].logp) / 2).epsilon(1e-5));
  CHECK(metrics["logits/chosen"] ==
        doctest::Approx((hand[0].mean_logit + hand[2].mean_logit) / 2).epsilon(1e-5));
  CHECK(metrics["logits/rejected"] ==
        doctest::Approx((hand[1].mean_logit + hand[3].mean_logit) / 2).epsilon(1e-5));
  CHECK(obj.take_log_metrics()["rewards/chosen"] == 0.0);  // the window starts over

  // RPO adds rpo_alpha x the chosen answers' NLL, averaged over their tokens (2 + 2), once per pair.
  s.rpo_alpha = 0.5;
  DpoObjective rpo(*m, d, shifted, 0, 2, 1, s, false);
  double nll = -(hand[0].logp + hand[2].logp) / 4;
  CHECK(rpo.run({0, 1}, 2.0, false).first ==
        doctest::Approx(-2 * log_sigmoid(0.15) + 2 * 0.5 * nll).epsilon(1e-6));
  CHECK(rpo.take_log_metrics()["nll_loss"] == doctest::Approx(nll).epsilon(1e-6));
  CHECK(metrics.count("nll_loss") == 0);  // plain DPO logs no NLL
  s.rpo_alpha = 0;

  // IPO compares token-averaged log-probabilities: h = 1.0 / 2 + 0.5 / 3 for pair 0 (completion 2 and 3
  // tokens).
  s.loss_type = "ipo";
  DpoObjective ipo(*m, d, shifted, 0, 2, 1, s, false);
  double h0 = 1.0 / 2 + 0.5 / 3, h1 = 1.0 / 2 + 0.5 / 1;
  CHECK(ipo.run({0, 1}, 2.0, false).first ==
        doctest::Approx(std::pow(h0 - 5.0, 2) + std::pow(h1 - 5.0, 2)).epsilon(1e-6));
}

TEST_CASE("a pair whose chosen and rejected are identical has zero margin and the loss log 2") {
  auto m = tiny_model(52);
  PairData d;
  d.examples = {example({2, 5, 9, 11, 7}, 3), example({2, 5, 9, 11, 7}, 3)};
  auto ref = compute_reference_logps(*m, d, 0, 1, false);
  DpoObjective obj(*m, d, ref, 0, 1, 1, DpoLossSettings{}, false);
  CHECK(obj.run({0}, 1.0, false).first == doctest::Approx(std::log(2.0)));
  auto metrics = obj.take_log_metrics();
  CHECK(metrics["rewards/margins"] == 0.0);
  CHECK(metrics["rewards/accuracies"] == 0.0);
}

TEST_CASE("training on pairs moves rewards/accuracies to 1") {
  auto m = tiny_model(53);
  PairData d = two_pairs();
  auto ref = compute_reference_logps(*m, d, 0, 2, false);
  std::vector<TrainedTensor> trained;
  for (auto& nt : m->named_weights()) {
    nt.tensor->set_requires_grad(true);
    trained.push_back({nt.name, nt.tensor, true});
  }
  AdamW opt(trained, {});
  DpoLossSettings s;
  DpoObjective obj(*m, d, ref, 0, 2, 1, s, false);
  m->set_training(true);
  double first_loss = 0, last_loss = 0;
  for (int step = 0; step < 30; ++step) {
    double loss = obj.run({0, 1}, 2.0, true).first / 2;
    opt.step(1e-2);
    opt.zero_grad();
    if (step == 0) {
      first_loss = loss;
      // policy == reference: no preference yet (up to float rounding of the grad-mode forward)
      CHECK(std::abs(obj.take_log_metrics()["rewards/margins"]) < 1e-5);
    }
    last_loss = loss;
  }
  obj.take_log_metrics();
  obj.run({0, 1}, 2.0, false);
  auto metrics = obj.take_log_metrics();
  CHECK(first_loss == doctest::Approx(std::log(2.0)));
  CHECK(last_loss < first_loss);
  CHECK(metrics["rewards/accuracies"] == 1.0);
  CHECK(metrics["rewards/margins"] > 0);
}

TEST_CASE("shared prefix: pairs of one schema give the same log-probabilities, computed once per batch") {
  auto m = tiny_model(53);
  // Three pairs: two of schema "a" sharing a 40-token prompt start, one of "b"; then each its request.
  std::vector<int32_t> schema_a, schema_b;
  for (int32_t t = 0; t < 40; ++t) {
    schema_a.push_back(4 + (t * 7) % 40);
    schema_b.push_back(4 + (t * 3) % 41);
  }
  auto pair_of = [](std::vector<int32_t> start, std::vector<int32_t> request, std::vector<int32_t> chosen,
                    std::vector<int32_t> rejected, const std::string& group) {
    start.insert(start.end(), request.begin(), request.end());
    size_t begin = start.size();
    std::vector<int32_t> c = start, r = start;
    c.insert(c.end(), chosen.begin(), chosen.end());
    r.insert(r.end(), rejected.begin(), rejected.end());
    Example ec = example(c, begin), er = example(r, begin);
    ec.group = er.group = group;
    return std::vector<Example>{ec, er};
  };
  PairData d;
  for (auto pair : {pair_of(schema_a, {9, 10}, {11, 12, 13}, {14}, "a"),
                    pair_of(schema_b, {15, 16, 17}, {18, 19}, {20, 21, 22}, "b"),
                    pair_of(schema_a, {23}, {24, 25}, {26, 27}, "a")})
    d.examples.insert(d.examples.end(), pair.begin(), pair.end());
  d.rows = 3;
  auto plain = compute_reference_logps(*m, d, 0, 2, false, false);
  auto shared = compute_reference_logps(*m, d, 0, 2, false, true);
  REQUIRE(shared.size() == 3);
  for (size_t p = 0; p < 3; ++p) {
    CHECK(shared[p][0] == doctest::Approx(by_hand(*m, d.examples[2 * p]).logp).epsilon(1e-5));
    CHECK(shared[p][1] == doctest::Approx(plain[p][1]).epsilon(1e-5));
  }
  // A shared batch holds one schema: the two "a" pairs run their 40-token start once.
  Batch b = make_batch(d.examples, {0, 1, 4, 5}, 0, true);
  CHECK(b.prefix_len == 40);
  DpoObjective objective(*m, d, shared, 0, 2, 7, {}, false, true);
  for (const auto& batch : objective.epoch_batches(0)) {
    std::set<std::string> groups;
    for (size_t p : batch) groups.insert(d.examples[2 * p].group);
    CHECK(groups.size() == 1);
  }
}
