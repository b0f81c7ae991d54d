// report.md (training curves, evaluation rates, DPO curves, worst failures) and alignment_report.md (SFT
// against DPO), from whatever inputs exist: a missing input is named in the report, never fatal.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace af::config {
class Resolved;
}

namespace af::report {

/// Where the inputs are and what to write.
struct ReportSettings {
  std::string run_name;
  std::string out_dir;
  std::string training_metrics, dpo_metrics, eval_summary, eval_results, dpo_eval_summary;
  size_t worst_failures = 20;
  std::vector<std::string> plot_formats{"svg", "png"};

  /// What --dry-run shows.
  nlohmann::json to_json() const;
};

/// What writing the reports did.
struct ReportOutcome {
  std::string report_path;
  std::string alignment_report_path;  // empty when there was no DPO evaluation to compare
  std::vector<std::string> missing;   // inputs that do not exist (their config keys' descriptions)
  std::vector<std::string> problems;  // malformed lines, unusable files, plots gnuplot could not draw
  std::vector<std::string> plots;     // image files written
};

/// The report.* keys of a resolved config.
ReportSettings report_settings_from(const config::Resolved& cfg);

/// Writes report.md (always) and alignment_report.md (when both evaluations exist) into out_dir.
ReportOutcome write_reports(const ReportSettings& settings);

}  // namespace af::report
