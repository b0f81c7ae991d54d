// What every tool that runs the student reads in one place: where it runs (run.device, run.threads), which
// folder a base-model value names ("scratch" is training.scratch.dir), and the generation settings
// (evaluation.*) that predict and eval-teacher share.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "config/resolve.h"
#include "constrain/json_matcher.h"
#include "model/generate.h"
#include "text/tokenizer.h"

namespace af::student {

/// run.device and run.threads.
struct Runtime {
  std::string device = "auto";  // auto | cpu | cuda
  int64_t threads = 0;          // 0: every core

  nlohmann::json to_json() const;
};

/// Reads run.device and run.threads.
Runtime runtime_settings(const config::Resolved& cfg);

/// A base model as configured and the folder it names.
struct BaseModel {
  std::string value;  // the key's value: a folder, or "scratch"
  std::string dir;    // the folder ("scratch": training.scratch.dir)
  bool scratch() const { return value == "scratch"; }
  nlohmann::json to_json() const;
};

/// Reads the base-model key `key` (training.base_model, evaluation.base_model, ...) and, for "scratch",
/// training.scratch.dir.
BaseModel base_model_from(const config::Resolved& cfg, const std::string& key);

/// How predict and eval-teacher decode (evaluation.*): sampling, constraint, batches.
struct DecodeSettings {
  model::GenerationSettings generation;  // stop and pad tokens come from the tokenizer (with_tokenizer)
  std::string dtype = "float32";
  bool constrained = false;
  constrain::KeyOrder key_order = constrain::KeyOrder::Sorted;
  size_t batch_size = 8;

  nlohmann::json to_json() const;
};

/// Reads evaluation.max_new_tokens, do_sample, temperature, top_p, top_k and repetition_penalty (how long and
/// how to choose each token; no seed, no stop tokens).
model::GenerationSettings sampling_settings(const config::Resolved& cfg);

/// Reads evaluation.key_order (how a constrained document's object keys are ordered).
constrain::KeyOrder key_order_setting(const config::Resolved& cfg);
/// The key order's name, as the config spells it.
const char* key_order_name(constrain::KeyOrder order);
/// How `g` chooses tokens, for --dry-run: "greedy", or the sampling settings.
nlohmann::json sampling_json(const model::GenerationSettings& g);

/// Reads the sampling settings (sampling_settings), dtype, constrained, key_order, batch_size, and run.seed.
DecodeSettings decode_settings(const config::Resolved& cfg);

/// `g` with the tokenizer's end-of-turn tokens as stops and its pad token.
model::GenerationSettings with_tokenizer(model::GenerationSettings g, const text::Tokenizer& tok);

}  // namespace af::student
