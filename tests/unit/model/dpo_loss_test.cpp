// The DPO losses against their formulas (TRL's definitions), per pair.
#include "support/torch_doctest.h"

#include <cmath>

#include "train/dpo.h"

using af::train::dpo_losses;
using af::train::DpoLossSettings;
using af::train::rpo_term;

namespace {
double log_sigmoid(double x) {
  return -std::log1p(std::exp(-x));
}
double at_h(double h, const DpoLossSettings& s) {
  return dpo_losses(at::tensor({h}, at::kDouble), s)[0].item<double>();
}
}  // namespace

TEST_CASE("sigmoid, conservative (label smoothing), ipo and hinge losses follow their formulas") {
  DpoLossSettings s;
  s.beta = 0.1;
  for (double h : {-30.0, -2.0, 0.0, 1.5, 40.0}) {
    s.loss_type = "sigmoid";
    s.label_smoothing = 0;
    CHECK(at_h(h, s) == doctest::Approx(-log_sigmoid(0.1 * h)));
    s.label_smoothing = 0.2;
    CHECK(at_h(h, s) == doctest::Approx(-0.8 * log_sigmoid(0.1 * h) - 0.2 * log_sigmoid(-0.1 * h)));
    s.label_smoothing = 0;
    s.loss_type = "ipo";
    CHECK(at_h(h, s) == doctest::Approx(std::pow(h - 1 / (2 * 0.1), 2)));
    s.loss_type = "hinge";
    CHECK(at_h(h, s) == doctest::Approx(std::max(0.0, 1 - 0.1 * h)));
  }
  s.loss_type = "sigmoid";
  CHECK(at_h(0, s) == doctest::Approx(std::log(2.0)));  // no preference yet: log 2
}

TEST_CASE("the sigmoid loss pushes the chosen log-probability up and the rejected one down") {
  DpoLossSettings s;
  at::Tensor chosen = at::tensor({-10.0}, at::kDouble).requires_grad_(),
             rejected = at::tensor({-9.0}, at::kDouble).requires_grad_();
  at::Tensor h = (chosen - rejected) - at::tensor({-1.0}, at::kDouble);  // reference margin -1: h = 0
  dpo_losses(h, s).sum().backward();
  CHECK(chosen.grad()[0].item<double>() == doctest::Approx(-0.05));  // -beta * sigmoid(-beta h) = -0.1 * 0.5
  CHECK(rejected.grad()[0].item<double>() == doctest::Approx(0.05));
}

TEST_CASE("RPO's term is rpo_alpha x the chosen answers' NLL per token, over the whole batch") {
  // Two chosen answers: -6 over 3 tokens and -2 over 1 token: NLL 8 / 4 tokens = 2 per token.
  at::Tensor logps = at::tensor({-6.0, -2.0}, at::kDouble).requires_grad_();
  at::Tensor tokens = at::tensor({3.0, 1.0}, at::kDouble);
  at::Tensor term = rpo_term(logps, tokens, 0.5);
  CHECK(term.item<double>() == doctest::Approx(1.0));
  term.backward();
  CHECK(logps.grad()[0].item<double>() == doctest::Approx(-0.125));  // raising a chosen answer lowers it
  CHECK(rpo_term(logps, tokens, 0.0).item<double>() == 0.0);
}
