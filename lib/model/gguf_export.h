// A Gemma 3 student as llama.cpp's GGUF files, following llama.cpp's own conventions for architecture
// "gemma3" (convert_hf_to_gguf.py and src/models/gemma3.cpp): tensor names blk.N.*, RMSNorm weights stored as
// 1 + w, the embedding trimmed to the tokenizer's vocabulary and doubling as the output, every
// hyperparameter the loader's defaults would get wrong for 270M written out, and the SentencePiece vocabulary
// with its scores and token types. Also the adapter alone, in llama.cpp's LoRA GGUF layout.
#pragma once
#include <string>

#include "model/gemma3.h"
#include "model/gguf_writer.h"
#include "model/lora.h"

namespace af::model {

/// Why llama.cpp's gemma3 cannot run `config` exactly as astforge does, or "" when it can (its attention
/// scale is fixed at 1/sqrt(head_dim), its layer pattern is one period, it has no attention softcapping).
std::string gguf_refusal(const ModelConfig& config);
/// llama.cpp's name for a Hugging Face weight name (model.layers.3.self_attn.q_proj.weight ->
/// blk.3.attn_q.weight); "" for a name it has none for.
std::string gguf_tensor_name(const std::string& hf_name);
/// "f32", "bf16", "f16", "q8_0" -> the type; anything else is a usage error listing them.
GgmlType parse_gguf_type(const std::string& name);

/// What a GGUF export records besides the weights.
struct GgufMeta {
  std::string name;           // general.name
  std::string tokenizer_dir;  // the folder holding tokenizer.model
};

/// Writes `model` (adapters merged already) to `path` as one GGUF v3 file whose 2-D weights are `type`
/// (1-D norms stay f32; a q8_0 row not a multiple of 32 falls back to f16, as llama.cpp's converter does).
/// Refuses (usage error) what gguf_refusal names and a folder without tokenizer.model.
void write_gemma3_gguf(Gemma3& model, GgmlType type, const GgufMeta& meta, const std::string& path);
/// Writes the adapters attached to `model` as a llama.cpp LoRA GGUF (general.type=adapter,
/// adapter.lora.alpha, <tensor>.lora_a [r, in] and .lora_b [out, r], float32). rsLoRA's scaling is written as
/// the alpha that gives it under llama.cpp's alpha / r. modules_to_save and trained biases have no place in
/// that layout: refused.
void write_gemma3_lora_gguf(Gemma3& model, const LoraSettings& settings, const std::string& name,
                            const std::string& path);

}  // namespace af::model
