// AdamW (decoupled weight decay, PyTorch's update rule), with its state saved and restored exactly so a
// resumed run continues bit for bit.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace af::train {

/// One trained tensor and whether weight decay applies to it (not to norms and biases).
struct TrainedTensor {
  std::string name;
  at::Tensor* tensor;
  bool decay = true;
};

/// AdamW hyperparameters (training.adam_*, weight_decay).
struct AdamWSettings {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0.0;
};

/// AdamW over a fixed list of tensors.
class AdamW {
 public:
  AdamW(std::vector<TrainedTensor> params, AdamWSettings settings);
  /// One update with learning rate `lr` from the tensors' .grad().
  void step(double lr);
  /// Clears every gradient.
  void zero_grad();
  int64_t steps() const { return steps_; }
  const std::vector<TrainedTensor>& params() const { return params_; }
  /// Writes the moments (optimizer.safetensors, float32) and the step count (optimizer.json) into `dir`.
  void save(const std::string& dir) const;
  /// Reads what save wrote; a missing or mismatched state is a runtime error naming the tensor.
  void load(const std::string& dir);

 private:
  std::vector<TrainedTensor> params_;
  AdamWSettings settings_;
  std::vector<at::Tensor> exp_avg_, exp_avg_sq_;
  int64_t steps_ = 0;
};

/// Whether a weight should decay: not norms (their names end in "norm.weight"/"layernorm.weight") and not
/// biases.
bool decays(const std::string& name);

}  // namespace af::train
