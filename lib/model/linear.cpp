#include "model/linear.h"

#include <ATen/ATen.h>

#include "model/skinny_linear.h"

namespace af::model {

at::Tensor Linear::forward(const at::Tensor& x, bool training) const {
  at::Tensor y =
      skinny_linear_applies(x, weight) ? skinny_linear(x, weight, bias) : at::linear(x, weight, bias);
  if (!lora) return y;
  at::Tensor in = (training && lora->dropout > 0) ? at::dropout(x, lora->dropout, true) : x;
  at::Tensor delta = at::linear(at::linear(in.to(lora->a.scalar_type()), lora->a), lora->b);
  return y + (delta * lora->scaling).to(y.scalar_type());
}

void Linear::merge_lora() {
  if (!lora) return;
  at::NoGradGuard no_grad;
  at::Tensor delta = at::matmul(lora->b.to(at::kFloat), lora->a.to(at::kFloat)) * lora->scaling;
  weight.add_(delta.to(weight.scalar_type()));
  lora.reset();
}

}  // namespace af::model
