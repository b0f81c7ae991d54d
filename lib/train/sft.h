// train-sft: supervised fine-tuning of the student on the corpus (LoRA, or every weight for the scratch
// student).
#pragma once
#include <cstdint>
#include <string>

#include "train/sft_settings.h"

namespace af::train {

/// Runs SFT as `settings` say; `run_config` is the text of run_config.json written beside the checkpoints.
/// Returns the final step.
int64_t run_sft(const SftSettings& settings, const std::string& run_config);

/// Prints the first `n` training examples as the model sees them: the prompt text (not trained) and each
/// trained token with its id, so chat-template and masking mistakes show before training.
void show_examples(const SftSettings& settings, int64_t n);

}  // namespace af::train
