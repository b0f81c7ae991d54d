#include "core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "core/error.h"

namespace af {
namespace {
std::atomic<LogLevel> g_level{LogLevel::Info};
std::string g_program;  // set once at start-up, before threads exist
std::mutex g_mutex;

const char* level_tag(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug: ";
    case LogLevel::Info:
      return "";
    case LogLevel::Warn:
      return "warning: ";
    case LogLevel::Error:
      return "error: ";
  }
  return "";
}
}  // namespace

LogLevel parse_log_level(std::string_view name) {
  if (name == "debug") return LogLevel::Debug;
  if (name == "info") return LogLevel::Info;
  if (name == "warn") return LogLevel::Warn;
  if (name == "error") return LogLevel::Error;
  throw usage_error("unknown log level '" + std::string(name) + "'", "use one of: debug, info, warn, error");
}

void set_log_level(LogLevel level) {
  g_level = level;
}
LogLevel log_level() {
  return g_level;
}
void set_log_program(std::string_view name) {
  g_program = name;
}

void log_line(LogLevel level, std::string_view message) {
  if (level < g_level.load()) return;
  std::string line;
  if (!g_program.empty()) line += g_program + ": ";
  line += level_tag(level);
  line += message;
  line += '\n';
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace af
