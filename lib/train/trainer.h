// The training loop shared by SFT and (later) DPO: gradient accumulation normalised over the whole
// accumulated batch, AdamW with a schedule, clipping, the non-finite guard, logging, evaluation, early
// stopping, checkpoints, resume and Ctrl-C. What is learned comes from an Objective, so a second loss plugs
// into the same loop.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "model/gemma3.h"
#include "model/lora.h"
#include "train/adamw.h"
#include "train/schedule.h"

namespace af::train {

class Distributed;

/// What a loss provides to the loop.
class Objective {
 public:
  virtual ~Objective() = default;
  /// Micro-batches of one epoch (each a list of example indices), in training order.
  virtual std::vector<std::vector<size_t>> epoch_batches(int64_t epoch) = 0;
  /// The normaliser of a set of micro-batches (SFT: supervised tokens), so one optimizer step averages over
  /// the whole accumulated batch, not over each micro-batch.
  virtual double normaliser(const std::vector<std::vector<size_t>>& micro_batches) = 0;
  /// Runs one micro-batch: returns the summed loss (undivided) and its token count, and when `backward`,
  /// backpropagates loss / normaliser.
  virtual std::pair<double, int64_t> run(const std::vector<size_t>& batch, double normaliser,
                                         bool backward) = 0;
  /// Evaluation metrics ("eval_loss", ...); empty when there is no eval set.
  virtual std::map<std::string, double> evaluate() = 0;
  /// Extra figures for the logging line (DPO: rewards/...), averaged since the last call.
  virtual std::map<std::string, double> take_log_metrics() { return {}; }
  /// The unfinished logging window of those figures, carried by checkpoints so a resumed run logs the same.
  virtual nlohmann::json window_state() const { return nullptr; }
  virtual void restore_window(const nlohmann::json& state) { (void)state; }
};

/// The loop's settings (training.* / alignment.*).
struct LoopSettings {
  std::string output_dir;
  std::string metrics_file = "training_metrics.jsonl";
  int64_t grad_accum = 1;
  int64_t total_steps = 1;
  int64_t batches_per_epoch = 1;
  Schedule schedule;
  double max_grad_norm = 1.0;  // <= 0: no clipping
  int64_t nonfinite_patience = 5;
  int64_t logging_steps = 10;
  int64_t eval_steps = 50;  // <= 0: never
  int64_t save_steps = 200;
  int64_t save_total_limit = -1;  // -1: keep all
  double early_stop_min_delta = 0;
  int64_t early_stop_patience = 0;  // 0: off
  bool load_best_model_at_end = false;
  std::string metric_for_best_model = "eval_loss";
  std::string resume;  // "" fresh, "latest", or a checkpoint path
  std::string tokenizer_dir;
  ProgressSettings progress;
  /// The data-parallel group (nullptr: one process). Each optimizer step then takes grad_accum micro-batches
  /// per rank, and rank 0 alone writes metrics and checkpoints.
  Distributed* distributed = nullptr;
};

/// Runs the loop on `model` (trained tensors in `optimizer`); writes checkpoints, the metrics file and
/// checkpoint-final under settings.output_dir. Returns the final global step.
int64_t train_loop(model::Gemma3& model, const std::optional<model::LoraSettings>& lora, AdamW& optimizer,
                   Objective& objective, const LoopSettings& settings);

/// Total optimizer steps: max_steps when set (> 0), else ceil(num_epochs x batches_per_epoch / grad_accum).
int64_t total_steps_for(int64_t max_steps, double num_epochs, int64_t batches_per_epoch, int64_t grad_accum);

}  // namespace af::train
