// train-sft's settings, read from the config in one place (training.*, training.lora.*, training.scratch.*,
// run.*): run_sft acts on this struct only, and train-sft --dry-run prints it.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "config/resolve.h"
#include "model/lora.h"
#include "model/scratch.h"
#include "student/settings.h"
#include "train/loop_config.h"
#include "train/sft_data.h"

namespace af::train {

/// Everything train-sft does, as configured.
struct SftSettings {
  std::string corpus;
  student::BaseModel base;
  model::ScratchSpec scratch;  // the student built when base.scratch()
  DataSettings data;
  TrainerSettings trainer;
  size_t eval_batch_size = 1;
  BatchGrouping grouping;
  double label_smoothing = 0;
  std::optional<double> neftune_alpha;
  std::optional<model::LoraSettings> lora;  // nullopt: every weight trains
  uint64_t seed = 0;
  student::Runtime runtime;

  /// What --dry-run shows (`ranks`: data-parallel processes, from the launcher's environment).
  nlohmann::json to_json(int64_t ranks = 1) const;
};

/// Reads every key train-sft consumes.
SftSettings sft_settings(const config::Resolved& cfg);

/// The module names LoRA adapts in a model of `num_layers` layers: one entry per projection kind
/// ("self_attn.q_proj"), and the count over all layers.
nlohmann::json lora_targets_json(const model::LoraSettings& lora, int64_t num_layers);

}  // namespace af::train
