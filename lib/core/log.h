// Levelled logging to stderr (data goes to files or stdout, never mixed with logs).
#pragma once
#include <sstream>
#include <string>
#include <string_view>

namespace af {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

/// Parses "debug", "info", "warn" or "error"; throws a usage error otherwise.
LogLevel parse_log_level(std::string_view name);
/// Sets the minimum level that is printed (default Info).
void set_log_level(LogLevel level);
LogLevel log_level();
/// Sets the program name printed in front of every line ("train-sft: ...").
void set_log_program(std::string_view name);
/// Writes one line to stderr when `level` is enabled.
void log_line(LogLevel level, std::string_view message);

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

template <typename... Args>
void log_debug(const Args&... args) {
  if (log_level() <= LogLevel::Debug) log_line(LogLevel::Debug, detail::concat(args...));
}
template <typename... Args>
void log_info(const Args&... args) {
  if (log_level() <= LogLevel::Info) log_line(LogLevel::Info, detail::concat(args...));
}
template <typename... Args>
void log_warn(const Args&... args) {
  if (log_level() <= LogLevel::Warn) log_line(LogLevel::Warn, detail::concat(args...));
}
template <typename... Args>
void log_error(const Args&... args) {
  log_line(LogLevel::Error, detail::concat(args...));
}

}  // namespace af
