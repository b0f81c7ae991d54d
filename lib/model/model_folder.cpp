#include "model/model_folder.h"

#include <ATen/ATen.h>

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "text/load_tokenizer.h"

namespace af::model {
namespace fs = std::filesystem;

at::ScalarType parse_dtype_name(const std::string& name) {
  if (name == "float32" || name == "fp32") return at::kFloat;
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  throw usage_error("dtype '" + name + "' is not supported", "use float32 or bfloat16");
}

std::string dtype_to_name(at::ScalarType type) {
  if (type == at::kFloat) return "float32";
  if (type == at::kBFloat16) return "bfloat16";
  if (type == at::kHalf) return "float16";
  throw runtime_error(std::string("tensors of type ") + c10::toString(type) + " cannot be saved");
}

at::Tensor read_tensor(const FoundTensor& found) {
  const TensorInfo& info = *found.info;
  at::ScalarType type = info.dtype == DType::F32    ? at::kFloat
                        : info.dtype == DType::BF16 ? at::kBFloat16
                                                    : at::kHalf;
  at::Tensor out = at::empty(info.shape, at::TensorOptions().dtype(type));
  // Copied rather than wrapped: the mapping may be unaligned for the element type and must outlive nothing.
  std::memcpy(out.data_ptr(), found.file->data(info), info.end - info.begin);
  return out;
}

TensorBytes tensor_bytes(const std::string& name, const at::Tensor& t) {
  TensorBytes out;
  out.name = name;
  auto type = t.scalar_type();
  out.dtype = type == at::kFloat ? DType::F32 : type == at::kBFloat16 ? DType::BF16 : DType::F16;
  if (type != at::kFloat && type != at::kBFloat16 && type != at::kHalf)
    throw runtime_error("tensor '" + name + "' has a type safetensors output does not support");
  out.shape = t.sizes().vec();
  out.data = t.data_ptr();
  out.size = static_cast<size_t>(t.numel()) * t.element_size();
  return out;
}

std::string text_model_name(const std::string& stored) {
  auto starts = [&](const char* p) { return stored.rfind(p, 0) == 0; };
  if (starts("language_model.model.")) return "model." + stored.substr(std::strlen("language_model.model."));
  if (starts("model.language_model.")) return "model." + stored.substr(std::strlen("model.language_model."));
  if (starts("language_model.lm_head.")) return stored.substr(std::strlen("language_model."));
  if (starts("vision_tower.") || starts("multi_modal_projector.") || starts("model.vision_tower.") ||
      starts("model.multi_modal_projector."))
    return "";
  return stored;
}

void load_weights(Gemma3& model, const WeightFiles& files, const std::string& dir) {
  std::map<std::string, FoundTensor> by_model_name;
  for (const auto& stored : files.names()) {
    std::string name = text_model_name(stored);
    if (!name.empty()) by_model_name[name] = files.find(stored);
  }
  at::NoGradGuard no_grad;
  size_t used = 0;
  for (auto& nt : model.named_weights()) {
    auto it = by_model_name.find(nt.name);
    if (it == by_model_name.end())
      throw runtime_error(dir + ": the weights have no tensor '" + nt.name + "'",
                          "the folder's config.json and weights must belong to the same model");
    at::Tensor stored = read_tensor(it->second);
    if (stored.sizes() != nt.tensor->sizes())
      throw runtime_error(it->second.file->path() + ": tensor '" + it->second.info->name + "' has shape " +
                          c10::str(stored.sizes()) + ", config.json implies " + c10::str(nt.tensor->sizes()));
    nt.tensor->copy_(stored);
    ++used;
  }
  size_t extra = by_model_name.size() - used -
                 (by_model_name.count("lm_head.weight") != 0 && model.config().tie_word_embeddings ? 1 : 0);
  if (extra > 0) log_warn(dir, ": ", extra, " stored tensors are not used by the model");
}

std::unique_ptr<Gemma3> load_model(const std::string& dir, at::TensorOptions options) {
  ModelConfig config = load_model_config(dir);
  auto model = std::make_unique<Gemma3>(config, options);
  load_weights(*model, WeightFiles::open(dir), dir);
  return model;
}

void copy_tokenizer_files(const std::string& from_dir, const std::string& to_dir) {
  if (fs::equivalent(from_dir, to_dir)) return;
  for (const auto& name : text::tokenizer_file_names()) {
    fs::path from = fs::path(from_dir) / name;
    if (!fs::exists(from)) continue;
    write_file_atomic((fs::path(to_dir) / name).string(), read_file(from.string()));
  }
}

void save_model(Gemma3& model, const std::string& dir, at::ScalarType dtype, const std::string& tokenizer_dir,
                uint64_t max_shard_bytes) {
  fs::create_directories(dir);
  std::vector<at::Tensor> keep;  // owns the converted copies while they are written
  std::vector<TensorBytes> tensors;
  for (auto& nt : model.named_weights()) {
    keep.push_back(nt.tensor->detach().to(at::kCPU, dtype).contiguous());
    tensors.push_back(tensor_bytes(nt.name, keep.back()));
  }
  write_weight_files(dir, tensors, max_shard_bytes);
  ModelConfig config = model.config();
  config.torch_dtype = dtype_to_name(dtype);
  write_file_atomic((fs::path(dir) / "config.json").string(), model_config_json(config).dump(2) + "\n");
  nlohmann::json generation = {{"bos_token_id", config.bos_token_id},
                               {"pad_token_id", config.pad_token_id},
                               {"eos_token_id", config.eos_token_ids},
                               {"do_sample", false}};
  write_file_atomic((fs::path(dir) / "generation_config.json").string(), generation.dump(2) + "\n");
  if (!tokenizer_dir.empty()) copy_tokenizer_files(tokenizer_dir, dir);
}

}  // namespace af::model
