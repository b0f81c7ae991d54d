#include "config/read_trace.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace af::config {
namespace {

struct Trace {
  std::mutex mutex;
  std::string tool;
  std::map<std::string, ReadKind> reads;
  std::map<std::string, ReadKind> flushed;
  bool at_exit_registered = false;
};

Trace& trace() {
  static Trace* t = new Trace();  // never destroyed: the exit handler may run after static destructors
  return *t;
}

}  // namespace

void note_read(std::string_view tool, const std::string& key, ReadKind kind) {
  Trace& t = trace();
  std::lock_guard<std::mutex> lock(t.mutex);
  t.tool = tool;
  auto [it, inserted] = t.reads.emplace(key, kind);
  if (!inserted && kind == ReadKind::Direct) it->second = ReadKind::Direct;
  if (!t.at_exit_registered && std::getenv(kReadTraceEnv) != nullptr) {
    t.at_exit_registered = true;
    std::atexit(flush_read_trace);
  }
}

std::map<std::string, ReadKind> reads_so_far() {
  Trace& t = trace();
  std::lock_guard<std::mutex> lock(t.mutex);
  return t.reads;
}

void flush_read_trace() {
  const char* path = std::getenv(kReadTraceEnv);
  if (path == nullptr || *path == '\0') return;
  Trace& t = trace();
  std::lock_guard<std::mutex> lock(t.mutex);
  std::string text;
  for (const auto& [key, kind] : t.reads) {
    auto done = t.flushed.find(key);
    if (done != t.flushed.end() && done->second == kind) continue;
    text += t.tool + "\t" + key + "\t" + (kind == ReadKind::Direct ? "direct" : "reference") + "\n";
    t.flushed[key] = kind;
  }
  if (text.empty()) return;
  // One write on an O_APPEND descriptor: lines of processes that share the file (ranks) never interleave.
  int fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t written = ::write(fd, text.data(), text.size());
  (void)written;
  ::close(fd);
}

}  // namespace af::config
