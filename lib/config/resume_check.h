// Resuming with other settings: a run resumed with another learning rate (or max_steps, or LoRA rank) ends
// somewhere an uninterrupted run would not, and nothing said so. Before a resume, the settings a tool acts on
// are compared with those recorded by the run being resumed (its run_config.json), and each difference that
// can change the result is named.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/field.h"

namespace af::config {

/// The keys `tool` consumes whose value in `current` differs from `saved` (both run_config.json documents),
/// leaving out those that cannot change what the run computes (logging, saving, progress, threads, paths):
/// one line each, "training.learning_rate is 0.0002 now, 0.0001 in the run being resumed".
std::vector<std::string> settings_changed_since(const nlohmann::json& saved, const nlohmann::json& current,
                                                Tool tool);

/// Logs a warning per changed key when `saved_path` (the run being resumed's run_config.json) exists, naming
/// that file; `current_text` is this run's run_config.json. Returns how many keys changed.
size_t warn_settings_changed(const std::string& saved_path, const std::string& current_text, Tool tool);

}  // namespace af::config
