// x W^T for a few rows of x (generation decodes 1 to 16 rows at a time). BLAS runs such skinny products at a
// third of the memory bandwidth; this kernel streams each weight row once and dots it with every input row,
// so decoding runs at the speed the weights can be read. float32 and bfloat16 weights, CPU, inference only.
#pragma once
#include <ATen/core/Tensor.h>

namespace af::model {

/// Most rows the skinny kernel takes; more rows go to BLAS, which is then efficient.
constexpr int64_t kSkinnyMaxRows = 16;

/// Whether skinny_linear applies: CPU, no autograd, contiguous float32 weight and x of <= 16 rows (bfloat16:
/// <= 4 rows).
bool skinny_linear_applies(const at::Tensor& x, const at::Tensor& weight);
/// x [..., in] times weight [out, in]^T (+ bias) -> [..., out] in x's dtype, accumulated in float32.
at::Tensor skinny_linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

}  // namespace af::model
