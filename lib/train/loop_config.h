// The loop and optimizer settings train-sft (training.*) and train-dpo (alignment.*) share: the keys have the
// same names under both prefixes, so they are read in one place.
#pragma once
#include <string>

#include "config/resolve.h"
#include "train/adamw.h"
#include "train/trainer.h"

namespace af::train {

/// output_dir, grad_accum, steps (max_steps or num_epochs over `batches_per_epoch`, with `ranks` taking
/// grad_accum micro-batches each per step), schedule, max_grad_norm, logging/save steps, save_total_limit,
/// resume_from_checkpoint, and run.progress*, from `<prefix>.*`.
LoopSettings loop_settings_from(const config::Resolved& cfg, const std::string& prefix,
                                int64_t batches_per_epoch, int64_t ranks = 1);

/// adam_beta1, adam_beta2, adam_epsilon, weight_decay from `<prefix>.*`.
AdamWSettings adamw_settings_from(const config::Resolved& cfg, const std::string& prefix);

}  // namespace af::train
