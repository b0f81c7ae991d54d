// A JSONL output that a stage fills in a fixed order and can resume after a crash: rows are appended and
// flushed in batches, and a checkpoint next to it records how many rows were written and a fingerprint of the
// inputs. Because rows are written in order, the rows present are always a prefix of the final file, so a run
// killed at any point resumes from the rows it finds. Flushes reach the OS (a killed process loses nothing);
// fsync happens only when the file is finished, since rows lost to a machine crash are simply made again.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/jsonl_writer.h"

namespace af::dataset {

class ResumableOutput {
 public:
  /// With `resume`, continues an earlier run of the same `inputs` (settings and input hashes): other inputs
  /// are a usage error that names the settings that differ and says what to do. Without it, starts afresh.
  ResumableOutput(std::string path, std::string checkpoint_path, const nlohmann::json& inputs, bool resume);
  /// Rows already written by earlier runs (the caller skips that many units of work).
  uint64_t done() const { return done_; }
  /// Refuses a file holding more rows than the `total` these settings make (two writers interleaved, or an
  /// edit): resuming would build on rows that are not this run's.
  void require_at_most(uint64_t total) const;
  /// True when an earlier run finished the file.
  bool complete() const { return complete_; }
  /// Appends one row (in order).
  void append(const nlohmann::json& row);
  /// Hands the appended rows to the OS and records them in the checkpoint.
  void commit();
  /// Commits durably (fsync) and marks the file complete.
  void finish();

 private:
  void write_checkpoint(bool complete, bool durable);

  std::string path_, checkpoint_path_, fingerprint_;
  nlohmann::json settings_;  // the inputs, lists as fingerprints: what a refused resume names
  std::unique_ptr<JsonlWriter> writer_;
  uint64_t done_ = 0, rows_ = 0;
  bool complete_ = false;
};

/// A short stable fingerprint of a JSON value (the inputs and settings a stage's output depends on).
std::string fingerprint_of(const nlohmann::json& inputs);

}  // namespace af::dataset
