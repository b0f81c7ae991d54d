// predict's settings, read from the config in one place (predict.*, the evaluation.* decoding keys, run.*):
// predict acts on this struct only, and predict --dry-run prints it.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "config/resolve.h"
#include "core/progress.h"
#include "student/settings.h"

namespace af::student {

/// Everything predict does, as configured.
struct PredictSettings {
  BaseModel model;
  std::string adapter;  // "": the model alone
  std::string input = "-", output = "-";
  DecodeSettings decode;
  Runtime runtime;
  ProgressSettings progress;

  nlohmann::json to_json() const;
};

/// Reads every key predict consumes.
PredictSettings predict_settings(const config::Resolved& cfg);

}  // namespace af::student
