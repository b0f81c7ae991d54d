// Progress display: a bar with rate and ETA on a terminal, a log line every N seconds otherwise.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace af {

/// How progress is shown: auto picks Bar on a terminal and Lines otherwise.
enum class ProgressMode { Auto, Bar, Lines, Off };

/// Parses "auto", "bar", "lines" or "off".
ProgressMode parse_progress_mode(std::string_view name);
/// "auto", "bar", "lines" or "off".
std::string_view progress_mode_name(ProgressMode mode);

/// How a tool shows progress (run.progress, run.progress_interval).
struct ProgressSettings {
  ProgressMode mode = ProgressMode::Auto;
  double interval_seconds = 10.0;  // between log lines when not drawing a bar
};

/// Formats seconds as M:SS or H:MM:SS ("?" when unknown or not finite).
std::string format_duration(double seconds);

/// One rendered progress line; pure so tests can check exact output.
std::string format_progress(std::string_view label, uint64_t done, std::optional<uint64_t> total,
                            double elapsed_seconds, std::string_view status, bool as_bar, int bar_width = 24);

/// Tracks work done and redraws (bar) or logs (lines) at most every `interval` seconds.
class Progress {
 public:
  Progress(std::string label, std::optional<uint64_t> total, ProgressMode mode = ProgressMode::Auto,
           double line_interval_seconds = 10.0, std::FILE* out = stderr);
  Progress(std::string label, std::optional<uint64_t> total, const ProgressSettings& settings)
      : Progress(std::move(label), total, settings.mode, settings.interval_seconds) {}
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Adds `n` finished units.
  void advance(uint64_t n = 1);
  /// Sets a short status shown after the rate (for example "loss 0.412").
  void set_status(std::string status);
  /// Prints the final state once (also done by the destructor).
  void finish();
  uint64_t done() const { return done_; }

 private:
  void draw(bool final_draw);

  std::string label_;
  std::optional<uint64_t> total_;
  ProgressMode mode_;
  double interval_;
  std::FILE* out_;
  uint64_t done_ = 0;
  std::string status_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool finished_ = false;
};

}  // namespace af
