// train-dpo's settings, read from the config in one place (alignment.*, run.*): run_dpo acts on this struct
// only, and train-dpo --dry-run prints it.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "config/resolve.h"
#include "student/settings.h"
#include "train/loop_config.h"

namespace af::train {

/// Per-pair DPO losses, from summed (or, for ipo, token-averaged) log-probabilities of the completions.
struct DpoLossSettings {
  std::string loss_type = "sigmoid";  // sigmoid | ipo | hinge
  double beta = 0.1;
  double label_smoothing = 0;  // conservative DPO (sigmoid only)
  double rpo_alpha = 0;        // weight of the chosen answers' NLL (RPO); 0: plain DPO
};

/// Everything train-dpo does, as configured.
struct DpoSettings {
  std::string pairs;    // dpo_pairs.jsonl
  std::string adapter;  // the SFT checkpoint: the policy's start and the frozen reference
  student::BaseModel base;
  TrainerSettings trainer;
  DpoLossSettings loss;
  uint64_t seed = 0;
  student::Runtime runtime;

  nlohmann::json to_json() const;
};

/// Reads every key train-dpo consumes.
DpoSettings dpo_settings(const config::Resolved& cfg);

}  // namespace af::train
