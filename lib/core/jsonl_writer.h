// JSONL writing with nlohmann_json: append mode for resumable stages, atomic whole-file writes otherwise.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/files.h"

namespace af {

/// Compact one-line JSON text (UTF-8 kept as is; invalid UTF-8 is an error naming the context).
std::string to_json_line(const nlohmann::json& value);

/// Appends one JSON value per line; opening repairs a torn last line (see AppendFile).
class JsonlWriter {
 public:
  enum class Mode { Truncate, Append };
  JsonlWriter(const std::string& path, Mode mode);
  /// Writes one record as one line.
  void write(const nlohmann::json& value);
  /// Pushes lines to the OS (a killed process keeps them).
  void flush() { file_.flush(); }
  /// Makes lines durable (a crashed machine keeps them); call before recording a checkpoint.
  void sync() { file_.sync(); }
  uint64_t written() const { return written_; }
  uint64_t repaired_bytes() const { return file_.repaired_bytes(); }

 private:
  AppendFile file_;
  uint64_t written_ = 0;
};

/// Writes all rows to `path` atomically (temp file, fsync, rename); a file that already holds exactly these
/// rows is left untouched.
void write_jsonl_atomic(const std::string& path, const std::vector<nlohmann::json>& rows);

}  // namespace af
