// Checkpoint folders (checkpoint-N/): the trained weights (a PEFT adapter, or a whole model folder),
// optimizer state, RNG state and trainer_state.json. Written to a temporary folder and renamed, so a crash
// while saving leaves the previous checkpoint valid; finding the latest skips half-written ones.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/gemma3.h"
#include "model/lora.h"
#include "train/adamw.h"

namespace af::train {

/// "checkpoint-<step>".
std::string checkpoint_name(int64_t step);
/// The step of a checkpoint-N folder name, or -1.
int64_t checkpoint_step(const std::string& name);

/// Everything a checkpoint folder holds besides trainer_state.json's free-form content.
struct CheckpointParts {
  model::Gemma3* model = nullptr;
  const std::optional<model::LoraSettings>* lora = nullptr;  // adapter when set, else the whole model
  const AdamW* optimizer = nullptr;
  std::string tokenizer_dir;  // copied into final checkpoints; empty: not copied
};

/// Writes `dir` atomically (temp folder, then rename) with the weights, optimizer state, the default CPU
/// generator's state and `trainer_state`.
void save_checkpoint(const std::string& dir, const CheckpointParts& parts,
                     const nlohmann::json& trainer_state);
/// Writes the weights only (checkpoint-final): adapter or model folder, plus the tokenizer files.
void save_final(const std::string& dir, const CheckpointParts& parts);

/// What is wrong with checkpoint `dir` ("trainer_state.json has no valid \"global_step\"", a truncated
/// weights file, ...), or "" when it is whole: every file a resume reads, checked as the resume reads it.
std::string checkpoint_problem(const std::string& dir);
/// Whether `dir` is a whole checkpoint (checkpoint_problem is empty).
bool checkpoint_valid(const std::string& dir);
/// The whole checkpoint-N under `output_dir` with the largest N, or "" (damaged and half-written ones are
/// skipped, each with a warning naming what is wrong).
std::string latest_checkpoint(const std::string& output_dir);
/// Loads the weights of checkpoint `dir` into `model`: the adapter's tensors when `lora` is set, else every
/// weight.
void load_checkpoint_weights(const std::string& dir, model::Gemma3& model,
                             const std::optional<model::LoraSettings>& lora);
/// Restores the default CPU generator from `dir`.
void load_rng_state(const std::string& dir);
/// trainer_state.json of `dir`.
nlohmann::json read_trainer_state(const std::string& dir);

/// Deletes the oldest checkpoint-N folders beyond `limit`, never `keep_a` or `keep_b` (the best and the
/// latest).
void rotate_checkpoints(const std::string& output_dir, int64_t limit, const std::string& keep_a,
                        const std::string& keep_b);

}  // namespace af::train
