#include "student/export_settings.h"

#include "config/run_settings.h"

namespace af::student {

using nlohmann::json;

ExportSettings export_settings(const config::Resolved& cfg) {
  ExportSettings s;
  s.model = base_model_from(cfg, "export.model");
  s.adapter = config::optional_string(cfg, "export.adapter").value_or("");
  s.format = cfg.get_string("export.format");
  s.gguf_type = cfg.get_string("export.gguf_type");
  s.dtype = cfg.get_string("export.dtype");
  s.output_dir = cfg.get_string("export.output_dir");
  s.name = cfg.get_string("export.name");
  s.generation = sampling_settings(cfg);
  s.runtime = runtime_settings(cfg);
  return s;
}

json modelfile_parameters(const model::GenerationSettings& g) {
  return {{"temperature", g.do_sample ? g.temperature : 0.0},
          {"top_k", g.top_k},
          {"top_p", g.top_p},
          {"repeat_penalty", g.repetition_penalty},
          {"num_predict", g.max_new_tokens}};
}

json ExportSettings::to_json() const {
  return {{"model", model.to_json()},
          {"adapter", adapter.empty() ? json(nullptr) : json(adapter)},
          {"format", format},
          {"gguf_type", format == "hf" ? json(nullptr) : json(gguf_type)},
          {"dtype", format == "hf" ? json(dtype) : json(nullptr)},
          {"output_dir", output_dir},
          {"name", name},
          {"modelfile_parameters", modelfile_parameters(generation)},
          {"runtime", runtime.to_json()}};
}

}  // namespace af::student
