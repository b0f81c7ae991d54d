#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace af {
namespace fs = std::filesystem;

namespace {
std::string errno_text() {
  return std::strerror(errno);
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw runtime_error(path + ": write failed: " + errno_text(), "check free disk space and permissions");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

void fsync_dir_of(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) parent = ".";
  int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw runtime_error(path + ": cannot open: " + errno_text(), "check that the path exists");
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw runtime_error(path + ": read failed: " + errno_text());
  return out.str();
}

std::string read_file_limited(const std::string& path, uint64_t max_bytes, std::string_view what) {
  std::error_code ec;
  if (fs::is_directory(path, ec))
    throw usage_error(path + ": is a directory, expected a " + std::string(what));
  auto size = fs::file_size(path, ec);
  if (ec && !fs::exists(path))
    throw usage_error(path + ": cannot open: " + ec.message(), "check that the path exists");
  if (!ec && size > max_bytes) {
    throw usage_error(path + ": file is " + std::to_string(size) + " bytes; a " + std::string(what) +
                          " may be at most " + std::to_string(max_bytes) + " bytes",
                      "is this the right file?");
  }
  // A device or a pipe (/dev/zero) has no size: read no more than the limit allows.
  std::ifstream in(path, std::ios::binary);
  if (!in) throw usage_error(path + ": cannot open: " + errno_text(), "check that the path exists");
  return read_stream_limited(in, max_bytes, path, what);
}

std::string read_stream_limited(std::istream& in, uint64_t max_bytes, const std::string& name,
                                std::string_view what) {
  std::string out;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      throw usage_error(name + ": more than " + std::to_string(max_bytes) + " bytes; a " + std::string(what) +
                            " may be at most " + std::to_string(max_bytes) + " bytes",
                        "is this the right file?");
    }
  }
  if (in.bad()) throw runtime_error(name + ": read failed: " + errno_text());
  return out;
}

void ensure_parent_dir(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw runtime_error(parent.string() + ": cannot create directory: " + ec.message());
}

void write_file_atomic(const std::string& path, std::string_view content, bool durable) {
  ensure_parent_dir(path);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw runtime_error(tmp + ": cannot create: " + errno_text(), "check permissions");
  try {
    write_all(fd, content, tmp);
    if (durable && ::fsync(fd) != 0) throw runtime_error(tmp + ": fsync failed: " + errno_text());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = errno_text();
    ::unlink(tmp.c_str());
    throw runtime_error(path + ": cannot replace: " + err);
  }
  if (durable) fsync_dir_of(path);
}

AppendFile::AppendFile(const std::string& path, bool truncate) : path_(path) {
  ensure_parent_dir(path);
  if (!truncate) {
    // Cut a torn last line left by a killed writer.
    std::error_code ec;
    if (fs::exists(path, ec)) {
      auto size = fs::file_size(path, ec);
      if (!ec && size > 0) {
        int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) throw runtime_error(path + ": cannot open: " + errno_text());
        uint64_t keep = size;
        char c = 0;
        const size_t kBlock = 4096;
        std::string block;
        bool found = false;
        while (keep > 0 && !found) {
          size_t take = static_cast<size_t>(std::min<uint64_t>(kBlock, keep));
          block.resize(take);
          if (::pread(fd, block.data(), take, static_cast<off_t>(keep - take)) !=
              static_cast<ssize_t>(take)) {
            ::close(fd);
            throw runtime_error(path + ": read failed: " + errno_text());
          }
          for (size_t i = take; i > 0; --i) {
            c = block[i - 1];
            if (c == '\n') {
              found = true;
              break;
            }
            --keep;
          }
        }
        if (keep != size) {
          repaired_bytes_ = size - keep;
          if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) {
            ::close(fd);
            throw runtime_error(path + ": cannot truncate a torn last line: " + errno_text());
          }
        }
        ::close(fd);
      }
    }
  }
  file_ = std::fopen(path.c_str(), truncate ? "wb" : "ab");
  if (!file_) throw runtime_error(path + ": cannot open for writing: " + errno_text(), "check permissions");
}

AppendFile::~AppendFile() {
  if (file_) std::fclose(file_);
}

void AppendFile::write_line(std::string_view line) {
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fputc('\n', file_) == EOF) {
    throw runtime_error(path_ + ": write failed: " + errno_text(), "check free disk space");
  }
}

void AppendFile::flush() {
  if (std::fflush(file_) != 0) throw runtime_error(path_ + ": flush failed: " + errno_text());
}

void AppendFile::sync() {
  flush();
  if (::fsync(fileno(file_)) != 0) throw runtime_error(path_ + ": fsync failed: " + errno_text());
}

}  // namespace af
