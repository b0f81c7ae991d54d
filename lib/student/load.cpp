#include "student/load.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <filesystem>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "model/model_folder.h"
#include "text/chat_template.h"
#include "text/load_tokenizer.h"

namespace af::student {

at::Device resolve_device(const std::string& setting) {
  if (setting == "cpu") return at::kCPU;
  if (setting == "cuda") {
    if (!at::hasCUDA())
      throw usage_error("run.device is cuda but this libtorch has no CUDA (or no GPU is visible)",
                        "use --device cpu, or build against a CUDA libtorch with -DTorch_DIR=...");
    return at::kCUDA;
  }
  return at::hasCUDA() ? at::Device(at::kCUDA) : at::Device(at::kCPU);
}

void apply_threads(int64_t threads) {
  int n = threads > 0 ? static_cast<int>(threads)
                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  log_debug("tensor math on ", at::get_num_threads(), " threads (run.threads ", threads, ")");
}

Student load_student(const std::string& base_dir, const std::string& checkpoint_dir, at::ScalarType dtype,
                     at::Device device, bool merge) {
  namespace fs = std::filesystem;
  // A checkpoint of a fully trained student (no adapter_config.json, its own config.json) is a whole model
  // folder: it replaces the base instead of adapting it.
  bool whole_model = !checkpoint_dir.empty() &&
                     !fs::exists(fs::path(checkpoint_dir) / "adapter_config.json") &&
                     fs::exists(fs::path(checkpoint_dir) / "config.json");
  const std::string model_dir = whole_model ? checkpoint_dir : base_dir;
  const std::string adapter_dir = whole_model ? std::string() : checkpoint_dir;
  if (!checkpoint_dir.empty() && !fs::is_directory(checkpoint_dir))
    throw usage_error(
        "checkpoint not found: " + checkpoint_dir,
        "pass --adapter with a checkpoint-* folder of train-sft or train-dpo (or none for the base)");
  if (!std::filesystem::is_directory(model_dir))
    throw usage_error("model folder not found: " + model_dir,
                      "pass --model with a Hugging Face folder (config.json, model.safetensors, tokenizer)");
  Student s;
  s.model_dir = model_dir;
  // Intermediate checkpoint-N folders of a fully trained student carry no tokenizer: the base's is the same.
  bool own_tokenizer = fs::exists(fs::path(model_dir) / "tokenizer.json") ||
                       fs::exists(fs::path(model_dir) / "tokenizer.model");
  s.tokenizer_dir = whole_model && !own_tokenizer ? base_dir : model_dir;
  s.tokenizer = text::load_tokenizer(s.tokenizer_dir);
  // Loaded and merged in float32, converted last: merging in bfloat16 would round the update away.
  s.model = model::load_model(model_dir, at::TensorOptions().dtype(at::kFloat));
  if (!adapter_dir.empty()) {
    s.adapter = model::load_adapter(*s.model, adapter_dir);
    if (merge) model::merge_lora(*s.model);
  }
  s.model->to(at::TensorOptions().dtype(dtype).device(device));
  // What the weights hold now, read back from them: the line shows what the run computes in.
  const at::Tensor& weights = s.model->embed_tokens();
  log_info("loaded ", model_dir, adapter_dir.empty() ? "" : " + adapter " + adapter_dir, " (",
           s.model->config().parameter_count() / 1000000.0, "M parameters, ",
           model::dtype_to_name(weights.scalar_type()), ", ", weights.device().str(), ")");
  return s;
}

}  // namespace af::student
