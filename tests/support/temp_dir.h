// A fresh temporary directory per test, removed afterwards; files written there are real files.
#pragma once
#include <string>
#include <string_view>

namespace af::test {

/// Creates a unique directory under $TMPDIR (or /tmp) and removes it with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  /// path()/name
  std::string file(std::string_view name) const;
  /// Writes `content` to path()/name and returns the full path.
  std::string write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

/// Reads a whole file (empty string when it does not exist).
std::string slurp(const std::string& path);

}  // namespace af::test
