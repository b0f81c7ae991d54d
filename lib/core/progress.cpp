#include "core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace af {

ProgressMode parse_progress_mode(std::string_view name) {
  if (name == "auto") return ProgressMode::Auto;
  if (name == "bar") return ProgressMode::Bar;
  if (name == "lines") return ProgressMode::Lines;
  if (name == "off") return ProgressMode::Off;
  throw usage_error("unknown progress mode '" + std::string(name) + "'", "use one of: auto, bar, lines, off");
}

std::string_view progress_mode_name(ProgressMode mode) {
  switch (mode) {
    case ProgressMode::Auto:
      return "auto";
    case ProgressMode::Bar:
      return "bar";
    case ProgressMode::Lines:
      return "lines";
    case ProgressMode::Off:
      return "off";
  }
  return "auto";
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto total = static_cast<long long>(std::llround(seconds));
  long long h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buf[64];
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", h, m, s);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", m, s);
  }
  return buf;
}

namespace {
std::string format_rate(double rate) {
  char buf[32];
  if (rate >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f/s", rate);
  } else if (rate >= 1) {
    std::snprintf(buf, sizeof buf, "%.1f/s", rate);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f/s", rate);
  }
  return buf;
}
}  // namespace

std::string format_progress(std::string_view label, uint64_t done, std::optional<uint64_t> total,
                            double elapsed_seconds, std::string_view status, bool as_bar, int bar_width) {
  double rate = elapsed_seconds > 0 ? static_cast<double>(done) / elapsed_seconds : 0.0;
  std::string out(label);
  char buf[96];
  if (total && *total > 0) {
    double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(*total));
    if (as_bar) {
      int filled = static_cast<int>(frac * bar_width);
      out += " [";
      out.append(static_cast<size_t>(filled), '#');
      out.append(static_cast<size_t>(bar_width - filled), '-');
      out += "]";
    } else {
      out += ":";
    }
    std::snprintf(buf, sizeof buf, " %llu/%llu (%.1f%%)", static_cast<unsigned long long>(done),
                  static_cast<unsigned long long>(*total), frac * 100.0);
    out += buf;
  } else {
    out += as_bar ? " " : ": ";
    out += std::to_string(done);
  }
  out += "  " + format_rate(rate);
  if (total && *total > 0) {
    double remaining = rate > 0 ? static_cast<double>(*total - std::min(done, *total)) / rate : NAN;
    out += "  ETA " + format_duration(remaining);
  }
  out += "  elapsed " + format_duration(elapsed_seconds);
  if (!status.empty()) {
    out += "  ";
    out += status;
  }
  return out;
}

Progress::Progress(std::string label, std::optional<uint64_t> total, ProgressMode mode,
                   double line_interval_seconds, std::FILE* out)
    : label_(std::move(label)), total_(total), mode_(mode), interval_(line_interval_seconds), out_(out) {
  if (mode_ == ProgressMode::Auto) mode_ = isatty(fileno(out_)) ? ProgressMode::Bar : ProgressMode::Lines;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  finish();
}

void Progress::advance(uint64_t n) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  // A bar redraws at most 10 times a second; lines follow the configured interval.
  double every = mode_ == ProgressMode::Bar ? 0.1 : interval_;
  if (since >= every) draw(false);
}

void Progress::set_status(std::string status) {
  status_ = std::move(status);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final_draw) {
  if (mode_ == ProgressMode::Off) return;
  auto now = std::chrono::steady_clock::now();
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  std::string line = format_progress(label_, done_, total_, elapsed, status_, mode_ == ProgressMode::Bar);
  if (mode_ == ProgressMode::Bar) {
    std::fprintf(out_, "\r\033[K%s%s", line.c_str(), final_draw ? "\n" : "");
    std::fflush(out_);
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }
}

}  // namespace af
