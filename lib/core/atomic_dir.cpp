#include "core/atomic_dir.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "core/error.h"

namespace af {

namespace fs = std::filesystem;

void write_dir_atomic(const std::string& dir, const std::function<void(const std::string& tmp)>& fill) {
  // The pid keeps two writers of one folder (a user starting a stage twice) from sharing a temporary name.
  std::string tmp = dir + ".tmp-" + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw runtime_error(tmp + ": cannot create directory: " + ec.message(), "check permissions");
  try {
    fill(tmp);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  fs::remove_all(dir, ec);
  if (ec) throw runtime_error(dir + ": cannot remove the old folder: " + ec.message());
  fs::rename(tmp, dir, ec);
  if (ec) throw runtime_error(dir + ": cannot move " + tmp + " into place: " + ec.message());
}

}  // namespace af
