// export's settings, read from the config in one place (export.*, the evaluation.* sampling keys a Modelfile
// carries, run.*): export acts on this struct only, and export --dry-run prints it.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "config/resolve.h"
#include "model/generate.h"
#include "student/settings.h"

namespace af::student {

/// Everything export does, as configured.
struct ExportSettings {
  BaseModel model;
  std::string adapter;          // "": the model alone
  std::string format = "gguf";  // hf | gguf | gguf-lora
  std::string gguf_type = "q8_0";
  std::string dtype = "float32";  // the hf folder's weights
  std::string output_dir;
  std::string name;  // the model's name: general.name, the files' stem, `ollama create NAME`
  model::GenerationSettings generation;  // what the Modelfile's PARAMETERs say
  Runtime runtime;

  nlohmann::json to_json() const;
};

/// The Modelfile's PARAMETERs for `g`: greedy decoding is temperature 0.
nlohmann::json modelfile_parameters(const model::GenerationSettings& g);

/// Reads every key export consumes.
ExportSettings export_settings(const config::Resolved& cfg);

}  // namespace af::student
