// LoRA adapters in Hugging Face PEFT's format: which linear layers get one, how they start, how they are
// saved (adapter_config.json + adapter_model.safetensors), loaded and merged into the base weights.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/gemma3.h"

namespace af::model {

/// The adapter settings (training.lora.*; the fields of PEFT's LoraConfig).
struct LoraSettings {
  int64_t r = 8;
  double lora_alpha = 16;
  double lora_dropout = 0.0;
  std::vector<std::string> target_modules = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                             "gate_proj", "up_proj", "down_proj"};
  std::string target_regex;   // a PEFT adapter may give target_modules as one regex instead of a list
  std::string bias = "none";  // none | all | lora_only
  bool use_rslora = false;
  std::string init_lora_weights = "true";    // true | false | gaussian
  std::vector<std::string> modules_to_save;  // embed_tokens, lm_head
  std::string base_model_name_or_path;

  /// lora_alpha / sqrt(r) with rslora, else lora_alpha / r.
  double scaling() const;
  /// Whether the linear layer called `module_name` (model.layers.0.self_attn.q_proj) gets an adapter.
  bool targets(const std::string& module_name) const;
};

/// Settings from adapter_config.json; what astforge cannot honour (DoRA, per-layer ranks, fan_in_fan_out) is
/// a usage error naming the key.
LoraSettings parse_adapter_config(const nlohmann::json& doc, const std::string& source);
/// The adapter_config.json PEFT writes for `settings`.
nlohmann::json adapter_config_json(const LoraSettings& settings);

/// Adds an adapter to every targeted layer (A [r, in], B [out, r], float32), initialised as PEFT does: true:
/// A Kaiming-uniform (a = sqrt(5)), B zeros; gaussian: A normal(0, 1/r), B zeros; false: both
/// Kaiming-uniform. Returns how many layers got one; none is a usage error (the targets match nothing).
size_t add_lora(Gemma3& model, const LoraSettings& settings, uint64_t seed);
/// The adapter tensors under PEFT's names (base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight),
/// plus modules_to_save and the biases the bias setting trains.
std::vector<NamedTensor> adapter_tensors(Gemma3& model, const LoraSettings& settings);
/// Writes adapter_config.json and adapter_model.safetensors to `dir`.
void save_adapter(Gemma3& model, const LoraSettings& settings, const std::string& dir);
/// Copies the tensors of `<dir>/adapter_model.safetensors` into the adapters `settings` already attached
/// (also modules_to_save and trained biases); a missing tensor or another shape is a runtime error naming it.
void load_adapter_weights(Gemma3& model, const LoraSettings& settings, const std::string& dir);
/// Reads an adapter folder (ours or PEFT's) and attaches it to `model`; returns its settings.
LoraSettings load_adapter(Gemma3& model, const std::string& dir);
/// Folds every adapter into its base weight (W += scaling * B A) and removes them.
void merge_lora(Gemma3& model);

}  // namespace af::model
