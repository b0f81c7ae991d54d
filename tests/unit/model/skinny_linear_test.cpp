// The decode-time kernel equals at::linear for every row count it takes, both dtypes, with and without a tail
// of fewer than 16 inputs, and with a bias; it stays out of the way when gradients are needed.
#include "support/torch_doctest.h"

#include "model/skinny_linear.h"

#include <cmath>

using af::model::skinny_linear;
using af::model::skinny_linear_applies;

namespace {
// Whether out is x w^T + bias up to the rounding any float32 summation order may give: per element, the
// classic forward-error bound n u sum_k |x_k w_k| (plus the bias's rounding) against a float64 reference.
// A fixed tolerance against at::linear is not a check of that: the BLAS under at::linear sums in a
// CPU-dependent order and is itself off by up to 4e-5 on 640 inputs on some machines.
bool equals_linear_up_to_rounding(const at::Tensor& out, const at::Tensor& x, const at::Tensor& w,
                                  const at::Tensor& bias) {
  at::Tensor xd = x.to(at::kDouble), wd = w.to(at::kDouble), bd = bias.to(at::kDouble);
  at::Tensor exact = at::linear(xd, wd, bd);
  double unit = std::ldexp(1.0, -24);  // float32 unit roundoff
  double n = static_cast<double>(w.size(1)) + 1;
  at::Tensor bound = at::linear(xd.abs(), wd.abs()).mul(n * unit).add(bd.abs().mul(2 * unit));
  return (out.to(at::kDouble) - exact).abs().le(bound).all().item<bool>();
}
}  // namespace

TEST_CASE("skinny_linear equals at::linear") {
  at::NoGradGuard no_grad;
  at::manual_seed(3);
  for (int64_t in : {16, 40, 37, 64, 640}) {  // 64 and 640: whole 32-pair steps (AVX512-BF16 path)
    at::Tensor w = at::randn({70, in}), bias = at::randn({70});
    for (int64_t rows = 1; rows <= 16; ++rows) {
      at::Tensor x = at::randn({rows, in});
      CHECK(skinny_linear_applies(x, w));
      CHECK(equals_linear_up_to_rounding(skinny_linear(x, w, bias), x, w, bias));
      // The bound is tight enough to see one input dropped from the sum.
      at::Tensor dropped = at::linear(x.narrow(1, 0, in - 1), w.narrow(1, 0, in - 1), bias);
      CHECK_FALSE(equals_linear_up_to_rounding(dropped, x, w, bias));
      at::Tensor xb = x.to(at::kBFloat16), wb = w.to(at::kBFloat16);
      at::Tensor ref = at::linear(xb.to(at::kFloat), wb.to(at::kFloat));
      CHECK(at::allclose(skinny_linear(xb, wb, at::Tensor()).to(at::kFloat), ref, 2e-2, 2e-2));
    }
    at::Tensor x3 = at::randn({2, 3, in});  // leading dims are kept
    CHECK((skinny_linear(x3, w, bias).sizes() == at::IntArrayRef({2, 3, 70})));
  }
}

TEST_CASE("skinny_linear declines large batches, bfloat16 beyond 4 rows, and autograd") {
  at::Tensor w = at::randn({8, 16});
  CHECK(!skinny_linear_applies(at::randn({17, 16}), w));
  CHECK(!skinny_linear_applies(at::randn({5, 16}).to(at::kBFloat16), w.to(at::kBFloat16)));
  CHECK(skinny_linear_applies(at::randn({4, 16}).to(at::kBFloat16), w.to(at::kBFloat16)));
  at::Tensor wg = w.clone().set_requires_grad(true);
  CHECK(!skinny_linear_applies(at::randn({1, 16}), wg));
  at::NoGradGuard no_grad;
  CHECK(skinny_linear_applies(at::randn({1, 16}), wg));
}
