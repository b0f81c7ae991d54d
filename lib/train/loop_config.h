// The settings train-sft (training.*) and train-dpo (alignment.*) read from the same keys under their own
// section: the loop, the optimizer, and how batches are made and run. The keys are declared once for both
// sections (field_table.cpp, loop_keys) and read here once for either.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "config/resolve.h"
#include "train/adamw.h"
#include "train/trainer.h"

namespace af::train {

/// How long a run is, as configured: max_steps, or num_epochs over the data; and its warmup.
struct StepBudget {
  std::optional<int64_t> max_steps;  // wins over num_epochs
  double num_epochs = 1;
  int64_t warmup_steps = 0;
  double warmup_ratio = 0;  // > 0: warmup is this share of the total steps instead
};

/// The shared settings of one training section.
struct TrainerSettings {
  LoopSettings loop;  // total_steps and the schedule's lengths are set by plan_steps
  StepBudget budget;
  AdamWSettings optimizer;
  int64_t max_seq_length = 1024;
  size_t batch_size = 1;
  bool shared_prefix = false;
  bool gradient_checkpointing = false;
  bool bf16 = false;
  bool fp16 = false;

  /// What --dry-run shows: the batch plan (with `ranks`), the step budget and schedule (its learning rate at
  /// a few steps when the length is known without the data), the optimizer and the loop's cadence.
  nlohmann::json to_json(int64_t ranks = 1) const;
};

/// Reads `<section>.*` (the 25 loop keys, output_dir) and run.progress*.
TrainerSettings trainer_settings_from(const config::Resolved& cfg, const std::string& section);

/// Sets loop.total_steps, loop.batches_per_epoch and the schedule's warmup and length once the data is known:
/// `batches_per_epoch` micro-batches per epoch, each optimizer step taking grad_accum of them on each of
/// `ranks` ranks.
void plan_steps(TrainerSettings& s, int64_t batches_per_epoch, int64_t ranks = 1);

}  // namespace af::train
