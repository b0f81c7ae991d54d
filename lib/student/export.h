// export: the student out of astforge. A merged Hugging Face folder, one GGUF file (f32, bf16, f16, q8_0),
// or the base as GGUF plus the adapter as a llama.cpp LoRA GGUF; beside each, an Ollama Modelfile and a
// README with the commands that run it.
#pragma once
#include <string>

#include "student/export_settings.h"

namespace af::student {

/// What an export wrote.
struct ExportResult {
  std::string dir;      // the export folder
  std::string model;    // what FROM names: the folder itself (hf) or the GGUF file
  std::string adapter;  // the LoRA GGUF (gguf-lora), else ""
};

/// Runs export as `settings` say: the folder is built beside its place and moved in whole.
ExportResult run_export(const ExportSettings& settings);

/// The Ollama Modelfile for `model_file` (and `adapter_file`, may be ""), both relative to the Modelfile.
std::string modelfile_text(const std::string& model_file, const std::string& adapter_file,
                           const model::GenerationSettings& generation);

}  // namespace af::student
