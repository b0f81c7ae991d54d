// Starts a real astforge tool in the background (a server such as teacher-sim) and stops it with SIGTERM.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

namespace af::test {

class BackgroundTool {
 public:
  /// Starts build/bin/<tool> with `args`; stdout and stderr go to files in a temporary directory.
  BackgroundTool(const std::string& tool, const std::vector<std::string>& args);
  /// Stops it (SIGTERM) if still running.
  ~BackgroundTool();
  /// Waits until `path` exists and holds a line, then returns its contents (a port file).
  std::string wait_for_file(const std::string& path, double seconds = 10) const;
  /// Sends SIGTERM (or `signal`) and returns the exit code (128 + signal when killed by one).
  int terminate(int signal = 15);
  /// True while the process runs.
  bool running();
  std::string err() const;

 private:
  pid_t pid_ = -1;
  std::string dir_;
};

}  // namespace af::test
