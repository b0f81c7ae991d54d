// Hugging Face model folders: config.json, model.safetensors (or shards), tokenizer files and
// generation_config.json, read into and written from a Gemma3.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "model/gemma3.h"
#include "model/safetensors.h"
#include "model/weight_files.h"

namespace af::model {

/// at::kFloat or at::kBFloat16 for "float32" / "bfloat16" (also "fp32", "bf16"); anything else is a usage
/// error.
at::ScalarType parse_dtype_name(const std::string& name);
/// "float32" / "bfloat16" / "float16".
std::string dtype_to_name(at::ScalarType type);

/// A CPU copy of a stored tensor, in its stored dtype.
at::Tensor read_tensor(const FoundTensor& found);
/// Bytes of a contiguous CPU tensor (F32, BF16 or F16) for write_safetensors.
TensorBytes tensor_bytes(const std::string& name, const at::Tensor& cpu_contiguous);

/// The model name a stored tensor name stands for: multimodal prefixes (language_model.model.,
/// model.language_model.) map to model.; "" for tensors the text model does not use (vision tower,
/// projector).
std::string text_model_name(const std::string& stored);

/// Copies the folder's weights into `model`; a missing tensor or a shape mismatch is a runtime error naming
/// both.
void load_weights(Gemma3& model, const WeightFiles& files, const std::string& dir);
/// Loads the model in `dir` with `options` (dtype, device).
std::unique_ptr<Gemma3> load_model(const std::string& dir, at::TensorOptions options);
/// Writes `model` to `dir` as a Hugging Face folder with weights in `dtype`, and copies the tokenizer files
/// found in `tokenizer_dir` (skipped when empty). Shards when the weights exceed `max_shard_bytes`.
void save_model(Gemma3& model, const std::string& dir, at::ScalarType dtype, const std::string& tokenizer_dir,
                uint64_t max_shard_bytes = uint64_t{5} << 30);
/// Copies tokenizer files from one folder to another (those that exist).
void copy_tokenizer_files(const std::string& from_dir, const std::string& to_dir);

}  // namespace af::model
