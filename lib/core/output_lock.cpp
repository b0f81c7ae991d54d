#include "core/output_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>

#include "core/error.h"
#include "core/log.h"

namespace af {
namespace fs = std::filesystem;

namespace {

struct Held {
  int fd = -1;
  int claims = 0;
  std::string lock_path;
};

// Folders this process holds, by canonical path: a second flock from the same process on another open of
// the file would conflict with itself.
std::mutex g_mutex;
std::map<std::string, Held>& held() {
  static std::map<std::string, Held> m;
  return m;
}

std::string canonical_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw runtime_error(dir + ": cannot create directory: " + ec.message(), "check permissions");
  fs::path p = fs::canonical(dir, ec);
  if (ec) throw runtime_error(dir + ": cannot resolve: " + ec.message());
  return p.string();
}

// "PID HOLDER" as the holder wrote it, or "" when it cannot be read.
std::string holder_of(int fd) {
  char buf[256] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Takes the lock file of `dir`, or throws naming whoever holds it.
int acquire(const std::string& dir, const std::string& lock_path, std::string_view holder) {
  for (int attempt = 0;; ++attempt) {
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw runtime_error(lock_path + ": cannot create the lock file: " + std::strerror(errno),
                          "check that the output folder is writable");
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      std::string who = holder_of(fd);
      ::close(fd);
      if (err != EWOULDBLOCK) throw runtime_error(lock_path + ": cannot lock: " + std::strerror(err));
      std::string pid = who.substr(0, who.find(' '));
      std::string name =
          who.find(' ') == std::string::npos ? "another astforge tool" : who.substr(who.find(' ') + 1);
      throw runtime_error(dir + " is being written by " + name + (pid.empty() ? "" : " (pid " + pid + ")") +
                              ": two writers on one folder would mix their rows",
                          pid.empty() ? "wait for it to finish, or stop it"
                                      : "wait for it to finish, or stop it (kill " + pid +
                                            "), then run this again: the work done so far is kept");
    }
    // A holder releasing unlinks the file before it unlocks: when the path is no longer the file we locked,
    // we locked a file nobody else will ever see, so try again on the new one.
    struct stat locked {
    }, named{};
    if (::fstat(fd, &locked) == 0 && ::stat(lock_path.c_str(), &named) == 0 &&
        locked.st_ino == named.st_ino && locked.st_dev == named.st_dev) {
      std::string me = std::to_string(::getpid()) + " " + std::string(holder) + "\n";
      if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size()))
        log_debug(lock_path, ": could not record the holder: ", std::strerror(errno));
      return fd;
    }
    ::close(fd);
    if (attempt > 100)
      throw runtime_error(lock_path + ": the lock file keeps changing; is another tool looping?");
  }
}

bool process_alive(long pid) {
  if (pid <= 0) return true;  // not a pid: leave the file alone
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace

OutputLock::OutputLock(const std::string& dir, std::string_view holder) : dir_(canonical_dir(dir)) {
  std::lock_guard<std::mutex> guard(g_mutex);
  Held& h = held()[dir_];
  if (h.claims == 0) {
    h.lock_path = (fs::path(dir_) / kOutputLockName).string();
    try {
      h.fd = acquire(dir_, h.lock_path, holder);
    } catch (...) {
      held().erase(dir_);
      throw;
    }
    remove_stale_temporaries(dir_);
  }
  ++h.claims;
}

OutputLock::~OutputLock() {
  std::lock_guard<std::mutex> guard(g_mutex);
  auto it = held().find(dir_);
  if (it == held().end() || --it->second.claims > 0) return;
  // Unlink first, then unlock: a waiting writer checks that the path is still the file it locked.
  ::unlink(it->second.lock_path.c_str());
  ::close(it->second.fd);
  held().erase(it);
}

std::unique_ptr<OutputLock> lock_folder_of(const std::string& file, std::string_view holder) {
  fs::path parent = fs::path(file).parent_path();
  return std::make_unique<OutputLock>(parent.empty() ? "." : parent.string(), holder);
}

std::vector<std::unique_ptr<OutputLock>> lock_folders_of(const std::vector<std::string>& files,
                                                         std::string_view holder) {
  std::vector<std::unique_ptr<OutputLock>> locks;
  for (const auto& f : files) locks.push_back(lock_folder_of(f, holder));
  return locks;
}

size_t remove_stale_temporaries(const std::string& dir) {
  // write_dir_atomic names its folders NAME.tmp-PID; write_file_atomic its files NAME.tmp.PID.
  static const std::regex kTemporary(R"(.+\.tmp[-.]([0-9]+))");
  size_t removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, kTemporary)) continue;
    long pid = std::stol(m[1].str().substr(0, 9));
    if (pid == ::getpid() || process_alive(pid)) continue;
    std::error_code rm;
    fs::remove_all(entry.path(), rm);
    if (!rm) {
      log_info("removed ", entry.path().string(), ", left by a writer that is gone (pid ", pid, ")");
      ++removed;
    }
  }
  return removed;
}

}  // namespace af
