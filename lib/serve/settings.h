// serve's settings, read from the config in one place (serve.*, the evaluation.* decoding keys, run.*): serve
// acts on this struct only, and serve --dry-run prints it.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "config/resolve.h"
#include "constrain/json_matcher.h"
#include "model/generate.h"
#include "student/settings.h"

namespace af::serve {

/// Everything serve does, as configured.
struct ServeSettings {
  student::BaseModel model;
  std::string adapter;  // "": the model alone
  std::string bind = "127.0.0.1";
  int port = 11435;  // 0: a free port
  std::optional<std::string> port_file;
  std::string name;  // the model's name in /api/tags, /v1/models and answers
  size_t max_batch = 8;
  int batch_window_ms = 5;
  // An answer's defaults (a request's options override them); max_new_tokens is also the most one may ask.
  model::GenerationSettings generation;
  std::string dtype = "float32";
  constrain::KeyOrder key_order = constrain::KeyOrder::Sorted;
  student::Runtime runtime;

  nlohmann::json to_json() const;
};

/// Reads every key serve consumes.
ServeSettings serve_settings(const config::Resolved& cfg);

}  // namespace af::serve
