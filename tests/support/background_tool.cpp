#include "support/background_tool.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "support/run_tool.h"
#include "support/temp_dir.h"

namespace af::test {

BackgroundTool::BackgroundTool(const std::string& tool, const std::vector<std::string>& args) {
  char pattern[] = "/tmp/astforge-bg-XXXXXX";
  dir_ = mkdtemp(pattern);
  pid_ = spawn_tool(tool, args, dir_ + "/stdout", dir_ + "/stderr");
}

BackgroundTool::~BackgroundTool() {
  if (pid_ > 0) terminate();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string BackgroundTool::wait_for_file(const std::string& path, double seconds) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = slurp(path);
    if (!text.empty() && text.back() == '\n') return text.substr(0, text.size() - 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error(path + " did not appear; stderr: " + err());
}

bool BackgroundTool::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int BackgroundTool::terminate(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string BackgroundTool::err() const {
  return slurp(dir_ + "/stderr");
}

}  // namespace af::test
