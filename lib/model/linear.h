// A linear layer y = x W^T (+ b), with an optional LoRA adapter: y += B(A(dropout(x))) * scaling.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>

namespace af::model {

/// The low-rank update of one linear layer (PEFT's LoRA): A [r, in], B [out, r].
struct LoraPair {
  at::Tensor a;
  at::Tensor b;
  double scaling = 1.0;
  double dropout = 0.0;
};

/// A Linear layer as Hugging Face stores it: weight [out, in], optional bias [out].
struct Linear {
  at::Tensor weight;
  at::Tensor bias;  // undefined when the layer has none
  std::unique_ptr<LoraPair> lora;

  /// x [..., in] -> [..., out]; dropout on the LoRA input only while `training`.
  at::Tensor forward(const at::Tensor& x, bool training) const;
  /// Folds the adapter into the weight (W += scaling * B A) and removes it.
  void merge_lora();
};

}  // namespace af::model
