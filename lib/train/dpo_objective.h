// DPO as an Objective of the shared training loop: pairs tokenized through the chat template (pair i is
// examples 2i chosen and 2i+1 rejected), the policy's summed log-probabilities of each completion from one
// forward, the loss of dpo_losses against stored reference log-probabilities, and seeds/004's metrics.
#pragma once
#include <array>
#include <map>
#include <string>
#include <vector>

#include "model/gemma3.h"
#include "text/tokenizer.h"
#include "train/dpo.h"
#include "train/sft_data.h"
#include "train/trainer.h"

namespace af::train {

/// The pairs as examples: pair i is examples 2i (chosen) and 2i+1 (rejected).
struct PairData {
  std::vector<Example> examples;
  size_t rows = 0, dropped_too_long = 0;
  size_t pairs() const { return examples.size() / 2; }
};

/// Reads dpo_pairs.jsonl ({prompt, chosen, rejected}); pairs longer than `max_seq_length` are dropped and
/// counted. A row without those strings is an error naming its line and key.
PairData load_pairs(const std::string& path, const text::Tokenizer& tok, int64_t max_seq_length);

/// Summed log-probabilities of each row's supervised tokens (with grad when the forward has it), their
/// counts, and the mean logit of those tokens.
struct RowLogps {
  at::Tensor logps;   // [rows]
  at::Tensor tokens;  // [rows] double
  std::vector<double> mean_target_logit;
};
RowLogps row_logps(const model::Gemma3& m, const Batch& b, bool bf16);

/// The reference log-probabilities (chosen, rejected) of every pair, without grad or dropout.
/// With `shared_prefix`, batches hold pairs of one schema and run their common prompt start once.
std::vector<std::array<double, 2>> compute_reference_logps(model::Gemma3& m, const PairData& data,
                                                           int32_t pad, size_t batch, bool bf16,
                                                           bool shared_prefix = false);

/// The DPO objective: mean loss over the step's pairs; rewards/*, logps/*, logits/* averaged per logging
/// window.
class DpoObjective : public Objective {
 public:
  DpoObjective(model::Gemma3& m, const PairData& data, std::vector<std::array<double, 2>> reference,
               int32_t pad, size_t batch, uint64_t seed, DpoLossSettings loss, bool bf16,
               bool shared_prefix = false);
  std::vector<std::vector<size_t>> epoch_batches(int64_t epoch) override;
  double normaliser(const std::vector<std::vector<size_t>>& micro) override;
  std::pair<double, int64_t> run(const std::vector<size_t>& pairs, double norm_by, bool backward) override;
  std::map<std::string, double> evaluate() override { return {}; }
  std::map<std::string, double> take_log_metrics() override;
  nlohmann::json window_state() const override;
  void restore_window(const nlohmann::json& state) override;

 private:
  model::Gemma3& model_;
  const PairData& data_;
  std::vector<std::array<double, 2>> reference_;
  int32_t pad_;
  size_t batch_;
  uint64_t seed_;
  DpoLossSettings loss_;
  bool bf16_;
  bool shared_prefix_;  // batches from one schema, its prompt start run once
  std::map<std::string, double> window_;
  double window_pairs_ = 0;
};

}  // namespace af::train
