#include "train/sft_settings.h"

#include <filesystem>

#include "config/run_settings.h"
#include "model/config.h"

namespace af::train {

using nlohmann::json;

namespace {

model::ScratchSpec scratch_spec(const config::Resolved& cfg) {
  model::ScratchSpec s;
  s.vocab_size = cfg.get_int("training.scratch.vocab_size");
  s.hidden_size = cfg.get_int("training.scratch.hidden_size");
  s.num_layers = cfg.get_int("training.scratch.num_layers");
  s.num_heads = cfg.get_int("training.scratch.num_heads");
  s.num_kv_heads = cfg.get_int("training.scratch.num_kv_heads");
  s.head_dim = cfg.get_int("training.scratch.head_dim");
  s.intermediate_size = cfg.get_int("training.scratch.intermediate_size");
  s.max_position_embeddings = cfg.get_int("training.scratch.max_position_embeddings");
  s.sliding_window = cfg.get_int("training.scratch.sliding_window");
  s.sliding_window_pattern = cfg.get_int("training.scratch.sliding_window_pattern");
  return s;
}

model::LoraSettings lora_settings(const config::Resolved& cfg, const std::string& base) {
  model::LoraSettings l;
  l.r = cfg.get_int("training.lora.r");
  l.lora_alpha = cfg.get_double("training.lora.lora_alpha");
  l.lora_dropout = cfg.get_double("training.lora.lora_dropout");
  l.target_modules = cfg.get_list("training.lora.target_modules");
  l.bias = cfg.get_string("training.lora.bias");
  l.use_rslora = cfg.get_bool("training.lora.use_rslora");
  const auto& init = cfg.get("training.lora.init_lora_weights");
  l.init_lora_weights = init.is_boolean() ? (init.get<bool>() ? "true" : "false") : init.get<std::string>();
  l.modules_to_save = cfg.get_list("training.lora.modules_to_save");
  l.base_model_name_or_path = base;
  return l;
}

json scratch_json(const model::ScratchSpec& s) {
  return {{"vocab_size", s.vocab_size},
          {"hidden_size", s.hidden_size},
          {"num_layers", s.num_layers},
          {"num_heads", s.num_heads},
          {"num_kv_heads", s.num_kv_heads},
          {"head_dim", s.head_dim},
          {"intermediate_size", s.intermediate_size},
          {"max_position_embeddings", s.max_position_embeddings},
          {"sliding_window", s.sliding_window},
          {"sliding_window_pattern", s.sliding_window_pattern}};
}

}  // namespace

SftSettings sft_settings(const config::Resolved& cfg) {
  SftSettings s;
  s.corpus = cfg.get_string("training.training_corpus");
  s.base = student::base_model_from(cfg, "training.base_model");
  s.scratch = scratch_spec(cfg);
  s.seed = config::run_seed(cfg);
  s.trainer = trainer_settings_from(cfg, "training");
  s.data.max_seq_length = s.trainer.max_seq_length;
  s.data.val_split = cfg.get_double("training.val_split");
  s.data.eval_max_samples = config::optional_int(cfg, "training.eval_max_samples").value_or(-1);
  s.data.max_samples = config::optional_int(cfg, "training.max_samples").value_or(-1);
  s.data.seed = s.seed;
  s.eval_batch_size = static_cast<size_t>(config::optional_int(cfg, "training.eval_batch_size")
                                              .value_or(static_cast<int64_t>(s.trainer.batch_size)));
  s.grouping.by_length = cfg.get_bool("training.group_by_length");
  s.grouping.by_group = s.trainer.shared_prefix;
  s.label_smoothing = cfg.get_double("training.label_smoothing");
  s.neftune_alpha = config::optional_double(cfg, "training.neftune_noise_alpha");
  if (cfg.get_bool("training.lora.enabled")) s.lora = lora_settings(cfg, s.base.value);
  LoopSettings& ls = s.trainer.loop;
  ls.eval_steps = cfg.get_int("training.eval_steps");
  ls.early_stop_min_delta = cfg.get_double("training.early_stop_min_delta");
  ls.early_stop_patience = cfg.get_int("training.early_stop_patience");
  ls.load_best_model_at_end = cfg.get_bool("training.load_best_model_at_end");
  ls.metric_for_best_model = cfg.get_string("training.metric_for_best_model");
  s.runtime = student::runtime_settings(cfg);
  return s;
}

json lora_targets_json(const model::LoraSettings& lora, int64_t num_layers) {
  const char* modules[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                           "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
  json per_layer = json::array();
  for (const char* m : modules)
    if (lora.targets("model.layers.0." + std::string(m))) per_layer.push_back(m);
  return {{"per_layer", per_layer},
          {"layers", num_layers},
          {"modules", static_cast<int64_t>(per_layer.size()) * num_layers}};
}

json SftSettings::to_json(int64_t ranks) const {
  json base_json = base.to_json();
  int64_t layers = -1;
  if (base.scratch()) {
    base_json["builds"] = scratch_json(scratch);
    layers = scratch.num_layers;
  } else if (std::filesystem::exists(std::filesystem::path(base.dir) / "config.json")) {
    layers = model::load_model_config(base.dir).num_hidden_layers;
  }
  json lora_json = nullptr;
  if (lora) {
    lora_json = model::adapter_config_json(*lora);
    lora_json["scaling"] = lora->scaling();
    if (layers > 0) lora_json["adapts"] = lora_targets_json(*lora, layers);
  }
  return {
      {"corpus", corpus},
      {"base_model", base_json},
      {"trains", lora ? json("a LoRA adapter") : json("every weight")},
      {"lora", lora_json},
      {"data",
       {{"max_seq_length", data.max_seq_length},
        {"val_split", data.val_split},
        {"eval_max_samples", data.eval_max_samples > 0 ? json(data.eval_max_samples) : json(nullptr)},
        {"max_samples", data.max_samples > 0 ? json(data.max_samples) : json(nullptr)},
        {"group_by_length", grouping.by_length},
        {"eval_batch_size", eval_batch_size}}},
      {"trainer", trainer.to_json(ranks)},
      {"loss",
       {{"label_smoothing", label_smoothing},
        {"neftune_noise_alpha", neftune_alpha ? json(*neftune_alpha) : json(nullptr)}}},
      {"evaluation",
       {{"eval_steps", data.val_split > 0 ? json(trainer.loop.eval_steps) : json("never (val_split is 0)")},
        {"early_stop_patience", trainer.loop.early_stop_patience},
        {"early_stop_min_delta", trainer.loop.early_stop_min_delta},
        {"load_best_model_at_end", trainer.loop.load_best_model_at_end},
        {"metric_for_best_model", trainer.loop.metric_for_best_model}}},
      {"seed", seed},
      {"runtime", runtime.to_json()}};
}

}  // namespace af::train
