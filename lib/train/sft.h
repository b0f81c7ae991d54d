// train-sft: supervised fine-tuning of the student on the corpus (LoRA, or every weight for the scratch
// student).
#pragma once
#include "config/resolve.h"

namespace af::train {

/// Runs SFT with the resolved training.* settings; returns the final step.
int64_t run_sft(const config::Resolved& cfg);

}  // namespace af::train

namespace af::train {

/// Prints the first `n` training examples as the model sees them: the prompt text (not trained) and each
/// trained token with its id, so chat-template and masking mistakes show before training.
void show_examples(const config::Resolved& cfg, int64_t n);

}  // namespace af::train
