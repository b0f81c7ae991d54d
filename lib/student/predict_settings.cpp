#include "student/predict_settings.h"

#include "config/run_settings.h"

namespace af::student {

using nlohmann::json;

PredictSettings predict_settings(const config::Resolved& cfg) {
  PredictSettings s;
  s.model = base_model_from(cfg, "predict.model");
  s.adapter = config::optional_string(cfg, "predict.adapter").value_or("");
  s.input = cfg.get_string("predict.input");
  s.output = cfg.get_string("predict.output");
  s.decode = decode_settings(cfg);
  s.runtime = runtime_settings(cfg);
  s.progress = config::progress_settings(cfg);
  return s;
}

json PredictSettings::to_json() const {
  return {{"model", model.to_json()},
          {"adapter", adapter.empty() ? json(nullptr) : json(adapter)},
          {"input", input == "-" ? json("stdin") : json(input)},
          {"output", output == "-" ? json("stdout") : json(output)},
          {"decode", decode.to_json()},
          {"runtime", runtime.to_json()},
          {"progress", config::progress_json(progress)}};
}

}  // namespace af::student
