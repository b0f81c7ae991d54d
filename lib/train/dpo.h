// DPO on preference pairs, as a second Objective of the shared training loop: the policy starts from the SFT
// checkpoint, the reference is that same SFT policy frozen, and its log-probabilities are computed once
// before training and stored beside the run (reference_logps.json), so only one model is ever in memory.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "config/resolve.h"

namespace af::train {

/// Per-pair DPO losses, from summed (or, for ipo, token-averaged) log-probabilities of the completions.
struct DpoLossSettings {
  std::string loss_type = "sigmoid";  // sigmoid | ipo | hinge
  double beta = 0.1;
  double label_smoothing = 0;  // conservative DPO (sigmoid only)
  double rpo_alpha = 0;        // weight of the chosen answers' NLL (RPO); 0: plain DPO
};

/// The loss of each pair from h = (policy_chosen - policy_rejected) - (reference_chosen -
/// reference_rejected): sigmoid: -(1-ls) log sigmoid(beta h) - ls log sigmoid(-beta h); ipo: (h - 1/(2
/// beta))^2; hinge: max(0, 1 - beta h).
at::Tensor dpo_losses(const at::Tensor& h, const DpoLossSettings& s);

/// RPO's added term: rpo_alpha x the negative log-likelihood of the chosen completions, averaged over their
/// tokens (summed log-probabilities `chosen_logps` [pairs] of `chosen_tokens` [pairs] tokens), as TRL does.
at::Tensor rpo_term(const at::Tensor& chosen_logps, const at::Tensor& chosen_tokens, double rpo_alpha);

/// Runs train-dpo with the resolved alignment.* keys. Returns the final step.
int64_t run_dpo(const config::Resolved& cfg);

}  // namespace af::train
