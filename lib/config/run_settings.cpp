#include "config/run_settings.h"

namespace af::config {

ProgressSettings progress_settings(const Resolved& cfg) {
  ProgressSettings p;
  p.mode = parse_progress_mode(cfg.get_string("run.progress"));
  p.interval_seconds = cfg.get_double("run.progress_interval");
  return p;
}

uint64_t run_seed(const Resolved& cfg) {
  return static_cast<uint64_t>(cfg.get_int("run.seed"));
}

nlohmann::json progress_json(const ProgressSettings& settings) {
  return {{"mode", progress_mode_name(settings.mode)}, {"interval_seconds", settings.interval_seconds}};
}

std::optional<int64_t> optional_int(const Resolved& cfg, const std::string& key) {
  return cfg.is_null(key) ? std::nullopt : std::optional<int64_t>(cfg.get_int(key));
}

std::optional<double> optional_double(const Resolved& cfg, const std::string& key) {
  return cfg.is_null(key) ? std::nullopt : std::optional<double>(cfg.get_double(key));
}

std::optional<std::string> optional_string(const Resolved& cfg, const std::string& key) {
  return cfg.is_null(key) ? std::nullopt : std::optional<std::string>(cfg.get_string(key));
}

}  // namespace af::config
