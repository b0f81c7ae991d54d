#include "model/scratch.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cctype>
#include <filesystem>

#include "core/atomic_dir.h"
#include "core/error.h"
#include "model/gemma3.h"
#include "model/model_folder.h"
#include "text/sp_tokenizer.h"

namespace af::model {

ModelConfig scratch_config(const ScratchSpec& spec, int64_t vocab_size, int64_t end_of_turn_id) {
  if (spec.num_heads % spec.num_kv_heads != 0)
    throw usage_error("training.scratch.num_kv_heads (" + std::to_string(spec.num_kv_heads) +
                      ") must divide training.scratch.num_heads (" + std::to_string(spec.num_heads) + ")");
  ModelConfig c;
  c.vocab_size = vocab_size;
  c.hidden_size = spec.hidden_size;
  c.intermediate_size = spec.intermediate_size;
  c.num_hidden_layers = spec.num_layers;
  c.num_attention_heads = spec.num_heads;
  c.num_key_value_heads = spec.num_kv_heads;
  c.head_dim = spec.head_dim;
  c.query_pre_attn_scalar = static_cast<double>(spec.head_dim);
  c.max_position_embeddings = spec.max_position_embeddings;
  c.sliding_window = spec.sliding_window;
  c.sliding_layers = sliding_layers_from_pattern(spec.num_layers, spec.sliding_window_pattern);
  c.eos_token_ids = {1, end_of_turn_id};
  c.source = nlohmann::json::object();
  return c;
}

void init_weights(Gemma3& model, uint64_t seed) {
  at::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const ModelConfig& c = model.config();
  for (auto& nt : model.named_weights()) {
    // Drawn in float32 on the CPU so the values do not depend on the model's dtype or device.
    at::Tensor values = at::empty(nt.tensor->sizes(), at::TensorOptions().dtype(at::kFloat));
    bool is_norm = nt.name.find("norm.weight") != std::string::npos || nt.name.ends_with("layernorm.weight");
    if (is_norm || nt.name.ends_with(".bias")) {
      values.zero_();
    } else {
      values.normal_(0.0, c.initializer_range, gen);
      if (nt.name == "model.embed_tokens.weight" && c.pad_token_id < c.vocab_size)
        values[c.pad_token_id].zero_();
    }
    nt.tensor->copy_(values);
  }
}

namespace {

// SentencePiece refuses a vocabulary larger than the corpus can fill ("... Please set it to a value <= N");
// say which config key to lower, and to what.
[[noreturn]] void rethrow_tokenizer_error(const Error& e, int64_t vocab_size) {
  std::string what = e.what();
  // "Vocabulary size is smaller than required_chars. 300 vs 339.": every character of the corpus needs a
  // piece.
  auto small = what.find("smaller than required_chars. ");
  if (small != std::string::npos) {
    std::string need;
    for (size_t i = what.find(" vs ", small); i != std::string::npos && i + 4 < what.size();
         i = std::string::npos)
      for (size_t j = i + 4; j < what.size() && std::isdigit(static_cast<unsigned char>(what[j])); ++j)
        need += what[j];
    throw usage_error("training.scratch.vocab_size (" + std::to_string(vocab_size) +
                          ") is fewer tokens than the training corpus has distinct characters (" + need +
                          " with the special tokens)",
                      "set training.scratch.vocab_size to more than " + need);
  }
  auto at = what.find("<= ");
  if (what.find("Vocabulary size too high") == std::string::npos || at == std::string::npos) throw e;
  std::string limit;
  for (size_t i = at + 3; i < what.size() && std::isdigit(static_cast<unsigned char>(what[i])); ++i)
    limit += what[i];
  throw usage_error("training.scratch.vocab_size (" + std::to_string(vocab_size) +
                        ") is more tokens than the training corpus yields (at most " + limit + ")",
                    "set training.scratch.vocab_size to " + limit +
                        " or less, or train on a larger corpus (more domains or samples)");
}

}  // namespace

void build_scratch_model(const ScratchSpec& spec, const std::vector<std::string>& texts,
                         const std::string& dir, uint64_t seed) {
  // Built beside its place and moved in whole: an interrupted build never leaves a folder that looks done.
  write_dir_atomic(dir, [&](const std::string& tmp) {
    std::string tokenizer_path = (std::filesystem::path(tmp) / "tokenizer.model").string();
    try {
      text::SpTokenizer::train(texts, static_cast<int>(spec.vocab_size), tokenizer_path);
    } catch (const Error& e) {
      rethrow_tokenizer_error(e, spec.vocab_size);
    }
    auto tok = text::SpTokenizer::load(tokenizer_path);
    ModelConfig config =
        scratch_config(spec, static_cast<int64_t>(tok.vocab_size()), tok.token_to_id("<end_of_turn>"));
    Gemma3 model(config, at::TensorOptions().dtype(at::kFloat));
    init_weights(model, seed);
    save_model(model, tmp, at::kFloat, "");
  });
}

}  // namespace af::model
