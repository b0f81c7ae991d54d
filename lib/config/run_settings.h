// The run.* settings every stage shares (seed, progress), read in one place for the consumers below the
// config layer (core's Progress) and for the tools.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>

#include "config/resolve.h"
#include "core/progress.h"

namespace af::config {

/// run.progress and run.progress_interval.
ProgressSettings progress_settings(const Resolved& cfg);
/// run.seed.
uint64_t run_seed(const Resolved& cfg);
/// {"mode", "interval_seconds"} for --dry-run.
nlohmann::json progress_json(const ProgressSettings& settings);

/// An optional integer key: nullopt for null.
std::optional<int64_t> optional_int(const Resolved& cfg, const std::string& key);
/// An optional number key: nullopt for null.
std::optional<double> optional_double(const Resolved& cfg, const std::string& key);
/// An optional text key: nullopt for null.
std::optional<std::string> optional_string(const Resolved& cfg, const std::string& key);

}  // namespace af::config
