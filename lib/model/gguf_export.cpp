#include "model/gguf_export.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>

#include "core/error.h"
#include "core/files.h"
#include "model/ggml_blocks.h"
#include "text/chat_template.h"
#include "text/sp_tokenizer.h"

namespace af::model {
namespace {

// llama.cpp's LLAMA_FTYPE for a file whose 2-D weights are `type`.
uint32_t file_type(GgmlType type) {
  switch (type) {
    case GgmlType::F32:
      return 0;
    case GgmlType::F16:
      return 1;
    case GgmlType::Q8_0:
      return 7;
    case GgmlType::BF16:
      return 32;
  }
  return 0;
}

// The sliding/global period llama.cpp's set_swa_pattern(p) would need for `sliding`: layer i slides when
// p == 0 or i % p < p - 1. -1 when no period gives these layers.
int64_t swa_period(const std::vector<bool>& sliding) {
  const auto n = static_cast<int64_t>(sliding.size());
  for (int64_t p = 0; p <= n + 1; ++p) {
    bool same = true;
    for (int64_t i = 0; i < n && same; ++i)
      same = sliding[static_cast<size_t>(i)] == (p == 0 || i % p < p - 1);
    if (same) return p;
  }
  return -1;
}

bool any_sliding(const ModelConfig& c) {
  for (bool s : c.sliding_layers)
    if (s) return true;
  return false;
}

// A tensor's float32 values on the CPU, contiguous.
at::Tensor cpu_float(const at::Tensor& t) {
  return t.detach().to(at::kCPU, at::kFloat).contiguous();
}

std::vector<uint8_t> encode(const at::Tensor& values, GgmlType type) {
  const float* x = values.data_ptr<float>();
  const auto n = static_cast<size_t>(values.numel());
  std::vector<uint8_t> out;
  switch (type) {
    case GgmlType::F32:
      out.resize(n * 4);
      std::memcpy(out.data(), x, n * 4);
      break;
    case GgmlType::F16:
    case GgmlType::BF16: {
      out.resize(n * 2);
      for (size_t i = 0; i < n; ++i) {
        uint16_t h = type == GgmlType::F16 ? fp32_to_fp16(x[i]) : fp32_to_bf16(x[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
      break;
    }
    case GgmlType::Q8_0:
      out = quantize_q8_0(x, n);
      break;
  }
  return out;
}

// Adds `source` (its first `rows` rows when set), passed through `transform` when the file is written.
void add_float_tensor(GgufWriter& gguf, const std::string& name, const at::Tensor& source, GgmlType type,
                      std::function<at::Tensor(at::Tensor)> transform = nullptr, int64_t rows = -1) {
  std::vector<int64_t> shape = source.sizes().vec();
  if (rows >= 0) {
    shape[0] = std::min(rows, shape[0]);
    transform = [rows](at::Tensor t) { return t.narrow(0, 0, std::min(rows, t.size(0))); };
  }
  at::Tensor keep = source;  // the weight stays alive until the file is written
  gguf.add_tensor(name, shape, type, [keep, type, transform] {
    at::Tensor values = cpu_float(keep);
    if (transform) values = transform(values).contiguous();
    return encode(values, type);
  });
}

// The type a 2-D weight gets: q8_0 needs rows of whole blocks (llama.cpp's converter falls back to f16).
GgmlType matrix_type(GgmlType wanted, int64_t row) {
  if (wanted == GgmlType::Q8_0 && row % static_cast<int64_t>(kQ8Block) != 0) return GgmlType::F16;
  return wanted;
}

void add_tokenizer(GgufWriter& gguf, const ModelConfig& c, const std::string& dir, int64_t& vocab_rows) {
  const std::string path = (std::filesystem::path(dir) / "tokenizer.model").string();
  if (!std::filesystem::exists(path))
    throw usage_error(
        dir + " has no tokenizer.model: llama.cpp's gemma3 vocabulary is the SentencePiece model",
        "export from a folder that holds tokenizer.model (Gemma 3 checkpoints and astforge's "
        "scratch student both do)");
  text::SentencePieceVocab vocab = text::sentencepiece_vocab(read_file(path));
  if (vocab.pieces.empty()) throw usage_error(path + ": a SentencePiece model without pieces");
  if (static_cast<int64_t>(vocab.pieces.size()) > c.vocab_size)
    throw usage_error(path + " has " + std::to_string(vocab.pieces.size()) + " pieces, more than the " +
                      std::to_string(c.vocab_size) + " rows of the model's embedding");
  vocab_rows = static_cast<int64_t>(vocab.pieces.size());
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::map<std::string, uint32_t> id;
  for (size_t i = 0; i < vocab.pieces.size(); ++i) {
    const auto& p = vocab.pieces[i];
    tokens.push_back(p.piece);
    scores.push_back(p.score);
    // A user-defined piece made of SentencePiece's space (the scratch tokenizer's "▁") is written as a normal
    // one: llama.cpp prints user-defined pieces raw but turns "▁" into a space in normal ones, and either way
    // it encodes the same (no other piece contains "▁", so no merge takes it).
    bool spaces = !p.piece.empty() && p.piece.size() % 3 == 0;
    for (size_t at = 0; spaces && at < p.piece.size(); at += 3)
      spaces = p.piece.compare(at, 3, "\xe2\x96\x81") == 0;
    // The turn markers are control tokens to llama.cpp (it would make them so itself, with a warning, as it
    // does for any end-of-generation token): parsed in text only where special tokens are, as in chat.
    const bool turn = p.piece == text::start_of_turn() || p.piece == text::end_of_turn();
    types.push_back(p.type == 4 && spaces ? 1 : p.type == 4 && turn ? 3 : p.type);
    id.emplace(p.piece, static_cast<uint32_t>(i));
  }
  gguf.set("tokenizer.ggml.model", std::string("llama"));
  gguf.set("tokenizer.ggml.pre", std::string("default"));
  gguf.set("tokenizer.ggml.tokens", tokens);
  gguf.set("tokenizer.ggml.scores", scores);
  gguf.set("tokenizer.ggml.token_type", types);
  gguf.set("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(c.bos_token_id));
  const uint32_t eos = id.count("<eos>") ? id["<eos>"] : static_cast<uint32_t>(c.eos_token_ids.at(0));
  gguf.set("tokenizer.ggml.eos_token_id", eos);
  const std::string eot(text::end_of_turn());
  if (id.count(eot)) gguf.set("tokenizer.ggml.eot_token_id", id[eot]);
  for (size_t i = 0; i < vocab.pieces.size(); ++i)
    if (vocab.pieces[i].type == 2) gguf.set("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(i));
  gguf.set("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(c.pad_token_id));
  gguf.set("tokenizer.ggml.add_bos_token", true);
  gguf.set("tokenizer.ggml.add_eos_token", false);
  gguf.set("tokenizer.ggml.add_space_prefix", vocab.add_dummy_prefix);
  gguf.set("tokenizer.ggml.remove_extra_whitespaces", vocab.remove_extra_whitespaces);
  gguf.set("tokenizer.chat_template", text::jinja_chat_template());
}

}  // namespace

std::string gguf_refusal(const ModelConfig& c) {
  if (c.hidden_activation != "gelu_pytorch_tanh")
    return "hidden_activation is " + c.hidden_activation + "; llama.cpp's gemma3 computes GELU (tanh) only";
  if (c.attention_bias) return "the attention has biases; llama.cpp's gemma3 has none";
  if (c.attn_logit_softcapping) return "attn_logit_softcapping is set; llama.cpp's gemma3 does not apply it";
  const double scale_dim = c.num_hidden_layers == 62
                               ? static_cast<double>(c.hidden_size / c.num_attention_heads)
                               : static_cast<double>(c.head_dim);
  if (std::fabs(c.query_pre_attn_scalar - scale_dim) > 1e-9)
    return "query_pre_attn_scalar is " + std::to_string(c.query_pre_attn_scalar) +
           "; llama.cpp's gemma3 scales attention by 1/sqrt(" +
           std::to_string(static_cast<int64_t>(scale_dim)) + ") for this shape, a different model";
  if (any_sliding(c) && swa_period(c.sliding_layers) < 0)
    return "the sliding and global layers follow no single period; llama.cpp reads the layer pattern as one "
           "period (layer i slides when i % p < p - 1)";
  return "";
}

std::string gguf_tensor_name(const std::string& hf) {
  static const std::map<std::string, std::string> layer = {
      {"input_layernorm", "attn_norm"},
      {"self_attn.q_proj", "attn_q"},
      {"self_attn.k_proj", "attn_k"},
      {"self_attn.v_proj", "attn_v"},
      {"self_attn.o_proj", "attn_output"},
      {"self_attn.q_norm", "attn_q_norm"},
      {"self_attn.k_norm", "attn_k_norm"},
      {"post_attention_layernorm", "post_attention_norm"},
      {"pre_feedforward_layernorm", "ffn_norm"},
      {"post_feedforward_layernorm", "post_ffw_norm"},
      {"mlp.gate_proj", "ffn_gate"},
      {"mlp.up_proj", "ffn_up"},
      {"mlp.down_proj", "ffn_down"},
  };
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  static const std::regex re(R"(model\.layers\.(\d+)\.(.+)\.(weight|bias))");
  std::smatch m;
  if (!std::regex_match(hf, m, re)) return "";
  auto it = layer.find(m[2].str());
  if (it == layer.end()) return "";
  return "blk." + m[1].str() + "." + it->second + "." + m[3].str();
}

GgmlType parse_gguf_type(const std::string& name) {
  for (GgmlType t : {GgmlType::F32, GgmlType::BF16, GgmlType::F16, GgmlType::Q8_0})
    if (ggml_type_name(t) == name) return t;
  throw usage_error("GGUF type '" + name + "' is not one astforge writes", "use f32, bf16, f16 or q8_0");
}

void write_gemma3_gguf(Gemma3& model, GgmlType type, const GgufMeta& meta, const std::string& path) {
  const ModelConfig& c = model.config();
  if (std::string why = gguf_refusal(c); !why.empty())
    throw usage_error("cannot export this model as GGUF: " + why,
                      "export --format hf instead (transformers runs every Gemma 3 variant)");
  GgufWriter gguf;
  gguf.set("general.architecture", std::string("gemma3"));
  gguf.set("general.type", std::string("model"));
  gguf.set("general.name", meta.name);
  gguf.set("general.file_type", file_type(type));
  gguf.set("general.quantization_version", static_cast<uint32_t>(2));
  gguf.set("gemma3.context_length", static_cast<uint32_t>(c.max_position_embeddings));
  gguf.set("gemma3.embedding_length", static_cast<uint32_t>(c.hidden_size));
  gguf.set("gemma3.block_count", static_cast<uint32_t>(c.num_hidden_layers));
  gguf.set("gemma3.feed_forward_length", static_cast<uint32_t>(c.intermediate_size));
  gguf.set("gemma3.attention.head_count", static_cast<uint32_t>(c.num_attention_heads));
  gguf.set("gemma3.attention.head_count_kv", static_cast<uint32_t>(c.num_key_value_heads));
  gguf.set("gemma3.attention.key_length", static_cast<uint32_t>(c.head_dim));
  gguf.set("gemma3.attention.value_length", static_cast<uint32_t>(c.head_dim));
  gguf.set("gemma3.attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_norm_eps));
  gguf.set("gemma3.rope.freq_base", static_cast<float>(c.rope_theta));
  if (c.rope_scaling_factor != 1.0) {
    gguf.set("gemma3.rope.scaling.type", std::string("linear"));
    gguf.set("gemma3.rope.scaling.factor", static_cast<float>(c.rope_scaling_factor));
  }
  if (any_sliding(c)) {
    gguf.set("gemma3.attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
    gguf.set("gemma3.attention.sliding_window_pattern", static_cast<uint32_t>(swa_period(c.sliding_layers)));
    gguf.set("gemma3.rope.freq_base_swa", static_cast<float>(c.rope_local_base_freq));
  } else {
    gguf.set("gemma3.attention.sliding_window", static_cast<uint32_t>(0));  // every layer global
  }
  if (c.final_logit_softcapping)
    gguf.set("gemma3.final_logit_softcapping", static_cast<float>(*c.final_logit_softcapping));
  int64_t vocab_rows = c.vocab_size;
  add_tokenizer(gguf, c, meta.tokenizer_dir, vocab_rows);

  for (auto& nt : model.named_weights()) {
    const std::string name = gguf_tensor_name(nt.name);
    if (name.empty())
      throw usage_error("cannot export tensor " + nt.name + " as GGUF: llama.cpp has no place for it");
    const at::Tensor& w = *nt.tensor;
    if (w.dim() == 1) {
      // Gemma's RMSNorm computes x * (1 + w); llama.cpp's multiplies by the stored weight, so it stores 1 +
      // w.
      const bool norm = nt.name.ends_with("norm.weight");
      add_float_tensor(
          gguf, name, w, GgmlType::F32,
          norm ? std::function<at::Tensor(at::Tensor)>([](at::Tensor t) { return t + 1.0f; }) : nullptr);
    } else if (nt.name == "model.embed_tokens.weight" || nt.name == "lm_head.weight") {
      const int64_t rows = vocab_rows;  // rows past the tokenizer's vocabulary are padding no id reaches
      add_float_tensor(gguf, name, w, matrix_type(type, w.size(1)), nullptr, rows);
    } else {
      add_float_tensor(gguf, name, w, matrix_type(type, w.size(1)));
    }
  }
  gguf.write(path);
}

void write_gemma3_lora_gguf(Gemma3& model, const LoraSettings& s, const std::string& name,
                            const std::string& path) {
  if (!s.modules_to_save.empty())
    throw usage_error("cannot export this adapter as a GGUF LoRA: it trains " + s.modules_to_save.front() +
                          " in full (modules_to_save), which llama.cpp's LoRA layout cannot hold",
                      "export --format gguf (the merged model) instead");
  if (s.bias != "none")
    throw usage_error("cannot export this adapter as a GGUF LoRA: it trains biases (bias: " + s.bias + ")",
                      "export --format gguf (the merged model) instead");
  if (std::string why = gguf_refusal(model.config()); !why.empty())
    throw usage_error("cannot export this adapter as GGUF: " + why, "export --format hf instead");
  GgufWriter gguf;
  gguf.set("general.architecture", std::string("gemma3"));
  gguf.set("general.type", std::string("adapter"));
  gguf.set("general.name", name);
  gguf.set("adapter.type", std::string("lora"));
  // llama.cpp scales by alpha / r (r from the tensors): the alpha that gives astforge's scaling.
  gguf.set("adapter.lora.alpha", static_cast<float>(s.scaling() * static_cast<double>(s.r)));
  size_t count = 0;
  for (auto& [module, linear] : model.named_linears()) {
    if (!linear->lora) continue;
    const std::string base = gguf_tensor_name(module + ".weight");
    add_float_tensor(gguf, base + ".lora_a", linear->lora->a, GgmlType::F32);
    add_float_tensor(gguf, base + ".lora_b", linear->lora->b, GgmlType::F32);
    ++count;
  }
  if (count == 0) throw usage_error("the adapter has no LoRA layers to export");
  gguf.write(path);
}

}  // namespace af::model
