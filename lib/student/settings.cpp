#include "student/settings.h"

#include "config/run_settings.h"
#include "text/chat_template.h"

namespace af::student {

using nlohmann::json;

Runtime runtime_settings(const config::Resolved& cfg) {
  Runtime r;
  r.device = cfg.get_string("run.device");
  r.threads = cfg.get_int("run.threads");
  return r;
}

json Runtime::to_json() const {
  return {{"device", device}, {"threads", threads == 0 ? json("every core") : json(threads)}};
}

BaseModel base_model_from(const config::Resolved& cfg, const std::string& key) {
  BaseModel b;
  b.value = cfg.get_string(key);
  // Read either way, so --dry-run names the scratch folder's source whatever the base is.
  const std::string scratch_dir = cfg.get_string("training.scratch.dir");
  b.dir = b.scratch() ? scratch_dir : b.value;
  return b;
}

json BaseModel::to_json() const {
  return {{"value", value}, {"folder", dir}};
}

model::GenerationSettings sampling_settings(const config::Resolved& cfg) {
  model::GenerationSettings g;
  g.max_new_tokens = cfg.get_int("evaluation.max_new_tokens");
  g.do_sample = cfg.get_bool("evaluation.do_sample");
  g.temperature = cfg.get_double("evaluation.temperature");
  g.top_p = cfg.get_double("evaluation.top_p");
  g.top_k = cfg.get_int("evaluation.top_k");
  g.repetition_penalty = cfg.get_double("evaluation.repetition_penalty");
  return g;
}

constrain::KeyOrder key_order_setting(const config::Resolved& cfg) {
  return cfg.get_string("evaluation.key_order") == "free" ? constrain::KeyOrder::Free
                                                          : constrain::KeyOrder::Sorted;
}

const char* key_order_name(constrain::KeyOrder order) {
  return order == constrain::KeyOrder::Free ? "free" : "sorted";
}

json sampling_json(const model::GenerationSettings& g) {
  if (!g.do_sample) return "greedy";
  return {{"temperature", g.temperature},
          {"top_p", g.top_p},
          {"top_k", g.top_k == 0 ? json("off") : json(g.top_k)}};
}

DecodeSettings decode_settings(const config::Resolved& cfg) {
  DecodeSettings d;
  d.generation = sampling_settings(cfg);
  d.generation.seed = config::run_seed(cfg);
  d.dtype = cfg.get_string("evaluation.dtype");
  d.constrained = cfg.get_bool("evaluation.constrained");
  d.key_order = key_order_setting(cfg);
  d.batch_size = static_cast<size_t>(cfg.get_int("evaluation.batch_size"));
  return d;
}

json DecodeSettings::to_json() const {
  const model::GenerationSettings& g = generation;
  return {{"max_new_tokens", g.max_new_tokens},
          {"sampling", sampling_json(g)},
          {"repetition_penalty", g.repetition_penalty},
          {"seed", g.seed},
          {"stop", "the tokenizer's <end_of_turn> and <eos>"},
          {"dtype", dtype},
          {"constrained", constrained},
          {"key_order", key_order_name(key_order)},
          {"batch_size", batch_size}};
}

model::GenerationSettings with_tokenizer(model::GenerationSettings g, const text::Tokenizer& tok) {
  g.stop_tokens = text::stop_tokens(tok);
  g.pad_token_id = text::pad_token(tok);
  return g;
}

}  // namespace af::student
