// File helpers: whole-file reads, atomic whole-file writes (temp, fsync, rename) and durable appends.
#pragma once
#include <cstdint>
#include <cstdio>
#include <istream>
#include <string>
#include <string_view>

namespace af {

/// Reads a whole file; a missing or unreadable file is a runtime error naming the path.
std::string read_file(const std::string& path);

/// Reads at most `max_bytes`; a larger file is a usage error that names the size limit.
std::string read_file_limited(const std::string& path, uint64_t max_bytes, std::string_view what);

/// Reads `in` to its end, but at most `max_bytes`: more is a usage error naming `name` and the limit.
std::string read_stream_limited(std::istream& in, uint64_t max_bytes, const std::string& name,
                                std::string_view what);

/// Creates the parent directories of `path` (no-op when it has none).
void ensure_parent_dir(const std::string& path);

/// Replaces `path` with `content` atomically: readers see the old file or the new one, never a torn one.
/// With `durable` (the default) it is also fsynced, so it survives a machine crash, not only a killed
/// process.
void write_file_atomic(const std::string& path, std::string_view content, bool durable = true);

/// An append-only text file for resumable stages: each write is one whole line; `sync` makes it durable.
class AppendFile {
 public:
  /// Opens for appending (creating it). When the file ends with a torn line (a writer was killed mid-line),
  /// that partial line is cut off first, so a resumed stage never builds on half a record.
  explicit AppendFile(const std::string& path, bool truncate = false);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  /// Appends `line` and a newline.
  void write_line(std::string_view line);
  /// Pushes buffered lines to the OS.
  void flush();
  /// Flushes and fsyncs: the lines survive a crash of the machine.
  void sync();
  /// Bytes of a torn last line that opening removed (0 normally).
  uint64_t repaired_bytes() const { return repaired_bytes_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t repaired_bytes_ = 0;
};

}  // namespace af
