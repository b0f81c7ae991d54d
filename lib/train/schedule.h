// Learning-rate schedules as Hugging Face's get_scheduler computes them: a linear warmup, then linear decay,
// cosine decay, or constant.
#pragma once
#include <cstdint>
#include <string>

namespace af::train {

/// The schedule of one run.
struct Schedule {
  std::string type = "linear";  // linear | cosine | constant | constant_with_warmup
  double peak = 5e-5;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;

  /// The learning rate after `step` optimizer steps (the rate the next step uses).
  double at(int64_t step) const;
};

/// warmup_steps, or ceil(warmup_ratio x total_steps) when the ratio is set (> 0).
int64_t warmup_from(int64_t warmup_steps, double warmup_ratio, int64_t total_steps);

}  // namespace af::train
