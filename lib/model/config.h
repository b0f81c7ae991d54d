// Gemma 3 text model configuration: config.json as Hugging Face writes it (gemma3_text, or the text_config of
// a multimodal gemma3 checkpoint), with Hugging Face's defaults for missing keys.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace af::model {

/// The architecture of a Gemma 3 text decoder.
struct ModelConfig {
  std::string model_type = "gemma3_text";
  int64_t vocab_size = 262208;
  int64_t hidden_size = 2304;
  int64_t intermediate_size = 9216;
  int64_t num_hidden_layers = 26;
  int64_t num_attention_heads = 8;
  int64_t num_key_value_heads = 4;
  int64_t head_dim = 256;
  int64_t max_position_embeddings = 131072;
  int64_t sliding_window = 4096;
  double rms_norm_eps = 1e-6;
  double rope_theta = 1e6;             // full-attention layers
  double rope_local_base_freq = 1e4;   // sliding layers
  double rope_scaling_factor = 1.0;    // "linear" rope_scaling on full-attention layers; 1: none
  double query_pre_attn_scalar = 256;  // attention scale = query_pre_attn_scalar^-0.5
  double initializer_range = 0.02;
  std::optional<double> final_logit_softcapping;
  std::optional<double> attn_logit_softcapping;
  std::string hidden_activation = "gelu_pytorch_tanh";
  bool attention_bias = false;
  bool tie_word_embeddings = true;
  std::vector<bool> sliding_layers;  // per layer: true = sliding-window attention
  int64_t pad_token_id = 0;
  int64_t bos_token_id = 2;
  std::vector<int64_t> eos_token_ids = {1};
  std::string torch_dtype = "float32";
  nlohmann::json source;  // the parsed object, so keys astforge does not use survive a save

  /// Number of query heads sharing one key/value head.
  int64_t kv_groups() const { return num_attention_heads / num_key_value_heads; }
  /// Parameters of the model (tied embeddings counted once).
  int64_t parameter_count() const;
};

/// Parses a config.json object; `source` names the file in errors. Unknown architectures, wrong types and
/// impossible shapes are usage errors naming the key.
ModelConfig parse_model_config(const nlohmann::json& doc, const std::string& source);
/// Reads `<dir>/config.json`.
ModelConfig load_model_config(const std::string& dir);
/// The config.json object of `config` (keys from the source kept, astforge's values written over them).
nlohmann::json model_config_json(const ModelConfig& config);
/// Layer kinds from Gemma 3's older `sliding_window_pattern`: every Nth layer attends globally.
std::vector<bool> sliding_layers_from_pattern(int64_t num_layers, int64_t pattern);

}  // namespace af::model
