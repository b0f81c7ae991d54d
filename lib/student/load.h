// Loading the student for a tool: the base model folder (or the scratch student's), an optional adapter, the
// dtype, device and thread count from the resolved config.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "model/gemma3.h"
#include "model/generate.h"
#include "model/lora.h"
#include "text/tokenizer.h"

namespace af::student {

/// A loaded student: the network, its tokenizer and where they came from.
struct Student {
  std::unique_ptr<model::Gemma3> model;
  std::unique_ptr<text::Tokenizer> tokenizer;
  std::string model_dir;
  std::string tokenizer_dir;                   // the folder the tokenizer files came from
  std::optional<model::LoraSettings> adapter;  // when an adapter was loaded
};

/// The device run.device names ("auto": cuda when this libtorch has it, else cpu); cuda without CUDA is a
/// usage error.
at::Device resolve_device(const std::string& setting);
/// Applies run.threads (0: every core) to libtorch's intra-op pool.
void apply_threads(int64_t threads);

/// Loads `base_dir` with the checkpoint `checkpoint_dir` when not empty: a LoRA adapter on the base, or a
/// whole fully-trained model folder that replaces it, in `dtype` on `device`. With `merge`, the adapter is
/// folded into the weights (inference: no extra matmuls); otherwise it stays separate (training).
Student load_student(const std::string& base_dir, const std::string& checkpoint_dir, at::ScalarType dtype,
                     at::Device device, bool merge);

}  // namespace af::student
