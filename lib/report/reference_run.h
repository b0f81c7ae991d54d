// README's "Reference run" section, generated from the files a real run left in docs/reference-run/, so the
// documented numbers are the ones the code produced (a test compares the README with this output).
#pragma once
#include <string>

namespace af::report {

/// The files of a reference run, in one folder.
struct ReferenceRunFiles {
  static constexpr const char* kSftSummary = "sft_evaluation_summary.json";
  static constexpr const char* kDpoSummary = "dpo_evaluation_summary.json";
  static constexpr const char* kTrainingMetrics = "training_metrics.jsonl";
  static constexpr const char* kTimings = "timings.jsonl";  // {"stage", "seconds"} per runAll.sh stage
  static constexpr const char* kLog = "runAll.log";         // runAll.sh's stderr, progress bars removed
  static constexpr const char* kRunConfig = "run_config.json";
};

/// The Markdown of the section (without its heading) from the files in `dir`. Throws a usage error naming
/// a missing or malformed file.
std::string reference_run_section(const std::string& dir);

}  // namespace af::report
