// DPO on preference pairs, as a second Objective of the shared training loop: the policy starts from the SFT
// checkpoint, the reference is that same SFT policy frozen, and its log-probabilities are computed once
// before training and stored beside the run (reference_logps.json), so only one model is ever in memory.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "train/dpo_settings.h"

namespace af::train {

/// The loss of each pair from h = (policy_chosen - policy_rejected) - (reference_chosen -
/// reference_rejected): sigmoid: -(1-ls) log sigmoid(beta h) - ls log sigmoid(-beta h); ipo: (h - 1/(2
/// beta))^2; hinge: max(0, 1 - beta h).
at::Tensor dpo_losses(const at::Tensor& h, const DpoLossSettings& s);

/// RPO's added term: rpo_alpha x the negative log-likelihood of the chosen completions, averaged over their
/// tokens (summed log-probabilities `chosen_logps` [pairs] of `chosen_tokens` [pairs] tokens), as TRL does.
at::Tensor rpo_term(const at::Tensor& chosen_logps, const at::Tensor& chosen_tokens, double rpo_alpha);

/// Runs train-dpo as `settings` say; `run_config` is the text of run_config.json written beside the
/// checkpoints. Returns the final step.
int64_t run_dpo(const DpoSettings& settings, const std::string& run_config);

}  // namespace af::train
