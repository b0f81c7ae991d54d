// Loading one config file (YAML, JSON, or a resolved run_config.json) into key entries with their places.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/findings.h"

namespace af::config {

/// Limits that keep hostile files from crashing or hanging the loader.
constexpr uint64_t kMaxConfigBytes = 4u << 20;  // 4 MiB: real configs are a few KiB
constexpr int kMaxConfigDepth = 32;
constexpr size_t kMaxConfigNodes = 100000;  // after alias expansion ("billion laughs" stops here)

/// One key set by a file: the canonical key path (aliases already mapped), its value, and where it is.
struct FileEntry {
  std::string path;
  nlohmann::json value;
  Origin origin;
};

/// A config file as read: its `extends:` parents (resolved against its folder) and its entries.
struct ConfigFile {
  std::string path;
  std::vector<std::string> extends;
  std::vector<Origin> extends_origins;
  std::vector<FileEntry> entries;
  bool ok = false;  // false when the file could not be read or parsed at all
};

/// Reads and walks one file against the field table. Syntax errors, a non-mapping root, duplicate keys,
/// unknown keys (with "did you mean"), deprecated aliases and hostile content become findings. Values are
/// typed but not yet checked against their fields.
ConfigFile load_config_file(const std::string& path, Findings& findings);

}  // namespace af::config
